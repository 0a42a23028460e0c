// Package metrics defines dcrgate's Prometheus collectors. They are
// registered on a registry the caller injects (never the global one), so
// tests get a fresh registry each and the binary decides what it exposes.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"handler", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dcrgate_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"handler", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// ObserveRequest records one HTTP request. handler is the route pattern, a
// fixed set, so label cardinality stays bounded whatever the paths requested.
func (m *Metrics) ObserveRequest(handler, method string, code int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(handler, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(handler, method).Observe(took.Seconds())
}
