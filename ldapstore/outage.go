package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/store"
)

// The pool-wide outage backoff: once a dial failed on every server, the
// pool stops dialling for a while and refuses requests at once, so that an
// outage costs a handful of connects per second instead of one per request.
const (
	// outageBackoffMin is the first wait after the directory became
	// unreachable. Short, because a restarting slapd is back in well under
	// a second and every request meanwhile is refused; long enough that a
	// dead directory sees a few dials a second from each gateway rather than
	// one per request.
	outageBackoffMin = 250 * time.Millisecond
	// outageBackoffMax caps the doubling. It matches the Retry-After: 5 the
	// API sends with its 503s and the default operation timeout: a
	// directory that comes back is used again about when clients were told
	// to retry, and a frozen one costs at most one hung dial per interval.
	outageBackoffMax = 5 * time.Second
	// outageJitter is the spread of each wait (±10%), so that gateways that
	// lost the directory together do not probe it in lockstep.
	outageJitter = 0.2
	// minConclusiveBudget is the least time a failed attempt must have had
	// for its timeout to count against the directory: a caller whose
	// deadline left a few milliseconds says nothing about the directory
	// when it runs out of them.
	minConclusiveBudget = 100 * time.Millisecond
)

// verdict is what an attempt to reach the directory says about it. The
// order matters: a dial over several servers takes the highest verdict of
// its attempts (one server that answered means the directory is there).
type verdict int

const (
	// untried: the caller's context ended before any attempt.
	untried verdict = iota
	// unreached: no server could be connected to, or none would serve.
	unreached
	// inconclusive: an attempt ran out of a budget too short to tell.
	inconclusive
	// reached: a server answered, if only to refuse (a wrong bind password
	// is a configuration error, not an outage).
	reached
)

// verdictOf classifies err, the outcome of an attempt that had budget to
// get an answer. Network errors, timeouts, busy or unavailable servers and
// go-ldap's plain errors for broken connections are the directory's
// state; any other LDAP result is an answer.
func verdictOf(ctx context.Context, err error, budget time.Duration) verdict {
	var le *ldap.Error
	switch {
	case err == nil || (errors.As(err, &le) && !isUnavailable(err)):
		return reached
	case budget < minConclusiveBudget && ctx.Err() != nil:
		return inconclusive
	}
	return unreached
}

// outage is the pool's circuit breaker. While the directory is reachable
// every caller may dial. When a dial fails on every server it opens: no
// one dials until a backoff deadline, then exactly one caller at a time
// (the probe) does while the others keep being refused; the probe's
// success closes it, its failure doubles the backoff.
type outage struct {
	now    func() time.Time // time.Now; a fake clock in tests
	jitter func() float64   // rand.Float64, in [0, 1); fixed in tests
	// setUp is told of every change under the lock, so that a gauge set
	// by it cannot be left showing the state before the last change.
	setUp func(up bool)

	mu      sync.Mutex
	down    bool
	since   time.Time     // when the directory became unreachable
	backoff time.Duration // the current wait between probes
	retryAt time.Time     // no probe before this
	probing bool          // a probe is out
	refused int           // callers refused during this outage
	cause   error         // the last failure, for the refusals' text
}

func newOutage(setUp func(up bool)) *outage {
	return &outage{now: time.Now, jitter: rand.Float64, setUp: setUp}
}

// transition is what a dial's outcome did to the outage state, for the
// pool to log and count once per change rather than once per request.
type transition struct {
	wentDown, cameUp bool
	downFor          time.Duration // with cameUp
	refused          int           // with cameUp
	retryIn          time.Duration // with wentDown
}

// admit lets a caller that may need a new connection proceed, or refuses
// it at once with an error wrapping store.ErrUnavailable. probe is true
// for the one caller allowed to dial while the directory is down; it must
// hand its outcome to settle.
func (o *outage) admit() (probe bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.down {
		return false, nil
	}
	now := o.now()
	if o.probing || now.Before(o.retryAt) {
		o.refused++
		return false, o.refusal(now)
	}
	o.probing = true
	return true, nil
}

// refusal is the error of a caller refused while the directory is down.
// It wraps store.ErrUnavailable but not the last failure, which is only
// quoted: it belongs to another request.
func (o *outage) refusal(now time.Time) error {
	cause := strings.TrimPrefix(fmt.Sprint(o.cause), store.ErrUnavailable.Error()+": ")
	return fmt.Errorf("%w: ldap directory unreachable since %s (%s), next attempt in %s; last error: %s",
		store.ErrUnavailable, o.since.Format("2006-01-02T15:04:05.000Z07:00"), now.Sub(o.since).Round(time.Millisecond),
		max(0, o.retryAt.Sub(now)).Round(time.Millisecond), cause)
}

// settle records the verdict of an admitted caller's attempt. Any server
// that answered closes the outage, whoever dialled; a failure opens it, or
// when it is the probe's, doubles the backoff. A failure of a dial that
// began before the outage did changes nothing: it is old news.
func (o *outage) settle(probe bool, v verdict, cause error) transition {
	o.mu.Lock()
	defer o.mu.Unlock()
	if probe {
		o.probing = false
	}
	now := o.now()
	switch {
	case v == reached && o.down:
		t := transition{cameUp: true, downFor: now.Sub(o.since), refused: o.refused}
		o.down, o.cause, o.refused = false, nil, 0
		o.setUp(true)
		return t
	case v == unreached && !o.down:
		o.down, o.since, o.refused, o.cause = true, now, 0, cause
		o.backoff = outageBackoffMin
		o.retryAt = now.Add(o.jittered(o.backoff))
		o.setUp(false)
		return transition{wentDown: true, retryIn: o.retryAt.Sub(now)}
	case v == unreached && probe:
		o.backoff = min(2*o.backoff, outageBackoffMax)
		o.retryAt, o.cause = now.Add(o.jittered(o.backoff)), cause
	case v == inconclusive && probe && o.down:
		// Try again after the same wait: the probe's caller ran out of
		// time, which is no reason to wait longer, nor to probe at once.
		o.retryAt = now.Add(o.jittered(o.backoff))
	}
	return transition{}
}

// jittered spreads d by ±outageJitter/2.
func (o *outage) jittered(d time.Duration) time.Duration {
	return d + time.Duration((o.jitter()-0.5)*outageJitter*float64(d))
}

// isDown reports whether the directory is considered unreachable.
func (o *outage) isDown() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.down
}
