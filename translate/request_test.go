package translate

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

const (
	testDigest = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
	// robotSecret must never show up in an error message.
	robotSecret = "S3cr3tR0b0tPassw0rd"
)

var robotAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte("robot$scanner-NeuVector-1234:"+robotSecret))

// Bodies as Harbor ≥ 2.11 sends them (harbor-contract.md §3.2).
var (
	harborVulnBody = `{"registry":{"url":"https://harbor.example.com","authorization":"` + robotAuth + `","insecure":false},` +
		`"artifact":{"repository":"library/alpine","tag":"3.19","digest":"` + testDigest + `","mime_type":"application/vnd.oci.image.manifest.v1+json","size":1234},` +
		`"enabled_capabilities":[{"type":"vulnerability","produces_mime_types":["application/vnd.security.vulnerability.report; version=1.1"],"parameters":null}]}`
	harborSBOMBody = `{"registry":{"url":"http://core:8080","authorization":"` + robotAuth + `","insecure":false},` +
		`"artifact":{"repository":"proj/sub/app","tag":"","digest":"` + testDigest + `","mime_type":"application/vnd.docker.distribution.manifest.v2+json","size":99},` +
		`"enabled_capabilities":[{"type":"sbom","produces_mime_types":["application/vnd.security.sbom.report+json; version=1.0"],"parameters":{"sbom_media_types":["application/spdx+json"]}}]}`
	harborOldBody = `{"registry":{"url":"https://harbor.example.com:8443","authorization":"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},` +
		`"artifact":{"repository":"library/mongo","digest":"` + testDigest + `","tag":"latest","mime_type":"application/vnd.docker.distribution.manifest.v2+json"}}`
)

func TestDecodeScanRequestHarborBodies(t *testing.T) {
	r, err := DecodeScanRequest([]byte(harborVulnBody))
	if err != nil {
		t.Fatal(err)
	}
	if r.Registry.URL != "https://harbor.example.com" || r.Artifact.Repository != "library/alpine" || r.Artifact.Digest != testDigest ||
		r.Artifact.Tag != "3.19" || r.Artifact.Size != 1234 || !r.Wants(CapabilityVulnerability) || r.Wants(CapabilitySBOM) {
		t.Fatalf("decoded %+v", r)
	}
	if u, p, ok := DecodeBasicAuth(r.Registry.Authorization); !ok || u != "robot$scanner-NeuVector-1234" || p != robotSecret {
		t.Fatalf("basic auth %q %q %v", u, p, ok)
	}

	r, err = DecodeScanRequest([]byte(harborSBOMBody))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Wants(CapabilitySBOM) || r.Wants(CapabilityVulnerability) || strings.Join(r.SbomMediaTypes(), ",") != MediaSPDX {
		t.Fatalf("sbom request %+v", r)
	}

	r, err = DecodeScanRequest([]byte(harborOldBody))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Wants(CapabilityVulnerability) || r.SbomMediaTypes() != nil {
		t.Fatalf("a request without enabled_capabilities is a vulnerability scan: %+v", r)
	}
}

func body(reg, art, caps string) string {
	s := `{"registry":` + reg + `,"artifact":` + art
	if caps != "" {
		s += `,"enabled_capabilities":` + caps
	}
	return s + "}"
}

const (
	okReg = `{"url":"https://harbor.example.com","authorization":"` + "%AUTH%" + `"}`
	okArt = `{"repository":"library/alpine","digest":"` + testDigest + `"}`
)

