package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of one run; --json prints it as is.
type Report struct {
	Machine    string           `json:"machine"`
	Settings   string           `json:"settings"`
	Template   string           `json:"entry_template"`
	Preload    Preload          `json:"preload"`
	Results    []Result         `json:"results"`
	Ratios     []Ratio          `json:"ratios"`
	RoundTrips RoundTrips       `json:"ldap_round_trips"`
	PeakRSS    map[string]int64 `json:"peak_rss_bytes"`
	Seconds    float64          `json:"wall_seconds"`
	Notes      []string         `json:"notes,omitempty"`
}

// Preload is how the directory was filled before measuring.
type Preload struct {
	Entries int     `json:"entries"`
	Seconds float64 `json:"seconds"`
}

// Ratio is one side's throughput over another's for one pair: dcrgate's
// over the raw directory's (the targets), the floor's over the raw
// directory's (what any Go gateway costs here) and dcrgate's over the
// floor's (what dcrgate itself costs).
type Ratio struct {
	Kind        string   `json:"kind"` // a comparison's kind: "dcrgate/raw", ...
	Pair        string   `json:"pair"`
	Concurrency int      `json:"concurrency"`
	Value       *float64 `json:"value"` // null without a baseline
	// Target is the floor for this pair at targetConcurrency (0: none).
	Target float64 `json:"target,omitempty"`
	// Rounds is the ratio of each round alone, in order: how far one
	// round's answer strays from the merged Value.
	Rounds []float64 `json:"rounds,omitempty"`
}

// pair is an API operation and the raw work it is compared with.
type pair struct {
	name, api, raw string
	target         float64
}

// comparison is one kind of ratio: the throughput of side num over side
// den.
type comparison struct {
	kind, num, den string
	// targets says whether the targets apply.
	targets bool
}

var comparisons = []comparison{
	{"dcrgate/raw", sideDcrgate, sideLDAP, true},
	{"floor/raw", sideFloor, sideLDAP, false},
	{"dcrgate/floor", sideDcrgate, sideFloor, false},
}

// op is what side does for pair p: the raw work or the API call.
func (p pair) op(side string) string {
	if side == sideLDAP {
		return p.raw
	}
	return p.api
}

// targetConcurrency is where the targets apply.
const targetConcurrency = 16

// pairs are the comparisons the issue asks for, with its targets.
var pairs = []pair{
	{"register / add", "register", "add", 0.90},
	{"GET / search", "get", "search", 0.70},
	{"PUT / modify", "put", "modify", 0.85},
	{"DELETE / delete", "delete", "delete", 0.90},
	{"GET rotate / (search+modify)", "get-rotate", "search+modify", 0},
}

// rowOrder is the order of the results table.
var rowOrder = []struct{ side, op string }{
	{sideLDAP, "add"}, {sideFloor, "register"}, {sideDcrgate, "register"},
	{sideLDAP, "search"}, {sideFloor, "get"}, {sideDcrgate, "get"},
	{sideLDAP, "modify"}, {sideFloor, "put"}, {sideDcrgate, "put"},
	{sideLDAP, "search+modify"}, {sideDcrgate, "get-rotate"},
	{sideLDAP, "delete"}, {sideFloor, "delete"}, {sideDcrgate, "delete"},
}

// summarize merges the samples into results, adds the derived
// search+modify baseline and computes the ratios.
func summarize(m *measurement, concurrency []int) ([]Result, []Ratio) {
	byKey := map[string]Result{}
	for _, c := range concurrency {
		for _, row := range rowOrder {
			if s, ok := m.samples[key(row.side, row.op, c)]; ok {
				byKey[key(row.side, row.op, c)] = merge(row.side, row.op, c, s)
			}
		}
		search, okSearch := byKey[key(sideLDAP, "search", c)]
		modify, okModify := byKey[key(sideLDAP, "modify", c)]
		if okSearch && okModify {
			byKey[key(sideLDAP, "search+modify", c)] = sequential("search+modify", search, modify)
		}
	}
	var results []Result
	for _, row := range rowOrder {
		for _, c := range concurrency {
			if r, ok := byKey[key(row.side, row.op, c)]; ok {
				results = append(results, r)
			}
		}
	}
	var ratios []Ratio
	for _, cmp := range comparisons {
		for _, p := range pairs {
			ratios = append(ratios, cmp.ratios(m, byKey, p, concurrency)...)
		}
	}
	return results, ratios
}

// ratios are pair p's ratios of this kind at each concurrency where both
// sides were measured.
func (cmp comparison) ratios(m *measurement, byKey map[string]Result, p pair, concurrency []int) []Ratio {
	var out []Ratio
	for _, c := range concurrency {
		num, okNum := byKey[key(cmp.num, p.op(cmp.num), c)]
		if !okNum {
			continue // not measured in this run (--ops, --floor)
		}
		r := Ratio{Kind: cmp.kind, Pair: p.name, Concurrency: c}
		if cmp.targets && c == targetConcurrency {
			r.Target = p.target
		}
		den, okDen := byKey[key(cmp.den, p.op(cmp.den), c)]
		if !okDen {
			continue // no such work on that side (the floor does no GET with rotation)
		}
		if v := ratio(num.OpsPerSec, den.OpsPerSec); !math.IsNaN(v) {
			r.Value = &v
			r.Rounds = cmp.roundRatios(m, p, c)
		}
		out = append(out, r)
	}
	return out
}

