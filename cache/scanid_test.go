package cache

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestScanIDRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 4, 21, 0, 0, 123_456_789, time.UTC)
	for _, tc := range []struct{ digest, repo string }{
		{testDigest, "library/nginx"},
		{testDigest, ""},
		{"sha512:" + strings.Repeat("ab", 64), "a/b/c"},
		{"sha384:" + strings.Repeat("0f", 48), "x"},
		{"sha256:ABCDEF", "upper-case and short: kept as text"},
		{"blake3:" + strings.Repeat("1", 64), "other algorithm"},
		{"", "no digest"},
	} {
		id, sid := NewScanID(tc.digest, tc.repo, now)
		if len(id) > MaxScanIDLen || strings.ContainsAny(id, "+/=") {
			t.Fatalf("ID %q is not short URL-safe base64url", id)
		}
		got, err := ParseScanID(id)
		if err != nil {
			t.Fatalf("%s: %v", tc.digest, err)
		}
		if got != sid || got.Digest != tc.digest || got.Repository != tc.repo || got.Version != ScanIDVersion ||
			!got.IssuedAt.Equal(now.Truncate(time.Millisecond)) {
			t.Fatalf("round trip: %+v, issued %+v", got, sid)
		}
		if got.String() != id {
			t.Fatal("re-encoding differs")
		}
	}
	// A sha256 digest costs raw bytes, not hex.
	id, _ := NewScanID(testDigest, "", now)
	if len(id) > 76 {
		t.Fatalf("ID of a sha256 digest is %d characters", len(id))
	}
}

func TestScanIDLongRepository(t *testing.T) {
	repo := strings.Repeat("abcdefgh/", 114) // ~1 KB
	for _, digest := range []string{testDigest, "sha512:" + strings.Repeat("ab", 64), strings.Repeat("x", 1000)} {
		id, sid := NewScanID(digest, repo, time.Now())
		if len(id) > MaxScanIDLen {
			t.Fatalf("ID is %d characters", len(id))
		}
		if !strings.HasPrefix(repo, sid.Repository) {
			t.Fatal("repository not a prefix of the original")
		}
		got, err := ParseScanID(id)
		if err != nil || got != sid {
			t.Fatalf("parse: %v", err)
		}
	}
	// Cutting never splits a character.
	id, sid := NewScanID(testDigest, strings.Repeat("é", 500), time.Now())
	if _, err := ParseScanID(id); err != nil || strings.ContainsRune(sid.Repository, '\uFFFD') || len(id) > MaxScanIDLen {
		t.Fatalf("multi-byte cut: %v", err)
	}
}

func TestScanIDUnique(t *testing.T) {
	now := time.Now()
	n := 100_000
	if raceEnabled {
		n = 10_000
	}
	seen := make(map[string]struct{}, n)
	for range n {
		id, _ := NewScanID(testDigest, "library/app", now)
		if _, dup := seen[id]; dup {
			t.Fatal("duplicate ID")
		}
		seen[id] = struct{}{}
	}
}

func TestScanIDMalformed(t *testing.T) {
	good, _ := NewScanID(testDigest, "r", time.Now())
	for _, s := range []string{
		"", "a", "!!!!", good + "=", good[:len(good)-1] + "\n" + good[len(good)-1:],
		good[:20], strings.Repeat("A", 300), "AAAAAAAAAAAAAAAAAAAAAAAA", // version 0
		good[:10] + "+" + good[11:], good[:10] + "/" + good[11:],
	} {
		if _, err := ParseScanID(s); !errors.Is(err, ErrBadScanID) || errors.Is(err, ErrNewerScanID) {
			t.Fatalf("%q: err %v", s, err)
		}
	}
}

func TestScanIDNewerVersion(t *testing.T) {
	issued := time.UnixMilli(1_780_000_000_123)
	_, sid := NewScanID(testDigest, "r", issued)
	sid.Version = 7
	id := sid.String() // a future layout after the fixed head
	got, err := ParseScanID(id)
	if !errors.Is(err, ErrNewerScanID) || !errors.Is(err, ErrBadScanID) {
		t.Fatalf("err %v", err)
	}
	if got.Version != 7 || !got.IssuedAt.Equal(issued) || got.Digest != "" {
		t.Fatalf("newer ID decoded as %+v", got)
	}
	// Only the fixed head is needed.
	if got, err := ParseScanID(id[:12]); !errors.Is(err, ErrNewerScanID) || !got.IssuedAt.Equal(issued) {
		t.Fatalf("head-only newer ID: %+v %v", got, err)
	}
}
