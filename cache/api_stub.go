package cache

// CONTRACT STUB written by the lead so that other packages compile while the
// cache helper implements it. The helper replaces this file with real code in
// files named for each concern, keeping these exported names and signatures
// (adding to them is fine).

import (
	"io"
	"time"
)

// Kind names one encoded document of an entry.
type Kind uint8

const (
	KindVuln      Kind = iota // HarborVulnerabilityReport (served for both vuln MIME types)
	KindSPDX                  // HarborSbomReport with an SPDX 2.3 document
	KindCycloneDX             // HarborSbomReport with a CycloneDX 1.6 document
	NumKinds
)

// Doc is one immutable encoded JSON document, ready for the wire in plain and
// gzip form. Built by Store.NewDoc from chunks whose concatenation is the
// JSON body; equal chunks are stored once across all documents.
type Doc struct{}

// PlainLen is the length of the uncompressed body.
func (d *Doc) PlainLen() int { panic("stub") }

// WritePlain writes the uncompressed body. With a fasthttp.RequestCtx as w it
// allocates nothing.
func (d *Doc) WritePlain(w io.Writer) error { panic("stub") }

// WriteGzip writes the body as a complete gzip stream (for
// Content-Encoding: gzip). With a fasthttp.RequestCtx as w it allocates
// nothing.
func (d *Doc) WriteGzip(w io.Writer) error { panic("stub") }

// AppendPlain appends the uncompressed body to dst.
func (d *Doc) AppendPlain(dst []byte) []byte { panic("stub") }

// Entry is the finished result of one controller scan of one digest with one
// CVE DB version.
type Entry struct {
	Digest    string
	CVEDB     string
	ScannedAt time.Time
}

// Doc returns the document of kind k, or nil when not built (yet).
func (e *Entry) Doc(k Kind) *Doc { panic("stub") }

// SetDoc stores the document of kind k (safe for concurrent use); the
// store's byte count follows.
func (e *Entry) SetDoc(k Kind, d *Doc) { panic("stub") }

// Store holds entries by (digest, CVE DB version) in an LRU bounded by bytes
// (what it holds: encoded and compressed forms, shared chunks counted once)
// with a TTL.
type Store struct{}

// NewStore returns a store with the given byte budget and TTL.
func NewStore(budget int64, ttl time.Duration) *Store { panic("stub") }

// NewDoc builds a document from head + items... + tail. Chunks are interned:
// an item chunk equal to one of another document is stored once.
func (s *Store) NewDoc(head []byte, items [][]byte, tail []byte) *Doc { panic("stub") }

// NewEntry returns an empty entry for (digest, cvedb) not yet in the store.
func (s *Store) NewEntry(digest, cvedb string, scannedAt time.Time) *Entry { panic("stub") }

// Put stores e (replacing an older entry of the same key).
func (s *Store) Put(e *Entry) { panic("stub") }

// Get returns the entry for (digest, cvedb). It never returns an entry past
// its TTL. cvedb "" never matches.
func (s *Store) Get(digest, cvedb string) (*Entry, bool) { panic("stub") }

// Newest returns the newest entry of a digest whatever its CVE DB version.
func (s *Store) Newest(digest string) (*Entry, bool) { panic("stub") }

// Stats is what /metrics and tests read.
type Stats struct {
	Entries   int
	Bytes     int64
	Hits      uint64
	Misses    uint64
	Evictions uint64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats { panic("stub") }

// ScanID is the decoded form of a scan ID (design.md "The scan ID").
type ScanID struct {
	Version    uint8
	IssuedAt   time.Time
	Digest     string
	Repository string // may be cut to keep the ID within 256 characters
}

// NewScanID issues a new, unique, URL-safe ID of at most 256 characters.
func NewScanID(digest, repository string, now time.Time) (string, ScanID) { panic("stub") }

// ParseScanID decodes an ID; a malformed one is ErrBadScanID.
func ParseScanID(s string) (ScanID, error) { panic("stub") }

// JobState is where a scan job is.
type JobState uint8

const (
	JobQueued JobState = iota
	JobRunning
	JobDone
	JobFailed
)

// Job is one accepted scan request (one scan ID). Safe for concurrent use.
type Job struct {
	ID  string
	SID ScanID
}

// NewJob returns a queued job.
func NewJob(id string, sid ScanID) *Job { panic("stub") }

// State returns the job's state, its entry when done, its message when failed.
func (j *Job) State() (JobState, *Entry, string) { panic("stub") }

// SetRunning marks the job running (no-op once finished).
func (j *Job) SetRunning() { panic("stub") }

// Finish marks the job done with e.
func (j *Job) Finish(e *Entry) { panic("stub") }

// Fail marks the job failed with a message safe to show Harbor.
func (j *Job) Fail(msg string) { panic("stub") }

// Jobs holds jobs by ID, bounded by count (oldest evicted first) and TTL, so
// scan-all of 100,000 images cannot grow it without limit.
type Jobs struct{}

// NewJobs returns a table of at most max jobs, each kept for ttl.
func NewJobs(max int, ttl time.Duration) *Jobs { panic("stub") }

// Add stores j.
func (t *Jobs) Add(j *Job) { panic("stub") }

// Get returns the job of id.
func (t *Jobs) Get(id string) (*Job, bool) { panic("stub") }

// Len is the number of jobs held.
func (t *Jobs) Len() int { panic("stub") }

// Flight is one controller scan of a digest that jobs join.
type Flight struct {
	Entry *Entry // valid after Done is closed, nil on error
	Err   error  // valid after Done is closed
}

// Done is closed when the flight has landed.
func (f *Flight) Done() <-chan struct{} { panic("stub") }

// Flights dedupes in-flight scans by digest.
type Flights struct{}

// NewFlights returns an empty set.
func NewFlights() *Flights { panic("stub") }

// Join returns the flight of key, and leader=true when the caller created it
// and must run the scan and call Land.
func (f *Flights) Join(key string) (fl *Flight, leader bool) { panic("stub") }

// Land records the result, wakes every joiner and forgets the key.
func (f *Flights) Land(key string, fl *Flight, e *Entry, err error) { panic("stub") }

// Len is the number of flights in the air.
func (f *Flights) Len() int { panic("stub") }
