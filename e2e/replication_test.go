package e2e

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// replicationBound is how long a write may take to reach the other
// provider here; on loopback it takes milliseconds.
const replicationBound = 10 * time.Second

// replicated is a two-provider directory (OpenLDAP multi-provider
// syncrepl) and two `dcrgate serve` processes with ldap.multi_provider,
// listing the providers in opposite orders.
type replicated struct {
	// writer is the provider both gateways use (the first URL in sorted
	// order), other the one they fail over to.
	writer, other *slapdtest.Server
	// sid is each provider's olcServerID, found in the entryCSN of what
	// it wrote.
	sid      map[*slapdtest.Server]int
	gateways []*gateway
	issuer   *testIssuer
}

func startReplicated(t *testing.T, extraYAML string, env ...string) replicated {
	t.Helper()
	servers := slapdtest.StartReplicated(t, 2, slapdtest.Options{})
	r := replicated{writer: servers[0], other: servers[1], issuer: newIssuer(t),
		sid: map[*slapdtest.Server]int{servers[0]: 1, servers[1]: 2}}
	if r.other.URL < r.writer.URL {
		r.writer, r.other = r.other, r.writer
	}
	for _, order := range [][]*slapdtest.Server{{servers[0], servers[1]}, {servers[1], servers[0]}} {
		urls := order[0].URL + "," + order[1].URL
		gw := launchServeYAML(t, order[0], r.issuer, "/readyz", extraYAML,
			append(slices.Clone(env), "DCRGATE_LDAP_URLS="+urls, "DCRGATE_LDAP_MULTI_PROVIDER=true")...)
		r.gateways = append(r.gateways, gw)
	}
	return r
}

// madeBy is the olcServerID of the provider that made the entry's last
// change on srv: the third field of its entryCSN (time#count#sid#mod).
func (r replicated) madeBy(t *testing.T, srv *slapdtest.Server, id string) int {
	t.Helper()
	csn := directory{t, srv}.attr(id, "entryCSN")[0]
	parts := strings.Split(csn, "#")
	sid, err := strconv.ParseInt(parts[len(parts)-2], 16, 32)
	if len(parts) != 4 || err != nil {
		t.Fatalf("entryCSN %q", csn)
	}
	return int(sid)
}

// outcome is one HTTP exchange of a load: its status and, for a
// registration, the client ID.
type outcome struct {
	status int
	id     string
	err    error
}

// load runs n calls of fn, numbered, on workers goroutines and returns
// their outcomes and how long they took.
func load(workers, n int, fn func(i int) outcome) ([]outcome, time.Duration) {
	out := make([]outcome, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				out[i] = fn(i)
			}
		})
	}
	wg.Wait()
	return out, time.Since(start)
}

// statuses counts outcomes by status, transport errors as 0.
func statuses(outs []outcome) map[int]int {
	m := map[int]int{}
	for _, o := range outs {
		m[o.status]++
	}
	return m
}

