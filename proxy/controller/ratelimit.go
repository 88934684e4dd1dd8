package controller

import (
	"sync"
	"time"
)

// failLimiter is a token bucket per key that only failures drain: burst
// failures are allowed, refilled at burst per period. A key with an empty
// bucket is refused locally, so the controller's own failed-login lock-out
// (which blocks the user, admin included) is never reached through us.
type failLimiter struct {
	burst  float64
	period time.Duration

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxLimiterKeys bounds memory under a flood of distinct names; beyond it
// the full buckets are dropped first, then everything (fail open for the
// local limit: the controller's own lock-out still applies).
const maxLimiterKeys = 10000

func newFailLimiter(burst int, period time.Duration) *failLimiter {
	return &failLimiter{burst: float64(burst), period: period, m: make(map[string]*bucket)}
}

func (l *failLimiter) refill(b *bucket, now time.Time) {
	if l.period > 0 {
		b.tokens += l.burst * float64(now.Sub(b.last)) / float64(l.period)
	}
	b.tokens = min(b.tokens, l.burst)
	b.last = now
}

// allow tells whether key may try once more.
func (l *failLimiter) allow(key string, now time.Time) bool {
	if l == nil || l.burst <= 0 || key == "" {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		return true
	}
	l.refill(b, now)
	return b.tokens >= 1
}

// fail takes one token from key's bucket.
func (l *failLimiter) fail(key string, now time.Time) {
	if l == nil || l.burst <= 0 || key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		if len(l.m) >= maxLimiterKeys {
			l.pruneLocked(now)
			if len(l.m) >= maxLimiterKeys {
				clear(l.m)
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	l.refill(b, now)
	b.tokens = max(b.tokens-1, 0)
}

// prune drops buckets that have refilled completely.
func (l *failLimiter) prune(now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.pruneLocked(now)
	l.mu.Unlock()
}

func (l *failLimiter) pruneLocked(now time.Time) {
	for k, b := range l.m {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.m, k)
		}
	}
}
