// Package e2e drives the built dcrgate binary the way an operator runs it:
// `dcrgate serve` with a YAML file, against a real slapd loaded with the
// shipped schema and a real JWKS issuer, over HTTP only.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

var binary string

// TestMain builds the binary once for all tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dcrgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dcrgate")
	build := exec.Command("go", "build", "-o", binary, "../cmd/dcrgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dcrgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// testIssuer is a development issuer whose JWKS is served over HTTP for
// the test's lifetime: what the gateway sees of a real AS.
type testIssuer struct {
	dev     *devissuer.Issuer
	jwksURL string
}

// mint returns an initial access token for subject with scopes.
func (i *testIssuer) mint(t *testing.T, subject string, scopes ...string) string {
	t.Helper()
	tok, err := i.dev.Mint(subject, scopes, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newIssuer(t *testing.T) *testIssuer {
	t.Helper()
	issuer, err := devissuer.New("https://as.example.test")
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(issuer.JWKSHandler())
	t.Cleanup(jwks.Close)
	return &testIssuer{dev: issuer, jwksURL: jwks.URL}
}

// gateway is a running `dcrgate serve`.
type gateway struct {
	endpoint  string
	telemetry string
	logs      *slapdtest.Output
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

// startServe writes a config for slapd and the issuer, starts the binary and
// waits until it is ready. env adds DCRGATE_* overrides.
func startServe(t *testing.T, srv *slapdtest.Server, issuer *testIssuer, env ...string) *gateway {
	t.Helper()
	return launchServe(t, srv, issuer, "/readyz", env...)
}

// launchServe is startServe waiting for the telemetry endpoint waitFor
// (/readyz: ready; /healthz: running) to answer 200.
func launchServe(t *testing.T, srv *slapdtest.Server, issuer *testIssuer, waitFor string, env ...string) *gateway {
	t.Helper()
	return launchServeYAML(t, srv, issuer, waitFor, "", env...)
}

// launchServeYAML is launchServe with more top-level YAML (what no
// DCRGATE_* variable can set, like policies) appended to the config.
func launchServeYAML(t *testing.T, srv *slapdtest.Server, issuer *testIssuer, waitFor, extra string, env ...string) *gateway {
	t.Helper()
	apiAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`listen: %q
external_url: http://%s
registration:
  enabled: true
  required_scopes: [dcr]
management:
  enabled: true
initial_access_tokens:
  issuers:
    - issuer: %s
      jwks_uri: %s
ldap:
  urls: [%s]
  bind_dn: %q
  base_dn: %q
  timeout: 2s
metrics:
  listen: %q
log:
  level: debug
`, apiAddr, apiAddr, issuer.dev.Issuer(), issuer.jwksURL, srv.URL, srv.BindDN, srv.BaseDN, telemetryAddr) + extra
	path := filepath.Join(t.TempDir(), "dcrgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", path)
	cmd.Env = append(append(os.Environ(), "DCRGATE_LDAP_BIND_PASSWORD="+srv.BindPassword), env...)
	gw := &gateway{endpoint: "http://" + apiAddr + "/as/clients.oauth2", telemetry: "http://" + telemetryAddr, logs: &slapdtest.Output{}}
	cmd.Stdout, cmd.Stderr = gw.logs, gw.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("dcrgate logs:\n%s", gw.logs)
		}
	})
	gw.waitFor(t, waitFor, 10*time.Second)
	return gw
}

// waitFor polls the telemetry endpoint path until it answers 200.
func (gw *gateway) waitFor(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get(gw.telemetry + path)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dcrgate's %s did not answer 200 within %s: %v\n%s", path, within, err, gw.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

func call(t *testing.T, method, url, bearer string, body any) reply {
	t.Helper()
	req, err := request(method, url, bearer, body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	out, err := decodeReply(res)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return out
}

// request builds a call: body, when set, as JSON; bearer, when set, as the
// Authorization.
func request(method, url, bearer string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req, nil
}

// decodeReply reads and closes res; a body must be a JSON object.
func decodeReply(res *http.Response) (reply, error) {
	defer res.Body.Close()
	out := reply{status: res.StatusCode, header: res.Header}
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return out, err
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			return out, fmt.Errorf("non-JSON body %q", raw)
		}
	}
	return out, nil
}

func wantStatus(t *testing.T, step string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %v", step, r.status, status, r.body)
	}
}

