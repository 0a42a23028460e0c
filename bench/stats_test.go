package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"ok/empty is zero", nil, 50, 0},
		{"ok/one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"ok/p50 of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"ok/p99 of 100 is the 99th", ms(seq(100)...), 99, 99 * time.Millisecond},
		{"ok/p100 is the max", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"ok/p0 is the min", ms(1, 2, 3), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestMergeSumsOpsOverTime(t *testing.T) {
	r := merge(sideLDAP, "add", 4, []sample{
		{ops: 100, elapsed: time.Second, latencies: []time.Duration{3, 1}, cpu: cpuTimes{30 * time.Millisecond, 4 * time.Millisecond, 0}},
		{ops: 300, errors: 2, elapsed: time.Second, latencies: []time.Duration{2}, exhausted: true, cpu: cpuTimes{0, 4 * time.Millisecond, 2 * time.Millisecond}},
	})
	if r.Ops != 400 || r.Errors != 2 || r.OpsPerSec != 200 || !r.Exhausted {
		t.Fatalf("merge = %+v", r)
	}
	if r.CPUMicrosPerOp != 75 || r.SlapdCPUMicrosPerOp != 20 || r.LoadCPUMicrosPerOp != 5 {
		t.Fatalf("merge = %+v", r)
	}
	if r.P50Ms != ms(2) || r.P99Ms != ms(3) {
		t.Fatalf("percentiles not over the merged samples: %+v", r)
	}
}

func TestCPUSinceIgnoresFailedReads(t *testing.T) {
	now := cpuTimes{gateway: 5 * time.Second, slapd: 9 * time.Second, load: 3 * time.Second}
	got := now.minus(cpuTimes{gateway: 4 * time.Second, slapd: unread, load: 4 * time.Second})
	want := cpuTimes{gateway: time.Second}
	if got != want {
		t.Fatalf("minus = %+v, want %+v: an unread start or a restarted process must count 0", got, want)
	}
	if got := (cpuTimes{}).minus(cpuTimes{}); got != (cpuTimes{}) {
		t.Fatalf("a process that used no tick yet is read as 0, not unread: %+v", got)
	}
}

func TestSequentialAddsLikeResistances(t *testing.T) {
	r := sequential("search+modify", Result{OpsPerSec: 3000, P50Ms: 1}, Result{OpsPerSec: 1500, P50Ms: 2})
	if r.OpsPerSec != 1000 || r.P50Ms != 3 || !r.Derived {
		t.Fatalf("sequential = %+v", r)
	}
	if z := sequential("x", Result{}, Result{OpsPerSec: 5}); z.OpsPerSec != 0 {
		t.Fatalf("a missing side must give no rate, got %v", z.OpsPerSec)
	}
}

func TestRatio(t *testing.T) {
	if got := ratio(900, 1000); got != 0.9 {
		t.Fatalf("ratio = %v", got)
	}
	if !math.IsNaN(ratio(5, 0)) {
		t.Fatal("no baseline must be NaN, not Inf or 0")
	}
}

func TestSummarizeRatiosAndTargets(t *testing.T) {
	m := &measurement{samples: map[string][]sample{}}
	for _, s := range []struct {
		side, op string
		ops      int
	}{{sideLDAP, "add", 1000}, {sideDcrgate, "register", 950}, {sideLDAP, "search", 2000}, {sideDcrgate, "get", 1000},
		{sideLDAP, "modify", 2000}, {sideDcrgate, "get-rotate", 500}} {
		m.samples[key(s.side, s.op, 16)] = []sample{{ops: s.ops, elapsed: time.Second}}
	}
	results, ratios := summarize(m, []int{16})
	want := map[string]string{"register / add": "0.95", "GET / search": "0.50", "GET rotate / (search+modify)": "0.50"}
	for _, r := range ratios {
		if r.Pair == "PUT / modify" || r.Pair == "DELETE / delete" {
			t.Errorf("%s was not measured, yet has a ratio", r.Pair)
		}
		if w, ok := want[r.Pair]; ok && formatRatio(r.Value) != w {
			t.Errorf("%s = %s, want %s", r.Pair, formatRatio(r.Value), w)
		}
		if r.Pair == "register / add" && (r.Target != 0.90 || verdict(r) != "met") {
			t.Errorf("register target: %+v %s", r, verdict(r))
		}
		if r.Pair == "GET / search" && verdict(r) != "MISSED" {
			t.Errorf("GET at half the search rate must miss its 0.70 target")
		}
	}
	var derived bool
	for _, r := range results {
		derived = derived || (r.Op == "search+modify" && r.Derived && r.OpsPerSec == 1000)
	}
	if !derived {
		t.Fatalf("no derived search+modify row in %+v", results)
	}
}

// TestRoundRatios: each round's ratio comes from that round's samples
// alone, the derived baseline included, and the report shows their range.
func TestRoundRatios(t *testing.T) {
	m := &measurement{samples: map[string][]sample{}}
	rounds := func(opsPerRound ...int) []sample {
		var out []sample
		for _, n := range opsPerRound {
			out = append(out, sample{ops: n, elapsed: time.Second})
		}
		return out
	}
	m.samples[key(sideLDAP, "delete", 16)] = rounds(1000, 1000, 2000)
	m.samples[key(sideDcrgate, "delete", 16)] = rounds(800, 900, 1900)
	m.samples[key(sideLDAP, "search", 16)] = rounds(3000, 3000)
	m.samples[key(sideLDAP, "modify", 16)] = rounds(1500, 1500)
	m.samples[key(sideDcrgate, "get-rotate", 16)] = rounds(1000, 500)
	_, ratios := summarize(m, []int{16})
	got := map[string][]float64{}
	for _, r := range ratios {
		got[r.Pair] = r.Rounds
	}
	if want := []float64{0.8, 0.9, 0.95}; !reflect.DeepEqual(got["DELETE / delete"], want) {
		t.Errorf("DELETE rounds = %v, want %v", got["DELETE / delete"], want)
	}
	if want := []float64{1, 0.5}; !reflect.DeepEqual(got["GET rotate / (search+modify)"], want) {
		t.Errorf("GET rotate rounds = %v, want %v (baseline 1000/s per round)", got["GET rotate / (search+modify)"], want)
	}
	if s := formatSpread(got["DELETE / delete"]); s != " (0.80–0.95)" {
		t.Errorf("spread %q", s)
	}
	if s := formatSpread([]float64{0.9}); s != "" {
		t.Errorf("one round has no spread, got %q", s)
	}
}

func TestRenderTables(t *testing.T) {
	v := 0.5
	rep := &Report{
		Results: []Result{{Side: sideDcrgate, Op: "get", Concurrency: 16, OpsPerSec: 1234.4, P50Ms: 1.5, P99Ms: 9}},
		Ratios: []Ratio{{Kind: "dcrgate/raw", Pair: "GET / search", Concurrency: 1},
			{Kind: "dcrgate/raw", Pair: "GET / search", Concurrency: 16, Value: &v, Target: 0.7},
			{Kind: "dcrgate/raw", Pair: "PUT / modify", Concurrency: 16, Value: &v},
			{Kind: "floor/raw", Pair: "GET / search", Concurrency: 16, Value: &v}},
		RoundTrips: RoundTrips{Source: "proxy", PerCall: map[string]map[string]float64{"put": {"search": 1, "modify": 1}}},
		PeakRSS:    map[string]int64{"plain": 30 << 20},
	}
	var buf bytes.Buffer
	rep.render(&buf)
	out := buf.String()
	putRows := 0
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); strings.Contains(line, "PUT / modify") {
			putRows++
			if len(f) < 5 || f[3] != "-" || f[4] != "0.50" {
				t.Errorf("PUT, measured at C=16 only, is not in its columns: %q", line)
			}
		}
	}
	if putRows != 1 {
		t.Errorf("%d PUT rows, want 1:\n%s", putRows, out)
	}
	for _, want := range []string{"1234", "1.50", "C=1", "C=16", "n/a", "0.50", "≥ 0.70 MISSED", "floor/raw",
		"put        2 (modify 1 + search 1)", "get        n/a", `"plain": 30.0 MiB`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestVmHWM(t *testing.T) {
	got, err := vmHWM("Name:\tdcrgate\nVmPeak:\t  1 kB\nVmHWM:\t   27856 kB\nVmRSS:\t 1 kB\n")
	if err != nil || got != 27856<<10 {
		t.Fatalf("vmHWM = %d, %v", got, err)
	}
	if _, err := vmHWM("Name:\tx\n"); err == nil {
		t.Fatal("a status without VmHWM must be an error")
	}
}

func TestParseCounter(t *testing.T) {
	text := `# HELP dcrgate_ldap_operations_total LDAP operations.
# TYPE dcrgate_ldap_operations_total counter
dcrgate_ldap_operations_total{operation="search",result="success"} 12
dcrgate_ldap_operations_total{operation="modify",result="success"} 3
dcrgate_ldap_operations_total_created 1.7e9
dcrgate_http_requests_total{code="200"} 99
`
	got, found := parseCounter(bufio.NewScanner(strings.NewReader(text)), ldapMetric)
	if !found || len(got) != 2 || got["search"] != 12 || got["modify"] != 3 {
		t.Fatalf("parseCounter = %v, %v", got, found)
	}
	if _, found := parseCounter(bufio.NewScanner(strings.NewReader("go_goroutines 5\n")), ldapMetric); found {
		t.Fatal("found a metric that is not there")
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts("1, 4,16")
	if err != nil || len(got) != 3 || got[2] != 16 {
		t.Fatalf("parseInts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "4,x"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q) accepted", bad)
		}
	}
}

func TestOpsSelectStepsAndBaselines(t *testing.T) {
	o, err := parseFlags([]string{"--ops", "put, delete"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		side, op string
		want     bool
	}{{sideDcrgate, "put", true}, {sideLDAP, "modify", true}, {sideDcrgate, "delete", true}, {sideLDAP, "delete", true},
		{sideDcrgate, "register", false}, {sideLDAP, "add", false}, {sideLDAP, "search", false}, {sideDcrgate, "get-rotate", false}} {
		if got := o.measures(step{side: c.side, op: c.op}); got != c.want {
			t.Errorf("--ops put,delete measures %s %s = %v", c.side, c.op, got)
		}
	}
	if got := strings.Join(o.selectedOps(), ","); got != "put,delete" {
		t.Errorf("selectedOps = %s", got)
	}
	all, err := parseFlags(nil, io.Discard)
	if err != nil || len(all.selectedOps()) != len(apiOps) {
		t.Fatalf("default ops = %v, %v", all.selectedOps(), err)
	}
	if _, err := parseFlags([]string{"--ops", "put,patch"}, io.Discard); err == nil {
		t.Fatal("an unknown operation was accepted")
	}
}

// TestFloorSteps: the floor does the selected operations unless
// --floor=false, and never GET with rotation, which it has no way to do.
func TestFloorSteps(t *testing.T) {
	for _, c := range []struct {
		args []string
		op   string
		want bool
	}{{[]string{"--ops", "put"}, "put", true}, {[]string{"--ops", "put"}, "delete", false},
		{[]string{"--ops", "put", "--floor=false"}, "put", false}} {
		o, err := parseFlags(c.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.measures(step{side: sideFloor, op: c.op}); got != c.want {
			t.Errorf("%v measures floor %s = %v", c.args, c.op, got)
		}
	}
}

// TestComparisons: beside dcrgate/raw, a run with the floor gets floor/raw
// and dcrgate/floor, without targets, and without the GET with rotation the
// floor does not do.
func TestComparisons(t *testing.T) {
	m := &measurement{samples: map[string][]sample{}}
	for _, s := range []struct {
		side, op string
		ops      int
	}{{sideLDAP, "delete", 1000}, {sideFloor, "delete", 900}, {sideDcrgate, "delete", 810},
		{sideLDAP, "search", 2000}, {sideLDAP, "modify", 2000}, {sideDcrgate, "get-rotate", 500}} {
		m.samples[key(s.side, s.op, 16)] = []sample{{ops: s.ops, elapsed: time.Second}}
	}
	_, ratios := summarize(m, []int{16})
	got := map[string]string{}
	for _, r := range ratios {
		got[r.Kind+" "+r.Pair] = formatRatio(r.Value)
		if r.Kind != "dcrgate/raw" && r.Target != 0 {
			t.Errorf("%s %s has a target", r.Kind, r.Pair)
		}
	}
	want := map[string]string{"dcrgate/raw DELETE / delete": "0.81", "floor/raw DELETE / delete": "0.90",
		"dcrgate/floor DELETE / delete": "0.90", "dcrgate/raw GET rotate / (search+modify)": "0.50"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ratios = %v, want %v", got, want)
	}
}

func TestSeriesName(t *testing.T) {
	for labels, want := range map[string]string{
		`operation="add",result="success"`:     "add",
		`operation="modify",result="conflict"`: "modify conflict",
		`server="a"`:                           `server="a"`,
		"":                                     "all",
	} {
		if got := seriesName(labels); got != want {
			t.Errorf("seriesName(%s) = %q, want %q", labels, got, want)
		}
	}
}

func TestStatCPU(t *testing.T) {
	// pid (comm with a space) state ppid ... utime=150 stime=50 ...
	stat := "4242 (dcr gate) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 50 0 0 20 0 9 0 100 0 0"
	got, err := statCPU(stat)
	if err != nil || got != 2*time.Second {
		t.Fatalf("statCPU = %v, %v; want 2s", got, err)
	}
	if _, err := statCPU("garbage"); err == nil {
		t.Fatal("garbage accepted")
	}
}

// TestPhaseOrder: over six rounds each of three sides runs in every place
// twice and right after each other side once.
func TestPhaseOrder(t *testing.T) {
	g := []step{{side: sideLDAP}, {side: sideFloor}, {side: sideDcrgate}}
	places := map[string]int{}
	after := map[string]int{}
	for turn := range 6 {
		order := phaseOrder(g, turn)
		for i, s := range order {
			places[fmt.Sprint(s.side, i)]++
			if i > 0 {
				after[order[i-1].side+">"+s.side]++
			}
		}
	}
	for k, n := range places {
		if n != 2 {
			t.Errorf("%s: %d times, want 2", k, n)
		}
	}
	if len(places) != 9 || len(after) != 6 {
		t.Fatalf("places %v, neighbours %v", places, after)
	}
	for k, n := range after {
		if n != 2 {
			t.Errorf("%s: %d times, want 2", k, n)
		}
	}
}
