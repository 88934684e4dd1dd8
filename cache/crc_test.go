package cache

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		a := make([]byte, r.IntN(3000))
		b := make([]byte, r.IntN(3000))
		if i == 0 {
			a, b = nil, nil
		}
		for j := range a {
			a[j] = byte(r.Uint32())
		}
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte{}, a...), b...))
		got := crcCombine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), crcShift(len(b)))
		if got != want {
			t.Fatalf("len %d+%d: combine %08x, want %08x", len(a), len(b), got, want)
		}
	}
	// Lengths past 32 bits of bytes exercise the high table entries.
	if crcShift(1<<33) == crcShift(0) {
		t.Fatal("crcShift ignores high bits")
	}
}
