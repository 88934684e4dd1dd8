package cache

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func BenchmarkGetHit(b *testing.B) {
	s := NewStore(1<<30, time.Hour)
	u := genUniverse(300, 1)
	for i := range 1000 {
		putDoc(s, fmt.Sprintf("sha256:%064x", i), "db1", u[i%100:i%100+100])
	}
	d := fmt.Sprintf("sha256:%064x", 500)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Get(d, "db1"); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkGetHitParallel(b *testing.B) {
	s := NewStore(1<<30, time.Hour)
	u := genUniverse(300, 1)
	for i := range 1000 {
		putDoc(s, fmt.Sprintf("sha256:%064x", i), "db1", u[i%100:i%100+100])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := fmt.Sprintf("sha256:%064x", rand.IntN(1000))
		for pb.Next() {
			if _, ok := s.Get(d, "db1"); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func doc5000(b *testing.B) (*Store, *Doc) {
	s := NewStore(1<<30, time.Hour)
	u := genUniverse(5000, 9)
	u[0] = u[0][1:]
	return s, s.NewDoc(docHead(testDigest), u, docTail)
}

// Writes of a 5,000-item report into a reused fasthttp.RequestCtx, as the
// report handler does on a cache hit.
func BenchmarkWritePlain5000(b *testing.B) {
	_, d := doc5000(b)
	ctx := &fasthttp.RequestCtx{}
	ctx.Response.KeepBodyBuffer = true
	d.WritePlain(ctx) // grow the body buffer once, as a warm worker has
	b.SetBytes(int64(d.PlainLen()))
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.ResetBody()
		d.WritePlain(ctx)
	}
}

func BenchmarkWriteGzip5000(b *testing.B) {
	_, d := doc5000(b)
	ctx := &fasthttp.RequestCtx{}
	ctx.Response.KeepBodyBuffer = true
	d.WriteGzip(ctx)
	b.SetBytes(int64(d.GzipLen()))
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.ResetBody()
		d.WriteGzip(ctx)
	}
}

// The baseline WriteGzip replaces: compressing the plain body per request.
func BenchmarkGzipOnTheFly5000(b *testing.B) {
	_, d := doc5000(b)
	plain := d.AppendPlain(nil)
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		zw.Reset(&out)
		zw.Write(plain)
		zw.Close()
	}
	b.ReportMetric(float64(out.Len())/float64(len(plain))*100, "%size")
}

// NewDoc for a 300-item report: warm (every item already interned by other
// reports, the common case under scan-all) and cold (every item new).
func BenchmarkNewDoc300(b *testing.B) {
	u := genUniverse(30_000, 2)
	b.Run("warm", func(b *testing.B) {
		s := NewStore(1<<30, time.Hour)
		keep := s.NewDoc(nil, u[:300], nil)
		head := docHead(testDigest)
		b.ReportAllocs()
		for b.Loop() {
			s.NewDoc(head, u[:300], docTail)
		}
		_ = keep
	})
	b.Run("cold", func(b *testing.B) {
		s := NewStore(1<<30, time.Hour)
		head := docHead(testDigest)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if i+300 > len(u) {
				b.StopTimer()
				s = NewStore(1<<30, time.Hour) // forget, so items are new again
				i = 0
				b.StartTimer()
			}
			s.NewDoc(head, u[i:i+300], docTail)
			i += 300
		}
	})
}
