// Package hydra runs dcrgate against ORY Hydra v2.3.0, a real OAuth 2.0
// authorization server: Hydra issues client_credentials tokens with the
// "dcr" scope, once as JWTs (verified with Hydra's JWKS, found by RFC 8414 /
// OpenID discovery) and once opaque (verified at Hydra's RFC 7662 admin
// introspection endpoint), and the real `dcrgate serve` binary, on a real
// slapd, registers clients with them.
//
// It lives in its own module so Hydra's ~200 dependencies never enter
// dcrgate's go.mod; Hydra itself is built from the tool module in ./tool.
// Run it with `make interop-hydra` (or `go test -count=1 .` here).
package hydra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// build runs go build in dir and returns the binary's path.
func build(t *testing.T, dir, out string, args ...string) string {
	t.Helper()
	abs, err := filepath.Abs(out)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"build", "-o", abs}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v in %s: %v\n%s", args, dir, err, b)
	}
	return abs
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs a process until the test ends and waits for ready to answer 200.
func start(t *testing.T, name, ready string, bin string, env []string, args ...string) {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(ready)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready: %v\n%s", name, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type hydra struct{ issuer, admin string }

func startHydra(t *testing.T, bin string) hydra {
	public, admin := freeAddr(t), freeAddr(t)
	pHost, pPort, _ := net.SplitHostPort(public)
	aHost, aPort, _ := net.SplitHostPort(admin)
	h := hydra{issuer: "http://" + public, admin: "http://" + admin}
	cfg := fmt.Sprintf(`dsn: memory
serve: {public: {host: %s, port: %s}, admin: {host: %s, port: %s}}
urls: {self: {issuer: %q}}
secrets: {system: ["a-test-only-secret-of-at-least-32-chars"]}
strategies: {access_token: jwt}
`, pHost, pPort, aHost, aPort, h.issuer)
	path := filepath.Join(t.TempDir(), "hydra.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, "hydra", h.admin+"/health/ready", bin, nil, "serve", "all", "--dev", "--sqa-opt-out", "-c", path)
	return h
}

// token creates a client_credentials client with the dcr scope and the
// given access token strategy at Hydra's admin API, and returns a token.
func (h hydra) token(t *testing.T, strategy string) string {
	t.Helper()
	id, secret := "dcr-"+strategy, "secret-"+strategy+"-0123456789"
	post(t, h.admin+"/admin/clients", "", map[string]any{"client_id": id, "client_secret": secret,
		"grant_types": []string{"client_credentials"}, "scope": "dcr", "access_token_strategy": strategy,
		"token_endpoint_auth_method": "client_secret_basic"}, http.StatusCreated)
	req, _ := http.NewRequest(http.MethodPost, h.issuer+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	body := do(t, req, http.StatusOK)
	tok, _ := body["access_token"].(string)
	if tok == "" {
		t.Fatalf("no access token: %v", body)
	}
	return tok
}

func do(t *testing.T, req *http.Request, want int) map[string]any {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL, res.StatusCode, raw, want)
	}
	return body
}

func post(t *testing.T, u, bearer string, v any, want int) map[string]any {
	t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req, want)
}

func TestHydraInterop(t *testing.T) {
	if _, err := exec.LookPath("slapd"); err != nil {
		if _, err := os.Stat("/usr/sbin/slapd"); err != nil {
			t.Skip("slapd is not installed")
		}
	}
	bin := t.TempDir()
	hydraBin := build(t, "tool", "bin/hydra", "-tags", "sqlite,sqlite_omit_load_extension", "github.com/ory/hydra/v2")
	dcrgateBin := build(t, "../..", filepath.Join(bin, "dcrgate"), "./cmd/dcrgate")
	h := startHydra(t, hydraBin)
	jwtToken, opaqueToken := h.token(t, "jwt"), h.token(t, "opaque")
	if strings.Count(jwtToken, ".") != 2 || !strings.HasPrefix(opaqueToken, "ory_at_") {
		t.Fatalf("unexpected token shapes: %.20s…, %.20s…", jwtToken, opaqueToken)
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := slapdtest.Launch(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	apiAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`listen: %q
external_url: http://%s
registration: {enabled: true, required_scopes: [dcr]}
management: {enabled: true}
initial_access_tokens:
  max_registrations_per_token: 1
  issuers:
    - issuer: %s
      discovery: true
      introspection_endpoint: %s/admin/oauth2/introspect
      introspection: {auth_method: none, token_prefix: ory_at_}
ldap: {urls: [%s], bind_dn: %q, base_dn: %q, timeout: 2s}
metrics: {listen: %q}
log: {level: debug}
`, apiAddr, apiAddr, h.issuer, h.admin, srv.URL, srv.BindDN, srv.BaseDN, telemetryAddr)
	path := filepath.Join(t.TempDir(), "dcrgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, "dcrgate", "http://"+telemetryAddr+"/readyz", dcrgateBin,
		[]string{"DCRGATE_LDAP_BIND_PASSWORD=" + srv.BindPassword}, "serve", "--config", path)
	endpoint := "http://" + apiAddr + "/as/clients.oauth2"
	client := map[string]any{"client_name": "Hydra interop", "redirect_uris": []string{"https://app.example.com/cb"}}

	for _, tc := range []struct{ name, token string }{{"jwt", jwtToken}, {"opaque", opaqueToken}} {
		reg := post(t, endpoint, tc.token, client, http.StatusCreated)
		t.Logf("%s token (%s…): 201 client_id=%v", tc.name, tc.token[:12], reg["client_id"])
		refused := post(t, endpoint, tc.token, client, http.StatusForbidden)
		t.Logf("%s token again: 403 %v", tc.name, refused["error"])
	}
	post(t, endpoint, "ory_at_forged.nothing", client, http.StatusUnauthorized)
	res, err := http.Get("http://" + telemetryAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	metrics, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		fmt.Sprintf(`dcrgate_iat_validations_total{issuer=%q,method="jwt",result="ok"}`, h.issuer),
		fmt.Sprintf(`dcrgate_iat_validations_total{issuer=%q,method="introspection",result="ok"}`, h.issuer),
		fmt.Sprintf(`dcrgate_iat_validations_total{issuer=%q,method="introspection",result="invalid"}`, h.issuer),
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
