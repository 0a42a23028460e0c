// Package ratelimit keeps a token bucket per key — a caller's address, a
// token's subject — for the limits a registration endpoint open to the
// internet needs. The buckets are golang.org/x/time/rate limiters kept in
// a bounded LRU, so a flood of distinct keys costs bounded memory: a key
// pushed out starts again with a full bucket, which errs towards letting a
// caller through, never towards refusing one for good.
//
// Limits are per process: behind a load balancer spreading callers over n
// replicas, a caller gets up to n times the configured rate.
package ratelimit

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Limit is a sustained rate and the burst a bucket holds.
type Limit struct {
	// PerMinute is the sustained rate; 0 means no limit.
	PerMinute float64
	// Burst is how many requests may come at once.
	Burst int
}

// keys bounds how many buckets a Limiter keeps.
const keys = 100_000

// Limiter is the buckets of one limit.
type Limiter struct {
	limit   rate.Limit
	burst   int
	now     func() time.Time
	mu      sync.Mutex
	buckets *lru.Cache[string, *rate.Limiter]
}

// New returns a Limiter for l, or nil (which allows everything) when l
// sets no rate. now is the clock (time.Now; tests pass their own).
func New(l Limit, now func() time.Time) *Limiter {
	if l.PerMinute <= 0 {
		return nil
	}
	buckets, err := lru.New[string, *rate.Limiter](keys)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &Limiter{limit: rate.Limit(l.PerMinute / 60), burst: max(l.Burst, 1), now: now, buckets: buckets}
}

// Allow takes a token from key's bucket. When there is none it takes
// nothing and returns how long until there will be one, for Retry-After.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	r := l.bucket(key).ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		// The float rate leaves nanoseconds of error: round up to the
		// millisecond, so a caller who waits that long finds a token.
		return false, (delay + time.Millisecond - 1).Truncate(time.Millisecond)
	}
	return true, 0
}

// bucket returns key's bucket, making a full one for a key it lacks.
func (l *Limiter) bucket(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Get(key)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets.Add(key, b)
	}
	return b
}
