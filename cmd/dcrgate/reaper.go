package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
)

// reasonLabels are the reaper's reasons as metric labels.
func reasonLabels() []string {
	labels := make([]string, len(registration.Reasons))
	for i, r := range registration.Reasons {
		labels[i] = string(r)
	}
	return labels
}

// runReaper runs the reaper every cfg.Interval until ctx ends (not at all
// when it is 0). The first run comes after a random part of the interval,
// so replicas started together do not reap in lockstep; and should they
// meet, each removal is a guarded write only one of them wins.
func runReaper(ctx context.Context, admin *registration.Admin, cfg config.Reaper, m *metrics.Reaper, logger *slog.Logger) {
	if cfg.Interval <= 0 {
		return
	}
	opts := registration.ReapOptions{IdlePublic: cfg.IdlePublicClients, IdleSecret: cfg.IdleSecretClients}
	timer := time.NewTimer(rand.N(cfg.Interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		done, err := admin.Reap(ctx, opts, nil)
		for reason, n := range done {
			m.Reaped(string(reason), n)
		}
		m.Ran(err)
		if err != nil && ctx.Err() == nil {
			logger.WarnContext(ctx, "reaper run failed; trying again at the next interval", "err", err)
		}
		timer.Reset(cfg.Interval)
	}
}
