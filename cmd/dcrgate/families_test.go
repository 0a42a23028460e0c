package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store/memstore"
)

// family is one metric family as a query sees it: its label names and
// whether it is a histogram or summary, whose series carry suffixes.
type family struct {
	labels map[string]bool
	kind   string // "histogram", "summary", or "" for counters and gauges
}

// families are metric families by name.
type families map[string]family

// targetLabels are the labels Prometheus adds to every series it scrapes.
var targetLabels = []string{"job", "instance"}

// synthetic are the series Prometheus writes itself for each target, which
// rules may use beside dcrgate's own.
var synthetic = families{"up": {labels: map[string]bool{}}}

// registeredFamilies wires dcrgate as serve does — newRegistry, an ldapstore
// on a real slapd, newGateway with a token issuer — and lists every family
// on the registry without observing anything. Describe names every family,
// including vectors that have no series yet (Gather would leave them out);
// the kind comes from Gather where a family already has series (the Go and
// process collectors), else from the Go type of the collector that owns
// the descriptor (ownerKind).
func registeredFamilies(t *testing.T) families {
	t.Helper()
	reg := newRegistry()
	openInstrumentedStore(t, reg)
	openInstrumentedGateway(t, reg)
	gathered := gatheredKinds(t, reg)
	fams := families{}
	for _, desc := range describe(reg) {
		name, labels, err := parseDesc(desc.String())
		if err != nil {
			t.Fatal(err)
		}
		kind, ok := gathered[name]
		if !ok {
			kind = ownerKind(reg, desc)
		}
		fams[name] = family{labels: labels, kind: kind}
	}
	return fams
}

// openInstrumentedStore registers the LDAP families, as serve does.
func openInstrumentedStore(t *testing.T, reg prometheus.Registerer) {
	t.Helper()
	srv := slapdtest.Start(t)
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN, Timeout: 5 * time.Second, Registerer: reg},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
}

// openInstrumentedGateway registers the gateway's families on reg, with one
// JWKS issuer so that the token validators' families exist too.
func openInstrumentedGateway(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	issuer, err := devissuer.New("https://issuer.example")
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(issuer.JWKSHandler())
	t.Cleanup(jwks.Close)
	logger := slog.New(slog.DiscardHandler)
	tokens, closeTokens, err := tokenValidator(t.Context(), []config.Issuer{{Issuer: issuer.Issuer(), JWKSURI: jwks.URL}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTokens)
	gw, err := newGateway(config.Default(), memstore.New(), tokens, credentials.SchemeSSHA512, reg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.close)
}

// describe collects every descriptor registered on reg.
func describe(reg *prometheus.Registry) []*prometheus.Desc {
	ch := make(chan *prometheus.Desc)
	go func() { reg.Describe(ch); close(ch) }()
	var descs []*prometheus.Desc
	for d := range ch {
		descs = append(descs, d)
	}
	return descs
}

// gatheredKinds is the kind of every family that already has series.
func gatheredKinds(t *testing.T, reg *prometheus.Registry) map[string]string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, mf := range mfs {
		switch k := mf.GetType().String(); k {
		case "HISTOGRAM", "SUMMARY":
			kinds[mf.GetName()] = strings.ToLower(k)
		default:
			kinds[mf.GetName()] = ""
		}
	}
	return kinds
}

// descProbe describes one descriptor that is already registered.
type descProbe struct{ desc *prometheus.Desc }

func (p descProbe) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }
func (p descProbe) Collect(chan<- prometheus.Metric)    {}

// ownerKind finds the collector that registered desc alone — registering
// a probe for it fails with AlreadyRegisteredError, which hands back that
// collector — and tells a histogram or summary by its Go type.
func ownerKind(reg *prometheus.Registry, desc *prometheus.Desc) string {
	var are prometheus.AlreadyRegisteredError
	err := reg.Register(descProbe{desc})
	if err == nil {
		reg.Unregister(descProbe{desc})
	}
	if !errors.As(err, &are) {
		return ""
	}
	switch are.ExistingCollector.(type) {
	case *prometheus.HistogramVec, prometheus.Histogram:
		return "histogram"
	case *prometheus.SummaryVec, prometheus.Summary:
		return "summary"
	}
	return ""
}

