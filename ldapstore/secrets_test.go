package ldapstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// bindAs binds as dn on a new connection to url.
func bindAs(t *testing.T, url, dn, password string) error {
	t.Helper()
	conn, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.Bind(dn, password)
}

// secretFlow registers a confidential client through the real registration
// service over s, then rotates its secret on read: the directory must
// accept exactly the secrets the service says are valid, by bind as the
// client's DN (what an AS does), for the scheme s writes.
func secretFlow(t *testing.T, s *Store, url string, retain bool) {
	now := time.Now().UTC()
	opts := registration.Options{Management: registration.Management{Enabled: true, RotateClientSecret: true,
		RotateRegistrationAccessToken: true, RetainClientSecret: retain, ClientSecretRetentionPeriod: time.Hour}}
	scheme := s.SecretScheme()
	hasher, err := credentials.NewHasher(scheme)
	if err != nil {
		t.Fatal(err)
	}
	svc := registration.New(s, nil, hasher, opts, registration.WithClock(func() time.Time { return now }))
	ctx := t.Context()
	reg, err := svc.Register(ctx, "", []byte(`{"redirect_uris":["https://app.example.com/cb"]}`))
	if err != nil || reg.ClientSecret == "" {
		t.Fatalf("register: %v", err)
	}
	entry := dn(reg.ClientID, s.cfg.BaseDN)
	check := func(step string, want map[string]bool) {
		t.Helper()
		for secret, ok := range want {
			err := bindAs(t, url, entry, secret)
			switch {
			case ok && err != nil:
				t.Errorf("%s: bind with a valid secret: %v", step, err)
			case !ok && !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
				t.Errorf("%s: bind with an invalid secret: err = %v, want invalidCredentials", step, err)
			}
		}
	}
	first := reg.ClientSecret
	check("ok/issued", map[string]bool{first: true, "wrong": false, first[:42]: false})
	if !retain {
		// Without retention the old secret dies with the rotation.
		reg, err = svc.Read(ctx, reg.ClientID, reg.RegistrationAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		check("fail/rotated without retention", map[string]bool{first: false, reg.ClientSecret: true})
		return
	}

	// A read rotates the secret; the old one is retained for an hour.
	reg, err = svc.Read(ctx, reg.ClientID, reg.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	second := reg.ClientSecret
	check("ok/rotated with retention", map[string]bool{first: true, second: true})

	// After the retention period the next write of the entry drops it.
	now = now.Add(2 * time.Hour)
	reg, err = svc.Read(ctx, reg.ClientID, reg.RegistrationAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	check("fail/expired retained secret removed", map[string]bool{first: false, second: true, reg.ClientSecret: true})
	stored, err := s.Get(ctx, reg.ClientID)
	if err != nil || len(stored.Secrets) != 2 || strings.Contains(stored.Secrets[0].Hash, reg.ClientSecret) {
		t.Fatalf("stored secrets %+v, %v", stored.Secrets, err)
	}
}

// TestSecretSchemes runs the flow for every scheme this slapd verifies.
func TestSecretSchemes(t *testing.T) {
	schemes := []string{credentials.SchemeSSHA512, credentials.SchemeArgon2, credentials.SchemePBKDF2SHA512}
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			if scheme == credentials.SchemePBKDF2SHA512 && !slapdtest.HasModule("pw-pbkdf2") {
				if os.Getenv(slapdtest.RequireEnv) == "1" {
					t.Fatalf("pw-pbkdf2 is not installed (Debian package slapd-contrib), and %s=1", slapdtest.RequireEnv)
				}
				t.Skip("pw-pbkdf2 is not installed (Debian package slapd-contrib)")
			}
			s, srv := newStore(t)
			s.cfg.SecretScheme = scheme
			t.Run("retain", func(t *testing.T) { secretFlow(t, s, srv.URL, true) })
			t.Run("no retention", func(t *testing.T) { secretFlow(t, s, srv.URL, false) })
		})
	}
}

