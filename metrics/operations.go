package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/audit"
)

// Operations counts the audit events: every use case by outcome, policy
// refusals by policy, credentials issued by kind. It is an audit.Recorder,
// so the numbers an operator alerts on and the trail an auditor reads
// come from the same events. Every label takes a bounded set of values:
// fixed operations, outcomes and OAuth error codes, and the names of the
// configured policies.
type Operations struct {
	ops      *prometheus.CounterVec
	refusals *prometheus.CounterVec
	issued   *prometheus.CounterVec
}

// NewOperations creates the collectors and registers them on reg.
func NewOperations(reg prometheus.Registerer) *Operations {
	m := &Operations{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_operations_total",
			Help: "Registrations, reads, updates, deletes and administrators' actions, by operation, outcome (success, refused, failed) and OAuth error code.",
		}, []string{"operation", "outcome", "error"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_policy_refusals_total",
			Help: "Requests a registration policy refused, by policy name.",
		}, []string{"policy"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_credentials_issued_total",
			Help: "Client secrets and registration access tokens issued (registrations, rotations, resets), by credential.",
		}, []string{"credential"}),
	}
	reg.MustRegister(m.ops, m.refusals, m.issued)
	return m
}

// Record implements audit.Recorder.
func (m *Operations) Record(_ context.Context, ev audit.Event) {
	m.ops.WithLabelValues(ev.Operation, ev.Outcome, ev.Error).Inc()
	if ev.Outcome == audit.Refused && ev.Policy != "" {
		m.refusals.WithLabelValues(ev.Policy).Inc()
	}
	for _, c := range ev.Issued {
		m.issued.WithLabelValues(c).Inc()
	}
}
