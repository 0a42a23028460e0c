package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// IAT holds the initial access token collectors; it implements
// iat.Metrics. Labels are configured issuer identifiers (or "unknown"),
// never values read from an unverified token, so cardinality is bounded
// by the configuration.
type IAT struct {
	validations   *prometheus.CounterVec
	jwksFetches   *prometheus.CounterVec
	introspection *prometheus.HistogramVec
	cache         *prometheus.CounterVec
}

// NewIAT creates the collectors and registers them on reg.
func NewIAT(reg prometheus.Registerer) *IAT {
	m := &IAT{
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_iat_validations_total",
			Help: "Initial access tokens judged, by issuer, method (jwt, introspection) and result (ok, invalid, unavailable).",
		}, []string{"issuer", "method", "result"}),
		jwksFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_iat_jwks_fetches_total",
			Help: "JWKS downloads by issuer and result (ok, error).",
		}, []string{"issuer", "result"}),
		introspection: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dcrgate_iat_introspection_duration_seconds",
			Help:    "Token introspection calls (RFC 7662) by issuer and result (ok, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"issuer", "result"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_iat_introspection_cache_lookups_total",
			Help: "Introspection cache lookups by issuer and outcome (hit, miss).",
		}, []string{"issuer", "outcome"}),
	}
	reg.MustRegister(m.validations, m.jwksFetches, m.introspection, m.cache)
	return m
}

// Validation implements iat.Metrics.
func (m *IAT) Validation(issuer, method, result string) {
	m.validations.WithLabelValues(issuer, method, result).Inc()
}

// JWKSFetch implements iat.Metrics.
func (m *IAT) JWKSFetch(issuer, result string) { m.jwksFetches.WithLabelValues(issuer, result).Inc() }

// Introspection implements iat.Metrics.
func (m *IAT) Introspection(issuer, result string, took time.Duration) {
	m.introspection.WithLabelValues(issuer, result).Observe(took.Seconds())
}

// CacheLookup implements iat.Metrics.
func (m *IAT) CacheLookup(issuer string, hit bool) {
	outcome := "miss"
	if hit {
		outcome = "hit"
	}
	m.cache.WithLabelValues(issuer, outcome).Inc()
}
