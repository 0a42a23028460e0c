package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/store"
)

// fakeClock is a settable clock for the outage breaker.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) advance(d time.Duration) { c.set(c.Now().Add(d)) }

// testOutage is a breaker on a fake clock with a fixed jitter draw (0.5
// is no jitter at all).
func testOutage(jitter float64) (*outage, *fakeClock) {
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	o := newOutage(func(bool) {})
	o.now, o.jitter = clock.Now, func() float64 { return jitter }
	return o, clock
}

// opened is a breaker whose directory just became unreachable.
func opened(t *testing.T, jitter float64) (*outage, *fakeClock) {
	t.Helper()
	o, clock := testOutage(jitter)
	if tr := o.settle(false, unreached, errors.New("connection refused")); !tr.wentDown {
		t.Fatalf("a failed dial while up: %+v, want wentDown", tr)
	}
	return o, clock
}

// waitAfter is the wait the breaker set after its last failure.
func waitAfter(o *outage, clock *fakeClock) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.retryAt.Sub(clock.Now())
}

// TestOutageBackoff: every failed probe doubles the wait, from
// outageBackoffMin up to outageBackoffMax, spread by at most ±10%.
func TestOutageBackoff(t *testing.T) {
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 5 * time.Second, 5 * time.Second}
	for _, tt := range []struct {
		name   string
		jitter float64
		factor float64
	}{
		{"no jitter", 0.5, 1},
		{"lowest draw", 0, 0.9},
		{"highest draw", 1, 1.1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, clock := opened(t, tt.jitter)
			for i, base := range want {
				if got, w := waitAfter(o, clock), time.Duration(tt.factor*float64(base)); got != w {
					t.Fatalf("wait %d: %s, want %s", i, got, w)
				}
				clock.advance(waitAfter(o, clock))
				probe, err := o.admit()
				if !probe || err != nil {
					t.Fatalf("admit after wait %d: probe=%v err=%v, want the probe", i, probe, err)
				}
				o.settle(true, unreached, errors.New("still refused"))
			}
		})
	}
}

// TestOutageSingleProbe: while down, callers are refused at once until the
// wait is over; then exactly one of many concurrent callers gets to probe,
// the others are still refused while it runs, and its success lets
// everyone through again and reports the outage.
func TestOutageSingleProbe(t *testing.T) {
	o, clock := opened(t, 0.5)
	clock.advance(outageBackoffMin / 2)
	for range 3 {
		probe, err := o.admit()
		if probe || !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "unreachable since") {
			t.Fatalf("admit during the wait: probe=%v err=%v, want refused as unavailable", probe, err)
		}
	}
	clock.advance(outageBackoffMin)
	var probes sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 32 {
		probes.Go(func() {
			probe, err := o.admit()
			mu.Lock()
			defer mu.Unlock()
			if probe {
				granted++
			} else if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("admit while another probes: %v", err)
			}
		})
	}
	probes.Wait()
	if granted != 1 {
		t.Fatalf("%d callers got to probe at once, want 1", granted)
	}
	clock.advance(time.Second) // the probe runs long: others are still refused
	if probe, err := o.admit(); probe || err == nil {
		t.Fatalf("admit while the probe runs: probe=%v err=%v", probe, err)
	}
	tr := o.settle(true, reached, nil)
	if !tr.cameUp || tr.refused != 3+31+1 || tr.downFor != outageBackoffMin/2+outageBackoffMin+time.Second {
		t.Fatalf("probe succeeded: %+v, want cameUp after 1.375s with 35 refused", tr)
	}
	if probe, err := o.admit(); probe || err != nil {
		t.Fatalf("admit once up: probe=%v err=%v, want a plain yes", probe, err)
	}
}

