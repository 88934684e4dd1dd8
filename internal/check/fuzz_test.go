package check

import (
	"strings"
	"testing"
)

// Image arguments come from the command line: never panic, and what is
// accepted splits back into what was given.
func FuzzParseImage(f *testing.F) {
	for _, s := range []string{"library/alpine:3.19@" + digest, "h:5000/p/r@" + digest, "@" + digest, "a@sha256:", ":@", "a:@" + digest} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseImage(s)
		if err != nil {
			return
		}
		back := r.repository
		if r.tag != "" {
			back += ":" + r.tag
		}
		if back+"@"+r.digest != s || r.repository == "" || !strings.HasPrefix(r.digest, "sha256:") {
			t.Fatalf("%q -> %+v", s, r)
		}
		_ = r.short()
	})
}
