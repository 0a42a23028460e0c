package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// fixture is a directory of the files a production configuration names: a
// CA (ca.pem), a client certificate (client.pem, client-key.pem), a
// private_key_jwt key (key.pem), a bind password (bind-password), and
// jwks, a JWK Set of the key's public half.
type fixture struct {
	dir, jwks string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	ca, err := slapdtest.NewCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.Issue(dir, "client", false); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "key.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	writeTestFile(t, filepath.Join(dir, "bind-password"), "pw\n")
	pub, err := jwk.Import(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	set, err := json.Marshal(map[string]any{"keys": []any{pub}})
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "jwks.json"), string(set))
	return fixture{dir: dir, jwks: string(set)}
}

// config writes yaml, with DIR standing for the fixture's directory and
// JWKS for its JWK Set, and returns its path.
func (f fixture) config(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dcrgate.yaml")
	writeTestFile(t, path, strings.NewReplacer("DIR", f.dir, "JWKS", f.jwks).Replace(yaml))
	return path
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// brokenConfig has one problem of each kind, each named on its line in
// wantProblems; fixConfig repairs every one.
const brokenConfig = `listen: "127.0.0.1:8080"
external_url: https://dcr.example.com
registration:
  enabled: true
  required_scopes: [dcr]
  max_body_bytes: lots
  client_lifetime: 90 days
management:
  enabled: maybe
  rotation_grace_periode: 10m
initial_access_tokens:
  issuers:
    - issuer: as.example.com
      jwks_uri: http://as.example.com/jwks
    - issuer: https://as2.example.com
      introspection_endpoint: https://as2.example.com/introspect
      introspection:
        auth_method: private_key_jwt
        client_id: dcrgate
        private_key_file: DIR/missing-key.pem
ldap:
  urls: [ldaps://ldap.example.org:636]
  bind_dn: cn=dcrgate,ou=services,dc=example,dc=org
  bind_password: pw
  base_dn: ou=clients,dc=example,dc=org
  ca_file: DIR/missing-ca.pem
policies:
  - name: no-localhost
    kind: cel
    expression: 'metadata.redirect_uris.all(u, !u.startsWith("http://localhost")'
`

var fixConfig = strings.NewReplacer(
	"lots", "65536",
	"90 days", "2160h",
	"maybe", "true",
	"periode", "period",
	"issuer: as.example.com", "issuer: https://as.example.com",
	"http://as.example.com", "https://as.example.com",
	"missing-key.pem", "key.pem",
	"missing-ca.pem", "ca.pem",
	`"http://localhost")'`, `"http://localhost"))'`,
)

// wantProblems are the starts of the problems of brokenConfig, in order.
var wantProblems = []string{
	`:6: registration.max_body_bytes: must be a whole number, not "lots"`,
	`:7: registration.client_lifetime: must be a duration like 30s, 5m or 24h, not "90 days"`,
	`:9: management.enabled: must be true or false, not "maybe"`,
	`:10: management.rotation_grace_periode: unknown key (did you mean rotation_grace_period?)`,
	`:13: initial_access_tokens.issuers[0].issuer: "as.example.com" is not an absolute URL`,
	`:14: initial_access_tokens.issuers[0].jwks_uri: "http://as.example.com/jwks" must use https`,
	`:20: initial_access_tokens.issuers[1].introspection.private_key_file: open DIR/missing-key.pem: no such file or directory`,
	`:26: ldap.ca_file: ldapstore: CA file: open DIR/missing-ca.pem: no such file or directory`,
	`:28: policies[0]: expression: ERROR: <input>:1:`,
}

// TestConfigCheckListsEveryProblem: one run lists every problem, sorted
// by line, and fails; the repaired file passes.
func TestConfigCheckListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	path := f.config(t, brokenConfig)
	out, err := runCLI(t, "config", "check", "--config", path)
	if err == nil || !strings.Contains(err.Error(), "9 problems") {
		t.Errorf("err = %v, want 9 problems", err)
	}
	got := problemLines(out)
	if len(got) != len(wantProblems) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wantProblems), out)
	}
	for i, want := range wantProblems {
		if want = path + strings.ReplaceAll(want, "DIR", f.dir); !strings.HasPrefix(got[i], want) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], want)
		}
	}

	fixed := f.config(t, fixConfig.Replace(brokenConfig))
	out, err = runCLI(t, "config", "check", "--config", fixed)
	if err != nil || out != fixed+": ok (registration enabled: true, management enabled: true)\n" {
		t.Errorf("fixed config: err = %v, output:\n%s", err, out)
	}
}

// problemLines are the output's lines that start a problem (a CEL error
// continues on indented lines).
func problemLines(out string) []string {
	var lines []string
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, " ") {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	return lines
}

// TestConfigCheckEnvironment: a bad variable is named, and a problem with a
// value it set points at it rather than at the file.
func TestConfigCheckEnvironment(t *testing.T) {
	f := newFixture(t)
	path := f.config(t, fixConfig.Replace(brokenConfig))
	t.Setenv("DCRGATE_LDAP_TIMEOUT", "5")
	t.Setenv("DCRGATE_LDAP_POOL_SIZE", "0")
	out, err := runCLI(t, "config", "check", "--config", path)
	want := "ldap.timeout: must be a duration like 30s, 5m or 24h, not \"5\" (from DCRGATE_LDAP_TIMEOUT)\n" +
		"ldap.pool_size: 0 is outside 1..256 (from DCRGATE_LDAP_POOL_SIZE)\n"
	if err == nil || out != want {
		t.Errorf("err = %v, output:\n%s\nwant:\n%s", err, out, want)
	}
}

// TestConfigASMetadata: the members the AS publishes follow the
// configuration; a gateway with nothing to publish says why.
func TestConfigASMetadata(t *testing.T) {
	f := newFixture(t)
	path := f.config(t, servable)
	out, err := runCLI(t, "config", "as-metadata", "--config", path)
	if err != nil || strings.TrimSpace(out) != "{\n  \"registration_endpoint\": \"https://dcr.example.com/as/clients.oauth2\"\n}" {
		t.Fatalf("err %v, out:\n%s", err, out)
	}
	t.Setenv("DCRGATE_METADATA_DOCUMENTS_ENABLED", "true")
	var members map[string]any
	out, err = runCLI(t, "config", "as-metadata", "--config", path)
	if err != nil || json.Unmarshal([]byte(out), &members) != nil || members["client_id_metadata_document_supported"] != true {
		t.Fatalf("with metadata documents: err %v, out:\n%s", err, out)
	}
	t.Setenv("DCRGATE_METADATA_DOCUMENTS_ENABLED", "false")
	t.Setenv("DCRGATE_REGISTRATION_ENABLED", "false")
	if _, err := runCLI(t, "config", "as-metadata", "--config", path); err == nil || !strings.Contains(err.Error(), "registration is not enabled") {
		t.Fatalf("registration off: %v", err)
	}
}
