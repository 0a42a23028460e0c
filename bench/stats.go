package main

import (
	"math"
	"slices"
	"time"
)

// sample is what one timed phase produced.
type sample struct {
	ops, errors int
	elapsed     time.Duration
	latencies   []time.Duration
	// exhausted means the phase ran out of entries to consume (deletes)
	// before its time was up, so it measured fewer operations.
	exhausted bool
	// cpu is the CPU time each process used during the phase: dcrgate (none
	// for raw LDAP), slapd (none for a directory the tool did not start) and
	// the tool itself, the load generator.
	cpu cpuTimes
	// firstErr is kept for the log: one cause explains most error counts.
	firstErr error
}

// Result is one operation at one concurrency, merged over every round, so
// drift between rounds averages out instead of favouring one side.
type Result struct {
	Side        string  `json:"side"` // "ldap", "floor" or "dcrgate"
	Op          string  `json:"op"`
	Concurrency int     `json:"concurrency"`
	Ops         int     `json:"ops"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	Exhausted   bool    `json:"exhausted,omitempty"`
	// CPUMicrosPerOp is the gateway's (dcrgate's or the floor's) own CPU
	// time per call (user + system), which contention on a small machine
	// does not inflate the way it does throughput. 0 for raw LDAP rows.
	CPUMicrosPerOp float64 `json:"cpu_us_per_op,omitempty"`
	// SlapdCPUMicrosPerOp and LoadCPUMicrosPerOp are the same for slapd
	// (0 when the tool did not start it) and for the load generator: on a
	// shared machine every process's cost comes out of the same cores.
	SlapdCPUMicrosPerOp float64 `json:"slapd_cpu_us_per_op,omitempty"`
	LoadCPUMicrosPerOp  float64 `json:"load_cpu_us_per_op,omitempty"`
	// Derived marks a row computed from other rows, not measured.
	Derived bool `json:"derived,omitempty"`
}

// merge folds the phases of one (op, concurrency) into a Result: throughput
// is total operations over total time, percentiles over every latency.
func merge(side, op string, c int, samples []sample) Result {
	r := Result{Side: side, Op: op, Concurrency: c}
	var all []time.Duration
	var elapsed time.Duration
	var cpu cpuTimes
	for _, s := range samples {
		cpu = cpu.plus(s.cpu)
		r.Ops += s.ops
		r.Errors += s.errors
		r.Exhausted = r.Exhausted || s.exhausted
		elapsed += s.elapsed
		all = append(all, s.latencies...)
	}
	r.Seconds = elapsed.Seconds()
	r.CPUMicrosPerOp = perOp(cpu.gateway, r.Ops)
	r.SlapdCPUMicrosPerOp = perOp(cpu.slapd, r.Ops)
	r.LoadCPUMicrosPerOp = perOp(cpu.load, r.Ops)
	if r.Seconds > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Seconds
	}
	slices.Sort(all)
	r.P50Ms = ms(percentile(all, 50))
	r.P99Ms = ms(percentile(all, 99))
	return r
}

// percentile is the nearest-rank percentile of sorted latencies (0 for none):
// the smallest value with at least p% of the samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// perOp is d in microseconds per operation, 0 without operations.
func perOp(d time.Duration, ops int) float64 {
	if ops == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(ops)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sequential derives the cost of doing a then b one after the other on the
// same workers: rates add as resistances in series, latencies add. This is
// the raw baseline of a GET with rotation (a Search, then a Modify).
func sequential(op string, a, b Result) Result {
	r := Result{Side: a.Side, Op: op, Concurrency: a.Concurrency, Derived: true,
		P50Ms: a.P50Ms + b.P50Ms, P99Ms: a.P99Ms + b.P99Ms}
	if a.OpsPerSec > 0 && b.OpsPerSec > 0 {
		r.OpsPerSec = 1 / (1/a.OpsPerSec + 1/b.OpsPerSec)
	}
	return r
}

// ratio is num/den, NaN when there is no baseline to compare with.
func ratio(num, den float64) float64 {
	if den <= 0 {
		return math.NaN()
	}
	return num / den
}
