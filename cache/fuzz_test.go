package cache

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzParseScanID(f *testing.F) {
	now := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ d, r string }{
		{testDigest, "library/nginx"}, {"sha512:" + strings.Repeat("ab", 64), ""}, {"weird", "é"},
	} {
		id, _ := NewScanID(tc.d, tc.r, now)
		f.Add(id)
	}
	f.Add("")
	f.Add("AQAAAZ")
	f.Add("BwAAAZTt6jB7")
	f.Add(strings.Repeat("_", 256))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseScanID(s)
		if err != nil {
			if !errors.Is(err, ErrBadScanID) {
				t.Fatalf("error %v is not ErrBadScanID", err)
			}
			return
		}
		if id.Version != ScanIDVersion {
			t.Fatalf("accepted version %d", id.Version)
		}
		if got := id.String(); got != s {
			t.Fatalf("re-encodes as %q, was %q", got, s)
		}
	})
}
