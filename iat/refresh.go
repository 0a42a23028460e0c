package iat

import (
	"context"
	"sync"
	"time"
)

// refresher runs a fetch at most once per interval, however many callers
// ask. Callers that arrive while a fetch runs wait for it and share its
// outcome, so a burst of tokens with a new kid costs one request, and a
// stream of forged kids costs one request per interval.
type refresher struct {
	base     context.Context // the validator's lifetime; fetches run under it
	interval time.Duration
	fetch    func(context.Context) error

	mu       sync.Mutex
	last     time.Time     // start of the last fetch
	lastErr  error         // its outcome
	inflight chan struct{} // closed when the running fetch ends; nil if none
}

func newRefresher(base context.Context, interval time.Duration, fetch func(context.Context) error) *refresher {
	return &refresher{base: base, interval: interval, fetch: fetch}
}

// do starts a fetch unless one runs or the last began less than interval
// ago, then waits for the running one, if any, or until ctx is done. Within
// the interval it returns the last fetch's error: a recent failure still
// means the cached set may be stale, a recent success that it is current.
func (r *refresher) do(ctx context.Context) error {
	r.mu.Lock()
	if r.inflight == nil && (r.last.IsZero() || time.Since(r.last) >= r.interval) {
		r.last = time.Now()
		r.inflight = make(chan struct{})
		go r.run(r.inflight)
	}
	done, err := r.inflight, r.lastErr
	r.mu.Unlock()
	if done == nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// run fetches under the validator's context, not a caller's: a caller that
// gives up must neither cancel a fetch others wait for nor have its
// cancellation recorded as the issuer's failure.
func (r *refresher) run(done chan struct{}) {
	ctx, cancel := context.WithTimeout(r.base, refreshTimeout)
	err := r.fetch(ctx)
	cancel()
	r.mu.Lock()
	r.lastErr, r.inflight = err, nil
	r.mu.Unlock()
	close(done)
}
