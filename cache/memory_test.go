//go:build !race

package cache

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// 10,000 reports of 300 vulnerabilities drawn from a shared universe fit the
// product's default budget without eviction, and Stats().Bytes tracks the
// heap they really take (the race detector distorts the heap: !race only).
func TestMemoryTenThousandReports(t *testing.T) {
	const (
		budget   = 256 << 20
		reports  = 10_000
		perDoc   = 300
		universe = 4_000
	)
	u := genUniverse(universe, 10)
	r := rand.New(rand.NewPCG(11, 12))
	before, beforeAlloc := heapInuse()
	s := NewStore(budget, time.Hour)
	start := time.Now()
	for i := range reports {
		digest := fmt.Sprintf("sha256:%064x", i)
		e := s.NewEntry(digest, "db1", time.Time{})
		e.SetDoc(KindVuln, s.NewDoc(docHead(digest), pickItems(r, u, perDoc), docTail))
		s.Put(e)
	}
	took := time.Since(start)
	after, afterAlloc := heapInuse()
	st := s.Stats()
	grew := int64(after) - int64(before)
	ratio := float64(st.Bytes) / float64(grew)
	plain := s.NewDoc(nil, nil, nil) // keeps s alive past the measurement
	t.Logf("%d reports x %d items (universe %d): Stats.Bytes %.1f MiB, HeapInuse growth %.1f MiB (ratio %.2f), "+
		"HeapAlloc growth %.1f MiB, %d chunks, %d evictions, built in %v; budget %d MiB",
		reports, perDoc, universe, mib(st.Bytes), mib(grew), ratio, mib(int64(afterAlloc)-int64(beforeAlloc)),
		st.Chunks, st.Evictions, took, budget>>20)
	if st.Evictions != 0 || st.Entries != reports {
		t.Fatalf("evicted within the budget: %+v", st)
	}
	if ratio < 0.7 || ratio > 1.3 {
		t.Fatalf("Stats.Bytes %d vs heap growth %d: off by more than 30%%", st.Bytes, grew)
	}
	runtime.KeepAlive(plain)
	runtime.KeepAlive(s)
}

// heapInuse returns HeapInuse (spans) and HeapAlloc (live objects) after
// collecting garbage.
func heapInuse() (inuse, alloc uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // the second cycle also empties sync.Pools
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