// roundRatios is pair p's ratio in each round at concurrency c; the derived
// search+modify baseline is derived round by round too.
func (cmp comparison) roundRatios(m *measurement, p pair, c int) []float64 {
	num := m.samples[key(cmp.num, p.op(cmp.num), c)]
	den := func(i int) float64 {
		if op := p.op(cmp.den); op != "search+modify" {
			return sampleRate(m.samples[key(cmp.den, op, c)], i)
		}
		return sequential(p.raw, Result{OpsPerSec: sampleRate(m.samples[key(sideLDAP, "search", c)], i)},
			Result{OpsPerSec: sampleRate(m.samples[key(sideLDAP, "modify", c)], i)}).OpsPerSec
	}
	var out []float64
	for i := range num {
		if v := ratio(sampleRate(num, i), den(i)); !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// sampleRate is the throughput of round i's sample, 0 if there is none.
func sampleRate(samples []sample, i int) float64 {
	if i >= len(samples) || samples[i].elapsed <= 0 {
		return 0
	}
	return float64(samples[i].ops) / samples[i].elapsed.Seconds()
}

// render writes the human-readable report.
func (r *Report) render(w io.Writer) {
	fmt.Fprintf(w, "machine: %s\nsettings: %s\nentry template: %s\npreload: %d entries in %.1fs\n\n",
		r.Machine, r.Settings, r.Template, r.Preload.Entries, r.Preload.Seconds)
	renderResults(w, r.Results)
	fmt.Fprintln(w)
	renderRatios(w, r.Ratios)
	fmt.Fprintln(w)
	renderRoundTrips(w, r.RoundTrips)
	for _, name := range slices.Sorted(maps.Keys(r.PeakRSS)) {
		fmt.Fprintf(w, "peak RSS (VmHWM over the whole run, highest C included) of dcrgate %q: %.1f MiB (target ≤ 64 MiB)\n",
			name, float64(r.PeakRSS[name])/(1<<20))
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintf(w, "wall time: %.0fs\n", r.Seconds)
}

func renderResults(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\t\t\t\t\t\t\tCPU µs/op:\t\t\t")
	fmt.Fprintln(tw, "side\top\tC\tops/s\tp50 ms\tp99 ms\terrors\tgateway\tslapd\tload\t")
	for _, r := range results {
		flag := ""
		switch {
		case r.Derived:
			flag = " (derived)"
		case r.Exhausted:
			flag = " (ran out of entries)"
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%d\t%.0f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t\n", r.Side, r.Op, flag, r.Concurrency, r.OpsPerSec,
			r.P50Ms, r.P99Ms, r.Errors, micros(r.CPUMicrosPerOp), micros(r.SlapdCPUMicrosPerOp), micros(r.LoadCPUMicrosPerOp))
	}
	_ = tw.Flush()
}

// renderRatios prints a table per kind of comparison: one line per pair,
// a column per concurrency.
func renderRatios(w io.Writer, ratios []Ratio) {
	for i, cmp := range comparisons {
		kind := slices.DeleteFunc(slices.Clone(ratios), func(r Ratio) bool { return r.Kind != cmp.kind })
		if len(kind) == 0 {
			continue
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		renderRatioTable(w, cmp, kind)
	}
}

func renderRatioTable(w io.Writer, cmp comparison, ratios []Ratio) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var pairNames []string
	var cs []int
	cells := map[string]map[int]Ratio{}
	for _, r := range ratios {
		if cells[r.Pair] == nil {
			cells[r.Pair] = map[int]Ratio{}
			pairNames = append(pairNames, r.Pair)
		}
		cells[r.Pair][r.Concurrency] = r
		if !slices.Contains(cs, r.Concurrency) {
			cs = append(cs, r.Concurrency)
		}
	}
	head := []string{cmp.kind}
	for _, c := range cs {
		head = append(head, fmt.Sprintf("C=%d", c))
	}
	if cmp.targets {
		head = append(head, fmt.Sprintf("target at C=%d", targetConcurrency))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, name := range pairNames {
		row := []string{name}
		target := "-"
		for _, c := range cs {
			r, ok := cells[name][c]
			if !ok {
				row = append(row, "-")
				continue
			}
			row = append(row, formatRatio(r.Value)+formatSpread(r.Rounds))
			if r.Target > 0 {
				target = fmt.Sprintf("≥ %.2f %s", r.Target, verdict(r))
			}
		}
		if cmp.targets {
			row = append(row, target)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	_ = tw.Flush()
}

// micros is a CPU µs/op cell, "-" for none measured.
func micros(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

// formatSpread is " (lowest–highest)" of the rounds' ratios, "" for fewer
// than two rounds.
func formatSpread(rounds []float64) string {
	if len(rounds) < 2 {
		return ""
	}
	return fmt.Sprintf(" (%.2f–%.2f)", slices.Min(rounds), slices.Max(rounds))
}

func formatRatio(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", *v)
}

func verdict(r Ratio) string {
	switch {
	case r.Value == nil:
		return "n/a"
	case *r.Value >= r.Target:
		return "met"
	default:
		return "MISSED"
	}
}

func renderRoundTrips(w io.Writer, rt RoundTrips) {
	fmt.Fprintf(w, "LDAP requests per API call (%s):\n", rt.Source)
	for _, op := range []string{"register", "get", "get-rotate", "put", "delete"} {
		fmt.Fprintf(w, "  %-10s %s\n", op, rt.describe(op))
	}
}
