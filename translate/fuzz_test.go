package translate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecodeScanRequest(f *testing.F) {
	for _, s := range []string{harborVulnBody, harborSBOMBody, harborOldBody, `{}`, `[]`, `null`, `{"registry":{"url":5}}`,
		`{"registry":{"url":"https://h"},"artifact":{"repository":"a","digest":"sha256:` + strings.Repeat("a", 64) + `"},"enabled_capabilities":[{"type":"x"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeScanRequest(b)
		if err != nil {
			if r != nil {
				t.Fatal("request with an error")
			}
			// the message never quotes the authorization
			if a := authorizationOf(b); len(a) > 8 && strings.Contains(err.Error(), a) {
				t.Fatalf("error echoes the authorization: %v", err)
			}
			return
		}
		if r.Registry.URL == "" || r.Artifact.Repository == "" || ValidateDigest(r.Artifact.Digest) != nil {
			t.Fatalf("accepted an invalid request: %+v", r)
		}
		if !json.Valid(b) {
			t.Fatal("accepted invalid JSON")
		}
	})
}

// authorizationOf digs registry.authorization out of a body, if any.
func authorizationOf(b []byte) string {
	var v struct {
		Registry struct {
			Authorization string `json:"authorization"`
		} `json:"registry"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Registry.Authorization
}

func FuzzDecodeScanRepoReport(f *testing.F) {
	small := genReport(1, 3)
	full, _ := json.Marshal(ScanRepoReportData{Report: small})
	f.Add(full)
	f.Add([]byte(`{"report":{"vulnerabilities":[{"name":"CVE-1","score":"x"}]}}`))
	f.Add([]byte(`{"report":{"vulnerabilities":[{"name":"CVE-1","score_v3":1e40,"severity":"\u2028<"}],"modules":[{"name":"a","source":"debian:12"}]}}`))
	f.Add([]byte(`{"report":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"report":{"vulnerabilities":[{"name":"\xff","package_name":"p","published_timestamp":-5}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeScanRepoReport(b)
		if err != nil {
			return
		}
		for _, feed := range []bool{false, true} {
			rep := NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner, FeedBasedSeverity: feed})
			out := EncodeVulnReport(rep).Bytes()
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("invalid output for %q:\n%s", b, out)
			}
			if fused := EncodeScanRepoReport(r, testArtifact, genTime, Options{Scanner: testScanner, FeedBasedSeverity: feed}).Bytes(); !bytes.Equal(fused, out) {
				t.Fatalf("fused path differs for %q:\n%s\n%s", b, fused, out)
			}
			for _, it := range rep.Vulnerabilities {
				if SeverityRank(it.Severity) == rankUnknown && it.Severity != SeverityUnknown {
					t.Fatalf("severity %q outside the enum", it.Severity)
				}
			}
		}
		for _, mt := range []string{MediaSPDX, MediaCycloneDX} {
			doc, err := EncodeSbomReport(r, testArtifact, mt, testScanner, genTime)
			if err != nil {
				// the SBOM libraries refuse nothing that decodes
				t.Fatalf("%s: %v", mt, err)
			}
			if !json.Valid(doc) {
				t.Fatalf("%s: invalid JSON", mt)
			}
		}
	})
}

func FuzzParseReportAccept(f *testing.F) {
	for _, s := range []string{MimeVuln11, MimeVulnHarbor10, MimeSBOMReport10, MimeVulnRaw, "", "*/*", "application/*;q=0",
		"text/html, application/vnd.security.vulnerability.report;version=1.1;q=0.5", `a/b; version="1.1", ,;`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, ct, err := ParseReportAccept(b)
		if err != nil {
			if ct != "" {
				t.Fatal("content type with an error")
			}
			return
		}
		switch ct {
		case MimeVuln11, MimeVulnHarbor10:
			if k != ReportVuln {
				t.Fatalf("%q: kind %d for %s", b, k, ct)
			}
		case MimeSBOMReport10:
			if k != ReportSBOM {
				t.Fatalf("%q: kind %d for %s", b, k, ct)
			}
		default:
			t.Fatalf("%q: content type %q", b, ct)
		}
	})
}

func FuzzDecodeBasicAuth(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("robot$x:secret")))
	f.Add("basic dTpw")
	f.Add("Basic ")
	f.Add("Bearer x")
	f.Add("Basic Og==")
	f.Fuzz(func(t *testing.T, a string) {
		u, p, ok := DecodeBasicAuth(a)
		if !ok {
			if u != "" || p != "" {
				t.Fatal("credentials without ok")
			}
			return
		}
		if u == "" || strings.Contains(u, ":") {
			t.Fatalf("user %q", u)
		}
		// what decodes re-encodes to the same credentials
		u2, p2, ok2 := DecodeBasicAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)))
		if !ok2 || u2 != u || p2 != p {
			t.Fatalf("round trip %q %q", u, p)
		}
	})
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<>&\"\\", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é漢🎉", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendJSONString([]byte("x"), s)[1:]
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		want, _ := json.Marshal(s)
		if !bytes.Equal(out, want) {
			t.Fatalf("%q: %s, encoding/json %s", s, out, want)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q decodes to %q", s, back)
		}
		if !utf8.ValidString(s) && back != strings.ToValidUTF8(s, "\ufffd") && !utf8.ValidString(back) {
			t.Fatalf("invalid UTF-8 not replaced: %q", back)
		}
	})
}
