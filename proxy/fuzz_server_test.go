package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// scriptConn is a net.Conn that reads a fixed input then io.EOF and keeps
// what is written: fasthttp serves it exactly like a client that sent the
// input and half-closed, with no timing involved.
type scriptConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8090}
}
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

const fuzzMaxBody = 256

// fuzzServer is an API server whose backend answers 200, or panics for a
// path containing "panic", behind the real middleware and limits.
func fuzzServer(t testing.TB) *Server {
	b := &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) {
		if bytes.Contains(ctx.Path(), []byte("panic")) {
			panic("fuzz panic")
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"ok":true}`)
	}}
	cfg := testConfig()
	cfg.MaxBodyBytes = fuzzMaxBody
	cfg.MaxHeaderBytes = 1024
	return newTestServer(t, cfg, b)
}

// requestMethods parses the input as the server does and returns the
// method of each request it can read, so that responses to HEAD are read
// without a body.
func requestMethods(in []byte) []string {
	var methods []string
	br := bufio.NewReader(bytes.NewReader(in))
	for {
		var req fasthttp.Request
		err := req.ReadLimitBody(br, fuzzMaxBody)
		if m := req.Header.Method(); len(m) > 0 {
			methods = append(methods, string(m))
		}
		if err != nil || req.ConnectionClose() {
			return methods
		}
	}
}

// checkResponses asserts that out is a sequence of well-formed HTTP
// responses, each error among them a JSON ErrorResponse.
func checkResponses(t *testing.T, in, out []byte) {
	methods := requestMethods(in)
	br := bufio.NewReader(bytes.NewReader(out))
	for i := 0; ; i++ {
		if _, err := br.Peek(1); err == io.EOF {
			return
		}
		rest, _ := br.Peek(br.Buffered())
		var resp fasthttp.Response
		resp.SkipBody = i < len(methods) && methods[i] == fasthttp.MethodHead
		err := resp.Read(br)
		if err != nil && i >= len(methods) {
			// The method of a request the parser gave up on is unknown:
			// it may have been HEAD.
			resp.Reset()
			resp.SkipBody = true
			br = bufio.NewReader(bytes.NewReader(append([]byte(nil), rest...)))
			err = resp.Read(br)
		}
		if err != nil {
			t.Fatalf("response %d malformed: %v\ninput %q\noutput %q", i, err, in, out)
		}
		code := resp.StatusCode()
		if code < 100 || code > 599 {
			t.Fatalf("response %d: status %d", i, code)
		}
		if code < 400 {
			continue
		}
		if ct := string(resp.Header.ContentType()); ct != translate.MimeError10 {
			t.Fatalf("response %d: status %d with Content-Type %q\ninput %q\noutput %q", i, code, ct, in, out)
		}
		if resp.SkipBody {
			continue
		}
		var er translate.ErrorResponse
		if err := json.Unmarshal(resp.Body(), &er); err != nil || er.Error.Message == "" {
			t.Fatalf("response %d: status %d body %q is not an ErrorResponse\ninput %q", i, code, resp.Body(), in)
		}
	}
}

func FuzzServeRawRequest(f *testing.F) {
	seeds := []string{
		"GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.scanner.adapter.metadata+json; version=1.0\r\n\r\n",
		"POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.scanner.adapter.scan.request+json; version=1.0\r\nContent-Length: 2\r\n\r\n{}",
		"POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n" + strings.Repeat("x", 300),
		"POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + strings.Repeat("y", 512) + "\r\n0\r\n\r\n",
		"POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 2000) + "\r\n\r\n",
		"GET /api/v1/scan/abc/report HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\nGET /panic HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
		"GET /panic HTTP/1.0\r\n\r\n",
		"GET http://example.com/api/v1/metadata HTTP/1.1\r\n\r\n",
		"GARBAGE\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost",
		"\r\n\r\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &scriptConn{in: bytes.NewReader(in)}
		_ = s.api.ServeConn(c)
		checkResponses(t, in, c.out.Bytes())
	})
}
