package proxy

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestRequestErrorResponse(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{fasthttp.ErrBodyTooLarge, 413},
		{fmt.Errorf("reading body: %w", fasthttp.ErrBodyTooLarge), 413},
		{&fasthttp.ErrSmallBuffer{}, 431},
		{fmt.Errorf("error when reading request headers: %w", &fasthttp.ErrSmallBuffer{}), 431},
		{os.ErrDeadlineExceeded, 408},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, 408},
		{io.ErrUnexpectedEOF, 400},
		{fmt.Errorf("cannot find http request method in %q", "Authorization: Basic c2VjcmV0"), 400},
	}
	for _, c := range cases {
		status, body := requestErrorResponse(c.err)
		if status != c.want {
			t.Errorf("%v: status %d, want %d", c.err, status, c.want)
		}
		assertJSONError(t, "application/vnd.scanner.adapter.error+json; version=1.0", body, "")
		if string(body) == "" || containsFold(string(body), "c2VjcmV0") {
			t.Errorf("%v: body %q", c.err, body)
		}
	}
}

func TestLimitListenerAccounting(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	l := newLimitListener(raw, 2, 0, nil, newTestLogger(t, logs, "info"))
	defer l.Close()

	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	var clients []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	a1, a2 := <-accepted, <-accepted
	if l.Open() != 2 {
		t.Fatalf("open %d, want 2", l.Open())
	}

	// A third connection is answered 503 and never reaches Accept's caller.
	before := connsRejectedMax.Get()
	c3, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	_ = c3.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c3, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c3)); err != nil || resp.StatusCode() != 503 {
		t.Fatalf("over the cap: %v %d", err, resp.StatusCode())
	}
	if string(resp.Header.Peek("Connection")) != "close" || connsRejectedMax.Get() != before+1 {
		t.Errorf("rejection: connection %q, counted %v", resp.Header.Peek("Connection"), connsRejectedMax.Get()-before)
	}
	select {
	case c := <-accepted:
		t.Fatalf("rejected connection was accepted: %v", c.RemoteAddr())
	default:
	}
	if !strings.Contains(logs.String(), "API connection cap reached") {
		t.Errorf("cap not logged: %s", logs.String())
	}

	// Closing twice gives the slot back once.
	a1.Close()
	a1.Close()
	if l.Open() != 1 {
		t.Fatalf("open %d after closing one twice, want 1", l.Open())
	}
	// The freed slot admits a new connection.
	c4, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	select {
	case a4 := <-accepted:
		a4.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("freed slot did not admit a connection")
	}
	a2.Close()
	if l.Open() != 0 {
		t.Errorf("open %d at the end", l.Open())
	}
}

func TestLimitListenerPerIPRelease(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(raw, 0, 1, nil, slog.New(slog.DiscardHandler))
	defer l.Close()
	for i := range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		a, err := l.Accept()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		a.Close()
		c.Close()
	}
	l.mu.Lock()
	n := len(l.byIP)
	l.mu.Unlock()
	if n != 0 {
		t.Errorf("per-address map keeps %d entries after all closed", n)
	}
}
