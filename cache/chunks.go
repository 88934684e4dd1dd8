package cache

import (
	"bytes"
	"hash/crc32"
	"io"
	"runtime"
)

// A chunk is one interned piece of a document: its plain bytes and the same
// bytes as an independent raw DEFLATE segment. Equal pieces of different
// documents (the same CVE in the same package version) share one chunk.
type chunk struct {
	plain []byte // the JSON bytes
	z     []byte // raw DEFLATE segment: non-final blocks, ends byte aligned
	hash  uint64
	next  *chunk // next chunk of the same hash in Store.chunks
	crc   uint32 // CRC-32 of plain
	shift uint32 // crcShift(len(plain)), for combining CRCs
	refs  int32  // acquired documents holding it; guarded by Store.mu
}

// size is what the chunk costs the heap while interned.
func (c *chunk) size() int64 {
	return allocSize(len(c.plain)+len(c.z)) + chunkOverhead
}

// Doc is one immutable encoded JSON document, ready for the wire in plain and
// gzip form. Built by Store.NewDoc from chunks whose concatenation is the
// JSON body; equal chunks are stored once across all documents.
//
// A Doc stays valid and writable for as long as anyone holds it, also after
// the store has evicted it: eviction only stops counting it.
type Doc struct {
	st       *docState
	plainLen int
	gzLen    int
	trailer  [10]byte // final empty DEFLATE block, CRC-32, ISIZE
}

// docState is the part of a Doc that the store's accounting touches; it is
// separate from Doc so that a cleanup can release a Doc nobody stored.
type docState struct {
	store    *Store
	chunks   []*chunk
	size     int64 // heap cost of the Doc itself beyond its chunks
	holders  int32 // stored entries holding it; guarded by Store.mu
	acquired bool  // its chunks are counted (refs taken); guarded by Store.mu
}

// PlainLen is the length of the uncompressed body.
func (d *Doc) PlainLen() int { return d.plainLen }

// GzipLen is the length of the gzip stream that WriteGzip writes.
func (d *Doc) GzipLen() int { return d.gzLen }

// Chunks is the number of chunks the document is made of.
func (d *Doc) Chunks() int { return len(d.st.chunks) }

// WritePlain writes the uncompressed body. With a fasthttp.RequestCtx as w it
// allocates nothing.
func (d *Doc) WritePlain(w io.Writer) error {
	for _, c := range d.st.chunks {
		if _, err := w.Write(c.plain); err != nil {
			return err
		}
	}
	return nil
}

// AppendPlain appends the uncompressed body to dst.
func (d *Doc) AppendPlain(dst []byte) []byte {
	dst = grow(dst, d.plainLen)
	for _, c := range d.st.chunks {
		dst = append(dst, c.plain...)
	}
	return dst
}

func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	return dst
}

// NewDoc builds a document from head + items... + tail. Chunks are interned:
// an item chunk equal to one of another document is stored once. Empty
// pieces are skipped. The bytes are copied; the caller may reuse its buffers.
//
// For items to be shared between reports, equal findings must encode to
// equal bytes: put the separator on the same side of every item (a leading
// "," on all but the first, or a trailing "," on all but the last).
func (s *Store) NewDoc(head []byte, items [][]byte, tail []byte) *Doc {
	n := len(items) + 2
	part := func(i int) []byte {
		switch i {
		case 0:
			return head
		case n - 1:
			return tail
		}
		return items[i-1]
	}
	hashes := make([]uint64, 0, n)
	parts := make([][]byte, 0, n)
	for i := range n {
		if p := part(i); len(p) > 0 {
			parts = append(parts, p)
			hashes = append(hashes, s.hash(p))
		}
	}
	chunks := make([]*chunk, len(parts))

	// First pass under the lock: take what is interned already.
	missing := 0
	s.mu.Lock()
	for i, p := range parts {
		if c := s.lookup(hashes[i], p); c != nil {
			c.refs++
			chunks[i] = c
		} else {
			missing++
		}
	}
	s.mu.Unlock()

	// Compress the new ones without the lock, then intern them, using a
	// twin that another document interned meanwhile if there is one.
	if missing > 0 {
		fresh := make([]*chunk, len(parts))
		for i, p := range parts {
			if chunks[i] == nil {
				fresh[i] = newChunk(p, hashes[i])
			}
		}
		s.mu.Lock()
		for i, p := range parts {
			if fresh[i] == nil {
				continue
			}
			c := s.lookup(hashes[i], p)
			if c == nil {
				c = fresh[i]
				s.insert(c)
			}
			c.refs++
			chunks[i] = c
		}
		s.mu.Unlock()
	}

	d := &Doc{st: &docState{store: s, chunks: chunks, acquired: true}}
	d.st.size = docOverhead + allocSize(8*cap(chunks))
	var crc uint32
	gz := len(gzipHeader) + len(d.trailer)
	for _, c := range chunks {
		crc = crcCombine(crc, c.crc, c.shift)
		d.plainLen += len(c.plain)
		gz += len(c.z)
	}
	d.gzLen = gz
	d.trailer = [10]byte{0x03, 0x00, // BFINAL=1, fixed Huffman, end of block
		byte(crc), byte(crc >> 8), byte(crc >> 16), byte(crc >> 24),
		byte(d.plainLen), byte(d.plainLen >> 8), byte(d.plainLen >> 16), byte(d.plainLen >> 24)}

	s.mu.Lock()
	s.bytes += d.st.size
	s.docs++
	s.mu.Unlock()
	// A Doc that never reaches a stored entry gives its chunks back when
	// the garbage collector finds it unreachable.
	runtime.AddCleanup(d, s.dropUnheld, d.st)
	return d
}

