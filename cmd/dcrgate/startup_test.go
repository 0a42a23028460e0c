package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/config"
)

// servable uses everything serve loads at start: TLS files, a
// private_key_jwt key, a jwks_file, an inline JWKS, a CEL policy, a bind password file,
// an audit file and a CA for fetched documents. Its directory and issuers are closed loopback ports:
// serve starts without them.
const servable = `external_url: https://dcr.example.com
registration:
  enabled: true
  required_scopes: [dcr]
management:
  enabled: true
initial_access_tokens:
  issuers:
    - issuer: https://as.example.com
      jwks_uri: https://127.0.0.1:1/jwks
    - issuer: https://as2.example.com
      introspection_endpoint: https://127.0.0.1:1/introspect
      introspection:
        auth_method: private_key_jwt
        client_id: dcrgate
        private_key_file: DIR/key.pem
    - issuer: https://trial.dcrgate.invalid
      jwks_file: DIR/jwks.json
software_statements:
  trusted_issuers:
    - issuer: https://software.example.com
      jwks: 'JWKS'
ldap:
  urls: [ldaps://127.0.0.1:1]
  bind_dn: cn=dcrgate,dc=example,dc=org
  bind_password_file: DIR/bind-password
  base_dn: ou=clients,dc=example,dc=org
  timeout: 1s
  ca_file: DIR/ca.pem
  client_cert_file: DIR/client.pem
  client_key_file: DIR/client-key.pem
audit:
  output: DIR/audit.log
fetch:
  ca_file: DIR/ca.pem
policies:
  - name: no-localhost
    kind: cel
    expression: 'metadata.redirect_uris.all(u, !u.startsWith("http://localhost"))'
`

// TestCheckAgreesWithServe holds config check to serve: for each
// configuration, the check fails exactly when serve, as it was before the
// check ran its start-up steps (read, validate, build everything), refuses
// to start.
func TestCheckAgreesWithServe(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // servable with old replaced by new
		key      string // the key the check must name
	}{
		{name: "ok/servable"},
		{name: "fail/missing private key", old: "DIR/key.pem", new: "DIR/nope.pem", key: "issuers[1].introspection.private_key_file"},
		{name: "fail/certificate as private key", old: "DIR/key.pem", new: "DIR/client.pem", key: "issuers[1].introspection.private_key_file"},
		{name: "fail/missing ca_file", old: "DIR/ca.pem", new: "DIR/nope.pem", key: "ldap.ca_file"},
		{name: "fail/ca_file without a certificate", old: "DIR/ca.pem", new: "DIR/bind-password", key: "ldap.ca_file"},
		{name: "fail/missing client key", old: "DIR/client-key.pem", new: "DIR/nope.pem", key: "ldap.client_key_file"},
		{name: "fail/client key of another certificate", old: "DIR/client-key.pem", new: "DIR/key.pem", key: "ldap.client_cert_file"},
		{name: "fail/missing jwks_file", old: "DIR/jwks.json", new: "DIR/nope.json", key: "issuers[2].jwks_file"},
		{name: "fail/jwks_file not a JWK Set", old: "DIR/jwks.json", new: "DIR/key.pem", key: "issuers[2].jwks_file"},
		{name: "fail/inline JWKS", old: "'JWKS'", new: "'{\"keys\": 1}'", key: "trusted_issuers[0].jwks"},
		{name: "fail/missing bind password file", old: "DIR/bind-password", new: "DIR/nope", key: "ldap.bind_password_file"},
		{name: "fail/bad CEL", old: `"http://localhost"))'`, new: `"http://localhost")'`, key: "policies[0]"},
		{name: "fail/unknown policy kind", old: "kind: cel", new: "kind: regex", key: "policies[0]"},
		{name: "fail/audit file in a missing directory", old: "DIR/audit.log", new: "DIR/nope/audit.log", key: "audit.output"},
		{name: "fail/missing fetch.ca_file", old: "ca_file: DIR/ca.pem\npolicies", new: "ca_file: DIR/nope.pem\npolicies", key: "fetch.ca_file"},
		{name: "fail/fetch.ca_file without a certificate", old: "ca_file: DIR/ca.pem\npolicies", new: "ca_file: DIR/bind-password\npolicies", key: "fetch.ca_file"},
		{name: "fail/semantic", old: "external_url: https://dcr.example.com", new: "", key: "external_url"},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := f.config(t, strings.Replace(servable, tt.old, tt.new, 1))
			_, problems := config.Check(path, nil, startupRules...)
			refused := serveRefuses(t, path)
			if checkFails := len(problems) > 0; checkFails != refused {
				t.Fatalf("check fails: %t, serve refuses: %t\n%v", checkFails, refused, config.Problems(problems))
			}
			if wantFail := strings.HasPrefix(tt.name, "fail/"); wantFail != refused {
				t.Fatalf("serve refuses: %t, want %t", refused, wantFail)
			}
			if tt.key != "" && !strings.Contains(config.Problems(problems).Error(), tt.key+": ") {
				t.Errorf("the problems do not name %s:\n%v", tt.key, config.Problems(problems))
			}
		})
	}
}

// serveRefuses starts serve's gateway in-process on the configuration at
// path, without config check's start-up rules, and stops it again.
func serveRefuses(t *testing.T, path string) bool {
	t.Helper()
	cfg, err := config.Read(path, nil)
	if err == nil {
		err = cfg.ValidateForServe()
	}
	if err == nil {
		var stop func()
		if _, stop, err = startGateway(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil {
			stop()
		}
	}
	t.Logf("serve: %v", err)
	return err != nil
}