func TestDecodeScanRequestErrors(t *testing.T) {
	reg := strings.ReplaceAll(okReg, "%AUTH%", robotAuth)
	cases := []struct {
		name, body string
		want       error
		msg        string
	}{
		{"not json", `{"registry":`, ErrMalformed, "not valid JSON"},
		{"garbage", `hello`, ErrMalformed, ""},
		{"array", `[]`, ErrMalformed, "JSON object"},
		{"null", `null`, ErrMalformed, "JSON object"},
		{"trailing", body(reg, okArt, "") + `{}`, ErrMalformed, ""},
		{"url number", body(`{"url":5}`, okArt, ""), ErrMalformed, "registry.url"},
		{"registry string", body(`"x"`, okArt, ""), ErrMalformed, ""},
		{"caps object", body(reg, okArt, `{}`), ErrMalformed, ""},
		{"parameters string", body(reg, okArt, `[{"type":"sbom","parameters":"x"}]`), ErrMalformed, ""},
		{"no url", body(`{}`, okArt, ""), ErrInvalid, "registry.url: required"},
		{"no registry", `{"artifact":` + okArt + `}`, ErrInvalid, "registry.url: required"},
		{"url no scheme", body(`{"url":"harbor-registry:5000"}`, okArt, ""), ErrInvalid, "registry.url"},
		{"url ftp", body(`{"url":"ftp://harbor"}`, okArt, ""), ErrInvalid, "http or https"},
		{"url no host", body(`{"url":"https://"}`, okArt, ""), ErrInvalid, "host"},
		{"url userinfo", body(`{"url":"https://u:`+robotSecret+`@harbor"}`, okArt, ""), ErrInvalid, "credentials"},
		{"url bad port", body(`{"url":"https://harbor:99999"}`, okArt, ""), ErrInvalid, ""},
		{"auth scheme", body(`{"url":"https://h","authorization":"Token `+robotSecret+`"}`, okArt, ""), ErrInvalid, "registry.authorization"},
		{"auth colon", body(`{"url":"https://h","authorization":"Bearer: `+robotSecret+`"}`, okArt, ""), ErrInvalid, "registry.authorization"},
		{"auth basic not b64", body(`{"url":"https://h","authorization":"Basic `+robotSecret+`!"}`, okArt, ""), ErrInvalid, "base64"},
		{"auth basic no colon", body(`{"url":"https://h","authorization":"Basic `+base64.StdEncoding.EncodeToString([]byte(robotSecret))+`"}`, okArt, ""), ErrInvalid, "user:password"},
		{"no repository", body(reg, `{"digest":"`+testDigest+`"}`, ""), ErrInvalid, "artifact.repository: required"},
		{"bad repository", body(reg, `{"repository":"Library/Alpine","digest":"`+testDigest+`"}`, ""), ErrInvalid, "artifact.repository"},
		{"no digest", body(reg, `{"repository":"library/alpine"}`, ""), ErrInvalid, "artifact.digest: required"},
		{"digest no algo", body(reg, `{"repository":"a","digest":"6c3c624b"}`, ""), ErrInvalid, "artifact.digest: must be algorithm:hex"},
		{"digest short", body(reg, `{"repository":"a","digest":"sha256:abc"}`, ""), ErrInvalid, "64 hex"},
		{"digest upper", body(reg, `{"repository":"a","digest":"sha256:`+strings.Repeat("A", 64)+`"}`, ""), ErrInvalid, "lowercase hex"},
		{"digest md5", body(reg, `{"repository":"a","digest":"md5:`+strings.Repeat("a", 32)+`"}`, ""), ErrInvalid, "algorithm"},
		{"bad tag", body(reg, `{"repository":"a","digest":"`+testDigest+`","tag":"-x"}`, ""), ErrInvalid, "artifact.tag"},
		{"cap no type", body(reg, okArt, `[{"produces_mime_types":[]}]`), ErrInvalid, "enabled_capabilities[0].type: required"},
		{"cap unknown", body(reg, okArt, `[{"type":"malware"}]`), ErrUnsupported, "enabled_capabilities[0].type"},
		{"cap raw", body(reg, okArt, `[{"type":"vulnerability","produces_mime_types":["`+MimeVulnRaw+`"]}]`), ErrUnsupported, "produces_mime_types"},
		{"cap sbom as vuln", body(reg, okArt, `[{"type":"vulnerability","produces_mime_types":["`+MimeSBOMReport10+`"]}]`), ErrUnsupported, "produces_mime_types"},
		{"sbom bad media", body(reg, okArt, `[{"type":"sbom","parameters":{"sbom_media_types":["text/plain"]}}]`), ErrInvalid, "sbom_media_types"},
	}
	for _, c := range cases {
		_, err := DecodeScanRequest([]byte(c.body))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			continue
		}
		if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: message %q lacks %q", c.name, err, c.msg)
		}
		if strings.Contains(err.Error(), robotSecret) || strings.Contains(err.Error(), robotAuth[6:]) {
			t.Errorf("%s: message echoes the credentials: %q", c.name, err)
		}
	}
}