// newChunk copies p and compresses it into one allocation.
func newChunk(p []byte, h uint64) *chunk {
	sw := segWriterPool.Get().(*segWriter)
	z := sw.segment(p)
	buf := make([]byte, len(p)+len(z))
	copy(buf, p)
	copy(buf[len(p):], z)
	segWriterPool.Put(sw)
	return &chunk{
		plain: buf[:len(p):len(p)],
		z:     buf[len(p):],
		hash:  h,
		crc:   crc32.ChecksumIEEE(p),
		shift: crcShift(len(p)),
	}
}

// lookup finds the interned chunk equal to p. Caller holds s.mu.
func (s *Store) lookup(h uint64, p []byte) *chunk {
	for c := s.chunks[h]; c != nil; c = c.next {
		if bytes.Equal(c.plain, p) {
			return c
		}
	}
	return nil
}

// insert interns c (refs still 0) and counts it. Caller holds s.mu.
func (s *Store) insert(c *chunk) {
	c.next = s.chunks[c.hash]
	s.chunks[c.hash] = c
	s.bytes += c.size()
	s.nchunks++
}

// unref drops one reference and forgets c at zero. Caller holds s.mu.
func (s *Store) unref(c *chunk) {
	c.refs--
	if c.refs > 0 {
		return
	}
	pp := s.chunks[c.hash]
	if pp == c {
		if c.next == nil {
			delete(s.chunks, c.hash)
		} else {
			s.chunks[c.hash] = c.next
		}
	} else {
		for p := pp; p != nil; p = p.next {
			if p.next == c {
				p.next = c.next
				break
			}
		}
	}
	c.next = nil
	s.bytes -= c.size()
	s.nchunks--
}

// acquire counts st and its chunks again after a release. Caller holds s.mu.
func (s *Store) acquire(st *docState) {
	if st.acquired {
		return
	}
	st.acquired = true
	for _, c := range st.chunks {
		if c.refs == 0 {
			s.insert(c)
		}
		c.refs++
	}
	s.bytes += st.size
	s.docs++
}

// release stops counting st and its chunks. Caller holds s.mu.
func (s *Store) release(st *docState) {
	if !st.acquired {
		return
	}
	st.acquired = false
	for _, c := range st.chunks {
		s.unref(c)
	}
	s.bytes -= st.size
	s.docs--
}

// hold and unhold count the stored entries holding a Doc. Caller holds s.mu.
func (s *Store) hold(d *Doc) {
	d.st.holders++
	s.acquire(d.st)
}

func (s *Store) unhold(d *Doc) {
	d.st.holders--
	if d.st.holders == 0 {
		s.release(d.st)
	}
}

// dropUnheld is the cleanup of a Doc that became garbage.
func (s *Store) dropUnheld(st *docState) {
	s.mu.Lock()
	if st.holders == 0 {
		s.release(st)
	}
	s.mu.Unlock()
}