// TestServeLifecycle registers, reads, updates and deletes a client through
// the binary and checks what the directory holds at each step.
func TestServeLifecycle(t *testing.T) {
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	gw := startServe(t, srv, issuer)
	iat := issuer.mint(t, "team-a", "dcr")
	dir := directory{t: t, srv: srv}

	wantStatus(t, "register without token", call(t, "POST", gw.endpoint, "", map[string]any{"redirect_uris": []string{"https://a.example/cb"}}), 401)
	reg := call(t, "POST", gw.endpoint, iat, map[string]any{
		"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": "E2E App", "client_name#de": "E2E-Anwendung",
	})
	wantStatus(t, "register", reg, 201)
	id, secret, rat := reg.str("client_id"), reg.str("client_secret"), reg.str("registration_access_token")
	if reg.str("registration_client_uri") != gw.endpoint+"/"+id {
		t.Fatalf("registration_client_uri = %q", reg.str("registration_client_uri"))
	}
	dir.wantNoClearText(id, secret, rat)
	dir.wantBind(id, secret, true)

	got := call(t, "GET", gw.endpoint+"/"+id, rat, nil)
	wantStatus(t, "read", got, 200)
	secret2, rat2 := got.str("client_secret"), got.str("registration_access_token")
	if secret2 == secret || rat2 == rat || got.str("client_name#de") != "E2E-Anwendung" {
		t.Fatalf("read did not rotate or lost metadata: %v", got.body)
	}
	// The replaced secret stays in its grace period, in case this answer
	// was lost, until the new token is first used.
	dir.wantBind(id, secret, true)
	dir.wantBind(id, secret2, true)
	dir.wantNoClearText(id, secret, rat, secret2, rat2)

	put := call(t, "PUT", gw.endpoint+"/"+id, rat2, map[string]any{
		"client_id": id, "client_secret": secret2, "redirect_uris": []string{"https://app.example.com/new"}, "client_name": "Renamed",
	})
	wantStatus(t, "update", put, 200)
	secret3, rat3 := put.str("client_secret"), put.str("registration_access_token")
	if put.str("client_name") != "Renamed" {
		t.Fatalf("update not applied: %v", put.body)
	}
	if _, ok := put.body["client_name#de"]; ok {
		t.Fatal("PUT is a full replacement, but an omitted field survived")
	}
	if v := dir.attr(id, "dcrRedirectURI"); len(v) != 1 || v[0] != "https://app.example.com/new" {
		t.Fatalf("searchable redirect URIs in the directory: %v", v)
	}
	dir.wantBind(id, secret3, true)
	dir.wantBind(id, secret, false)
	wantStatus(t, "read with the token replaced before the last", call(t, "GET", gw.endpoint+"/"+id, rat, nil), 401)
	dir.wantNoClearText(id, secret2, rat2, secret3, rat3)

	wantStatus(t, "delete", call(t, "DELETE", gw.endpoint+"/"+id, rat3, nil), 204)
	wantStatus(t, "read after delete", call(t, "GET", gw.endpoint+"/"+id, rat3, nil), 401)
	if dir.exists(id) {
		t.Fatal("entry still in the directory after DELETE")
	}

	// Directory down: 503 with Retry-After, never a 500.
	srv.Stop()
	down := call(t, "POST", gw.endpoint, iat, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
	wantStatus(t, "register with the directory down", down, 503)
	if down.str("error") != "temporarily_unavailable" || down.header.Get("Retry-After") == "" {
		t.Fatalf("directory down: %v %v", down.body, down.header)
	}
	if strings.Contains(gw.logs.String(), secret3) || strings.Contains(gw.logs.String(), rat3) || strings.Contains(gw.logs.String(), iat) {
		t.Fatal("a credential appeared in the logs")
	}
}

// TestServeRejectsBadConfig: serve refuses each bad configuration before
// it connects to anything, and config check lists the same problems.
func TestServeRejectsBadConfig(t *testing.T) {
	const ldap = "ldap:\n  urls: [ldap://127.0.0.1:1]\n  bind_dn: cn=x,dc=example,dc=org\n  bind_password: pw\n  base_dn: dc=example,dc=org\n"
	tests := []struct {
		name, yaml string
		mentions   []string
	}{
		{"fail/unknown key", "registration:\n  pathh: /x\n", []string{`:2: registration.pathh: unknown key (did you mean path?)`}},
		{"fail/every problem at once", "registration:\n  enabled: true\nmanagement:\n  enabled: true\nldap:\n  pool_size: 0\n",
			[]string{"external_url", "ldap.pool_size", "ldap.urls", "initial_access_tokens"}},
		{"fail/missing private key", ldap + "initial_access_tokens:\n  issuers:\n    - issuer: https://as.example.com\n" +
			"      introspection_endpoint: https://as.example.com/introspect\n      introspection:\n        auth_method: private_key_jwt\n" +
			"        client_id: dcrgate\n        private_key_file: /nonexistent/key.pem\n",
			[]string{":13: initial_access_tokens.issuers[0].introspection.private_key_file: open /nonexistent/key.pem: no such file"}},
		{"fail/missing ca_file", ldap + "  ca_file: /nonexistent/ca.pem\n", []string{":6: ldap.ca_file: ", "/nonexistent/ca.pem: no such file"}},
		{"fail/bad policy", ldap + "policies:\n  - kind: cel\n    expression: 'metadata.'\n", []string{":7: policies[0]: expression: ERROR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"serve"}, {"config", "check"}} {
				out, err := exec.Command(binary, append(args, "--config", path)...).CombinedOutput()
				if err == nil {
					t.Fatalf("%s accepted a bad config: %s", args, out)
				}
				for _, want := range tt.mentions {
					if !strings.Contains(string(out), want) {
						t.Errorf("%s does not mention %s:\n%s", args, want, out)
					}
				}
			}
		})
	}
	t.Run("ok/config check exits 0", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "good.yaml")
		if err := os.WriteFile(path, []byte(ldap), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(binary, "config", "check", "--config", path).CombinedOutput(); err != nil {
			t.Fatalf("config check: %v\n%s", err, out)
		}
	})
}

