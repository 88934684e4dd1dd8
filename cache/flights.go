package cache

import "sync"

// Flight is one controller scan of a digest that jobs join.
type Flight struct {
	Entry *Entry // valid after Done is closed, nil on error
	Err   error  // valid after Done is closed

	done chan struct{}
	once sync.Once
}

// Done is closed when the flight has landed.
func (f *Flight) Done() <-chan struct{} { return f.done }

// Flights dedupes in-flight scans by digest.
type Flights struct {
	mu sync.Mutex
	m  map[string]*Flight
}

// NewFlights returns an empty set.
func NewFlights() *Flights {
	return &Flights{m: make(map[string]*Flight)}
}

// Join returns the flight of key, and leader=true when the caller created it
// and must run the scan and call Land.
func (f *Flights) Join(key string) (fl *Flight, leader bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.m[key]; ok {
		return fl, false
	}
	fl = &Flight{done: make(chan struct{})}
	f.m[key] = fl
	return fl, true
}

// Land records the result, wakes every joiner and forgets the key, so that
// the next Join starts a new flight. Landing a flight twice keeps the first
// result.
func (f *Flights) Land(key string, fl *Flight, e *Entry, err error) {
	f.mu.Lock()
	if f.m[key] == fl {
		delete(f.m, key)
	}
	f.mu.Unlock()
	fl.once.Do(func() {
		fl.Entry, fl.Err = e, err
		close(fl.done)
	})
}

// Len is the number of flights in the air.
func (f *Flights) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