// descPattern reads prometheus.Desc.String(): Desc{fqName: "…", help: "…",
// unit: "…", constLabels: {a="…",…}, variableLabels: {b,c(d),…}}.
var (
	descPattern = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", help: .*, constLabels: \{(.*)\}, variableLabels: \{(.*)\}\}$`)
	constLabel  = regexp.MustCompile(`(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)
)

// parseDesc returns the family name and label names of a descriptor.
func parseDesc(s string) (string, map[string]bool, error) {
	m := descPattern.FindStringSubmatch(s)
	if m == nil {
		return "", nil, fmt.Errorf("unexpected descriptor format: %s", s)
	}
	labels := map[string]bool{}
	for _, c := range constLabel.FindAllStringSubmatch(m[2], -1) {
		labels[c[1]] = true
	}
	for _, v := range strings.Split(m[3], ",") {
		if v = strings.TrimSuffix(strings.TrimPrefix(v, "c("), ")"); v != "" {
			labels[v] = true
		}
	}
	return m[1], labels, nil
}

// series resolves a series name as Prometheus stores it to its family's
// label names, target labels included: a family's own name, a synthetic
// series, or a histogram's _bucket (with le), _sum and _count, or a
// summary's _sum and _count.
func (fs families) series(name string) (map[string]bool, error) {
	if f, ok := fs[name]; ok {
		return withTargetLabels(f.labels), nil
	}
	if f, ok := synthetic[name]; ok {
		return withTargetLabels(f.labels), nil
	}
	for suffix, kinds := range map[string][]string{"_bucket": {"histogram"}, "_sum": {"histogram", "summary"}, "_count": {"histogram", "summary"}} {
		base, ok := strings.CutSuffix(name, suffix)
		if f, known := fs[base]; ok && known && slices.Contains(kinds, f.kind) {
			labels := withTargetLabels(f.labels)
			if suffix == "_bucket" {
				labels["le"] = true
			}
			return labels, nil
		}
	}
	return nil, fmt.Errorf("%s: no such metric family in dcrgate's registry", name)
}

func withTargetLabels(labels map[string]bool) map[string]bool {
	out := maps.Clone(labels)
	for _, l := range targetLabels {
		out[l] = true
	}
	return out
}

// TestRegisteredFamilies pins what registeredFamilies finds, so that the
// rule and dashboard checks below rest on a complete list: every family
// the README names, with its kind and labels.
func TestRegisteredFamilies(t *testing.T) {
	fams := registeredFamilies(t)
	for _, tc := range []struct {
		name, kind string
		labels     []string
	}{
		{"dcrgate_http_requests_total", "", []string{"handler", "method", "code"}},
		{"dcrgate_http_request_duration_seconds", "histogram", []string{"handler", "method"}},
		{"dcrgate_operations_total", "", []string{"operation", "outcome", "error"}},
		{"dcrgate_iat_validations_total", "", []string{"issuer", "method", "result"}},
		{"dcrgate_iat_introspection_duration_seconds", "histogram", []string{"issuer", "result"}},
		{"dcrgate_ldap_operation_duration_seconds", "histogram", []string{"operation"}},
		{"dcrgate_ldap_connections", "", []string{"state"}},
		{"dcrgate_ldap_up", "", nil},
		{"dcrgate_ldap_providers_fenced", "", nil},
		{"dcrgate_reaper_runs_total", "", []string{"result"}},
		{"dcrgate_build_info", "", []string{"version", "revision", "goversion"}},
		{"go_gc_duration_seconds", "summary", nil},
		{"process_start_time_seconds", "", nil},
	} {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			f, ok := fams[tc.name]
			if !ok {
				t.Fatal("not registered")
			}
			got := slices.Collect(maps.Keys(f.labels))
			if f.kind != tc.kind || !sameSet(got, tc.labels) {
				t.Errorf("kind %q labels %v, want %q %v", f.kind, got, tc.kind, tc.labels)
			}
		})
	}
}