// directory reads slapd directly, as an auditor would.
type directory struct {
	t   *testing.T
	srv *slapdtest.Server
}

func (d directory) conn() *ldap.Conn {
	d.t.Helper()
	c, err := ldap.DialURL(d.srv.URL)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := c.Bind(d.srv.BindDN, d.srv.BindPassword); err != nil {
		d.t.Fatal(err)
	}
	return c
}

func (d directory) dn(id string) string {
	return "dcrClientId=" + ldap.EscapeDN(id) + "," + d.srv.BaseDN
}

func (d directory) entry(id string) *ldap.Entry {
	d.t.Helper()
	c := d.conn()
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest(d.dn(id), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"*", "+"}, nil))
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil
		}
		d.t.Fatal(err)
	}
	return res.Entries[0]
}

func (d directory) exists(id string) bool { return d.entry(id) != nil }

func (d directory) attr(id, name string) []string {
	d.t.Helper()
	e := d.entry(id)
	if e == nil {
		d.t.Fatalf("no entry for %s", id)
	}
	return e.GetAttributeValues(name)
}

// wantNoClearText fails if any attribute value of the entry contains one of
// the credentials.
func (d directory) wantNoClearText(id string, credentials ...string) {
	d.t.Helper()
	e := d.entry(id)
	for _, a := range e.Attributes {
		for _, v := range a.Values {
			for _, c := range credentials {
				if strings.Contains(v, c) {
					d.t.Fatalf("attribute %s holds a credential in clear text", a.Name)
				}
			}
		}
	}
}

// wantBind binds as the client's entry: how an AS verifies client_secret_basic
// against the directory.
func (d directory) wantBind(id, secret string, ok bool) {
	d.t.Helper()
	c, err := ldap.DialURL(d.srv.URL)
	if err != nil {
		d.t.Fatal(err)
	}
	defer c.Close()
	err = c.Bind(d.dn(id), secret)
	if ok && err != nil {
		d.t.Fatalf("bind as the client with its current secret: %v", err)
	}
	if !ok && err == nil {
		d.t.Fatal("bind as the client succeeded with a rotated-out secret")
	}
}

// TestServeRegistrationDisabled checks PingFederate's default: registration
// off, every request 404, and a start-up log that says so.
func TestServeRegistrationDisabled(t *testing.T) {
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	gw := startServe(t, srv, issuer, "DCRGATE_REGISTRATION_ENABLED=false")
	tok := issuer.mint(t, "team-a", "dcr")
	res := call(t, "POST", gw.endpoint, tok, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
	wantStatus(t, "register while disabled", res, 404)
	if !strings.Contains(gw.logs.String(), "DYNAMIC CLIENT REGISTRATION IS DISABLED") {
		t.Fatalf("start-up log does not say registration is off:\n%s", gw.logs)
	}
}
