package metrics

import "github.com/prometheus/client_golang/prometheus"

// Reaper counts what the periodic reaper did, by reason; the reasons are
// a fixed set (registration.Reasons), pre-declared so they show as 0.
type Reaper struct {
	reaped *prometheus.CounterVec
	runs   *prometheus.CounterVec
}

// NewReaper creates the reaper's collectors and registers them on reg.
func NewReaper(reg prometheus.Registerer, reasons []string) *Reaper {
	m := &Reaper{
		reaped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_reaped_clients_total",
			Help: "Clients the reaper removed, or (reason secrets_settled) whose expired secrets and tokens it removed, by reason.",
		}, []string{"reason"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_reaper_runs_total",
			Help: "Reaper runs by result (ok, error).",
		}, []string{"result"}),
	}
	for _, r := range reasons {
		m.reaped.WithLabelValues(r)
	}
	reg.MustRegister(m.reaped, m.runs)
	return m
}

// Reaped adds n clients handled for reason.
func (m *Reaper) Reaped(reason string, n int) { m.reaped.WithLabelValues(reason).Add(float64(n)) }

// Ran counts one run.
func (m *Reaper) Ran(err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.runs.WithLabelValues(result).Inc()
}