func TestDecodeScanRequestAccepts(t *testing.T) {
	reg := strings.ReplaceAll(okReg, "%AUTH%", "")
	for name, b := range map[string]string{
		"no auth":         body(`{"url":"http://core:8080"}`, okArt, ""),
		"empty caps":      body(reg, okArt, `[]`),
		"params null":     body(reg, okArt, `[{"type":"vulnerability","parameters":null}]`),
		"harbor 1.0 mime": body(reg, okArt, `[{"type":"vulnerability","produces_mime_types":["`+MimeVulnHarbor10+`"]}]`),
		"sbom both":       body(reg, okArt, `[{"type":"sbom","parameters":{"sbom_media_types":["application/spdx+json","application/vnd.cyclonedx+json"]}}]`),
		"sbom no params":  body(reg, okArt, `[{"type":"sbom"}]`),
		"unknown fields":  `{"registry":{"url":"https://h","insecure":true,"x":[1]},"artifact":{"repository":"a/b-c_d.e","digest":"` + testDigest + `","namespace_id":3},"extra":{}}`,
		"sha512":          body(reg, `{"repository":"a","digest":"sha512:`+strings.Repeat("0", 128)+`"}`, ""),
		"sha384":          body(reg, `{"repository":"a","digest":"sha384:`+strings.Repeat("f", 96)+`"}`, ""),
		"bearer":          body(`{"url":"https://h","authorization":"bearer abc.def-ghi_jkl"}`, okArt, ""),
		"basic lower":     body(`{"url":"https://h","authorization":"basic `+base64.StdEncoding.EncodeToString([]byte("u:"))+`"}`, okArt, ""),
		"ipv6 host":       body(`{"url":"https://[::1]:5000/"}`, okArt, ""),
	} {
		if _, err := DecodeScanRequest([]byte(b)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDecodeBasicAuth(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		in         string
		user, pass string
		ok         bool
	}{
		{"Basic " + enc("robot$x:p:with:colons"), "robot$x", "p:with:colons", true},
		{"BASIC " + enc("u:"), "u", "", true},
		{"Basic " + strings.TrimRight(enc("user:pw"), "="), "user", "pw", true},
		{"Basic " + enc(":p"), "", "", false},
		{"Basic " + enc("nocolon"), "", "", false},
		{"Basic", "", "", false},
		{"Basic ", "", "", false},
		{"Bearer " + enc("u:p"), "", "", false},
		{"Basic !!!", "", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		u, p, ok := DecodeBasicAuth(c.in)
		if u != c.user || p != c.pass || ok != c.ok {
			t.Errorf("%q: got %q %q %v", c.in, u, p, ok)
		}
	}
}

func TestValidRepository(t *testing.T) {
	for s, want := range map[string]bool{
		"library/alpine": true, "a": true, "proj/sub/app": true, "a__b": true, "a---b": true, "a.b_c-d": true,
		"": false, "A": false, "a/": false, "/a": false, "a//b": false, "a___b": false, "-a": false, "a-": false,
		"a..b": false, "a b": false, "a:b": false, strings.Repeat("a", 256): false,
	} {
		if got := validRepository(s); got != want {
			t.Errorf("%q: %v", s, got)
		}
	}
}