// register registers one client through gw.
func register(gw *gateway, token, name string) outcome {
	res, err := send("POST", gw.endpoint, token, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": name})
	return outcome{status: res.status, id: res.str("client_id"), err: err}
}

// TestReplicatedGateways: a client registered through one gateway is read
// and updated through the other at once; concurrent PUTs through both on
// one client end with one of them, and every 200 is a revision of its own
// on both providers, made by the one provider both gateways write to.
// Rotation is off so that concurrent PUTs can share a token. Logs the
// replication lag to the other provider and the throughput of the two.
func TestReplicatedGateways(t *testing.T) {
	r := startReplicated(t, "", "DCRGATE_MANAGEMENT_ROTATE_CLIENT_SECRET=false", "DCRGATE_MANAGEMENT_ROTATE_REGISTRATION_ACCESS_TOKEN=false")
	a, b := r.gateways[0], r.gateways[1]
	iat := r.issuer.mint(t, "team-a", "dcr")

	reg := call(t, "POST", a.endpoint, iat, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": "via A"})
	wantStatus(t, "register through A", reg, 201)
	id, rat := reg.str("client_id"), reg.str("registration_access_token")
	got := call(t, "GET", b.endpoint+"/"+id, rat, nil)
	wantStatus(t, "read through B at once", got, 200)
	put := call(t, "PUT", b.endpoint+"/"+id, rat, map[string]any{"client_id": id, "redirect_uris": []string{"https://app.example.com/cb"}, "client_name": "via B"})
	wantStatus(t, "update through B", put, 200)
	if got := call(t, "GET", a.endpoint+"/"+id, rat, nil); got.str("client_name") != "via B" {
		t.Fatalf("A reads %q after B's update", got.str("client_name"))
	}

	t.Run("concurrent PUTs", func(t *testing.T) { concurrentPUTs(t, r, iat) })
	t.Run("replication lag", func(t *testing.T) { replicationLag(t, r, iat) })
	t.Run("throughput", func(t *testing.T) { throughput(t, r, iat) })
}

// concurrentPUTs races PUTs through both gateways on one client.
func concurrentPUTs(t *testing.T, r replicated, iat string) {
	reg := call(t, "POST", r.gateways[0].endpoint, iat, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
	wantStatus(t, "register", reg, 201)
	id, rat := reg.str("client_id"), reg.str("registration_access_token")
	outs, took := load(8, 40, func(i int) outcome {
		gw := r.gateways[i%2]
		res, err := send("PUT", gw.endpoint+"/"+id, rat, map[string]any{"client_id": id,
			"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": fmt.Sprintf("put-%d", i)})
		return outcome{status: res.status, err: err}
	})
	var acknowledged []string
	for i, o := range outs {
		switch {
		case o.err != nil || (o.status != 200 && o.status != 409):
			t.Errorf("PUT %d: status %d, %v; want 200 or 409", i, o.status, o.err)
		case o.status == 200:
			acknowledged = append(acknowledged, fmt.Sprintf("put-%d", i))
		}
	}
	if len(acknowledged) == 0 {
		t.Fatal("no PUT succeeded")
	}
	revision := strconv.Itoa(1 + len(acknowledged))
	for _, srv := range []*slapdtest.Server{r.writer, r.other} {
		if _, err := srv.WaitForValue(t.Context(), directory{t, srv}.dn(id), "dcrRevision", revision, replicationBound); err != nil {
			t.Fatalf("%d PUTs acknowledged, want revision %s on %s: %v (an update was lost)", len(acknowledged), revision, srv.URL, err)
		}
		name := directory{t, srv}.attr(id, "dcrClientName")
		if len(name) != 1 || !slices.Contains(acknowledged, name[0]) {
			t.Fatalf("final client_name %v on %s is not one of the acknowledged PUTs", name, srv.URL)
		}
		if sid := r.madeBy(t, srv, id); sid != r.sid[r.writer] {
			t.Fatalf("last PUT made by provider %d, want %d", sid, r.sid[r.writer])
		}
	}
	t.Logf("40 concurrent PUTs through two gateways in %s: %v; %d acknowledged, revision %s on both providers",
		took.Round(time.Millisecond), statuses(outs), len(acknowledged), revision)
}

// replicationLag registers clients one at a time and times their arrival
// on the provider the gateways do not write to: what an authorization
// server reading that replica waits for.
func replicationLag(t *testing.T, r replicated, iat string) {
	const n = 20
	lags := make([]time.Duration, 0, n)
	for i := range n {
		o := register(r.gateways[i%2], iat, "lag")
		if o.status != 201 {
			t.Fatalf("register: %d %v", o.status, o.err)
		}
		lag, err := r.other.WaitForValue(t.Context(), directory{t, r.other}.dn(o.id), "dcrClientId", o.id, replicationBound)
		if err != nil {
			t.Fatal(err)
		}
		lags = append(lags, lag)
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	t.Logf("replication lag after a 201, %d registrations (polled every 1 ms): median %s, max %s",
		n, lags[n/2].Round(100*time.Microsecond), lags[n-1].Round(100*time.Microsecond))
}

// throughput registers clients through both gateways at once, then
// through one, and logs the rates: on this machine the gateways, the
// providers and the test share the CPUs.
func throughput(t *testing.T, r replicated, iat string) {
	const n, workers = 200, 8
	for _, gws := range [][]*gateway{r.gateways, r.gateways[:1]} {
		outs, took := load(workers, n, func(i int) outcome { return register(gws[i%len(gws)], iat, "rate") })
		if s := statuses(outs); s[201] != n {
			t.Fatalf("registrations: %v", s)
		}
		t.Logf("%d registrations, %d at a time, through %d gateway(s): %s, %.0f/s",
			n, workers, len(gws), took.Round(time.Millisecond), float64(n)/took.Seconds())
	}
}

// TestReplicatedFailover: registrations through both gateways at once,
// and the provider both write to stops in the middle (SIGTERM, as an
// administrator or a rolling upgrade stops it). No 500: a registration in
// flight may get 503, every other one a 201. Once it has stopped, every
// registration goes to the other provider. The stopped provider keeps
// answering on open connections for a moment after SIGTERM, when it no
// longer replicates: what it took then reaches the other provider when it
// is restarted, and then both hold every client answered 201
// (docs/scaling.md, "Failover").
func TestReplicatedFailover(t *testing.T) {
	r := startReplicated(t, "")
	iat := r.issuer.mint(t, "team-a", "dcr")
	outs, stoppedAt := loadThroughStop(r, iat)
	created := createdIDs(t, outs)
	for _, o := range outs[stoppedAt:] {
		if o.status == 201 && !(directory{t, r.other}).exists(o.id) {
			t.Fatalf("%s registered after the stop is not on the other provider", o.id)
		}
	}
	onlyStopped := 0
	for _, id := range created {
		if !(directory{t, r.other}).exists(id) {
			onlyStopped++
		}
	}
	t.Logf("registrations through two gateways while the provider they wrote to stopped: %d before it had, %v; %d after, %v; "+
		"%d answered 201 were on the stopped provider only", stoppedAt, statuses(outs[:stoppedAt]), len(outs)-stoppedAt,
		statuses(outs[stoppedAt:]), onlyStopped)

	if err := r.writer.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, id := range created {
		for _, srv := range []*slapdtest.Server{r.writer, r.other} {
			if err := srv.WaitFor(t.Context(), directory{t, srv}.dn(id), replicationBound); err != nil {
				t.Fatalf("client %s answered 201 is missing once the stopped provider is back: %v", id, err)
			}
		}
	}
	t.Logf("both providers held all %d clients %s after the restart", len(created), time.Since(start).Round(time.Millisecond))
	r.wantFailback(t, iat, start)
}

// wantFailback registers through both gateways until both write to the
// restarted provider again: at a failback tick (every 5 s on the wall
// clock) after it has answered two of them: 5 to 10 s.
func (r replicated) wantFailback(t *testing.T, iat string, restarted time.Time) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for back := 0; back < len(r.gateways); {
		back = 0
		for _, gw := range r.gateways {
			o := register(gw, iat, "failback")
			if o.status != 201 {
				t.Fatalf("registration during failback: %d %v", o.status, o.err)
			}
			if err := r.other.WaitFor(t.Context(), directory{t, r.other}.dn(o.id), replicationBound); err != nil {
				t.Fatal(err)
			}
			if r.madeBy(t, r.other, o.id) == r.sid[r.writer] {
				back++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateways did not return to the restarted provider within 20 s (%d of 2 did)", back)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("both gateways wrote to the restarted provider again %s after its restart", time.Since(restarted).Round(time.Millisecond))
}

// loadThroughStop registers clients through both gateways, 6 at a time;
// after 50 it stops the provider they write to, and goes on until that
// provider has stopped and 50 more have been answered. It returns the
// outcomes in the order they came, and how many came before the stop was
// over.
func loadThroughStop(r replicated, iat string) (outs []outcome, stoppedAt int) {
	const workers, before, after = 6, 50, 50
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		stopped = make(chan struct{})
	)
	stoppedAt = -1
	for w := range workers {
		wg.Go(func() {
			for {
				o := register(r.gateways[w%2], iat, "failover")
				mu.Lock()
				outs = append(outs, o)
				n := len(outs)
				select {
				case <-stopped:
					if stoppedAt < 0 {
						stoppedAt = n - 1
					}
				default:
				}
				done := stoppedAt >= 0 && n >= stoppedAt+after
				mu.Unlock()
				if n == before {
					go func() { r.writer.Stop(); close(stopped) }()
				}
				if done {
					return
				}
			}
		})
	}
	wg.Wait()
	return outs, stoppedAt
}

// createdIDs fails the test on any outcome but 201 and 503, and returns
// the client IDs answered 201.
func createdIDs(t *testing.T, outs []outcome) []string {
	t.Helper()
	var ids []string
	for i, o := range outs {
		switch {
		case o.err != nil || (o.status != 201 && o.status != 503):
			t.Errorf("registration %d: status %d, %v; want 201 or 503", i, o.status, o.err)
		case o.status == 201:
			ids = append(ids, o.id)
		}
	}
	return ids
}

// TestReplicatedQuotas: max_registrations_per_token and
// max_clients_per_owner with registrations racing through both gateways.
// Both count on the one provider the gateways write to, so they hold as
// on one directory: the per-token cap exactly (a registration that finds
// its token over the cap after its create withdraws itself), the
// per-owner limit within the registrations in flight (it counts before
// the create only).
func TestReplicatedQuotas(t *testing.T) {
	const perToken, perOwner, workers, n = 4, 6, 8, 16
	r := startReplicated(t, fmt.Sprintf("policies:\n  - name: owner-limit\n    kind: max_clients_per_owner\n    max: %d\n", perOwner),
		fmt.Sprintf("DCRGATE_INITIAL_ACCESS_TOKENS_MAX_REGISTRATIONS_PER_TOKEN=%d", perToken))

	token := r.issuer.mint(t, "one-token", "dcr")
	outs, _ := load(workers, n, func(i int) outcome { return register(r.gateways[i%2], token, "quota") })
	created := quotaOutcomes(t, outs)
	if created > perToken {
		t.Fatalf("%d registrations with one token answered 201, cap %d", created, perToken)
	}
	r.wantOwned(t, "one-token", created)
	t.Logf("one token, %d registrations %d at a time through two gateways: %v (cap %d)", n, workers, statuses(outs), perToken)

	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = r.issuer.mint(t, "one-owner", "dcr")
	}
	outs, _ = load(workers, n, func(i int) outcome { return register(r.gateways[i%2], tokens[i], "owner") })
	created = quotaOutcomes(t, outs)
	if created < perOwner || created > perOwner+workers-1 {
		t.Fatalf("%d registrations by one owner answered 201, want %d..%d (limit + in flight - 1)", created, perOwner, perOwner+workers-1)
	}
	r.wantOwned(t, "one-owner", created)
	over := register(r.gateways[1], r.issuer.mint(t, "one-owner", "dcr"), "over")
	if over.status != 403 {
		t.Fatalf("registration over the owner's limit: %d, want 403", over.status)
	}
	t.Logf("one owner, %d registrations %d at a time through two gateways: %v (limit %d)", n, workers, statuses(outs), perOwner)
}

// quotaOutcomes fails the test on any outcome but 201 and 403, and
// returns the number of 201s.
func quotaOutcomes(t *testing.T, outs []outcome) int {
	t.Helper()
	s := statuses(outs)
	if s[201]+s[403] != len(outs) {
		t.Fatalf("registrations: %v, want only 201 and 403", s)
	}
	return s[201]
}

// wantOwned waits until both providers hold exactly n clients of subject:
// a registration that backed out withdraws its client after its answer.
func (r replicated) wantOwned(t *testing.T, subject string, n int) {
	t.Helper()
	for _, srv := range []*slapdtest.Server{r.writer, r.other} {
		deadline := time.Now().Add(replicationBound)
		for got := (directory{t, srv}).owned(subject); got != n; got = (directory{t, srv}).owned(subject) {
			if time.Now().After(deadline) {
				t.Fatalf("%s holds %d clients of %s, %d were answered 201", srv.URL, got, subject, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
