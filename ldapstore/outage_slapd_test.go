package ldapstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// Log messages the outage tests count.
const (
	msgUnreachable = "ldap directory unreachable"
	msgReachable   = "ldap directory reachable again"
	msgUnusable    = "ldap server unusable"
	msgUsable      = "ldap server usable again"
)

// logBuffer collects a store's JSON log lines, written from many
// goroutines.
type logBuffer struct{ slapdtest.Output }

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// records returns the records at level whose message starts with msg
// ("" for all of them).
func (b *logBuffer) records(t *testing.T, level slog.Level, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	lines := bufio.NewScanner(strings.NewReader(b.String()))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(lines.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", lines.Text(), err)
		}
		if rec["level"] == level.String() && strings.HasPrefix(rec["msg"].(string), msg) {
			out = append(out, rec)
		}
	}
	return out
}

// metricValue reads an unlabelled counter or gauge from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			m := f.GetMetric()[0]
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// outageStore is a store over srv's base DN with its metrics on a registry
// and its log lines in a buffer.
func outageStore(t *testing.T, srv *slapdtest.Server) (*Store, *prometheus.Registry, *logBuffer) {
	t.Helper()
	reg, logs := prometheus.NewRegistry(), &logBuffer{}
	cfg := configFor(srv, srv.BaseDN)
	cfg.Registerer = reg
	s, err := New(t.Context(), cfg, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, reg, logs
}

// outageOp is a call the outage tests make.
type outageOp struct {
	name string
	call func(ctx context.Context, s *Store, id string) error
}

// The calls: pooled reads on connections bound as the service account,
// and VerifySecret's bind as the client on a fresh connection.
var (
	opGet = outageOp{"Get", func(ctx context.Context, s *Store, id string) error {
		_, err := s.Get(ctx, id)
		return err
	}}
	opPing         = outageOp{"Ping", func(ctx context.Context, s *Store, _ string) error { return s.Ping(ctx) }}
	opVerifySecret = outageOp{"VerifySecret", func(ctx context.Context, s *Store, id string) error {
		_, err := s.VerifySecret(ctx, id, "not the secret")
		return err
	}}
	outageOps = []outageOp{opGet, opPing, opVerifySecret}
)

// hammerResult counts the calls of hammer.
type hammerResult struct {
	calls, fast int // fast: refused as unavailable in under fastCall
	slow        int // refused as unavailable, but not fast
	succeeded   int
}

// hammer runs workers goroutines for d, each calling one of ops (in turn)
// with callTimeout, and counts the outcomes. An error other than
// store.ErrUnavailable fails t.
func hammer(t *testing.T, s *Store, id string, ops []outageOp, workers int, d, callTimeout, fastCall time.Duration) hammerResult {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		res hammerResult
	)
	end := time.Now().Add(d)
	for w := range workers {
		op := ops[w%len(ops)]
		wg.Go(func() {
			for time.Now().Before(end) {
				ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
				start := time.Now()
				err := op.call(ctx, s, id)
				took := time.Since(start)
				cancel()
				mu.Lock()
				res.calls++
				switch {
				case err == nil:
					res.succeeded++
				case !errors.Is(err, store.ErrUnavailable):
					t.Errorf("%s during the outage: %v, want ErrUnavailable", op.name, err)
				case took < fastCall:
					res.fast++
				default:
					res.slow++
				}
				mu.Unlock()
				time.Sleep(time.Millisecond) // a busy gateway, not a spinning one
			}
		})
	}
	wg.Wait()
	return res
}

// warm makes n concurrent calls so that the pool holds n idle connections.
func warm(t *testing.T, s *Store, id string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.Get(t.Context(), id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// awaitRecovery polls Get until it succeeds, for at most within; it
// returns how long that took.
func awaitRecovery(t *testing.T, s *Store, id string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := s.Get(ctx, id)
		cancel()
		switch {
		case err == nil:
			return time.Since(start)
		case time.Since(start) > within:
			t.Fatalf("Get still fails %s after the directory came back: %v", within, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recoveryBound is how soon a store must use a directory that came back:
// the longest wait between probes (outageBackoffMax, +10% jitter), one
// probe, and a generous margin.
const recoveryBound = outageBackoffMax + outageBackoffMax/10 + DefaultTimeout + 2*time.Second

// Freeze phases: a worker per pool slot, each call with a timeout well
// under the store's (3s) so that the callers' deadlines, not the pool's,
// bound the dials to a frozen server.
const (
	freezeWorkers = DefaultPoolSize
	freezeFor     = 3 * time.Second
	freezeCall    = 500 * time.Millisecond
	// freezeFast is "at once": a refusal takes microseconds, a call that
	// waited for the directory freezeCall.
	freezeFast = freezeCall / 5
)

// TestFrozenDirectory: a slapd stopped with SIGSTOP still completes TCP
// handshakes (the kernel does) but never answers, so every dial costs a
// full timeout. The first such dial must open the breaker: few dials,
// calls refused at once, one warning; and the store reconnects by itself
// once slapd runs again. The directory freezes twice, on the same store:
// once under pooled reads (the service-account bind of a dial hangs), once
// under VerifySecret (its fresh dial connects; the client bind hangs).
func TestFrozenDirectory(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t)
	pid := srv.Pid()
	// Registered after Start's Stop, so it runs first: a failing test never
	// leaves slapd frozen (nor makes Stop wait out its grace period).
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	s, reg, logs := outageStore(t, srv)
	r := storetest.NewRecord("frozen")
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	for _, phase := range []struct {
		name string
		ops  []outageOp
	}{
		{"service-account binds", []outageOp{opGet, opPing}},
		{"client binds", []outageOp{opVerifySecret}},
	} {
		t.Run(phase.name, func(t *testing.T) {
			logs.Reset()
			freezePhase(t, pid, s, reg, logs, r.ID, phase.ops)
		})
	}
}

// freeze stops slapd with SIGSTOP and waits until every thread of it has
// stopped: kill returns before threads busy on other CPUs are, and these
// may still answer a request or two.
func freeze(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); !allStopped(t, pid); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("slapd (pid %d) not stopped 5s after SIGSTOP", pid)
		}
	}
}

// allStopped reports whether every thread of pid is in state T (stopped),
// from /proc/PID/task/TID/stat, whose third field is the state.
func allStopped(t *testing.T, pid int) bool {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		t.Fatalf("threads of slapd (pid %d): %v", pid, err)
	}
	for _, path := range stats {
		stat, err := os.ReadFile(path)
		if err != nil {
			return false // a thread that just exited, say: look again
		}
		// The command name (field 2) is in parentheses and may hold spaces.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) == 0 || fields[0] != "T" {
			return false
		}
	}
	return true
}

