package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// probeConfig is a servable configuration for one LDAP URL and one issuer
// whose keys are at jwksURI.
func (f fixture) probeConfig(t *testing.T, srv *slapdtest.Server, ldapURL, jwksURI string) string {
	t.Helper()
	return f.config(t, fmt.Sprintf(`ldap:
  urls: [%s]
  bind_dn: %q
  bind_password: %q
  base_dn: %q
initial_access_tokens:
  issuers:
    - issuer: https://as.example.com
      jwks_uri: %s
`, ldapURL, srv.BindDN, srv.BindPassword, srv.BaseDN, jwksURI))
}

// TestConfigCheckProbe: --probe warns about each server it cannot use,
// at the key that names it, and never fails the check for it.
func TestConfigCheckProbe(t *testing.T) {
	srv := slapdtest.Start(t)
	f := newFixture(t)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(f.jwks))
	}))
	t.Cleanup(jwks.Close)
	tests := []struct {
		name           string
		ldapURL, jwks  string
		wantWarningsAt []string // keys, in order
	}{
		{name: "ok/directory and keys answer", ldapURL: srv.URL, jwks: jwks.URL + "/jwks"},
		{name: "ok/closed LDAP port warns", ldapURL: "ldap://" + closedAddr(t), jwks: jwks.URL + "/jwks",
			wantWarningsAt: []string{"ldap.urls[0]"}},
		{name: "ok/missing keys warn", ldapURL: srv.URL, jwks: jwks.URL + "/nope",
			wantWarningsAt: []string{"initial_access_tokens.issuers[0].jwks_uri"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := f.probeConfig(t, srv, tt.ldapURL, tt.jwks)
			out, err := runCLI(t, "config", "check", "--probe", "--config", path)
			if err != nil {
				t.Fatalf("warnings failed the check: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(tt.wantWarningsAt)+1 || !strings.HasSuffix(lines[len(lines)-1], ": ok (registration enabled: false, management enabled: false)") {
				t.Fatalf("want %d warnings, then ok:\n%s", len(tt.wantWarningsAt), out)
			}
			for i, key := range tt.wantWarningsAt {
				if !strings.HasPrefix(lines[i], "warning: "+path+":") || !strings.Contains(lines[i], " "+key+": ") {
					t.Errorf("line %d = %q, want a warning at %s", i, lines[i], key)
				}
			}
		})
	}
}

// TestConfigCheckWithoutProbe: without --probe nothing is contacted.
func TestConfigCheckWithoutProbe(t *testing.T) {
	path := newFixture(t).probeConfig(t, &slapdtest.Server{BindDN: "cn=x,dc=example,dc=org", BindPassword: "pw", BaseDN: "dc=example,dc=org"},
		"ldap://"+closedAddr(t), "https://127.0.0.1:1/jwks")
	out, err := runCLI(t, "config", "check", "--config", path)
	if err != nil || strings.Contains(out, "warning") {
		t.Errorf("err = %v, output:\n%s", err, out)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
