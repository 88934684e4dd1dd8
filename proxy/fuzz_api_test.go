package proxy

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// FuzzHarborAuth feeds arbitrary auth headers to the parser and to the
// handler of every mode: no panic, and anything but the configured
// credential is a 401 with a JSON body that never echoes the header.
func FuzzHarborAuth(f *testing.F) {
	for _, s := range [][2]string{
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("harbor:pw")), ""},
		{"Basic " + base64.RawStdEncoding.EncodeToString([]byte("admin:a:b")), ""},
		{"basic    Zm9vOmJhcg==  ", ""},
		{"Bearer tok", ""},
		{"Bearer", ""},
		{"", "key"},
		{"", "name:secret"},
		{"Basic ", "x"},
		{"Negotiate YII=", ""},
		{"Basic \x00\xff", ""},
	} {
		f.Add(s[0], s[1])
	}
	modes := []AuthMode{AuthBasic, AuthBearer, AuthAPIKey}
	apis := make(map[AuthMode]*API)
	for _, m := range modes {
		apis[m] = newUnitAPI(f, func(c *APIConfig) {
			c.Auth = m
			c.HarborUsername, c.HarborPassword = "harbor", "pw"
			c.HarborBearerToken, c.HarborAPIKey = "tok", "key"
		})
	}
	good := map[AuthMode]func(authz, key string) bool{
		AuthBasic: func(authz, _ string) bool {
			kind, v := parseHarborAuth([]byte(authz), nil)
			var buf [maxCredentialLen]byte
			up, _, ok := decodeBasic(v, buf[:])
			return kind == credBasic && ok && string(up) == "harbor:pw"
		},
		AuthBearer: func(authz, _ string) bool {
			kind, v := parseHarborAuth([]byte(authz), nil)
			return kind == credBearer && string(v) == "tok"
		},
		AuthAPIKey: func(_, key string) bool {
			// API key mode reads only X-ScannerAdapter-API-Key.
			kind, v := parseHarborAuth(nil, []byte(key))
			return kind == credAPIKey && string(v) == "key"
		},
	}
	f.Fuzz(func(t *testing.T, authz, key string) {
		kind, v := parseHarborAuth([]byte(authz), []byte(key))
		if kind == credMalformed && v != nil || kind == credNone && v != nil {
			t.Fatalf("value %q with kind %d", v, kind)
		}
		if len(v) > maxCredentialLen {
			t.Fatalf("value of %d bytes accepted", len(v))
		}
		var buf [maxCredentialLen]byte
		if up, colon, ok := decodeBasic(v, buf[:]); ok && (colon <= 0 || colon >= len(up)+1 || up[colon] != ':') {
			t.Fatalf("decodeBasic split %q at %d", up, colon)
		}
		if _, err := credOf(kind, v); err != nil && statusOf(err) != 401 {
			t.Fatalf("credOf error %v maps to %d", err, statusOf(err))
		}
		// fasthttp refuses header values with control characters; the
		// handler only ever sees printable ones.
		if strings.ContainsAny(authz+key, "\r\n\x00") {
			return
		}
		for _, m := range modes {
			resp := call(apis[m].Handler(), "GET", "/api/v1/metadata",
				map[string]string{"Authorization": authz, HeaderAPIKey: key}, nil)
			want := 401
			if good[m](authz, key) {
				want = 200
			}
			if resp.StatusCode() != want {
				t.Fatalf("mode %s, %q / %q: status %d, want %d", m, authz, key, resp.StatusCode(), want)
			}
			if want == 401 {
				msg := errorMessage(t, resp)
				if len(strings.TrimSpace(authz)) > 8 && strings.Contains(msg, strings.TrimSpace(authz)) {
					t.Fatalf("401 echoes the header: %q", msg)
				}
			}
		}
	})
}

// FuzzReportQuery checks the raw query reader against net/url's path
// unescaping (which, like Harbor's intent, keeps '+' as '+').
func FuzzReportQuery(f *testing.F) {
	for _, s := range []string{
		"sbom_media_type=application%2Fspdx%2Bjson",
		"sbom_media_type=application/spdx+json",
		"a=b&sbom_media_type=application%2Fvnd.cyclonedx%2Bjson&c",
		"sbom_media_type=%",
		"sbom_media_type=%2",
		"sbom_media_type=application/spdx json",
		"&&&=",
		"sbom_media_type=application%2fspdx%2bjson&sbom_media_type=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		kind, ok := sbomMediaType([]byte(q))
		// Reference: the first sbom_media_type pair, path-unescaped.
		var ref string
		var refOK, found bool
		for _, pair := range strings.Split(q, "&") {
			k, v, hasEq := strings.Cut(pair, "=")
			if !hasEq || k != "sbom_media_type" {
				continue
			}
			found = true
			if u, err := url.PathUnescape(v); err == nil {
				ref, refOK = u, true
			}
			break
		}
		wantOK := found && refOK && (ref == translate.MediaSPDX || ref == translate.MediaCycloneDX)
		if ok != wantOK {
			t.Fatalf("sbomMediaType(%q) ok=%v, reference %q (found %v, decoded %v)", q, ok, ref, found, refOK)
		}
		if ok && (kind == 1) != (ref == translate.MediaSPDX) {
			t.Fatalf("sbomMediaType(%q) kind %d for %q", q, kind, ref)
		}
		var buf [64]byte
		if out, ok := percentDecode(buf[:0], []byte(q)); ok {
			if u, err := url.PathUnescape(q); err != nil || !bytes.Equal(out, []byte(u)) {
				t.Fatalf("percentDecode(%q) = %q, url says %q %v", q, out, u, err)
			}
		}
	})
}

// FuzzReportPath routes arbitrary paths: no panic, every answer of the
// router JSON or a report answer.
func FuzzReportPath(f *testing.F) {
	for _, s := range []string{"/api/v1/scan/abc/report", "/endpoint/api/v1/scan/x/report", "/api/v1/scan//report",
		"/api/v1/metadata", "/api/v1/scan/" + strings.Repeat("A", 300) + "/report", "/%00"} {
		f.Add(s)
	}
	a := newUnitAPI(f, nil)
	h := a.Handler()
	f.Fuzz(func(t *testing.T, path string) {
		if id, ok := reportID([]byte(path)); ok && (len(id) == 0 || bytes.IndexByte(id, '/') >= 0) {
			t.Fatalf("reportID(%q) = %q", path, id)
		}
		if strings.ContainsAny(path, " \r\n\x00?#") || !strings.HasPrefix(path, "/") {
			return
		}
		resp := call(h, "GET", path, map[string]string{"Accept": translate.MimeVuln11}, nil)
		switch resp.StatusCode() {
		case 200, 302:
		default:
			errorMessage(t, resp)
		}
	})
}
