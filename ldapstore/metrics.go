package ldapstore

import (
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// LDAP operation names, the "operation" label of the operations metric.
const (
	opSearch   = "search"
	opAdd      = "add"
	opModify   = "modify"
	opDelete   = "delete"
	opBind     = "bind"
	opStartTLS = "starttls"
)

// opMetrics counts every LDAP request the store sends, so that a benchmark
// can report directory round trips per API call. A nil *opMetrics counts
// nothing.
type opMetrics struct{ ops *prometheus.CounterVec }

func newOpMetrics(reg prometheus.Registerer) (*opMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	ops := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dcrgate_ldap_operations_total",
		Help: "LDAP requests sent to the directory (one round trip each), by operation and result.",
	}, []string{"operation", "result"})
	if err := reg.Register(ops); err != nil {
		return nil, fmt.Errorf("ldapstore: register metrics: %w", err)
	}
	return &opMetrics{ops: ops}, nil
}

func (m *opMetrics) observe(op string, err error) {
	if m != nil {
		m.ops.WithLabelValues(op, resultLabel(err)).Inc()
	}
}

// resultLabels names the result codes the store acts on; every other code
// is "other", which keeps the label set small and fixed.
var resultLabels = map[uint16]string{
	ldap.LDAPResultNoSuchObject:        "no_such_object",
	ldap.LDAPResultEntryAlreadyExists:  "already_exists",
	ldap.LDAPResultNoSuchAttribute:     "no_such_attribute",
	ldap.LDAPResultAssertionFailed:     "assertion_failed",
	ldap.LDAPResultInvalidCredentials:  "invalid_credentials",
	ldap.LDAPResultBusy:                "unavailable",
	ldap.LDAPResultUnavailable:         "unavailable",
	ldap.ErrorNetwork:                  "network_error",
	ldap.LDAPResultTimeout:             "timeout",
	ldap.LDAPResultConstraintViolation: "constraint_violation",
}

func resultLabel(err error) string {
	if err == nil {
		return "success"
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return "network_error" // go-ldap reports broken connections as plain errors
	}
	if name, ok := resultLabels[le.ResultCode]; ok {
		return name
	}
	return "other"
}
