package cache

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Kind names one encoded document of an entry.
type Kind uint8

const (
	KindVuln      Kind = iota // HarborVulnerabilityReport (served for both vuln MIME types)
	KindSPDX                  // HarborSbomReport with an SPDX 2.3 document
	KindCycloneDX             // HarborSbomReport with a CycloneDX 1.6 document
	NumKinds
)

// Entry is the finished result of one controller scan of one digest with one
// CVE DB version. Make it with Store.NewEntry, and do not change Digest or
// CVEDB once it has been put.
type Entry struct {
	Digest    string
	CVEDB     string
	ScannedAt time.Time

	docs  [NumKinds]atomic.Pointer[Doc]
	store *Store

	// Guarded by store.mu.
	stored           bool
	expires          time.Time
	size             int64
	nextD            *Entry // next entry of the same digest
	expPrev, expNext *Entry // stored entries in expiry order
}

// isStored tells whether e is held by its store now.
func (e *Entry) isStored() bool {
	if e == nil || e.store == nil {
		return false
	}
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	return e.stored
}

// Doc returns the document of kind k, or nil when not built (yet).
func (e *Entry) Doc(k Kind) *Doc {
	if k >= NumKinds {
		return nil
	}
	return e.docs[k].Load()
}

// SetDoc stores the document of kind k (safe for concurrent use); the
// store's byte count follows, and may evict to stay within the budget.
func (e *Entry) SetDoc(k Kind, d *Doc) {
	if k >= NumKinds {
		return
	}
	s := e.store
	if s == nil {
		e.docs[k].Store(d)
		return
	}
	if d != nil && d.st.store != s {
		panic("cache: SetDoc of a Doc made by another Store")
	}
	s.mu.Lock()
	old := e.docs[k].Swap(d)
	if e.stored && old != d {
		if d != nil {
			s.hold(d)
		}
		if old != nil {
			s.unhold(old)
		}
		s.evict()
	}
	s.mu.Unlock()
}

type key struct{ digest, cvedb string }

// Store holds entries by (digest, CVE DB version) in an LRU bounded by bytes
// (what it holds: encoded and compressed forms, shared chunks counted once)
// with a TTL.
//
// An entry larger than the whole budget is evicted as soon as it is put;
// whoever holds it (a job) can still serve it.
type Store struct {
	budget int64
	ttl    time.Duration
	now    func() time.Time
	seed   maphash.Seed

	mu       sync.Mutex
	lru      *simplelru.LRU[key, *Entry] // recency order; the byte budget is ours
	byDigest map[string]*Entry           // newest-put first, chained by nextD
	expHead  *Entry                      // soonest to expire
	expTail  *Entry
	chunks   map[uint64]*chunk // interned chunks with refs > 0

	bytes     int64
	nchunks   int
	docs      int
	hits      uint64
	misses    uint64
	evictions uint64
	expired   uint64
}

// NewStore returns a store with the given byte budget and TTL. A TTL of zero
// or less keeps entries until they are evicted.
func NewStore(budget int64, ttl time.Duration) *Store {
	lru, _ := simplelru.NewLRU[key, *Entry](math.MaxInt, nil) // never full by count
	return &Store{
		budget:   budget,
		ttl:      ttl,
		now:      time.Now,
		seed:     maphash.MakeSeed(),
		lru:      lru,
		byDigest: make(map[string]*Entry),
		chunks:   make(map[uint64]*chunk),
	}
}

func (s *Store) hash(p []byte) uint64 { return maphash.Bytes(s.seed, p) }

// NewEntry returns an empty entry for (digest, cvedb) not yet in the store.
func (s *Store) NewEntry(digest, cvedb string, scannedAt time.Time) *Entry {
	return &Entry{Digest: digest, CVEDB: cvedb, ScannedAt: scannedAt, store: s}
}

