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

// Any pieces, cut anywhere, give a gzip stream that decodes to exactly their
// concatenation.
func FuzzDocGzip(f *testing.F) {
	f.Add([]byte(`{"a":[`), []byte(`{"id":"CVE-1"},{"id":"CVE-2"}`), uint8(7), []byte(`]}`))
	f.Add([]byte{}, []byte{0, 1, 2, 255}, uint8(1), []byte{})
	f.Add([]byte("x"), []byte(strings.Repeat("abc", 500)), uint8(0), []byte("y"))
	s := NewStore(1<<30, time.Hour)
	f.Fuzz(func(t *testing.T, head, body []byte, step uint8, tail []byte) {
		if len(head)+len(body)+len(tail) > 4<<10 {
			return // big inputs only slow the fuzzer's minimizing; the unit tests cover size
		}
		var items [][]byte
		n := int(step)%64 + 1
		for len(body) > 0 {
			k := min(n, len(body))
			items = append(items, body[:k])
			body = body[k:]
		}
		checkDoc(t, s.NewDoc(head, items, tail), concat(head, items, tail))
	})
}
