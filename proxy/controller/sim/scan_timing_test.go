package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// One scan end to end over loopback HTTPS with zero latency: what the
// simulator costs an adapter benchmark per controller scan.
func BenchmarkScanRoundTrip(b *testing.B) {
	s, err := New(Config{Vulns: 25})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(s)
	body, _ := json.Marshal(authBody("admin", "admin"))
	resp, err := c.Post(url+"/v1/auth", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var td struct{ Token struct{ Token string } }
	_ = json.NewDecoder(resp.Body).Decode(&td)
	resp.Body.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		data, _ := json.Marshal(scanBody(digestN(i)))
		i++
		req, _ := http.NewRequest("POST", url+"/v1/scan/repository", bytes.NewReader(data))
		req.Header.Set("X-Auth-Token", td.Token.Token)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
