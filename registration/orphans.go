package registration

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
)

// Retry bounds of the background removal of orphans, and how many it
// tracks: a directory outage at 1,000 registrations per second leaves at
// most that many in a few seconds.
const (
	orphanRetryMin    = 250 * time.Millisecond
	orphanRetryMax    = 30 * time.Second
	maxPendingOrphans = 10000
	// orphanTimeout bounds one removal when no request timeout is set.
	orphanTimeout = 5 * time.Second
)

// errNotOurs: the entry under an orphan's ID is no longer what its Create
// wrote, so it is not removed.
var errNotOurs = errors.New("registration: entry changed since it was created")

// orphans withdraws registrations that may be stored although their
// caller was answered with an error or never got the answer: a Create
// whose outcome was lost with the directory, a registration over its
// token's cap, a caller that went away. Nobody holds their credentials,
// yet they would count against the caller's quotas. Each is removed only
// while its entry is still exactly what its Create wrote (revision 1, the
// same issue time and token hash), at once if the directory answers, else
// in the background, retried with backoff until it does. What this process
// cannot remove before it ends (pending at Close) is logged; the reaper
// finds such entries as never used.
type orphans struct {
	store   store.Store
	logger  *slog.Logger
	timeout time.Duration

	mu      sync.Mutex
	pending map[string]client.Record
	running bool
	closed  bool
	stop    chan struct{}
}

func newOrphans(st store.Store, logger *slog.Logger, timeout time.Duration) *orphans {
	if timeout <= 0 {
		timeout = orphanTimeout
	}
	return &orphans{store: st, logger: logger, timeout: timeout, pending: map[string]client.Record{}, stop: make(chan struct{})}
}

// remove withdraws rec now, within ctx, or later if the directory does not
// answer.
func (o *orphans) remove(ctx context.Context, rec client.Record) {
	if err := o.removeNow(ctx, rec); isUnavailable(err) {
		o.later(rec)
	}
}

// later withdraws rec in the background.
func (o *orphans) later(rec client.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.closed:
		o.logger.Error("registration answered with an error may remain in the directory", "client_id", rec.ID)
		return
	case len(o.pending) >= maxPendingOrphans:
		o.logger.Error("too many registrations to withdraw; this one may remain in the directory", "client_id", rec.ID)
		return
	}
	o.pending[rec.ID] = rec
	if !o.running {
		o.running = true
		go o.run()
	}
}

// Pending is how many registrations wait to be withdrawn.
func (o *orphans) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}

// run sweeps until nothing is pending, backing off while the directory
// stays unreachable.
func (o *orphans) run() {
	wait := orphanRetryMin
	for !o.sweep() {
		select {
		case <-o.stop:
			return
		case <-time.After(wait/2 + rand.N(wait/2)):
		}
		wait = min(2*wait, orphanRetryMax)
	}
}

// sweep tries every pending orphan once, stopping at the first the
// directory does not answer for; it reports whether none is left, and
// then ends the run.
func (o *orphans) sweep() (done bool) {
	for _, rec := range o.snapshot() {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		err := o.removeNow(ctx, rec)
		cancel()
		if isUnavailable(err) {
			break
		}
		o.mu.Lock()
		delete(o.pending, rec.ID)
		o.mu.Unlock()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.pending) == 0 {
		o.running = false
		return true
	}
	return false
}

func (o *orphans) snapshot() []client.Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	recs := make([]client.Record, 0, len(o.pending))
	for _, r := range o.pending {
		recs = append(recs, r)
	}
	return recs
}

// removeNow deletes rec's entry if it is still what rec's Create wrote.
// Gone already, or changed since, is done too.
func (o *orphans) removeNow(ctx context.Context, rec client.Record) error {
	err := o.store.Delete(ctx, rec.ID, func(cur client.Record) error {
		if cur.Revision != 1 || !cur.IssuedAt.Equal(rec.IssuedAt) || cur.RegistrationTokenHash != rec.RegistrationTokenHash {
			return errNotOurs
		}
		return nil
	})
	switch {
	case err == nil:
		o.logger.Info("registration answered with an error withdrawn", "client_id", rec.ID)
	case isUnavailable(err):
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNotOurs):
		return nil
	default:
		o.logger.Error("could not withdraw a registration answered with an error", "client_id", rec.ID, "err", err)
	}
	return err
}

// close stops the background run; what is left is logged.
func (o *orphans) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	close(o.stop)
	for id := range o.pending {
		o.logger.Error("registration answered with an error may remain in the directory", "client_id", id)
	}
}

// isUnavailable: the directory did not answer in time; try again later.
func isUnavailable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
