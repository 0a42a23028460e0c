package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metricsql"
)

// grafanaIntervals are the variables Grafana replaces before a query
// reaches Prometheus, replaced here by durations of the same shape. Other
// variables ($instance) only appear inside label values.
var grafanaIntervals = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// checkPromQL parses expr and checks what it reads against fams: every
// series selector names a registered family (or a histogram's or summary's
// series) and matches only labels the family has, and every by, without,
// on or ignoring list names labels of the series beneath it.
//
// The parser is MetricsQL's (github.com/VictoriaMetrics/metricsql): small,
// maintained, and a superset of PromQL, so it catches syntax errors and
// unknown functions but would accept a MetricsQL-only extension; the
// checks that a range function has an explicit range and that no implicit
// conversion is needed close the two gaps most likely in hand-written
// PromQL. Prometheus's own parser lives in a module too large to import.
func checkPromQL(expr string, fams families) error {
	e, err := metricsql.Parse(grafanaIntervals.Replace(expr))
	if err != nil {
		return err
	}
	if metricsql.IsLikelyInvalid(e) {
		return errors.New("needs an implicit conversion PromQL does not make (e.g. rate over an expression)")
	}
	var errs []error
	metricsql.VisitAll(e, func(n metricsql.Expr) {
		switch n := n.(type) {
		case *metricsql.MetricExpr:
			errs = append(errs, fams.checkSelector(n))
		case *metricsql.FuncExpr:
			errs = append(errs, checkRange(n))
		case *metricsql.AggrFuncExpr:
			errs = append(errs, fams.checkGrouping(n, n.Modifier.Args))
		case *metricsql.BinaryOpExpr:
			errs = append(errs, fams.checkGrouping(n, n.GroupModifier.Args))
		}
	})
	return errors.Join(errs...)
}

// selectorName returns a selector's metric name and its other matchers.
func selectorName(me *metricsql.MetricExpr) (string, []metricsql.LabelFilter, error) {
	if len(me.LabelFilterss) != 1 {
		return "", nil, fmt.Errorf("%s: not a PromQL selector", me.AppendString(nil))
	}
	filters := me.LabelFilterss[0]
	if len(filters) == 0 || filters[0].Label != "__name__" || filters[0].IsRegexp || filters[0].IsNegative {
		return "", nil, fmt.Errorf("%s: selector without a metric name", me.AppendString(nil))
	}
	return filters[0].Value, filters[1:], nil
}

// checkSelector wants a registered series and matchers on its labels.
func (fs families) checkSelector(me *metricsql.MetricExpr) error {
	name, filters, err := selectorName(me)
	if err != nil {
		return err
	}
	labels, err := fs.series(name)
	if err != nil {
		return err
	}
	for _, f := range filters {
		if !labels[f.Label] {
			return fmt.Errorf("%s has no label %q (it has %v)", name, f.Label, slices.Sorted(maps.Keys(labels)))
		}
	}
	return nil
}

// checkRange wants a range vector with an explicit range where a function
// takes one: MetricsQL accepts rate(x), PromQL only rate(x[5m]).
func checkRange(fe *metricsql.FuncExpr) error {
	i := metricsql.GetRollupArgIdx(fe)
	if i < 0 || i >= len(fe.Args) {
		return nil
	}
	if re, ok := fe.Args[i].(*metricsql.RollupExpr); ok && re.Window != nil {
		return nil
	}
	return fmt.Errorf("%s: needs a range, e.g. [5m]", fe.AppendString(nil))
}

// checkGrouping wants each of labels on some series selected beneath n.
func (fs families) checkGrouping(n metricsql.Expr, labels []string) error {
	if len(labels) == 0 {
		return nil
	}
	available := map[string]bool{}
	metricsql.VisitAll(n, func(e metricsql.Expr) {
		if me, ok := e.(*metricsql.MetricExpr); ok {
			if name, _, err := selectorName(me); err == nil {
				l, _ := fs.series(name)
				maps.Copy(available, l)
			}
		}
	})
	for _, l := range labels {
		if !available[l] {
			return fmt.Errorf("%s: groups by %q, which none of its series has", n.AppendString(nil), l)
		}
	}
	return nil
}

// TestCheckPromQL: the checker refuses what Prometheus would refuse or
// what would select nothing, on a small fixed set of families.
func TestCheckPromQL(t *testing.T) {
	fams := families{
		"reqs_total":       {labels: map[string]bool{"code": true}},
		"latency_seconds":  {labels: map[string]bool{"route": true}, kind: "histogram"},
		"gc_pause_seconds": {labels: map[string]bool{}, kind: "summary"},
	}
	for _, tc := range []struct {
		name, expr, err string
	}{
		{"ok/rate with labels", `sum by (code, job) (rate(reqs_total{code=~"5..", instance=~"$instance"}[$__rate_interval]))`, ""},
		{"ok/histogram quantile", `histogram_quantile(0.99, sum by (le, route) (rate(latency_seconds_bucket[5m])))`, ""},
		{"ok/summary count", `rate(gc_pause_seconds_count[5m])`, ""},
		{"ok/synthetic up", `up{job="dcrgate"} == 0`, ""},
		{"ok/matching", `sum by (job) (rate(reqs_total[5m])) > 0 and on (job) up == 1`, ""},
		{"fail/syntax", `sum(rate(reqs_total[5m])`, "unparsed"},
		{"fail/unknown function", `rat(reqs_total[5m])`, "unsupported function"},
		{"fail/unknown metric", `rate(reqs_totl[5m])`, "no such metric family"},
		{"fail/unknown label", `reqs_total{status="500"}`, `no label "status"`},
		{"fail/bucket of a counter", `reqs_total_bucket`, "no such metric family"},
		{"fail/bucket of a summary", `gc_pause_seconds_bucket`, "no such metric family"},
		{"fail/count of a counter", `reqs_total_count`, "no such metric family"},
		{"fail/le outside a bucket", `latency_seconds_count{le="1"}`, `no label "le"`},
		{"fail/grouping by an absent label", `sum by (handler) (rate(reqs_total[5m]))`, `"handler"`},
		{"fail/rate without a range", `rate(reqs_total)`, "needs a range"},
		{"fail/rate of an expression", `rate(sum(reqs_total))`, "implicit conversion"},
		{"fail/no metric name", `{code="500"}`, "without a metric name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPromQL(tc.expr, fams)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("%s: %v", tc.expr, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("%s: got %v, want an error with %q", tc.expr, err, tc.err)
			}
		})
	}
}
