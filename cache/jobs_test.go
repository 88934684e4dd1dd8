package cache

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestJobStates(t *testing.T) {
	j := NewJob("id", ScanID{Digest: "sha256:a"})
	if st, e, msg := j.State(); st != JobQueued || e != nil || msg != "" {
		t.Fatalf("new job: %v %v %q", st, e, msg)
	}
	j.SetRunning()
	if st, _, _ := j.State(); st != JobRunning {
		t.Fatalf("state %v", st)
	}
	e := &Entry{Digest: "sha256:a"}
	j.Finish(e)
	j.Fail("late failure")
	j.SetRunning()
	if st, got, msg := j.State(); st != JobDone || got != e || msg != "" {
		t.Fatalf("done job: %v %v %q", st, got, msg)
	}
	f := NewJob("f", ScanID{})
	f.Fail("Image not found")
	f.Finish(e)
	if st, got, msg := f.State(); st != JobFailed || got != nil || msg != "Image not found" {
		t.Fatalf("failed job: %v %v %q", st, got, msg)
	}
	if JobFailed.String() != "failed" || JobState(9).String() != "unknown" {
		t.Fatal("JobState.String")
	}
}

func TestJobsBoundAndTTL(t *testing.T) {
	tab := NewJobs(3, time.Minute)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	tab.now = clock.Now
	for i := range 5 {
		tab.Add(NewJob(fmt.Sprint(i), ScanID{}))
		clock.Add(time.Second)
	}
	if tab.Len() != 3 || tab.Evicted() != 2 {
		t.Fatalf("len %d evicted %d", tab.Len(), tab.Evicted())
	}
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok := tab.Get(fmt.Sprint(i)); ok != want {
			t.Fatalf("job %d present=%v", i, ok)
		}
	}
	// Replacing an ID keeps one job.
	j := NewJob("4", ScanID{})
	tab.Add(j)
	if got, _ := tab.Get("4"); got != j || tab.Len() != 3 {
		t.Fatal("replace by ID")
	}
	clock.Add(59 * time.Second) // 2 and 3 are past a minute now, 4 is fresh
	if _, ok := tab.Get("2"); ok {
		t.Fatal("expired job returned")
	}
	if _, ok := tab.Get("4"); !ok || tab.Len() != 1 {
		t.Fatalf("len %d after expiry", tab.Len())
	}
	clock.Add(time.Minute)
	if _, ok := tab.Get("4"); ok || tab.Len() != 0 || tab.head != nil || tab.tail != nil {
		t.Fatal("table not emptied")
	}
}

// scan-all of 100,000 images: the table and the heap stay bounded.
func TestJobsHundredThousandBounded(t *testing.T) {
	n, maxJobs := 100_000, 10_000
	if raceEnabled { // the count bound only; heap figures need !race
		n, maxJobs = 20_000, 2_000
	}
	tab := NewJobs(maxJobs, time.Hour)
	var ms runtime.MemStats
	var peak uint64
	for i := range n {
		id, sid := NewScanID("sha256:"+fmt.Sprintf("%064x", i), "library/app", time.Now())
		tab.Add(NewJob(id, sid))
		if !raceEnabled && i%20_000 == 19_999 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if i > 20_000 && ms.HeapInuse > peak*3/2 {
				t.Fatalf("heap grew to %d after %d jobs (was %d)", ms.HeapInuse, i+1, peak)
			}
			peak = max(peak, ms.HeapInuse)
		}
	}
	if !raceEnabled {
		t.Logf("heap in use with %d jobs held: %.1f MiB", maxJobs, float64(peak)/(1<<20))
	}
	if tab.Len() != maxJobs || tab.Evicted() != uint64(n-maxJobs) {
		t.Fatalf("len %d evicted %d", tab.Len(), tab.Evicted())
	}
}

func TestFlightsOneLeader(t *testing.T) {
	f := NewFlights()
	var leaders, joined atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make(chan *Entry, 100)
	e := &Entry{Digest: "sha256:a"}
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fl, leader := f.Join("sha256:a")
			if leader {
				leaders.Add(1)
				// Land only once every other caller has joined.
				deadline := time.Now().Add(10 * time.Second)
				for joined.Load() < 99 && time.Now().Before(deadline) {
					runtime.Gosched()
				}
				f.Land("sha256:a", fl, e, nil)
			} else {
				joined.Add(1)
			}
			<-fl.Done()
			results <- fl.Entry
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	if leaders.Load() != 1 || joined.Load() != 99 {
		t.Fatalf("%d leaders", leaders.Load())
	}
	for got := range results {
		if got != e {
			t.Fatal("a joiner saw another result")
		}
	}
	if f.Len() != 0 {
		t.Fatal("landed flight not forgotten")
	}
	// The next Join starts a new flight; landing twice keeps the first.
	fl, leader := f.Join("sha256:a")
	if !leader {
		t.Fatal("no new flight after landing")
	}
	f.Land("sha256:a", fl, nil, errTest)
	f.Land("sha256:a", fl, e, nil)
	if fl.Err != errTest || fl.Entry != nil {
		t.Fatal("second Land overwrote the first")
	}
}

var errTest = fmt.Errorf("test failure")

// A done job does not keep an evicted report alive: once the store dropped
// the entry and the GC ran, State returns no entry (the caller then finds
// the report by digest); an entry never stored stays held.
func TestJobDoesNotPinEvictedEntry(t *testing.T) {
	s := NewStore(1<<20, time.Hour)
	e := s.NewEntry("sha256:"+strings.Repeat("a", 64), "1.0", time.Now())
	e.SetDoc(KindVuln, s.NewDoc([]byte(`{"a":1}`), nil, nil))
	s.Put(e)
	j := NewJob("id1", ScanID{})
	j.Finish(e)
	if st, got, _ := j.State(); st != JobDone || got != e {
		t.Fatalf("state %v entry %p, want done with the entry", st, got)
	}
	// Push it out with entries over the budget.
	for i := 0; i < 40; i++ {
		f := s.NewEntry(fmt.Sprintf("sha256:%064x", i), "1.0", time.Now())
		f.SetDoc(KindVuln, s.NewDoc(bytes.Repeat([]byte{byte('b' + i%20)}, 64<<10), nil, nil))
		s.Put(f)
	}
	if _, ok := s.Get(e.Digest, "1.0"); ok {
		t.Fatal("entry still stored; the test needs it evicted")
	}
	e = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		st, got, _ := j.State()
		if st != JobDone {
			t.Fatalf("state %v", st)
		}
		if got == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the done job kept the evicted entry alive")
		}
	}
	// Never stored (no CVE DB version): held strongly.
	u := s.NewEntry("sha256:"+strings.Repeat("c", 64), "", time.Now())
	j2 := NewJob("id2", ScanID{})
	j2.Finish(u)
	u = nil
	runtime.GC()
	runtime.GC()
	if _, got, _ := j2.State(); got == nil {
		t.Fatal("an entry in no store was dropped")
	}
}
