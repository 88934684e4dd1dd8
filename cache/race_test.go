//go:build race

package cache

// raceEnabled scales the heaviest tests down under the race detector, which
// slows compression and formatting tenfold; the full sizes run without it.
const raceEnabled = true
