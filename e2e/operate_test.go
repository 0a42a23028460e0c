package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// health runs `dcrgate health --url` against gw's /readyz.
func (gw *gateway) health() error {
	return exec.Command(binary, "health", "--url", gw.telemetry+"/readyz").Run()
}

// TestServeStartsBeforeTheDirectory: an orchestrator may start dcrgate
// before its directory. serve starts anyway — alive, not ready, answering
// 503 — and becomes ready when the directory comes up, without a restart.
func TestServeStartsBeforeTheDirectory(t *testing.T) {
	srv := slapdtest.Start(t)
	srv.Stop()
	issuer := newIssuer(t)
	gw := launchServe(t, srv, issuer, "/healthz")
	iat := issuer.mint(t, "team-a", "dcr")
	body := map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}}

	if res, err := http.Get(gw.telemetry + "/readyz"); err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz without a directory: %v %v", res, err)
	}
	if err := gw.health(); err == nil {
		t.Fatal("dcrgate health said ready without a directory")
	}
	started := time.Now()
	if err := exec.Command(binary, "health", "--wait", "1s", "--url", gw.telemetry+"/readyz").Run(); err == nil {
		t.Fatal("dcrgate health --wait said ready without a directory")
	}
	if waited := time.Since(started); waited < time.Second {
		t.Fatalf("dcrgate health --wait 1s gave up after %s", waited)
	}
	down := call(t, "POST", gw.endpoint, iat, body)
	wantStatus(t, "register before the directory", down, 503)

	if err := srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "health", "--wait", "40s", "--url", gw.telemetry+"/readyz").CombinedOutput(); err != nil {
		t.Fatalf("dcrgate health --wait once the directory is back: %v\n%s", err, out)
	}
	wantStatus(t, "register once the directory is up", call(t, "POST", gw.endpoint, iat, body), 201)
	if !strings.Contains(gw.logs.String(), "ldap directory unreachable at start") ||
		!strings.Contains(gw.logs.String(), "ldap directory reachable; ready") {
		t.Fatalf("the start without a directory and the recovery are not logged:\n%s", gw.logs)
	}
}

// TestVersion: the version comes from the build when no -ldflags set it.
func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "dcrgate ") || len(strings.Fields(string(out))) < 2 {
		t.Fatalf("version: %q, %v", out, err)
	}
}

// auditEvents returns the audit events gw wrote, in order.
func (gw *gateway) auditEvents(t *testing.T) []map[string]any {
	t.Helper()
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(gw.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), `{"event":`) {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		events = append(events, ev)
	}
	return events
}

// awaitAuditEvents waits, at most five seconds, for n audit events: an event
// is written once the answer has gone, so the caller may read its answer
// before the line reaches the output.
func (gw *gateway) awaitAuditEvents(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		events := gw.auditEvents(t)
		if len(events) >= n || time.Now().After(deadline) {
			return events
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuditTrail: one event per operation and refusal, with who, what and
// from where — and, in the whole output of a run (events and log lines),
// never a secret, a registration access token or an initial access token.
func TestAuditTrail(t *testing.T) {
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	gw := startServe(t, srv, issuer)
	iat := issuer.mint(t, "team-a", "dcr")
	var credentials []string
	keep := func(r reply) reply {
		for _, k := range []string{"client_secret", "registration_access_token"} {
			if v := r.str(k); v != "" {
				credentials = append(credentials, v)
			}
		}
		return r
	}
	wantStatus(t, "register without a token", call(t, "POST", gw.endpoint, "", map[string]any{"redirect_uris": []string{"https://a.example/cb"}}), 401)
	reg := keep(call(t, "POST", gw.endpoint, iat, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": "Audited"}))
	id := reg.str("client_id")
	got := keep(call(t, "GET", gw.endpoint+"/"+id, reg.str("registration_access_token"), nil))
	put := keep(call(t, "PUT", gw.endpoint+"/"+id, got.str("registration_access_token"), map[string]any{
		"client_id": id, "redirect_uris": []string{"https://app.example.com/new"}, "client_name": "Audited"}))
	wantStatus(t, "update", put, 200)
	wantStatus(t, "delete with a wrong token", call(t, "DELETE", gw.endpoint+"/"+id, "wrong", nil), 401)
	wantStatus(t, "delete", call(t, "DELETE", gw.endpoint+"/"+id, put.str("registration_access_token"), nil), 204)

	var seen []string
	for _, ev := range gw.awaitAuditEvents(t, 6) {
		seen = append(seen, ev["operation"].(string)+" "+ev["outcome"].(string))
		if ev["event"] != "dcrgate.audit.v1" || ev["request_id"] == "" || ev["caller_ip"] != "127.0.0.1" || ev["time"] == "" {
			t.Errorf("event lacks its version, request id, caller or time: %v", ev)
		}
		if ev["outcome"] == "success" && (ev["client_id"] != id || ev["owner_subject"] != "team-a") {
			t.Errorf("event lacks the client or its owner: %v", ev)
		}
		if ev["operation"] == "update" && !slices.Contains(asStrings(ev["changed"]), "redirect_uris") {
			t.Errorf("update event does not name the changed member: %v", ev)
		}
	}
	want := []string{"register refused", "register success", "read success", "update success", "delete refused", "delete success"}
	if !slices.Equal(seen, want) {
		t.Fatalf("audit events %v, want %v", seen, want)
	}
	output := gw.logs.String()
	for _, c := range append(credentials, iat) {
		if strings.Contains(output, c) {
			t.Fatal("a secret or token appeared in the audit trail or the logs")
		}
	}
	if n := metricSum(t, gw, "dcrgate_operations_total", `operation="register",outcome="success"`); n != 1 {
		t.Fatalf("dcrgate_operations_total counted %v successful registrations, want 1", n)
	}
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
