package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// TestClientsShow: everything about one client for a person and as JSON,
// never a hash; an unknown or malformed ID is a clear error.
func TestClientsShow(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	r := record("show1")
	d.create(t, r)
	t.Run("ok/text", func(t *testing.T) {
		stdout, _ := d.mustRun(t, "show", "show1")
		t.Log("\n" + stdout)
		for _, want := range []string{"client_id:                 show1", "status:                    active",
			"owner:                     developer-1 (https://as.example.com)", "statement issuer:          https://software.example.com",
			"created:                   2026-11-26T08:30:00Z", "last used:                 never since registered",
			"last bind:                 none recorded", "expires:                   never", "secret:                    expires 2027-02-24T08:30:00Z",
			"retained secrets:          1", "previous token:            none in grace", "metadata:\n  {\n    \"redirect_uris\": [",
			`"client_name#fr": "Appli d'exemple"`} {
			if !strings.Contains(stdout, want) {
				t.Errorf("show lacks %q", want)
			}
		}
		assertNoSecrets(t, stdout, r)
	})
	t.Run("ok/json", func(t *testing.T) {
		stdout, _ := d.mustRun(t, "show", "show1", "--json")
		v := jsonLines(t, stdout)
		if len(v) != 1 || v[0].ClientID != "show1" || v[0].Owner.TokenID != "jti-1" || v[0].RetainedSecrets != 1 ||
			!v[0].SecretExpiresAt.Equal(r.SecretExpiresAt) || v[0].Metadata.SoftwareID != r.Metadata.SoftwareID {
			t.Errorf("show --json: %s", stdout)
		}
		assertNoSecrets(t, stdout, r)
	})
	for _, tc := range []struct {
		name, id string
		is       error
		says     string
	}{
		{"fail/unknown", "nobody", registration.ErrNoSuchClient, `no such client: "nobody"`},
		{"fail/not an id", "Bad*ID", nil, "not a client ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := d.run(t, "show", tc.id)
			if err == nil || !strings.Contains(err.Error(), tc.says) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %q", err, tc.says)
			}
		})
	}
}

// TestClientsDisableEnableDelete walks one client through the
// administrator's actions, each seen by list and show.
func TestClientsDisableEnableDelete(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	d.create(t, record("life1"), record("other1"))
	disabledIDs := func() string {
		stdout, _ := d.mustRun(t, "list", "--disabled")
		return strings.Join(sortedKeys(tableRows(t, stdout)), " ")
	}

	stdout, _ := d.mustRun(t, "disable", "life1", "--reason", "suspicious traffic")
	if stdout != "disabled client life1 (suspicious traffic)\n" {
		t.Errorf("disable said %q", stdout)
	}
	if got := disabledIDs(); got != "life1" {
		t.Errorf("list --disabled = %q after disable", got)
	}
	if stdout, _ := d.mustRun(t, "show", "life1"); !strings.Contains(stdout, "disabled:                  suspicious traffic") {
		t.Errorf("show of a disabled client:\n%s", stdout)
	}
	if stdout, _ := d.mustRun(t, "disable", "other1"); stdout != "disabled client other1 (disabled by test)\n" {
		t.Errorf("disable without a reason said %q", stdout)
	}

	if stdout, _ := d.mustRun(t, "enable", "life1"); !strings.HasPrefix(stdout, "enabled client life1") {
		t.Errorf("enable said %q", stdout)
	}
	if got := disabledIDs(); got != "other1" {
		t.Errorf("list --disabled = %q after enable", got)
	}

	if stdout, _ := d.mustRun(t, "delete", "life1"); stdout != "deleted client life1\n" {
		t.Errorf("delete said %q", stdout)
	}
	if _, err := d.get(t, "life1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	for _, args := range [][]string{{"delete", "life1"}, {"enable", "life1"}, {"disable", "life1"}} {
		if _, _, err := d.run(t, args...); !errors.Is(err, registration.ErrNoSuchClient) {
			t.Errorf("%v of a deleted client: %v", args, err)
		}
	}
}

// TestClientsResetToken: a client whose registration access token was lost
// is managed again with the one reset-token prints, and every token it had
// before stops working.
func TestClientsResetToken(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	lost := record("lost1") // its token is "test"
	d.create(t, lost, record("json1"))
	svc := d.service(t)
	// Before: the old token works (and the read rotates it).
	before, err := svc.Read(t.Context(), "lost1", "test")
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr := d.mustRun(t, "reset-token", "lost1", "--new-secret")
	t.Log("\n" + stdout + stderr)
	if !strings.Contains(stderr, "shown this once") {
		t.Errorf("no warning on stderr: %q", stderr)
	}
	token, secret := labelled(stdout, "registration_access_token"), labelled(stdout, "client_secret")
	if token == "" || secret == "" {
		t.Fatalf("reset-token printed:\n%s", stdout)
	}
	for _, old := range []string{"test", before.RegistrationAccessToken} {
		if _, err := svc.Read(t.Context(), "lost1", old); err == nil {
			t.Errorf("an old token (%.8s...) still works", old)
		}
	}
	if reg, err := svc.Read(t.Context(), "lost1", token); err != nil || reg.ClientID != "lost1" {
		t.Fatalf("the new token: %v", err)
	}
	if ok, err := d.store.VerifySecret(t.Context(), "lost1", secret); err != nil || !ok {
		t.Errorf("the new secret does not bind: %t %v", ok, err)
	}

	t.Run("ok/json", func(t *testing.T) {
		stdout, _ := d.mustRun(t, "reset-token", "json1", "--json")
		var v credentialsView
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.ClientID != "json1" ||
			v.RegistrationAccessToken == "" || v.ClientSecret != "" || !strings.HasSuffix(v.RegistrationClientURI, "/json1") {
			t.Fatalf("reset-token --json: %v\n%s", err, stdout)
		}
		if _, err := svc.Read(t.Context(), "json1", v.RegistrationAccessToken); err != nil {
			t.Errorf("the new token: %v", err)
		}
	})
	t.Run("fail/unknown", func(t *testing.T) {
		if _, _, err := d.run(t, "reset-token", "nobody"); !errors.Is(err, registration.ErrNoSuchClient) {
			t.Fatalf("err = %v", err)
		}
	})
}

// service is the registration service on the CLI's configuration, as
// openAdmin builds it, for checking tokens through RFC 7592 reads.
func (d *directory) service(t *testing.T) *registration.Service {
	t.Helper()
	cfg, err := loadServeConfig(d.config)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := adminService(cfg, d.store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

// labelled finds "name: value" in text output.
func labelled(out, name string) string {
	for line := range strings.Lines(out) {
		if label, value, ok := strings.Cut(line, ":"); ok && label == name {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// TestClientsUnreachable: with the directory down every subcommand fails
// at once, saying so.
func TestClientsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	srv := &slapdtest.Server{URL: "ldap://" + addr, BindDN: slapdtest.AdminDN, BindPassword: "secret", BaseDN: slapdtest.ClientsDN}
	d := &directory{srv: srv, config: writeConfig(t, srv, "")}
	for _, args := range [][]string{{"list"}, {"show", "x1"}, {"reap", "--dry-run"}} {
		t.Run("fail/"+args[0], func(t *testing.T) {
			_, _, err := d.run(t, args...)
			if err == nil || !strings.Contains(err.Error(), "unreachable") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line saying the directory is unreachable", err)
			}
		})
	}
}
