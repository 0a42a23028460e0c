package ldapstore

import (
	"errors"
	"fmt"
	"time"

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
// can report directory round trips per API call, and the pool's dials and
// outage state, so that an outage shows as what it costs. A nil *opMetrics
// counts nothing.
type opMetrics struct {
	ops *prometheus.CounterVec
	// latency is each request's round trip, answer included, by operation.
	latency *prometheus.HistogramVec
	// waits counts acquisitions that found every connection busy and had
	// to wait for one: a pool too small for the load shows here first.
	waits prometheus.Counter
	// up is 1 while the directory is reachable, 0 while the pool's outage
	// breaker refuses requests.
	up prometheus.Gauge
	// dials and dialFailures count connection attempts, one per server
	// tried. They carry no label: a per-URL label would grow with every
	// configuration change and say nothing the logs do not.
	dials, dialFailures prometheus.Counter
	reg                 prometheus.Registerer
}

func newOpMetrics(reg prometheus.Registerer) (*opMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &opMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dcrgate_ldap_operations_total",
			Help: "LDAP requests sent to the directory (one round trip each), by operation and result.",
		}, []string{"operation", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dcrgate_ldap_operation_duration_seconds",
			Help:    "LDAP request round trips by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		waits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dcrgate_ldap_pool_waits_total",
			Help: "Times a request found every pooled LDAP connection busy and waited for one.",
		}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dcrgate_ldap_up",
			Help: "1 while the LDAP directory is reachable, 0 while requests are refused after every server failed to dial.",
		}),
		dials: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dcrgate_ldap_dials_total",
			Help: "Connection attempts to LDAP servers (connect, TLS, bind), one per server tried.",
		}),
		dialFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dcrgate_ldap_dial_failures_total",
			Help: "Connection attempts to LDAP servers that failed.",
		}),
	}
	m.reg = reg
	for _, c := range []prometheus.Collector{m.ops, m.latency, m.waits, m.up, m.dials, m.dialFailures} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ldapstore: register metrics: %w", err)
		}
	}
	return m, nil
}

// observe counts one request that started at start.
func (m *opMetrics) observe(op string, err error, start time.Time) {
	if m != nil {
		m.ops.WithLabelValues(op, resultLabel(err)).Inc()
		m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}
}

// waited counts one wait for a free connection.
func (m *opMetrics) waited() {
	if m != nil {
		m.waits.Inc()
	}
}

// watchPool exports how many of p's connections are idle and in use, and
// how many providers it has fenced, read from the pool when scraped.
func (m *opMetrics) watchPool(p *pool) error {
	if m == nil {
		return nil
	}
	conns := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dcrgate_ldap_connections",
		Help: "Pooled LDAP connections by state (idle, in_use); the most is ldap.pool_size.",
	}, []string{"state"})
	c := gaugeFuncs{vec: conns, read: func() map[string]float64 {
		idle, busy := p.counts()
		return map[string]float64{"idle": float64(idle), "in_use": float64(busy)}
	}}
	fenced := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dcrgate_ldap_providers_fenced",
		Help: "With ldap.multi_provider: providers this gateway stopped using after a failed dial, until failback probes readmit them; 0 otherwise.",
	}, func() float64 { return float64(len(p.fence.list())) })
	for _, col := range []prometheus.Collector{c, fenced} {
		if err := m.reg.Register(col); err != nil {
			return fmt.Errorf("ldapstore: register metrics: %w", err)
		}
	}
	return nil
}

// gaugeFuncs is a gauge vector whose values are read when collected.
type gaugeFuncs struct {
	vec  *prometheus.GaugeVec
	read func() map[string]float64
}

func (g gaugeFuncs) Describe(ch chan<- *prometheus.Desc) { g.vec.Describe(ch) }

func (g gaugeFuncs) Collect(ch chan<- prometheus.Metric) {
	for label, v := range g.read() {
		g.vec.WithLabelValues(label).Set(v)
	}
	g.vec.Collect(ch)
}

// dialed counts one connection attempt and whether it failed.
func (m *opMetrics) dialed(err error) {
	if m == nil {
		return
	}
	m.dials.Inc()
	if err != nil {
		m.dialFailures.Inc()
	}
}

// setUp records whether the directory is reachable.
func (m *opMetrics) setUp(up bool) {
	if m == nil {
		return
	}
	if up {
		m.up.Set(1)
	} else {
		m.up.Set(0)
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
