package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// errExhausted is returned by an operation that has nothing left to work on
// (a delete with no entry left); its worker stops without counting an error.
var errExhausted = errors.New("bench: nothing left to consume")

// opFunc is one operation done by worker w, which owns its own fixtures so
// that workers never race each other on the same entry.
type opFunc func(ctx context.Context, w int) error

// phase is one timed, bounded run of an operation.
type phase struct {
	concurrency int
	duration    time.Duration
	maxOps      int
}

// run starts p.concurrency workers calling op in a closed loop until the
// duration is up, maxOps operations were started, or ctx ends: every worker
// stops by itself. Operations get ctx, not the phase's deadline, so one in
// flight when time is up completes (and is counted) instead of being cut off
// halfway through a rotation whose new token the worker would then never see.
func (p phase) run(ctx context.Context, op opFunc) sample {
	window, cancel := context.WithTimeout(ctx, p.duration)
	defer cancel()
	var started atomic.Int64
	var exhausted atomic.Bool
	out := make([]sample, p.concurrency)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := range p.concurrency {
		wg.Go(func() {
			out[w] = p.work(ctx, window, w, op, &started, &exhausted)
		})
	}
	wg.Wait()
	total := sample{elapsed: time.Since(begin), exhausted: exhausted.Load()}
	for _, s := range out {
		total.ops += s.ops
		total.errors += s.errors
		total.latencies = append(total.latencies, s.latencies...)
		if total.firstErr == nil {
			total.firstErr = s.firstErr
		}
	}
	return total
}

// work is one worker's loop; window ends the phase.
func (p phase) work(ctx, window context.Context, w int, op opFunc, started *atomic.Int64, exhausted *atomic.Bool) sample {
	var s sample
	for window.Err() == nil && started.Add(1) <= int64(p.maxOps) {
		t0 := time.Now()
		err := op(ctx, w)
		took := time.Since(t0)
		switch {
		case errors.Is(err, errExhausted):
			exhausted.Store(true)
			return s
		case err != nil && ctx.Err() != nil:
			return s // the whole run was stopped: neither success nor failure
		case err != nil:
			s.errors++
			if s.firstErr == nil {
				s.firstErr = err
			}
		default:
			s.ops++
			s.latencies = append(s.latencies, took)
		}
	}
	return s
}
