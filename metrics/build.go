package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// NewBuildInfo registers dcrgate_build_info, a constant 1 labelled with
// the running version and VCS revision, so dashboards can show which
// build each replica runs and alerts can tell a rollout from a fault.
func NewBuildInfo(reg prometheus.Registerer, version, revision string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "dcrgate_build_info",
		Help:        "The running build: version, VCS revision and Go version as labels; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	g.Set(1)
	reg.MustRegister(g)
}
