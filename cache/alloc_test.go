//go:build !race

package cache

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// The report handler's hit path: Get, then the stored bytes into a reused
// fasthttp.RequestCtx, allocates nothing.
func TestHitPathAllocs(t *testing.T) {
	s := NewStore(1<<30, time.Hour)
	u := genUniverse(5000, 9)
	u[0] = u[0][1:]
	e := s.NewEntry(testDigest, "db1", time.Now())
	e.SetDoc(KindVuln, s.NewDoc(docHead(testDigest), u, docTail))
	s.Put(e)
	ctx := &fasthttp.RequestCtx{}
	// Keep one body buffer: fasthttp's pool drops multi-MB buffers now and
	// then, which is fasthttp's allocation, not the cache's.
	ctx.Response.KeepBodyBuffer = true
	for _, tc := range []struct {
		name  string
		write func(*Doc) error
	}{
		{"WritePlain", func(d *Doc) error { return d.WritePlain(ctx) }},
		{"WriteGzip", func(d *Doc) error { return d.WriteGzip(ctx) }},
	} {
		name, write := tc.name, tc.write
		allocs := testing.AllocsPerRun(50, func() {
			ctx.Response.ResetBody()
			e, ok := s.Get(testDigest, "db1")
			if !ok {
				t.Fatal("miss")
			}
			if err := write(e.Doc(KindVuln)); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocs per hit", name, allocs)
		}
	}
	if got := len(ctx.Response.Body()); got != e.Doc(KindVuln).GzipLen() {
		t.Fatalf("body %d bytes, want %d", got, e.Doc(KindVuln).GzipLen())
	}
	if allocs := testing.AllocsPerRun(100, func() { s.Newest(testDigest) }); allocs != 0 {
		t.Errorf("Newest: %.1f allocs", allocs)
	}
}
