package cache

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestStore(budget int64, ttl time.Duration) (*Store, *fakeClock) {
	s := NewStore(budget, ttl)
	c := &fakeClock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	s.now = c.Now
	return s, c
}

func putDoc(s *Store, digest, cvedb string, items [][]byte) *Entry {
	e := s.NewEntry(digest, cvedb, time.Time{})
	e.SetDoc(KindVuln, s.NewDoc(docHead(digest), items, docTail))
	s.Put(e)
	return e
}

func TestStoreGetPut(t *testing.T) {
	s, _ := newTestStore(1<<30, time.Hour)
	u := genUniverse(10, 1)
	e := putDoc(s, "sha256:a", "db1", u)
	if got, ok := s.Get("sha256:a", "db1"); !ok || got != e {
		t.Fatal("Get misses a stored entry")
	}
	if _, ok := s.Get("sha256:a", "db2"); ok {
		t.Fatal("Get matched another CVE DB version")
	}
	if _, ok := s.Get("sha256:b", "db1"); ok {
		t.Fatal("Get matched another digest")
	}
	st := s.Stats()
	if st.Hits != 1 || st.Misses != 2 || st.Entries != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Replacing an entry of the same key releases the old one.
	e2 := putDoc(s, "sha256:a", "db1", u[:5])
	if got, _ := s.Get("sha256:a", "db1"); got != e2 || s.Stats().Entries != 1 {
		t.Fatal("Put did not replace")
	}
	if e.stored {
		t.Fatal("replaced entry still marked stored")
	}
}

