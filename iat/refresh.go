package iat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxFailureBackoff is the longest a refresher waits after a failed fetch
// before it lets the next one start. The rate limit is there to stop a
// stream of forged kids from hammering an issuer that answers; it must not
// keep an issuer that has just come back from being asked, or every token
// it signs meanwhile gets a 503 for the whole interval.
const maxFailureBackoff = 500 * time.Millisecond

// errRefetchLimited: the refetch a token needs may not start yet. The keys
// could not be confirmed, so the token cannot be judged: ErrUnavailable,
// never "unknown key".
var errRefetchLimited = errors.New("refetch not allowed yet")

// refresher runs a fetch on demand, one at a time, however many callers
// ask. Callers that arrive while a fetch runs wait for it and share its
// outcome, so a burst of tokens with a new kid costs one request.
//
// After a successful fetch the next may start only interval later, so a
// stream of forged kids costs one request per interval. After a failed
// fetch the next may start after a short backoff (at most
// maxFailureBackoff), so recovery is not delayed by the rate limit.
type refresher struct {
	base     context.Context // the validator's lifetime; fetches run under it
	interval time.Duration   // after a success
	backoff  time.Duration   // after a failure
	fetch    func(context.Context) error

	mu       sync.Mutex
	now      func() time.Time // time.Now; tests set a controllable clock
	next     time.Time        // earliest start of the next fetch
	lastErr  error            // outcome of the last fetch
	inflight *flight          // the running fetch; nil if none
}

// flight is one fetch and the callers waiting for it.
type flight struct {
	done chan struct{} // closed when the fetch ends
	err  error         // its outcome, set before done is closed
}

func newRefresher(base context.Context, interval time.Duration, fetch func(context.Context) error) *refresher {
	return &refresher{base: base, interval: interval, backoff: min(interval, maxFailureBackoff),
		fetch: fetch, now: time.Now}
}

// do starts a fetch unless one runs, then waits for it or until ctx is
// done. It returns nil only when a fetch this caller waited for
// succeeded: that is the one case where a key missing from the set is
// known to be missing at the issuer. A fetch that failed returns its
// error; a fetch that may not start yet returns errRefetchLimited.
func (r *refresher) do(ctx context.Context) error {
	f, err := r.join()
	if err != nil {
		return err
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// join returns the running fetch, or starts one if the rate limit allows.
func (r *refresher) join() (*flight, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight, nil
	}
	if now := r.now(); now.Before(r.next) {
		return nil, fmt.Errorf("%w for %s (last fetch: %w)", errRefetchLimited,
			r.next.Sub(now).Round(time.Millisecond), orSucceeded(r.lastErr))
	}
	r.inflight = &flight{done: make(chan struct{})}
	go r.run(r.inflight)
	return r.inflight, nil
}

// run fetches under the validator's context, not a caller's: a caller that
// gives up must neither cancel a fetch others wait for nor have its
// cancellation recorded as the issuer's failure.
func (r *refresher) run(f *flight) {
	ctx, cancel := context.WithTimeout(r.base, refreshTimeout)
	err := r.fetch(ctx)
	cancel()
	r.mu.Lock()
	wait := r.interval
	if err != nil {
		wait = r.backoff
	}
	r.next = r.now().Add(wait)
	r.lastErr, r.inflight, f.err = err, nil, err
	r.mu.Unlock()
	close(f.done)
}

// setClock replaces the clock the rate limit reads; for tests.
func (r *refresher) setClock(now func() time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = now
}

// orSucceeded names a nil outcome in an error chain.
func orSucceeded(err error) error {
	if err == nil {
		return errors.New("succeeded")
	}
	return err
}