// freezePhase freezes slapd for freezeFor under calls to ops, checks what
// the store did meanwhile, thaws it and checks the store recovers.
func freezePhase(t *testing.T, pid int, s *Store, reg *prometheus.Registry, logs *logBuffer, id string, ops []outageOp) {
	warm(t, s, id, freezeWorkers)
	dialsBefore := metricValue(t, reg, "dcrgate_ldap_dials_total")
	freeze(t, pid)
	res := hammer(t, s, id, ops, freezeWorkers, freezeFor, freezeCall, freezeFast)
	dials := metricValue(t, reg, "dcrgate_ldap_dials_total") - dialsBefore
	up := metricValue(t, reg, "dcrgate_ldap_up")
	s.pool.mu.Lock()
	idle := len(s.pool.idle)
	s.pool.mu.Unlock()
	warns := logs.records(t, slog.LevelWarn, "")
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	took := awaitRecovery(t, s, id, recoveryBound)
	t.Logf("frozen %s: %d calls, %d refused at once, %d slow, %d dials, %d warnings; recovered in %s",
		freezeFor, res.calls, res.fast, res.slow, int(dials), len(warns), took.Round(time.Millisecond))

	// Before the breaker opens each worker has at most one dial in flight,
	// and the first to fail opens it; after that there is one probe at a
	// time, each after a wait of at least outageBackoffMin less the jitter.
	minWait := time.Duration(float64(outageBackoffMin) * (1 - outageJitter/2))
	if maxDials := freezeWorkers + int(freezeFor/minWait) + 1; dials > float64(maxDials) {
		t.Errorf("%d dials while frozen for %s, want at most %d", int(dials), freezeFor, maxDials)
	}
	if res.succeeded > 0 || res.fast < res.calls*9/10 {
		t.Errorf("%+v: want no success and at least 90%% of the calls refused in under %s", res, freezeFast)
	}
	if up != 0 || idle != 0 {
		t.Errorf("while frozen: dcrgate_ldap_up = %v, %d idle connections; want 0 and none", up, idle)
	}
	// At most one warning that the server failed, one that the directory
	// is down.
	if down := logs.records(t, slog.LevelWarn, msgUnreachable); len(down) != 1 || len(warns) > len(s.cfg.URLs)+1 {
		t.Errorf("%d warnings (%d of %q), want the outage's one and at most one per server", len(warns), len(down), msgUnreachable)
	}
	back := logs.records(t, slog.LevelInfo, msgReachable)
	if len(back) != 1 || back[0]["refused"].(float64) < float64(res.fast) {
		t.Errorf("%q lines: %v, want one counting at least the %d refusals", msgReachable, back, res.fast)
	}
	if v := metricValue(t, reg, "dcrgate_ldap_up"); v != 1 {
		t.Errorf("dcrgate_ldap_up = %v after recovery, want 1", v)
	}
	for _, op := range outageOps {
		if err := op.call(t.Context(), s, id); err != nil {
			t.Errorf("%s after recovery: %v", op.name, err)
		}
	}
}

