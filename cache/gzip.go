package cache

import (
	"bytes"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A gzip member is a header, one DEFLATE stream and a CRC-32/ISIZE trailer.
// DEFLATE blocks may be cut anywhere a block ends on a byte boundary, so
// each chunk is compressed alone into non-final blocks ended by a sync flush
// (or stored as-is), and a document's stream is its chunks' segments in
// order followed by one empty final block. klauspost/compress/flate is
// already in the module graph (fasthttp uses it) and is faster than
// compress/flate.

// gzipHeader: magic, CM=deflate, no flags, MTIME 0, XFL 0, OS unknown.
var gzipHeader = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// segWriter compresses chunks with flate.StatelessDeflate: no window or
// hash tables to keep or reset per chunk (a pooled level-4 Writer compresses
// JSON items about 1% smaller but costs a 300 KB+ table per pooled writer).
type segWriter struct {
	buf bytes.Buffer
	out []byte
}

var segWriterPool = sync.Pool{New: func() any { return &segWriter{} }}

// segment returns p as a DEFLATE segment (valid until the next call): the
// compressed form, or stored blocks when that is not longer.
func (sw *segWriter) segment(p []byte) []byte {
	sw.buf.Reset()
	flate.StatelessDeflate(&sw.buf, p, false, nil) // writes to a bytes.Buffer cannot fail
	if z := sw.buf.Bytes(); len(z) < storedLen(len(p)) {
		return z
	}
	sw.out = appendStored(sw.out[:0], p)
	return sw.out
}

const maxStored = 65535

// storedLen is the length of p as stored blocks: 5 bytes of header per
// block of at most 65535 bytes.
func storedLen(n int) int {
	return n + 5*((n+maxStored-1)/maxStored)
}

// appendStored appends p as non-final stored blocks. Each starts on a byte
// boundary, so the 3 header bits take one whole byte.
func appendStored(dst, p []byte) []byte {
	for len(p) > 0 {
		n := min(len(p), maxStored)
		dst = append(dst, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		dst = append(dst, p[:n]...)
		p = p[n:]
	}
	return dst
}

// WriteGzip writes the body as a complete gzip stream (for
// Content-Encoding: gzip). With a fasthttp.RequestCtx as w it allocates
// nothing.
func (d *Doc) WriteGzip(w io.Writer) error {
	if _, err := w.Write(gzipHeader[:]); err != nil {
		return err
	}
	for _, c := range d.st.chunks {
		if _, err := w.Write(c.z); err != nil {
			return err
		}
	}
	_, err := w.Write(d.trailer[:])
	return err
}

// AppendGzip appends the gzip stream to dst.
func (d *Doc) AppendGzip(dst []byte) []byte {
	dst = grow(dst, d.gzLen)
	dst = append(dst, gzipHeader[:]...)
	for _, c := range d.st.chunks {
		dst = append(dst, c.z...)
	}
	return append(dst, d.trailer[:]...)
}