func TestStoreEmptyCVEDB(t *testing.T) {
	s, _ := newTestStore(1<<30, time.Hour)
	putDoc(s, "sha256:a", "", genUniverse(3, 1))
	if _, ok := s.Get("sha256:a", ""); ok {
		t.Fatal(`cvedb "" matched`)
	}
	if _, ok := s.Newest("sha256:a"); ok {
		t.Fatal(`cvedb "" was stored`)
	}
	if st := s.Stats(); st.Entries != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStoreNewest(t *testing.T) {
	s, _ := newTestStore(1<<30, time.Hour)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := s.NewEntry("sha256:a", "db1", t0)
	b := s.NewEntry("sha256:a", "db3", t0.Add(2*time.Minute))
	c := s.NewEntry("sha256:a", "db2", t0.Add(time.Minute))
	for _, e := range []*Entry{a, b, c} {
		s.Put(e)
	}
	s.Put(s.NewEntry("sha256:other", "db9", t0.Add(time.Hour)))
	if got, ok := s.Newest("sha256:a"); !ok || got != b {
		t.Fatalf("Newest = %v, want db3", got)
	}
	// Removing the newest leaves the next one.
	s.mu.Lock()
	s.remove(key{b.Digest, b.CVEDB}, b, true)
	s.mu.Unlock()
	if got, _ := s.Newest("sha256:a"); got != c {
		t.Fatalf("Newest after removal = %v, want db2", got.CVEDB)
	}
	if _, ok := s.Newest("sha256:none"); ok {
		t.Fatal("Newest of an unknown digest")
	}
}

func TestStoreTTL(t *testing.T) {
	s, clock := newTestStore(1<<30, time.Minute)
	u := genUniverse(20, 2)
	putDoc(s, "sha256:a", "db1", u[:10])
	clock.Add(30 * time.Second)
	putDoc(s, "sha256:b", "db1", u[10:])
	clock.Add(31 * time.Second) // a is 61 s old, b 31 s
	if _, ok := s.Get("sha256:a", "db1"); ok {
		t.Fatal("Get returned an expired entry")
	}
	if _, ok := s.Newest("sha256:a"); ok {
		t.Fatal("Newest returned an expired entry")
	}
	if _, ok := s.Get("sha256:b", "db1"); !ok {
		t.Fatal("live entry gone")
	}
	st := s.Stats()
	if st.Entries != 1 || st.Expired != 1 {
		t.Fatalf("stats %+v", st)
	}
	clock.Add(time.Minute)
	s.Sweep()
	if st := s.Stats(); st.Entries != 0 || st.Chunks != 0 || st.Expired != 2 {
		t.Fatalf("after expiry of all: %+v", st)
	}
	// Putting again renews the TTL.
	e := putDoc(s, "sha256:c", "db1", u[:3])
	clock.Add(50 * time.Second)
	s.Put(e)
	clock.Add(50 * time.Second)
	if _, ok := s.Get("sha256:c", "db1"); !ok {
		t.Fatal("re-Put did not renew the TTL")
	}
}

// Bytes follow what is held: shared chunks once, and back to zero when all
// is gone.
func TestStoreBytesAccounting(t *testing.T) {
	s, _ := newTestStore(1<<30, time.Hour)
	u := genUniverse(200, 3)
	putDoc(s, "sha256:a", "db1", u[:150])
	one := s.Stats().Bytes
	putDoc(s, "sha256:b", "db1", u[:150]) // same items, new head
	two := s.Stats().Bytes
	if extra := two - one; extra <= 0 || extra > one/10 {
		t.Fatalf("a second doc of the same items cost %d bytes (first %d)", extra, one)
	}
	// SetDoc replacing a doc releases what only the old one held.
	e, _ := s.Get("sha256:b", "db1")
	e.SetDoc(KindVuln, s.NewDoc(docHead("x"), u[150:], docTail))
	if s.Stats().Bytes <= two {
		t.Fatal("new items did not add bytes")
	}
	e.SetDoc(KindVuln, nil)
	if got := s.Stats().Bytes; got >= two {
		t.Fatalf("SetDoc(nil) kept %d bytes (had %d)", got, two)
	}
	// Evict everything: nothing may remain counted or interned, once the
	// docs the test itself dropped have been collected.
	s.mu.Lock()
	s.budget = 0
	s.evict()
	s.mu.Unlock()
	waitFor(t, func() bool { runtime.GC(); st := s.Stats(); return st.Bytes == 0 && st.Chunks == 0 && st.Docs == 0 },
		func() string { return fmt.Sprintf("%+v", s.Stats()) })
	if len(s.chunks) != 0 || len(s.byDigest) != 0 || s.expHead != nil || s.expTail != nil {
		t.Fatal("indexes not empty")
	}
}

// A doc that never reaches the store is given back by its cleanup.
func TestStoreUnheldDocReleased(t *testing.T) {
	s, _ := newTestStore(1<<30, time.Hour)
	u := genUniverse(50, 4)
	s.NewDoc(docHead("sha256:a"), u, docTail)
	if s.Stats().Chunks == 0 {
		t.Fatal("NewDoc counted nothing")
	}
	waitFor(t, func() bool { runtime.GC(); return s.Stats().Bytes == 0 },
		func() string { return fmt.Sprintf("%+v", s.Stats()) })
}

func TestStoreEvictsLRUByBytes(t *testing.T) {
	u := genUniverse(1000, 5)
	probe, _ := newTestStore(1<<30, time.Hour)
	putDoc(probe, "sha256:0", "db1", u[:100])
	per := probe.Stats().Bytes
	s, _ := newTestStore(per*35/10, time.Hour) // room for three disjoint docs
	for i := range 3 {
		putDoc(s, fmt.Sprintf("sha256:%d", i), "db1", u[i*100:(i+1)*100])
	}
	if st := s.Stats(); st.Entries != 3 || st.Evictions != 0 {
		t.Fatalf("stats %+v", st)
	}
	s.Get("sha256:0", "db1") // 1 is now the least recently used
	putDoc(s, "sha256:3", "db1", u[300:400])
	if _, ok := s.Get("sha256:1", "db1"); ok {
		t.Fatal("LRU entry not evicted")
	}
	for _, d := range []string{"sha256:0", "sha256:2", "sha256:3"} {
		if _, ok := s.Get(d, "db1"); !ok {
			t.Fatalf("%s evicted", d)
		}
	}
	if st := s.Stats(); st.Evictions != 1 || st.Bytes > st.Budget {
		t.Fatalf("stats %+v", st)
	}
	// An entry bigger than the budget is evicted at once but stays usable.
	e := putDoc(s, "sha256:big", "db1", u)
	if _, ok := s.Get("sha256:big", "db1"); ok {
		t.Fatal("oversized entry kept")
	}
	if d := e.Doc(KindVuln); d == nil || len(d.AppendPlain(nil)) != d.PlainLen() {
		t.Fatal("evicted entry's doc unusable")
	}
	if st := s.Stats(); st.Bytes > st.Budget {
		t.Fatalf("over budget: %+v", st)
	}
}

func TestStoreConcurrent(t *testing.T) {
	s, _ := newTestStore(2<<20, time.Hour)
	u := genUniverse(500, 6)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				d := fmt.Sprintf("sha256:%d", (g*7+i)%40)
				if e, ok := s.Get(d, "db1"); ok {
					e.Doc(KindVuln).AppendPlain(nil)
					e.SetDoc(KindSPDX, s.NewDoc(nil, u[i:i+5], nil))
					continue
				}
				putDoc(s, d, "db1", u[i*3%400:i*3%400+100])
				s.Newest(d)
			}
		}()
	}
	wg.Wait()
	if st := s.Stats(); st.Bytes > st.Budget || st.Entries == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met: %s", state())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