// TestStoppedDirectoryRecovers: pooled connections die with the server and
// redials are refused; the store then refuses requests at once, and
// reconnects by itself after a restart, without a new store.
func TestStoppedDirectoryRecovers(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t)
	s, reg, logs := outageStore(t, srv)
	r := storetest.NewRecord("survivor")
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := s.Get(t.Context(), r.ID); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get with slapd down: err = %v, want ErrUnavailable", err)
	}
	// The breaker is open: refused without a dial (its first wait is
	// hundreds of times longer than this call).
	dials := metricValue(t, reg, "dcrgate_ldap_dials_total")
	_, err := s.Get(t.Context(), r.ID)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "unreachable since") {
		t.Fatalf("Get with the breaker open: err = %v, want an unreachable-since refusal", err)
	}
	if d := metricValue(t, reg, "dcrgate_ldap_dials_total"); d != dials || metricValue(t, reg, "dcrgate_ldap_up") != 0 {
		t.Fatalf("a refused Get dialled (%v dials, then %v) or the directory is not marked down", dials, d)
	}
	if err := srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	awaitRecovery(t, s, r.ID, recoveryBound)
	if v := metricValue(t, reg, "dcrgate_ldap_up"); v != 1 {
		t.Fatalf("dcrgate_ldap_up = %v after recovery, want 1", v)
	}
	// Each state change once: the server failed and answers again, the
	// directory went down and is back.
	for _, want := range []struct {
		level slog.Level
		msg   string
	}{{slog.LevelWarn, msgUnusable}, {slog.LevelWarn, msgUnreachable}, {slog.LevelInfo, msgUsable}, {slog.LevelInfo, msgReachable}} {
		if n := len(logs.records(t, want.level, want.msg)); n != 1 {
			t.Errorf("%d %s lines %q, want 1", n, want.level, want.msg)
		}
	}
	if n := len(logs.records(t, slog.LevelWarn, "")); n != 2 {
		t.Errorf("%d warnings, want 2", n)
	}
}

// TestWrongPasswordIsNotAnOutage: a refused bind is the directory's
// answer, a configuration error: every call still dials and reports it
// (with a warning each) as before, and the breaker stays closed.
func TestWrongPasswordIsNotAnOutage(t *testing.T) {
	srv := server(t)
	cfg := configFor(srv, srv.BaseDN)
	cfg.BindPassword = "wrong"
	reg, logs := prometheus.NewRegistry(), &logBuffer{}
	metrics, err := newOpMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(cfg.withDefaults(), logs.logger(), metrics)
	defer p.close()
	const calls = 3
	for range calls {
		_, _, err := p.acquire(t.Context())
		if !errors.Is(err, store.ErrUnavailable) || !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Fatalf("acquire with a wrong password: %v, want the refused bind", err)
		}
	}
	if d := metricValue(t, reg, "dcrgate_ldap_dials_total"); d != calls || p.outage.isDown() ||
		metricValue(t, reg, "dcrgate_ldap_up") != 1 {
		t.Fatalf("%v dials for %d calls, down=%v: want a dial each and the directory up", d, calls, p.outage.isDown())
	}
	if n := len(logs.records(t, slog.LevelWarn, msgUnusable)); n != calls {
		t.Fatalf("%d %q warnings, want one per call", n, msgUnusable)
	}
}

// openOutage opens p's breaker by hand, its first wait already over when
// due is set.
func openOutage(p *pool, due bool) {
	p.outage.settle(false, unreached, errors.New("opened by the test"))
	if due {
		p.outage.mu.Lock()
		p.outage.retryAt = time.Time{}
		p.outage.mu.Unlock()
	}
}

// TestRefusedBeforeWaitingForASlot: while the directory is down a caller
// is refused at once, even when hung requests hold every slot and it would
// otherwise wait Timeout for one.
func TestRefusedBeforeWaitingForASlot(t *testing.T) {
	srv := server(t)
	cfg := configFor(srv, srv.BaseDN)
	cfg.PoolSize, cfg.Timeout = 1, 5*time.Second
	s, err := New(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, _, err := s.pool.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer s.pool.release(conn, nil)
	openOutage(s.pool, false)
	start := time.Now()
	err = s.Ping(t.Context())
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "unreachable since") {
		t.Fatalf("Ping while down with no free slot: %v, want the outage's refusal", err)
	}
	if took := time.Since(start); took > cfg.Timeout/2 {
		t.Fatalf("refused after %s: waited for a slot", took)
	}
}

// TestFreshProbe: VerifySecret's fresh connection probes like a pooled
// dial. A probe that op panics out of is handed back (the directory stays
// down, the next caller may probe); a bind that is answered, even refused,
// ends the outage.
func TestFreshProbe(t *testing.T) {
	srv := server(t)
	p := newPool(configFor(srv, srv.BaseDN).withDefaults(), slog.New(slog.DiscardHandler), nil)
	defer p.close()
	openOutage(p, true)
	func() {
		defer func() { _ = recover() }()
		_ = p.fresh(t.Context(), func(*ldap.Conn) error { panic("op failed") })
	}()
	if p.outage.probing || !p.outage.isDown() {
		t.Fatalf("after a panicking probe: probing=%v down=%v, want the probe back and still down",
			p.outage.probing, p.outage.isDown())
	}
	err := p.fresh(t.Context(), func(conn *ldap.Conn) error { return conn.Bind(srv.BindDN, "wrong") })
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) || p.outage.isDown() {
		t.Fatalf("a refused client bind as the probe: %v, down=%v; want the refusal and the directory up", err, p.outage.isDown())
	}
}
