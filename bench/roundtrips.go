package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ldapMetric is the counter dcrgate exports for LDAP operations, if the
// build being measured has it.
const ldapMetric = "dcrgate_ldap_operations_total"

// roundTripCalls is how many calls of each kind the count averages over.
const roundTripCalls = 20

// RoundTrips is the number of LDAP requests one API call costs.
type RoundTrips struct {
	// Source says how they were counted: the metric or the counting proxy.
	Source string `json:"source"`
	// PerCall maps an API operation to its LDAP requests per call, by
	// operation ("search", "modify"...) or by metric series.
	PerCall map[string]map[string]float64 `json:"per_call"`
}

// total is all requests per call of op.
func (rt RoundTrips) total(op string) float64 {
	var sum float64
	for _, v := range rt.PerCall[op] {
		sum += v
	}
	return sum
}

// scrapeMetric sums the series of ldapMetric on a telemetry listener, keyed
// by their label set. found is false when dcrgate has no such metric.
func scrapeMetric(ctx context.Context, telemetry string) (series map[string]float64, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, telemetry+"/metrics", nil)
	if err != nil {
		return nil, false, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer res.Body.Close()
	series, found = parseCounter(bufio.NewScanner(res.Body), ldapMetric)
	return series, found, nil
}

// parseCounter reads the samples of one metric family from the Prometheus
// text format.
func parseCounter(sc *bufio.Scanner, name string) (map[string]float64, bool) {
	out := map[string]float64{}
	found := false
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		cut := strings.LastIndexByte(rest, ' ')
		v, err := strconv.ParseFloat(rest[cut+1:], 64)
		if err != nil {
			continue
		}
		out[seriesName(strings.TrimSpace(rest[:cut]))] += v
		found = true
	}
	return out, found
}

// snapshotFunc reads the current operation counts.
type snapshotFunc func(ctx context.Context) (map[string]float64, error)

// perCall runs call n times, one after the other, and returns the counts'
// growth divided by n.
func perCall(ctx context.Context, snap snapshotFunc, n int, call func() error) (map[string]float64, error) {
	before, err := snap(ctx)
	if err != nil {
		return nil, err
	}
	for range n {
		if err := call(); err != nil {
			return nil, err
		}
	}
	after, err := snap(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 && k != "unbind" && k != "abandon" {
			out[k] = d / float64(n)
		}
	}
	return out, nil
}

// describe renders one operation's count, e.g. "2 (search 1 + modify 1)".
func (rt RoundTrips) describe(op string) string {
	parts, ok := rt.PerCall[op]
	if !ok {
		return "n/a"
	}
	var detail []string
	for _, k := range slices.Sorted(maps.Keys(parts)) {
		detail = append(detail, fmt.Sprintf("%s %.3g", k, parts[k]))
	}
	return fmt.Sprintf("%.3g (%s)", rt.total(op), strings.Join(detail, " + "))
}

// seriesName names a series by its operation label when it has one
// (`{operation="search",result="success"}` is "search"; failures keep their
// result), else by its whole label set.
func seriesName(labels string) string {
	name, result := labelValue(labels, "operation"), labelValue(labels, "result")
	switch {
	case labels == "":
		return "all"
	case name == "":
		return labels
	case result != "" && result != "success":
		return name + " " + result
	}
	return name
}

// labelValue returns the value of label name in a `{a="x",b="y"}` set.
func labelValue(labels, name string) string {
	_, rest, ok := strings.Cut(labels, name+`="`)
	if !ok {
		return ""
	}
	value, _, _ := strings.Cut(rest, `"`)
	return value
}
