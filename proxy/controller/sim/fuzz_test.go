package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Decoders of outside input must never panic and must keep their promises.

func FuzzDecodeFault(f *testing.F) {
	for _, s := range []string{
		`{"digest":"sha256:abc","code":26,"message":"Image not found"}`,
		`{"digest":"sha256:abc","code":0}`,
		`{"code":26}`, `{"digest":1}`, `null`, `[]`, `{`, ``,
		`{"digest":"sha256:abc","code":-1,"message":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fr, err := decodeFault(body)
		if err != nil {
			return
		}
		if fr.Digest == "" || fr.Code < 0 {
			t.Fatalf("accepted %+v", fr)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}

func FuzzDecodeAuth(f *testing.F) {
	for _, s := range []string{
		`{"password":{"username":"admin","password":"admin"},"client_ip":""}`,
		`{"password":{"username":"a","password":"","new_password":"b"}}`,
		`{"client_ip":"1.2.3.4"}`, `{"password":null}`, `{"password":"x"}`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeAuth(body)
		if err != nil {
			return
		}
		if d.Password == nil {
			t.Fatal("accepted a body without password")
		}
	})
}

func FuzzDecodeScanRequest(f *testing.F) {
	for _, s := range []string{
		`{"request":{"registry":"https://h","repository":"a/b","tag":"sha256:00"}}`,
		`{"request":{"registry":"","repository":"a","tag":""}}`,
		`{"request":{"registry":"ftp://h","repository":"a"}}`,
		`{"request":{"registry":"https://docker.io","repository":"nginx","ignore_proxy":true,"metadata":{"user":"u"}}}`,
		`{}`, `{"request":null}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeScanRequest(body)
		if err != nil {
			return
		}
		if req.Repository == "" || req.Tag == "" {
			t.Fatalf("accepted %+v", req)
		}
		if req.Registry != "" && !(strings.HasPrefix(req.Registry, "http://") || strings.HasPrefix(req.Registry, "https://")) || req.Registry != "" && !strings.HasSuffix(req.Registry, "/") {
			t.Fatalf("registry %q", req.Registry)
		}
		if d := digestOf(req); !strings.HasPrefix(d, "sha256:") {
			t.Fatalf("digest %q", d)
		}
	})
}

func FuzzParseFilters(f *testing.F) {
	f.Add("f_digest", "eq,sha256:1")
	f.Add("f_size", "gt,12")
	f.Add("f_digest", "in,a,b,c")
	f.Add("f_x", ",")
	f.Fuzz(func(t *testing.T, k, v string) {
		rep := GenerateReport("sha256:1", "r", "", 3, "1", "t")
		s := summarize(rep, rep2time)
		for _, fl := range parseFilters(map[string][]string{k: {v}}) {
			if len(fl.values) == 0 {
				t.Fatalf("filter without value: %+v", fl)
			}
			_ = fl.match(&s)
		}
	})
}

func FuzzDecodeCVEDBAndLatency(f *testing.F) {
	for _, s := range []string{
		`{"version":"4.018","create_time":"2026-07-01T00:00:00Z"}`, `{"version":""}`, `{"create_time":"x"}`,
		`{"latency":"2s"}`, `{"latency":"-1s"}`, `{"latency":""}`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, err := decodeCVEDB(body); err == nil && c.CreateTime != "" {
			if _, perr := time.Parse(time.RFC3339, c.CreateTime); perr != nil {
				t.Fatalf("accepted create_time %q", c.CreateTime)
			}
		}
		if d, err := decodeLatency(body); err == nil && d < 0 {
			t.Fatalf("accepted latency %v", d)
		}
	})
}
