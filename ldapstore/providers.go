package ldapstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/store"
)

// Multi-provider timing (Config.MultiProvider); variables so that tests
// can shorten them, read once per store (newFence).
var (
	// failbackTick is the period at which every gateway probes the
	// providers it stopped using, at the same instants on the wall clock
	// (the multiples of the period), so that gateways with synchronised
	// clocks see a provider come back at the same tick.
	failbackTick = 5 * time.Second
	// failbackProbes is how many ticks in a row a provider must answer
	// before it is used again: time for it to catch up with what the
	// others took meanwhile.
	failbackProbes = 2
	// failbackPause holds every request back for this long after the tick
	// that readmits a provider, so that the writes still in flight on the
	// provider being left, sent by any gateway, are done and replicated
	// before anyone writes to the one returned to.
	failbackPause = 500 * time.Millisecond
)

// fence is the set of providers a multi-provider gateway has stopped
// using (a dial to them failed), with the ticks each has answered since.
// A fenced provider is dialled only when no other answers, and is
// readmitted only by the ticks: not by the first request that happens to
// reach it, which would be at a different moment in every gateway, so
// that for as long as it took the last gateway to try it again, two
// providers would decide compare-and-swaps on the same entries.
type fence struct {
	// tick, probes and pause are failbackTick, failbackProbes and
	// failbackPause when the store was made.
	tick, pause time.Duration
	probes      int

	mu       sync.Mutex
	answered map[string]int
	// pauseUntil is the end of the pause after the last readmission.
	pauseUntil time.Time
}

func newFence() *fence {
	return &fence{tick: failbackTick, pause: failbackPause, probes: failbackProbes, answered: map[string]int{}}
}

// fenced reports whether u is fenced; a nil fence fences nothing.
func (f *fence) fenced(u string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.answered[u]
	return ok
}

// shut fences u after a failed dial, or starts its count again.
func (f *fence) shut(u string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answered[u] = 0
}

// list returns the fenced URLs; none for a nil fence.
func (f *fence) list() []string {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.answered))
}

// probed records a tick's probe of u, and reports whether it readmits u,
// which starts the pause.
func (f *fence) probed(u string, ok bool, tick time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, fenced := f.answered[u]; !fenced {
		return false
	}
	if !ok {
		f.answered[u] = 0
		return false
	}
	f.answered[u]++
	if f.answered[u] < f.probes {
		return false
	}
	delete(f.answered, u)
	f.pauseUntil = tick.Add(f.pause)
	return true
}

// wait holds the caller until the pause after a readmission is over.
func (f *fence) wait(ctx context.Context) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	left := time.Until(f.pauseUntil)
	f.mu.Unlock()
	if left <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for the failback pause: %w", store.ErrUnavailable, ctx.Err())
	case <-time.After(left):
		return nil
	}
}

// probeFenced probes the fenced providers at every tick until the pool
// is closed. A probe is a dial and bind as the service account.
func (p *pool) probeFenced(stop <-chan struct{}) {
	for {
		tick := time.Now().Truncate(p.fence.tick).Add(p.fence.tick)
		select {
		case <-stop:
			return
		case <-time.After(time.Until(tick)):
		}
		for _, u := range p.fence.list() {
			conn, err := p.dialOne(u, true, p.cfg.Timeout)
			if err == nil {
				_ = conn.Close()
				p.markDial(u, nil)
			}
			if p.fence.probed(u, err == nil, tick) {
				p.logger.Info("ldap provider answered its failback probes; every gateway returns to it at this tick",
					"url", u, "tick", tick.UTC().Format(time.RFC3339), "pause", p.fence.pause)
			}
		}
	}
}

// providerOrder sorts urls for Config.MultiProvider: by URL, case aside
// (hosts are), so that every gateway has the same order however its URLs
// are listed.
func providerOrder(urls []string) {
	slices.SortFunc(urls, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
}

// preferred reports whether conn may serve a request: always, unless
// Config.MultiProvider is set and conn goes to another provider than the
// first in dialOrder, the one every gateway uses now. Connections made to
// another provider while that one was fenced are so closed once it is
// readmitted, and every gateway goes back to it at the same tick.
func (p *pool) preferred(conn *ldap.Conn) bool {
	if !p.cfg.MultiProvider {
		return true
	}
	first := p.dialOrder()[0]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.origin[conn] == first
}
