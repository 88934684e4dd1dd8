package cache

import "sort"

// Byte accounting: Stats().Bytes is meant to track what the Go heap really
// spends on the cache, so sizes are rounded up the way the allocator rounds
// them (size classes up to 32 KiB, whole 8 KiB pages above).

// sizeClasses are the Go runtime's small-object size classes
// (internal/runtime/gc/sizeclasses.go); they have been stable for years.
var sizeClasses = [...]int32{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
	2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
	10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// allocSize is what the heap spends on an allocation of n bytes.
func allocSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n > 32768 {
		return int64((n + 8191) &^ 8191)
	}
	i := sort.Search(len(sizeClasses), func(i int) bool { return int(sizeClasses[i]) >= n })
	return int64(sizeClasses[i])
}

// Estimated fixed costs (amd64) beyond the byte slices themselves; the heap
// test calibrates them against runtime.MemStats.
const (
	// chunk struct + its slot in the intern map.
	chunkOverhead = 96 + 48
	// Doc + docState + the cleanup registered for it.
	docOverhead = 96 + 64 + 64
	// Entry + LRU element + LRU map slot + per-digest map slot + expiry links.
	entryOverhead = 192 + 96 + 64 + 48
)
