package ldapstore

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
)

var tlsServer struct {
	once sync.Once
	srv  *slapdtest.Server
	err  error
}

// tlsSlapd is one slapd with ldaps:// and StartTLS for the TLS tests,
// stopped and removed by TestMain.
func tlsSlapd(t *testing.T) *slapdtest.Server {
	t.Helper()
	slapdtest.Require(t)
	tlsServer.once.Do(func() {
		dir, err := os.MkdirTemp("", "ldapstore-tls-")
		if err != nil {
			tlsServer.err = err
			return
		}
		tlsServer.srv, tlsServer.err = slapdtest.LaunchWith(t.Context(), dir, slapdtest.Options{TLS: true})
		if tlsServer.srv != nil {
			cleanups = append(cleanups, tlsServer.srv.Stop, func() { _ = os.RemoveAll(dir) })
		}
	})
	if tlsServer.err != nil {
		t.Fatal(tlsServer.err)
	}
	return tlsServer.srv
}

func TestTLS(t *testing.T) {
	srv := tlsSlapd(t)
	other, err := slapdtest.NewCA(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                  string
		url                   string
		startTLS, insecure    bool
		ca, certFile, keyFile string
		wantErr               string
	}{
		{name: "ok/ldaps with ca_file", url: srv.LDAPSURL, ca: srv.CA.File},
		{name: "ok/start_tls with ca_file", url: srv.URL, startTLS: true, ca: srv.CA.File},
		{name: "ok/client certificate", url: srv.LDAPSURL, ca: srv.CA.File, certFile: srv.ClientCert, keyFile: srv.ClientKey},
		{name: "ok/insecure_skip_verify", url: srv.LDAPSURL, insecure: true},
		{name: "fail/ldaps with another CA", url: srv.LDAPSURL, ca: other.File, wantErr: "certificate signed by unknown authority"},
		{name: "fail/start_tls with another CA", url: srv.URL, startTLS: true, ca: other.File, wantErr: "StartTLS"},
		{name: "fail/start_tls with system roots", url: srv.URL, startTLS: true, wantErr: "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configFor(srv, srv.BaseDN)
			cfg.URLs, cfg.StartTLS = []string{tt.url}, tt.startTLS
			if cfg.TLS, err = TLSConfig(tt.ca, tt.certFile, tt.keyFile, tt.insecure); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			s, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if tt.insecure != strings.Contains(logs.String(), "CERTIFICATE VERIFICATION IS OFF") {
					t.Fatalf("insecure=%v, logs:\n%s", tt.insecure, logs.String())
				}
				return
			}
			if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrUnavailable mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestClientCertificate proves TLSConfig presents the client certificate:
// slapd maps it to the SASL EXTERNAL identity (RFC 4513 §5.2.3).
func TestClientCertificate(t *testing.T) {
	srv := tlsSlapd(t)
	cfg, err := TLSConfig(srv.CA.File, srv.ClientCert, srv.ClientKey, false)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ldap.DialURL(srv.LDAPSURL, ldap.DialWithTLSConfig(tlsFor(cfg, srv.LDAPSURL)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.ExternalBind(); err != nil {
		t.Fatal(err)
	}
	who, err := conn.WhoAmI(nil)
	if err != nil || !strings.EqualFold(who.AuthzID, "dn:cn=client") {
		t.Fatalf("whoami = %+v, %v; want dn:cn=client", who, err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := slapdtest.NewCA(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Issue(dir, "c", false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ca, cert, key, wantErr string
	}{
		{"fail/missing CA file", filepath.Join(dir, "nope.pem"), "", "", "CA file"},
		{"fail/CA file not PEM", notPEM, "", "", "no PEM certificate"},
		{"fail/certificate without key", "", cert, "", "both"},
		{"fail/key without certificate", "", "", key, "both"},
		{"fail/key of another certificate", "", cert, ca.File, "client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := TLSConfig(tt.ca, tt.cert, tt.key, false); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
	if cfg, err := TLSConfig("", "", "", false); cfg != nil || err != nil {
		t.Fatalf("ok/nothing set: %v, %v", cfg, err)
	}
}
