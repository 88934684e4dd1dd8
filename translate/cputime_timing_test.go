//go:build linux

package translate

import (
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports CPU time per op (user+system of the whole process, GC
// included) next to ns/op: on a loaded machine wall time measures the
// neighbours, CPU time still measures the code.
type cpuTimer struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuTimer { return cpuTimer{processCPU()} }

func (c cpuTimer) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
	}
}
