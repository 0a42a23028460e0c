package iat

import (
	"errors"
	"sync/atomic"
	"time"
)

// Results of a validation, as in Metrics.Validation.
const (
	ResultOK          = "ok"
	ResultInvalid     = "invalid"
	ResultUnavailable = "unavailable"
)

// Metrics receives what the validators observe. Labels are always
// configured issuer identifiers (or "unknown"), never a value read from an
// unverified token, so their cardinality is bounded by the configuration.
// metrics.IAT implements it on a Prometheus registry.
type Metrics interface {
	// Validation counts one token judged by issuer and method.
	Validation(issuer, method, result string)
	// JWKSFetch counts one JWKS download: result is "ok" or "error".
	JWKSFetch(issuer, result string)
	// Introspection records one call to an introspection endpoint.
	Introspection(issuer, result string, took time.Duration)
	// CacheLookup counts one introspection cache lookup.
	CacheLookup(issuer string, hit bool)
}

// unknownIssuer labels tokens whose issuer is not configured.
const unknownIssuer = "unknown"

// MetricsSink is a Metrics that forwards to another set later, so
// validators can be built before the registry that will export their
// metrics exists. Until Set, observations are dropped. Its zero value is
// ready to use; a nil *MetricsSink drops everything.
type MetricsSink struct {
	m atomic.Pointer[Metrics]
}

// Set directs further observations to m.
func (s *MetricsSink) Set(m Metrics) { s.m.Store(&m) }

func (s *MetricsSink) get() Metrics {
	if s == nil {
		return nil
	}
	if p := s.m.Load(); p != nil {
		return *p
	}
	return nil
}

// Validation implements Metrics.
func (s *MetricsSink) Validation(issuer, method, result string) {
	if m := s.get(); m != nil {
		m.Validation(issuer, method, result)
	}
}

// JWKSFetch implements Metrics.
func (s *MetricsSink) JWKSFetch(issuer, result string) {
	if m := s.get(); m != nil {
		m.JWKSFetch(issuer, result)
	}
}

// Introspection implements Metrics.
func (s *MetricsSink) Introspection(issuer, result string, took time.Duration) {
	if m := s.get(); m != nil {
		m.Introspection(issuer, result, took)
	}
}

// CacheLookup implements Metrics.
func (s *MetricsSink) CacheLookup(issuer string, hit bool) {
	if m := s.get(); m != nil {
		m.CacheLookup(issuer, hit)
	}
}

// orDiscard returns m, or a sink that drops everything when m is nil.
func orDiscard(m Metrics) Metrics {
	if m == nil {
		return (*MetricsSink)(nil)
	}
	return m
}

// resultOf classifies a validation error for the metrics.
func resultOf(err error) string {
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, ErrUnavailable):
		return ResultUnavailable
	}
	return ResultInvalid
}
