package cache

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

func gunzip(t testing.TB, z []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return out
}

// checkDoc asserts every way of reading d gives want.
func checkDoc(t *testing.T, d *Doc, want []byte) {
	t.Helper()
	if d.PlainLen() != len(want) {
		t.Fatalf("PlainLen %d, want %d", d.PlainLen(), len(want))
	}
	if got := d.AppendPlain(nil); !bytes.Equal(got, want) {
		t.Fatalf("AppendPlain differs (%d bytes vs %d)", len(got), len(want))
	}
	var pb bytes.Buffer
	if err := d.WritePlain(&pb); err != nil || !bytes.Equal(pb.Bytes(), want) {
		t.Fatalf("WritePlain differs: %v", err)
	}
	var zb bytes.Buffer
	if err := d.WriteGzip(&zb); err != nil {
		t.Fatal(err)
	}
	if zb.Len() != d.GzipLen() {
		t.Fatalf("GzipLen %d, wrote %d", d.GzipLen(), zb.Len())
	}
	if !bytes.Equal(d.AppendGzip([]byte("x"))[1:], zb.Bytes()) {
		t.Fatal("AppendGzip differs from WriteGzip")
	}
	if got := gunzip(t, zb.Bytes()); !bytes.Equal(got, want) {
		t.Fatalf("gunzip gives %d bytes, want %d", len(got), len(want))
	}
}

func TestDocRandom(t *testing.T) {
	s := NewStore(1<<30, time.Hour)
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		n := r.IntN(20)
		items := make([][]byte, n)
		for i := range items {
			items[i] = make([]byte, r.IntN(200))
			for j := range items[i] {
				if r.IntN(2) == 0 {
					items[i][j] = byte(r.Uint32())
				} else {
					items[i][j] = "abc{}\","[r.IntN(7)]
				}
			}
		}
		head := []byte(`{"h":[`)[:r.IntN(7)]
		tail := []byte(`]}`)[:r.IntN(3)]
		checkDoc(t, s.NewDoc(head, items, tail), concat(head, items, tail))
	}
}

func TestDocEdges(t *testing.T) {
	s := NewStore(1<<30, time.Hour)
	t.Run("empty", func(t *testing.T) { checkDoc(t, s.NewDoc(nil, nil, nil), nil) })
	t.Run("empty items", func(t *testing.T) {
		checkDoc(t, s.NewDoc([]byte("["), [][]byte{{}, nil, {}}, []byte("]")), []byte("[]"))
	})
	t.Run("1-byte chunks", func(t *testing.T) {
		items := make([][]byte, 1000)
		for i := range items {
			items[i] = []byte{"0123456789,"[i%11]}
		}
		checkDoc(t, s.NewDoc([]byte("["), items, []byte("]")), concat([]byte("["), items, []byte("]")))
	})
	t.Run("incompressible chunk over 64 KiB", func(t *testing.T) {
		big := make([]byte, 200_000)
		r := rand.New(rand.NewPCG(5, 6))
		for i := range big {
			big[i] = byte(r.Uint32())
		}
		d := s.NewDoc([]byte("a"), [][]byte{big}, []byte("b"))
		if d.GzipLen() > len(big)+100 {
			t.Fatalf("stored form too big: %d", d.GzipLen())
		}
		checkDoc(t, d, concat([]byte("a"), [][]byte{big}, []byte("b")))
	})
	t.Run("5000 items", func(t *testing.T) {
		n := 5000
		if raceEnabled {
			n = 500
		}
		u := genUniverse(n, 7)
		u[0] = u[0][1:]
		head := docHead("sha256:0123")
		d := s.NewDoc(head, u, docTail)
		want := concat(head, u, docTail)
		checkDoc(t, d, want)
		t.Logf("%d items: plain %d, gzip %d (%.1f%%)", n, d.PlainLen(), d.GzipLen(), 100*float64(d.GzipLen())/float64(d.PlainLen()))
	})
}

func TestDocSharesChunks(t *testing.T) {
	s := NewStore(1<<30, time.Hour)
	u := genUniverse(100, 8)
	d1 := s.NewDoc(docHead("sha256:1"), u[:60], docTail)
	st1 := s.Stats()
	d2 := s.NewDoc(docHead("sha256:2"), u[40:], docTail)
	st2 := s.Stats()
	// The second doc adds its own head and the 40 items the first lacks;
	// the 20 shared items and the tail are reused.
	if got := st2.Chunks - st1.Chunks; got != 41 {
		t.Fatalf("second doc added %d chunks, want 41", got)
	}
	if d1.st.chunks[len(d1.st.chunks)-1] != d2.st.chunks[len(d2.st.chunks)-1] {
		t.Fatal("equal tails are different chunks")
	}
	if d1.st.chunks[41] != d2.st.chunks[1] { // u[40]
		t.Fatal("equal items are different chunks")
	}
	// Equal chunks inside one document are one chunk too.
	d3 := s.NewDoc(nil, [][]byte{[]byte("same"), []byte("same"), []byte("other")}, nil)
	if d3.st.chunks[0] != d3.st.chunks[1] || d3.st.chunks[0].refs != 2 {
		t.Fatalf("repeated chunk not shared (refs %d)", d3.st.chunks[0].refs)
	}
	checkDoc(t, d3, []byte("samesameother"))
}

// Colliding hashes must still keep different bytes apart.
func TestInternCollision(t *testing.T) {
	s := NewStore(1<<30, time.Hour)
	a, b := newChunk([]byte("aaa"), 42), newChunk([]byte("bbb"), 42)
	s.mu.Lock()
	s.insert(a)
	a.refs++
	s.insert(b)
	b.refs++
	if s.lookup(42, []byte("aaa")) != a || s.lookup(42, []byte("bbb")) != b || s.lookup(42, []byte("ccc")) != nil {
		t.Fatal("lookup in a collision chain is wrong")
	}
	s.unref(b)
	if s.lookup(42, []byte("aaa")) != a || s.lookup(42, []byte("bbb")) != nil {
		t.Fatal("unlinking the chain head is wrong")
	}
	s.unref(a)
	if len(s.chunks) != 0 || s.bytes != 0 {
		t.Fatalf("chain not emptied: %d keys, %d bytes", len(s.chunks), s.bytes)
	}
	s.mu.Unlock()
}
