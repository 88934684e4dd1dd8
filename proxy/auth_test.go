package proxy

import (
	"encoding/base64"
	"strings"
	"testing"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestParseHarborAuth(t *testing.T) {
	cases := []struct {
		authz, key string
		kind       credKind
		value      string
	}{
		{"", "", credNone, ""},
		{"Basic dTpw", "", credBasic, "dTpw"},
		{"basic   dTpw  ", "", credBasic, "dTpw"},
		{"BEARER tok", "", credBearer, "tok"},
		{"Bearer", "", credMalformed, ""},
		{"Bearer ", "", credMalformed, ""},
		{"Digest abc", "", credMalformed, ""},
		{"", "name:secret", credAPIKey, "name:secret"},
		{"", "  ", credNone, ""},
		{"Basic dTpw", "name:secret", credBasic, "dTpw"},
		{"Basic " + strings.Repeat("A", maxCredentialLen+1), "", credMalformed, ""},
	}
	for _, tc := range cases {
		kind, v := parseHarborAuth([]byte(tc.authz), []byte(tc.key))
		if kind != tc.kind || string(v) != tc.value {
			t.Errorf("parseHarborAuth(%q, %q) = %d %q, want %d %q", tc.authz, tc.key, kind, v, tc.kind, tc.value)
		}
	}
}

func TestDecodeBasic(t *testing.T) {
	var buf [maxCredentialLen]byte
	for _, tc := range []struct {
		in, user, pass string
		ok             bool
	}{
		{base64.StdEncoding.EncodeToString([]byte("admin:pa:ss")), "admin", "pa:ss", true},
		{base64.RawStdEncoding.EncodeToString([]byte("robot$x:y")), "robot$x", "y", true},
		{base64.StdEncoding.EncodeToString([]byte("admin:")), "admin", "", true},
		{base64.StdEncoding.EncodeToString([]byte(":pass")), "", "", false},
		{base64.StdEncoding.EncodeToString([]byte("nocolon")), "", "", false},
		{"!!!notbase64", "", "", false},
	} {
		up, colon, ok := decodeBasic([]byte(tc.in), buf[:])
		if ok != tc.ok {
			t.Errorf("decodeBasic(%q) ok = %v", tc.in, ok)
			continue
		}
		if ok && (string(up[:colon]) != tc.user || string(up[colon+1:]) != tc.pass) {
			t.Errorf("decodeBasic(%q) = %q, %q", tc.in, up[:colon], up[colon+1:])
		}
	}
}

// Every static mode accepts exactly its credential, on every Harbor
// endpoint, and answers 401 JSON otherwise.
func TestStaticAuthModes(t *testing.T) {
	const (
		user, pass = "harbor", "hb-pa55word"
		token      = "tok-123456"
		apiKey     = "harbor-key-abcdef"
	)
	good := map[AuthMode]map[string]string{
		AuthBasic:  {"Authorization": basic(user, pass)},
		AuthBearer: {"Authorization": "Bearer " + token},
		AuthAPIKey: {HeaderAPIKey: apiKey},
	}
	bad := []map[string]string{
		nil,
		{"Authorization": basic(user, pass+"x")},
		{"Authorization": basic(user+"x", pass)},
		{"Authorization": "Bearer " + token + "x"},
		{"Authorization": "Bearer"},
		{"Authorization": "Basic %%%"},
		{HeaderAPIKey: apiKey + "x"},
		{HeaderAPIKey: ""},
		{"Authorization": "Negotiate abc"},
	}
	endpoints := []struct{ method, uri string }{
		{"GET", "/api/v1/metadata"},
		{"GET", "/endpoint/api/v1/metadata"},
		{"POST", "/api/v1/scan"},
		{"GET", "/api/v1/scan/unknown/report"},
	}
	for mode, okHdr := range good {
		t.Run(string(mode), func(t *testing.T) {
			a := newUnitAPI(t, func(c *APIConfig) {
				c.Auth = mode
				c.HarborUsername, c.HarborPassword = user, pass
				c.HarborBearerToken = token
				c.HarborAPIKey = apiKey
			})
			h := a.Handler()
			for _, ep := range endpoints {
				resp := call(h, ep.method, ep.uri, okHdr, []byte("{"))
				if resp.StatusCode() == 401 {
					t.Errorf("%s %s with the right credential: 401 %q", ep.method, ep.uri, resp.Body())
				}
				for i, hdr := range bad {
					// The right credential of another mode is wrong here too.
					if equalHeaders(hdr, okHdr) {
						continue
					}
					resp := call(h, ep.method, ep.uri, hdr, []byte("{"))
					if resp.StatusCode() != 401 {
						t.Errorf("%s %s with bad credential #%d: status %d", ep.method, ep.uri, i, resp.StatusCode())
						continue
					}
					msg := errorMessage(t, resp)
					for _, secret := range []string{pass, token, apiKey} {
						if strings.Contains(msg, secret) || strings.Contains(string(resp.Header.String()), secret) {
							t.Fatalf("401 leaks a secret: %q", msg)
						}
					}
				}
				for m, other := range good {
					if m == mode {
						continue
					}
					if resp := call(h, ep.method, ep.uri, other, nil); resp.StatusCode() != 401 {
						t.Errorf("%s %s: mode %s accepted the %s credential (%d)", ep.method, ep.uri, mode, m, resp.StatusCode())
					}
				}
			}
		})
	}
}

func equalHeaders(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAuthNoneAcceptsAnything(t *testing.T) {
	a := newUnitAPI(t, nil)
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer whatever"}} {
		if resp := call(a.Handler(), "GET", "/api/v1/metadata", hdr, nil); resp.StatusCode() != 200 {
			t.Fatalf("status %d", resp.StatusCode())
		}
	}
}

// Pass-through mode turns away what it cannot pass to NeuVector before
// calling the controller; with the controller down an unseen credential
// is a 503, not a 401.
func TestPassthroughRejections(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) { c.Auth = AuthPassthrough })
	h := a.Handler()
	resp := call(h, "GET", "/api/v1/metadata", nil, nil)
	if resp.StatusCode() != 401 {
		t.Fatalf("no credential: %d", resp.StatusCode())
	}
	if got := string(resp.Header.Peek("WWW-Authenticate")); !strings.HasPrefix(got, "Basic") {
		t.Errorf("WWW-Authenticate %q", got)
	}
	resp = call(h, "GET", "/api/v1/metadata", map[string]string{"Authorization": "Bearer abc"}, nil)
	if resp.StatusCode() != 401 || !strings.Contains(errorMessage(t, resp), "APIKey") {
		t.Fatalf("bearer: %d %q", resp.StatusCode(), resp.Body())
	}
	resp = call(h, "GET", "/api/v1/metadata", map[string]string{HeaderAPIKey: "no-colon"}, nil)
	if resp.StatusCode() != 401 || !strings.Contains(errorMessage(t, resp), "name:secret") {
		t.Fatalf("api key without colon: %d %q", resp.StatusCode(), resp.Body())
	}
	resp = call(h, "GET", "/api/v1/metadata", map[string]string{"Authorization": basic("admin", "unseen-pw")}, nil)
	if resp.StatusCode() != 503 {
		t.Fatalf("controller down, unseen credential: %d %q", resp.StatusCode(), resp.Body())
	}
	if msg := errorMessage(t, resp); strings.Contains(msg, "unseen-pw") {
		t.Fatalf("503 leaks the password: %q", msg)
	}
}