// TestOutageSettle covers each verdict in each state, and what the
// breaker tells the dcrgate_ldap_up gauge.
func TestOutageSettle(t *testing.T) {
	cause := errors.New("boom")
	for _, tt := range []struct {
		name   string
		down   bool
		probe  bool
		v      verdict
		want   transition
		isDown bool
		// wait is the wait from now to the next probe afterwards, -1 for
		// "unchanged" (the outage's first wait, set before the clock moved).
		wait time.Duration
	}{
		{name: "up/reached", v: reached},
		{name: "up/inconclusive", v: inconclusive},
		{name: "up/untried", v: untried},
		{name: "up/unreached opens", v: unreached, want: transition{wentDown: true, retryIn: outageBackoffMin},
			isDown: true, wait: outageBackoffMin},
		{name: "down/stale dial fails", down: true, v: unreached, isDown: true, wait: -1},
		{name: "down/stale dial succeeds", down: true, v: reached, want: transition{cameUp: true, downFor: time.Second}},
		{name: "down/probe fails", down: true, probe: true, v: unreached, isDown: true, wait: 2 * outageBackoffMin},
		{name: "down/probe inconclusive", down: true, probe: true, v: inconclusive, isDown: true, wait: outageBackoffMin},
		{name: "down/probe untried", down: true, probe: true, v: untried, isDown: true, wait: -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, clock := testOutage(0.5)
			if tt.down {
				o, clock = opened(t, 0.5)
			}
			firstWait := o.retryAt
			up := !o.isDown() // what a dcrgate_ldap_up gauge would show
			o.setUp = func(u bool) { up = u }
			clock.advance(time.Second)
			if tt.probe {
				if probe, _ := o.admit(); !probe {
					t.Fatal("no probe after the wait")
				}
			}
			if got := o.settle(tt.probe, tt.v, cause); got != tt.want {
				t.Fatalf("settle: %+v, want %+v", got, tt.want)
			}
			if o.isDown() != tt.isDown || o.probing || up == tt.isDown {
				t.Fatalf("down=%v probing=%v up=%v, want down=%v, no probe out and up the opposite",
					o.isDown(), o.probing, up, tt.isDown)
			}
			switch {
			case tt.wait == -1 && o.retryAt != firstWait:
				t.Fatalf("next probe moved to %s, want it left at %s", o.retryAt, firstWait)
			case tt.wait > 0 && waitAfter(o, clock) != tt.wait:
				t.Fatalf("next probe in %s, want %s", waitAfter(o, clock), tt.wait)
			}
		})
	}
}

// TestVerdictOf: what a failed attempt says about the directory.
func TestVerdictOf(t *testing.T) {
	live := t.Context()
	ended, cancel := context.WithCancel(live)
	cancel()
	network := ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection timed out"))
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		err    error
		budget time.Duration
		want   verdict
	}{
		{"success", live, nil, time.Second, reached},
		{"wrong bind password", live, fmt.Errorf("bind: %w",
			ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New("invalid credentials"))), time.Second, reached},
		{"refused StartTLS", live, ldap.NewError(ldap.LDAPResultProtocolError, errors.New("no")), time.Second, reached},
		{"network error", live, fmt.Errorf("bind: %w", network), time.Second, unreached},
		{"busy", live, ldap.NewError(ldap.LDAPResultBusy, errors.New("busy")), time.Second, unreached},
		{"unavailable", live, ldap.NewError(ldap.LDAPResultUnavailable, errors.New("shutting down")), time.Second, unreached},
		{"broken connection (plain error)", live, errors.New("unable to read LDAP response packet"), time.Second, unreached},
		{"timeout with a fair budget", ended, network, minConclusiveBudget, unreached},
		{"timeout with a tiny budget", ended, network, minConclusiveBudget / 10, inconclusive},
		{"refused at once with a tiny budget", live, network, minConclusiveBudget / 10, unreached},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdictOf(tt.ctx, tt.err, tt.budget); got != tt.want {
				t.Fatalf("verdict %d, want %d", got, tt.want)
			}
		})
	}
}