// Put stores e (replacing an older entry of the same key). An entry with an
// empty CVEDB is not stored: while the DB version is unknown nothing is
// cached. Putting an entry again renews its TTL.
func (s *Store) Put(e *Entry) {
	if e == nil || e.CVEDB == "" {
		return
	}
	if e.store == nil {
		e.store = s
	} else if e.store != s {
		panic("cache: Put of an entry made by another Store")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	k := key{e.Digest, e.CVEDB}
	if e.stored {
		s.remove(k, e, true)
	} else if old, ok := s.lru.Peek(k); ok {
		s.remove(k, old, true)
	}
	s.lru.Add(k, e)
	e.stored = true
	if s.ttl > 0 {
		e.expires = now.Add(s.ttl)
	}
	e.expPrev, e.expNext = s.expTail, nil
	if s.expTail != nil {
		s.expTail.expNext = e
	} else {
		s.expHead = e
	}
	s.expTail = e
	e.nextD = s.byDigest[e.Digest]
	s.byDigest[e.Digest] = e
	e.size = entryOverhead + allocSize(len(e.Digest)) + allocSize(len(e.CVEDB))
	s.bytes += e.size
	for i := range e.docs {
		if d := e.docs[i].Load(); d != nil {
			s.hold(d)
		}
	}
	s.evict()
}

// Get returns the entry for (digest, cvedb). It never returns an entry past
// its TTL. cvedb "" never matches.
func (s *Store) Get(digest, cvedb string) (*Entry, bool) {
	now := s.now()
	s.mu.Lock()
	s.expire(now)
	var e *Entry
	if cvedb != "" {
		e, _ = s.lru.Get(key{digest, cvedb})
	}
	if e == nil {
		s.misses++
		s.mu.Unlock()
		return nil, false
	}
	s.hits++
	s.mu.Unlock()
	return e, true
}

// Newest returns the newest entry of a digest whatever its CVE DB version:
// the latest ScannedAt, and of equal ones the last put. It counts as a use
// for the LRU order but not in Hits and Misses.
func (s *Store) Newest(digest string) (*Entry, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	var best *Entry
	for e := s.byDigest[digest]; e != nil; e = e.nextD {
		if best == nil || e.ScannedAt.After(best.ScannedAt) {
			best = e
		}
	}
	if best == nil {
		return nil, false
	}
	s.lru.Get(key{best.Digest, best.CVEDB})
	return best, true
}

// Sweep reclaims expired entries now, for callers that want memory back
// without waiting for the next Put or Get.
func (s *Store) Sweep() {
	now := s.now()
	s.mu.Lock()
	s.expire(now)
	s.mu.Unlock()
}

// Stats is what /metrics and tests read.
type Stats struct {
	Entries   int
	Bytes     int64 // estimated heap held: chunks, documents, entries
	Hits      uint64
	Misses    uint64
	Evictions uint64 // removed to stay within the byte budget
	Expired   uint64 // removed for their TTL
	Chunks    int    // distinct interned chunks
	Docs      int    // documents counted in Bytes
	Budget    int64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	return Stats{
		Entries:   s.lru.Len(),
		Bytes:     s.bytes,
		Hits:      s.hits,
		Misses:    s.misses,
		Evictions: s.evictions,
		Expired:   s.expired,
		Chunks:    s.nchunks,
		Docs:      s.docs,
		Budget:    s.budget,
	}
}

// expire removes entries whose TTL has passed; they sit at the head of the
// expiry list because the TTL is the same for all. Caller holds s.mu.
func (s *Store) expire(now time.Time) {
	if s.ttl <= 0 {
		return
	}
	for e := s.expHead; e != nil && !now.Before(e.expires); e = s.expHead {
		s.remove(key{e.Digest, e.CVEDB}, e, true)
		s.expired++
	}
}

// evict removes least recently used entries until within budget. Caller
// holds s.mu.
func (s *Store) evict() {
	for s.bytes > s.budget {
		k, e, ok := s.lru.RemoveOldest()
		if !ok {
			return
		}
		s.remove(k, e, false)
		s.evictions++
	}
}

// remove takes e out of every index and releases what it held. Caller
// holds s.mu.
func (s *Store) remove(k key, e *Entry, fromLRU bool) {
	if fromLRU {
		s.lru.Remove(k)
	}
	e.stored = false
	if e.expPrev != nil {
		e.expPrev.expNext = e.expNext
	} else {
		s.expHead = e.expNext
	}
	if e.expNext != nil {
		e.expNext.expPrev = e.expPrev
	} else {
		s.expTail = e.expPrev
	}
	e.expPrev, e.expNext = nil, nil
	if h := s.byDigest[e.Digest]; h == e {
		if e.nextD == nil {
			delete(s.byDigest, e.Digest)
		} else {
			s.byDigest[e.Digest] = e.nextD
		}
	} else {
		for p := h; p != nil; p = p.nextD {
			if p.nextD == e {
				p.nextD = e.nextD
				break
			}
		}
	}
	e.nextD = nil
	s.bytes -= e.size
	for i := range e.docs {
		if d := e.docs[i].Load(); d != nil {
			s.unhold(d)
		}
	}
}
