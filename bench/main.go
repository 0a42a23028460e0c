// Command bench measures dcrgate against the directory's own limit: in one
// run it alternates phases of raw LDAP work (go-ldap straight to slapd) and
// the same work through dcrgate over HTTP, at several concurrencies, and
// prints throughput, latency, the dcrgate/raw ratio of each pair, LDAP round
// trips per API call and dcrgate's peak RSS. Between the two it measures the
// floor (floorCommand): the same raw work behind the barest Go HTTP server,
// which tells what any gateway costs on the machine from what dcrgate adds.
//
//	go run ./bench                      # throwaway slapd, binary built from this checkout
//	go run ./bench --preload 100000     # per-op cost with 100k stored clients
//	go run ./bench --json > run.json
//
// Everything stays on loopback; every phase is bounded by --duration and
// --max-ops, the whole run by --max-time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// bindPasswordEnv holds the bind password for --ldap-url, kept out of flags
// so it never shows in a process list.
const bindPasswordEnv = "BENCH_LDAP_BIND_PASSWORD"

// options are the command-line settings.
type options struct {
	concurrency []int
	duration    time.Duration
	rounds      int
	maxOps      int
	maxTime     time.Duration
	preload     int
	poolSize    int
	json        bool
	ldapURL     string
	ldapBindDN  string
	ldapBaseDN  string
	dcrgateBin  string
	// floor also measures the floor gateway (floorCommand).
	floor bool
	// ops are the API operations to measure, with the raw work each is
	// compared with; all of them by default.
	ops map[string]bool
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conc := fs.String("concurrency", "1,4,16,64", "comma-separated concurrency levels")
	fs.DurationVar(&o.duration, "duration", 2*time.Second, "length of each phase")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of alternating phases (drift cancels out across rounds; a multiple of 6, or of 4 with --floor=false, puts every side in every place and after every other side equally often)")
	fs.IntVar(&o.maxOps, "max-ops", 100_000, "operations per phase at most")
	fs.DurationVar(&o.maxTime, "max-time", 30*time.Minute, "the whole run stops after this")
	fs.IntVar(&o.preload, "preload", 1000, "entries added with raw LDAP before measuring")
	fs.IntVar(&o.poolSize, "pool-size", 8, "dcrgate's ldap.pool_size, and the size of each raw pool")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.ldapURL, "ldap-url", "", "use this directory instead of a throwaway slapd (password in $"+bindPasswordEnv+")")
	fs.StringVar(&o.ldapBindDN, "ldap-bind-dn", "", "bind DN for --ldap-url")
	fs.StringVar(&o.ldapBaseDN, "ldap-base-dn", "", "base DN of the client entries for --ldap-url")
	fs.StringVar(&o.dcrgateBin, "dcrgate-bin", "", "dcrgate binary to run (default: build ./cmd/dcrgate)")
	fs.BoolVar(&o.floor, "floor", true, "also measure the floor: a bare net/http gateway doing only the raw LDAP work")
	ops := fs.String("ops", strings.Join(apiOps, ","), "comma-separated API operations to measure, each with its raw baseline")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.concurrency, err = parseInts(*conc); err != nil {
		return o, err
	}
	if o.ops, err = parseOps(*ops); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	switch {
	case o.duration <= 0 || o.rounds < 1 || o.maxOps < 1 || o.maxTime <= 0 || o.poolSize < 1 || o.preload < 0:
		return errors.New("--duration, --rounds, --max-ops, --max-time and --pool-size must be positive, --preload not negative")
	case o.ldapURL != "" && (o.ldapBindDN == "" || o.ldapBaseDN == ""):
		return errors.New("--ldap-url needs --ldap-bind-dn and --ldap-base-dn")
	}
	return nil
}

// selectedOps are the measured API operations in apiOps order.
func (o options) selectedOps() []string {
	return slices.DeleteFunc(slices.Clone(apiOps), func(op string) bool { return !o.ops[op] })
}

// apiOps are the API operations the tool can measure.
var apiOps = []string{"register", "get", "get-rotate", "put", "delete"}

// parseOps reads a list like "put,delete" of apiOps.
func parseOps(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		op := strings.TrimSpace(f)
		if !slices.Contains(apiOps, op) {
			return nil, fmt.Errorf("bad operation %q: want some of %s", f, strings.Join(apiOps, ","))
		}
		out[op] = true
	}
	return out, nil
}

// parseInts reads a list like "1,4,16,64" of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad concurrency %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == floorCommand {
		return runFloor(args[1:], stderr)
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.maxTime)
	defer cancel()
	began := time.Now()
	e, err := setup(ctx, opts, log)
	if err != nil {
		return err
	}
	defer e.close()
	rep, err := e.report(ctx)
	if err != nil {
		return err
	}
	rep.Seconds = time.Since(began).Seconds()
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.render(stdout)
	return nil
}

// report preloads, measures, counts round trips and reads peak memory.
func (e *env) report(ctx context.Context) (*Report, error) {
	o := e.opts
	rep := &Report{
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Settings: fmt.Sprintf("concurrency %v, %d rounds of %s phases, pool_size %d, max %d ops/phase, ops %s, floor %t",
			o.concurrency, o.rounds, o.duration, o.poolSize, o.maxOps, strings.Join(o.selectedOps(), ","), o.floor),
		Template: e.tpl.describe(),
		PeakRSS:  map[string]int64{},
	}
	took, err := e.addClones(ctx, o.preload, nil)
	if err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	rep.Preload = Preload{Entries: o.preload, Seconds: took.Seconds()}
	e.log.Info("preloaded", "entries", o.preload, "took", took)
	m, err := e.run(ctx)
	if err != nil {
		return nil, err
	}
	rep.Results, rep.Ratios = summarize(m, o.concurrency)
	for _, g := range []*gateway{e.rotating, e.plain} {
		if rss, err := g.peakRSS(); err == nil {
			rep.PeakRSS[g.name] = rss
		}
	}
	if rep.RoundTrips, err = e.countRoundTrips(ctx); err != nil {
		rep.Notes = append(rep.Notes, "round trips not counted: "+err.Error())
	}
	return rep, nil
}