// TestServerHashing writes clear secrets to a slapd that hashes them on
// write (ppolicy's olcPPolicyHashCleartext, standing in for 389-DS), over
// StartTLS as the config requires; VerifySecret checks them by bind.
// ppolicy allows one userPassword value, so retention cannot work there:
// retain_client_secret needs a directory that keeps several (389-DS does).
func TestServerHashing(t *testing.T) {
	srv := slapdtest.StartWith(t, slapdtest.Options{TLS: true, HashCleartext: true})
	cfg := configFor(srv, srv.BaseDN)
	cfg.SecretScheme, cfg.StartTLS = credentials.SchemeServerHashing, true
	var err error
	if cfg.TLS, err = TLSConfig(srv.CA.File, "", "", false); err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	secretFlow(t, s, srv.URL, false)

	r := storetest.NewRecord("verify")
	r.Secrets = []client.SecretHash{{Hash: credentials.ClearPrefix + "the-secret"}}
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), r.ID)
	if err != nil || !strings.HasPrefix(got.CurrentSecret(), "{SSHA}") {
		t.Fatalf("stored secret %q, %v: want the directory's hash", got.CurrentSecret(), err)
	}
	written, err := s.Update(t.Context(), r.ID, func(r client.Record) (client.Record, error) {
		r.Secrets = []client.SecretHash{{Hash: credentials.ClearPrefix + "the-secret"}}
		return r, nil
	})
	if err != nil || !strings.HasPrefix(written.CurrentSecret(), "{SSHA}") {
		t.Fatalf("Update returned secret %q, %v: want the directory's hash (Post-Read)", written.CurrentSecret(), err)
	}
	if stored, err := s.Get(t.Context(), r.ID); err != nil || !reflect.DeepEqual(stored, written) {
		t.Fatalf("Update returned\n%+v\nbut the entry reads\n%+v (%v)", written, stored, err)
	}
	checkVerifySecret(t, s, []secretCase{
		{"ok/right secret", r.ID, "the-secret", true},
		{"fail/wrong secret", r.ID, "the-secreT", false},
		{"fail/empty secret", r.ID, "", false},
		{"fail/unknown client", "nobody", "the-secret", false},
		{"fail/id with DN syntax", "a,cn=admin", "the-secret", false},
	})
}

// secretCase is one VerifySecret call and its answer.
type secretCase struct {
	name, id, secret string
	want             bool
}

// checkVerifySecret runs the cases against s as subtests.
func checkVerifySecret(t *testing.T, s *Store, cases []secretCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := s.VerifySecret(t.Context(), tt.id, tt.secret); ok != tt.want || err != nil {
				t.Fatalf("VerifySecret = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

// TestPresentedSecretByBind: an RFC 7592 update carrying client_secret is
// checked by a bind when the directory hashed the secret itself.
func TestPresentedSecretByBind(t *testing.T) {
	srv := slapdtest.StartWith(t, slapdtest.Options{HashCleartext: true})
	cfg := configFor(srv, srv.BaseDN)
	cfg.SecretScheme = credentials.SchemeServerHashing
	s, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	hasher, _ := credentials.NewHasher(credentials.SchemeServerHashing)
	svc := registration.New(s, nil, hasher, registration.Options{Management: registration.Management{Enabled: true}})
	reg, err := svc.Register(t.Context(), "", []byte(`{"redirect_uris":["https://app.example.com/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, secret string
		ok           bool
	}{{"fail/wrong secret", "nope", false}, {"ok/current secret", reg.ClientSecret, true}} {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"redirect_uris":["https://app.example.com/cb"]}`, reg.ClientID, tt.secret)
			_, err := svc.Update(t.Context(), reg.ClientID, reg.RegistrationAccessToken, []byte(body))
			if tt.ok != (err == nil) || !tt.ok && !strings.Contains(err.Error(), "client_secret does not match") {
				t.Fatalf("Update: %v", err)
			}
		})
	}
}

// TestClearSecretRefused: with a hashing scheme, a marked clear secret is
// never written.
func TestClearSecretRefused(t *testing.T) {
	s, _ := newStore(t)
	r := storetest.NewRecord("clear")
	r.Secrets = []client.SecretHash{{Hash: credentials.ClearPrefix + "the-secret"}}
	if err := s.Create(t.Context(), r); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Create: err = %v, want ErrInvalidRecord", err)
	}
	r.Secrets = []client.SecretHash{{Hash: slapdtest.SSHA512("a")},
		{Hash: credentials.ClearPrefix + "b", ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}}
	s.cfg.SecretScheme = credentials.SchemeServerHashing
	if err := s.Create(t.Context(), r); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Create with a retained clear secret: err = %v, want ErrInvalidRecord", err)
	}
}
