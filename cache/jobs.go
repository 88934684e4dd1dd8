package cache

import (
	"sync"
	"time"
	"weak"
)

// JobState is where a scan job is.
type JobState uint8

const (
	JobQueued JobState = iota
	JobRunning
	JobDone
	JobFailed
)

func (s JobState) String() string {
	switch s {
	case JobQueued:
		return "queued"
	case JobRunning:
		return "running"
	case JobDone:
		return "done"
	case JobFailed:
		return "failed"
	}
	return "unknown"
}

// Job is one accepted scan request (one scan ID). Safe for concurrent use.
//
// A done job holds its Entry weakly when the entry is in a store: the
// store's byte budget, not the job table's length, bounds the reports kept
// in memory (100,000 done jobs must not pin 100,000 evicted reports). Once
// the store evicted it and the GC collected it, State returns a nil entry
// and the caller finds the report by digest as for an unknown ID. An entry
// that was never stored (no CVE DB version) is held strongly.
type Job struct {
	ID  string
	SID ScanID

	mu    sync.Mutex
	state JobState
	entry *Entry              // strong, when the entry is in no store
	weakE weak.Pointer[Entry] // when it is in a store
	msg   string

	// Guarded by Jobs.mu.
	added      time.Time
	prev, next *Job
	table      *Jobs
}

// NewJob returns a queued job.
func NewJob(id string, sid ScanID) *Job {
	return &Job{ID: id, SID: sid}
}

// State returns the job's state, its entry when done (nil once the store
// evicted it and it was collected), its message when failed.
func (j *Job) State() (JobState, *Entry, string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.entry
	if e == nil && j.state == JobDone {
		e = j.weakE.Value()
	}
	return j.state, e, j.msg
}

// SetRunning marks the job running (no-op once finished).
func (j *Job) SetRunning() {
	j.mu.Lock()
	if j.state == JobQueued {
		j.state = JobRunning
	}
	j.mu.Unlock()
}

// Finish marks the job done with e. The first of Finish and Fail wins.
func (j *Job) Finish(e *Entry) {
	j.mu.Lock()
	if j.state < JobDone {
		j.state = JobDone
		if e.isStored() {
			j.weakE = weak.Make(e)
		} else {
			j.entry = e
		}
	}
	j.mu.Unlock()
}

// Fail marks the job failed with a message safe to show Harbor. The first of
// Finish and Fail wins.
func (j *Job) Fail(msg string) {
	j.mu.Lock()
	if j.state < JobDone {
		j.state, j.msg = JobFailed, msg
	}
	j.mu.Unlock()
}

// Jobs holds jobs by ID, bounded by count (oldest evicted first) and TTL, so
// scan-all of 100,000 images cannot grow it without limit.
type Jobs struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	byID       map[string]*Job
	head, tail *Job // oldest first
	evicted    uint64
}

// NewJobs returns a table of at most max jobs (at least 1), each kept for
// ttl (forever when ttl <= 0, until pushed out by newer ones).
func NewJobs(maxJobs int, ttl time.Duration) *Jobs {
	return &Jobs{max: max(maxJobs, 1), ttl: ttl, now: time.Now, byID: make(map[string]*Job)}
}

// Add stores j, replacing a job of the same ID, and evicts the oldest job
// when the table is full.
func (t *Jobs) Add(j *Job) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if j.table != nil {
		if j.table != t {
			panic("cache: Add of a job held by another Jobs")
		}
		t.unlink(j)
	}
	if old, ok := t.byID[j.ID]; ok {
		t.unlink(old)
	}
	t.expire(now)
	for len(t.byID) >= t.max {
		t.unlink(t.head)
		t.evicted++
	}
	j.added, j.table = now, t
	j.prev, j.next = t.tail, nil
	if t.tail != nil {
		t.tail.next = j
	} else {
		t.head = j
	}
	t.tail = j
	t.byID[j.ID] = j
}

// Get returns the job of id, never one past its TTL.
func (t *Jobs) Get(id string) (*Job, bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	j, ok := t.byID[id]
	return j, ok
}

// Len is the number of jobs held.
func (t *Jobs) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// Evicted is the number of jobs pushed out by the count bound (not by TTL).
func (t *Jobs) Evicted() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.evicted
}

// expire drops jobs past their TTL; they are the oldest. Caller holds t.mu.
func (t *Jobs) expire(now time.Time) {
	if t.ttl <= 0 {
		return
	}
	for t.head != nil && now.Sub(t.head.added) >= t.ttl {
		t.unlink(t.head)
	}
}

// unlink removes j from the table. Caller holds t.mu.
func (t *Jobs) unlink(j *Job) {
	if j.prev != nil {
		j.prev.next = j.next
	} else {
		t.head = j.next
	}
	if j.next != nil {
		j.next.prev = j.prev
	} else {
		t.tail = j.prev
	}
	j.prev, j.next, j.table = nil, nil, nil
	if t.byID[j.ID] == j {
		delete(t.byID, j.ID)
	}
}
