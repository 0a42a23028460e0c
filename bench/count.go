package main

import (
	"context"
	"fmt"

	"github.com/dcrgate/dcrgate/credentials"
)

// countRoundTrips counts the LDAP requests of each API call, one call at a
// time. It reads dcrgate's own LDAP operation counter when the build has
// one; otherwise it starts a second pair of gateways behind a counting
// proxy (the measured pair stays direct, so the proxy never slows the
// throughput numbers).
func (e *env) countRoundTrips(ctx context.Context) (RoundTrips, error) {
	if _, found, err := scrapeMetric(ctx, e.rotating.telemetry); err == nil && found {
		return e.countWith(ctx, "metric "+ldapMetric, e.apiRotating, e.apiPlain,
			metricSnapshot(e.rotating), metricSnapshot(e.plain))
	}
	proxy, err := startProxy(e.dir.URL)
	if err != nil {
		return RoundTrips{}, err
	}
	defer proxy.close()
	rotating, apiRotating, err := e.startGateway(ctx, "counted-rotating", proxy.URL(), true)
	if err != nil {
		return RoundTrips{}, err
	}
	defer rotating.stop()
	plain, apiPlain, err := e.startGateway(ctx, "counted-plain", proxy.URL(), false)
	if err != nil {
		return RoundTrips{}, err
	}
	defer plain.stop()
	snap := func(context.Context) (map[string]float64, error) { return proxy.snapshot(), nil }
	return e.countWith(ctx, fmt.Sprintf("counting proxy, %s not exported", ldapMetric), apiRotating, apiPlain, snap, snap)
}

func metricSnapshot(g *gateway) snapshotFunc {
	return func(ctx context.Context) (map[string]float64, error) {
		series, _, err := scrapeMetric(ctx, g.telemetry)
		return series, err
	}
}

// countWith makes roundTripCalls calls of each kind, after one warm-up call
// per gateway so pool dials and binds are not charged to the first call.
func (e *env) countWith(ctx context.Context, source string, rot, plain *apiClient, snapRot, snapPlain snapshotFunc) (RoundTrips, error) {
	rt := RoundTrips{Source: source, PerCall: map[string]map[string]float64{}}
	f, err := rot.register(ctx, credentials.NewClientID())
	if err != nil {
		return rt, err
	}
	if err := plain.read(ctx, &f); err != nil {
		return rt, err
	}
	var made []fixture
	steps := []struct {
		op   string
		snap snapshotFunc
		call func() error
	}{
		{"register", snapRot, func() error {
			g, err := rot.register(ctx, credentials.NewClientID())
			made = append(made, g)
			return err
		}},
		{"get", snapPlain, func() error { return plain.read(ctx, &f) }},
		{"get-rotate", snapRot, func() error { return rot.read(ctx, &f) }},
		{"put", snapRot, func() error { return rot.update(ctx, &f) }},
		{"delete", snapRot, func() error {
			g := made[len(made)-1]
			made = made[:len(made)-1]
			return rot.remove(ctx, g)
		}},
	}
	for _, s := range steps {
		per, err := perCall(ctx, s.snap, roundTripCalls, s.call)
		if err != nil {
			return rt, fmt.Errorf("counting %s: %w", s.op, err)
		}
		rt.PerCall[s.op] = per
	}
	return rt, nil
}
