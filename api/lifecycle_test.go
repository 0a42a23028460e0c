package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// binder verifies a client secret the way the authorization server does:
// ldapstore binds to the directory as the client.
type binder interface {
	VerifySecret(ctx context.Context, id, secret string) (bool, error)
}

// binds reports whether the directory accepts secret for the client, by a
// real bind on slapd; on memory, whether the stored hashes verify it.
func (h *harness) binds(id, secret string) bool {
	h.t.Helper()
	if b, ok := h.store.(binder); ok {
		ok, err := b.VerifySecret(h.t.Context(), id, secret)
		if err != nil {
			h.t.Fatal(err)
		}
		return ok
	}
	return h.secretWorks(id, secret)
}

// admin is the administrator's side of the harness's service.
func (h *harness) admin() *registration.Admin { return h.svc.Admin("test") }

// TestClientDefaults: the defaults policies fill in what a request omits —
// for the callers they select, the first one naming a member winning —
// and the client records which members came from them.
func TestClientDefaults(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		chain, err := policies.Build([]policies.Spec{
			{Kind: policies.KindDefaults, Scopes: []string{"dcr:partner"}, Metadata: map[string]any{"scope": "openid"}},
			{Kind: policies.KindDefaults, Metadata: map[string]any{"scope": "openid profile",
				"grant_types": []string{"authorization_code", "refresh_token"}, "tenant": "acme"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, func(s *setup) { s.store = newStore(t); s.policy = chain })
		res := h.register(`{"redirect_uris":["https://app.example.com/cb"],"grant_types":["authorization_code"]}`)
		if res.str("scope") != "openid profile" || res.str("tenant") != "acme" || len(res.json["grant_types"].([]any)) != 1 {
			t.Fatalf("defaults not applied, or over the request's own: %s", res.Body)
		}
		r, err := h.store.Get(t.Context(), res.str("client_id"))
		if err != nil || !reflect.DeepEqual(r.Defaulted, []string{"scope", "tenant"}) {
			t.Fatalf("recorded defaults %v (%v), want scope and tenant", r.Defaulted, err)
		}
		partner := h.register(webClient, h.token("dcr", "dcr:partner"))
		if partner.str("scope") != "openid" {
			t.Fatalf("a partner's client: scope %q, want the first policy's", partner.str("scope"))
		}
	})
}

// TestClientLifetime: a client expires unless used; its use renews it; an
// expired client answers as an unknown one and the reaper removes it.
func TestClientLifetime(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) {
			s.store = newStore(t)
			s.opts.ClientLifetime = 30 * 24 * time.Hour
			s.opts.Management.RotateClientSecret, s.opts.Management.RotateRegistrationAccessToken = false, false
		})
		used, idle := h.registerClient(webClient), h.registerClient(webClient)
		h.now = h.now.Add(20 * 24 * time.Hour)
		if res := h.do(http.MethodGet, clientPath(used.id), used.token, ""); res.Code != http.StatusOK {
			t.Fatalf("read within the lifetime: %d", res.Code)
		}
		h.now = h.now.Add(20 * 24 * time.Hour) // 40 days after registration
		if res := h.do(http.MethodGet, clientPath(used.id), used.token, ""); res.Code != http.StatusOK {
			t.Fatalf("a client read 20 days ago expired: %d %s", res.Code, res.Body)
		}
		wantError(t, h.do(http.MethodGet, clientPath(idle.id), idle.token, ""), 401, "invalid_token", "")
		done, err := h.admin().Reap(t.Context(), registration.ReapOptions{}, nil)
		if err != nil || done[registration.ReasonExpired] != 1 {
			t.Fatalf("reaped %v (%v), want the one expired client", done, err)
		}
		if _, err := h.store.Get(t.Context(), idle.id); err == nil {
			t.Fatal("the expired client is still stored")
		}
		if _, err := h.store.Get(t.Context(), used.id); err != nil {
			t.Fatalf("the used client was reaped: %v", err)
		}
	})
}

// TestClientSecretLifetime: client_secret_expires_at is reported truly;
// after it the secret is refused — by dcrgate in an update, by the
// directory once the reaper ran — and the next read issues a new one.
func TestClientSecretLifetime(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) {
			s.store = newStore(t)
			s.opts.ClientSecretLifetime = time.Hour
			s.opts.Management.RotateClientSecret, s.opts.Management.RotateRegistrationAccessToken = false, false
		})
		res := h.register(webClient)
		c := registered{res.str("client_id"), res.str("client_secret"), res.str("registration_access_token")}
		if want := h.now.Add(time.Hour).Unix(); res.json["client_secret_expires_at"] != float64(want) {
			t.Fatalf("client_secret_expires_at = %v, want %d", res.json["client_secret_expires_at"], want)
		}
		h.now = h.now.Add(2 * time.Hour)
		update := fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"redirect_uris":["https://app.example.com/cb"]}`, c.id, c.secret)
		wantError(t, h.do(http.MethodPut, clientPath(c.id), c.token, update), 400, "invalid_client_metadata", "expired")
		done, err := h.admin().Reap(t.Context(), registration.ReapOptions{}, nil)
		if err != nil || done[registration.ReasonSecretsSettled] != 1 {
			t.Fatalf("reaped %v (%v), want the expired secret removed", done, err)
		}
		if h.binds(c.id, c.secret) {
			t.Fatal("the expired secret still binds after the reaper ran")
		}
		res = h.do(http.MethodGet, clientPath(c.id), c.token, "")
		if res.Code != http.StatusOK || res.str("client_secret") == "" || !h.binds(c.id, res.str("client_secret")) {
			t.Fatalf("the read after expiry must issue a working secret: %d %s", res.Code, res.Body)
		}
	})
}

// TestApproval: a client an approval policy matches is stored disabled —
// the 201 says so, its management answers as for an unknown client, the
// directory refuses its secret — until an administrator enables it.
func TestApproval(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		chain, err := policies.Build([]policies.Spec{{Name: "review", Kind: policies.KindApproval,
			Expression: `metadata.client_name.startsWith("Partner")`}})
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, func(s *setup) { s.store = newStore(t); s.policy = chain })
		if res := h.register(webClient); res.str(api.ClientStatusMember) != "" {
			t.Fatalf("a client no policy holds: %s", res.Body)
		}
		res := h.register(`{"redirect_uris":["https://app.example.com/cb"],"client_name":"Partner App"}`)
		if res.str(api.ClientStatusMember) != api.StatusAwaitingApproval {
			t.Fatalf("the 201 does not say the client awaits approval: %s", res.Body)
		}
		c := registered{res.str("client_id"), res.str("client_secret"), res.str("registration_access_token")}
		wantError(t, h.do(http.MethodGet, clientPath(c.id), c.token, ""), 401, "invalid_token", "")
		wantError(t, h.do(http.MethodDelete, clientPath(c.id), c.token, ""), 401, "invalid_token", "")
		if _, isLDAP := h.store.(binder); isLDAP && h.binds(c.id, c.secret) {
			t.Fatal("the directory accepts the secret of a client awaiting approval")
		}
		if _, err := h.admin().Enable(t.Context(), c.id); err != nil {
			t.Fatal(err)
		}
		if !h.binds(c.id, c.secret) {
			t.Fatal("the approved client's secret does not bind")
		}
		if res := h.do(http.MethodGet, clientPath(c.id), c.token, ""); res.Code != http.StatusOK || res.str(api.ClientStatusMember) != "" {
			t.Fatalf("the approved client: %d %s", res.Code, res.Body)
		}
	})
}

// TestDisable: a disabled client can be neither managed nor, on a
// directory, bound as; enabling it gives everything back.
func TestDisable(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) { s.store = newStore(t) })
		c := h.registerClient(webClient)
		if _, err := h.admin().Disable(t.Context(), c.id, "leaked secret"); err != nil {
			t.Fatal(err)
		}
		wantError(t, h.do(http.MethodGet, clientPath(c.id), c.token, ""), 401, "invalid_token", "")
		if _, isLDAP := h.store.(binder); isLDAP && h.binds(c.id, c.secret) {
			t.Fatal("a disabled client still binds")
		}
		if r, err := h.admin().Get(t.Context(), c.id); err != nil || !r.Disabled || r.DisabledReason != "leaked secret" {
			t.Fatalf("stored %+v, %v", r, err)
		}
		if _, err := h.admin().Enable(t.Context(), c.id); err != nil {
			t.Fatal(err)
		}
		if !h.binds(c.id, c.secret) {
			t.Fatal("the enabled client's secret does not bind")
		}
		if res := h.do(http.MethodGet, clientPath(c.id), c.token, ""); res.Code != http.StatusOK {
			t.Fatalf("the enabled client: %d", res.Code)
		}
	})
}

// TestRetainedSecretReaped: a retained secret past its retention no longer
// binds once the reaper has run, though nobody wrote the entry since.
func TestRetainedSecretReaped(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) {
			s.store = newStore(t)
			s.opts.Management.RetainClientSecret = true
			s.opts.Management.ClientSecretRetentionPeriod = time.Hour
		})
		c := h.registerClient(webClient)
		res := h.do(http.MethodGet, clientPath(c.id), c.token, "")
		if res.Code != http.StatusOK || !h.binds(c.id, c.secret) {
			t.Fatalf("the retained secret must bind within its retention: %d", res.Code)
		}
		h.now = h.now.Add(2 * time.Hour)
		if _, err := h.admin().Reap(t.Context(), registration.ReapOptions{DryRun: true}, nil); err != nil || !h.binds(c.id, c.secret) {
			t.Fatalf("a dry run changed something: %v", err)
		}
		done, err := h.admin().Reap(t.Context(), registration.ReapOptions{}, nil)
		if err != nil || done[registration.ReasonSecretsSettled] != 1 {
			t.Fatalf("reaped %v (%v)", done, err)
		}
		if h.binds(c.id, c.secret) || !h.binds(c.id, res.str("client_secret")) {
			t.Fatal("after the reaper the retained secret must fail and the current one bind")
		}
	})
}

// TestResetToken: an administrator revives a client whose developer lost
// its registration access token; the old token and secret stop at once.
func TestResetToken(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) { s.store = newStore(t); s.opts.Management.RotationGracePeriod = time.Hour })
		c := h.registerClient(webClient)
		reg, err := h.admin().ResetToken(t.Context(), c.id, true)
		if err != nil || reg.RegistrationAccessToken == "" || reg.ClientSecret == "" {
			t.Fatalf("reset: %+v, %v", reg, err)
		}
		wantError(t, h.do(http.MethodGet, clientPath(c.id), c.token, ""), 401, "invalid_token", "")
		if h.binds(c.id, c.secret) || !h.binds(c.id, reg.ClientSecret) {
			t.Fatal("after a reset the old secret must fail and the new one bind")
		}
		if res := h.do(http.MethodGet, clientPath(c.id), reg.RegistrationAccessToken, ""); res.Code != http.StatusOK {
			t.Fatalf("the reset token: %d %s", res.Code, res.Body)
		}
	})
}

// TestIdleSecretClients: with the directory's last-bind record (OpenLDAP's
// lastbind overlay), the reaper removes clients whose secret has not bound
// for the configured time, and keeps those that bound; on a directory
// without such records it refuses, since every client would look idle.
func TestIdleSecretClients(t *testing.T) {
	srv := slapdtest.StartWith(t, slapdtest.Options{LastBind: true})
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := newHarness(t, func(s *setup) { s.store = st })
	h.now = time.Now().Add(-100 * 24 * time.Hour)
	active, idle, public := h.registerClient(webClient), h.registerClient(webClient),
		h.registerClient(`{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`)
	if !h.binds(active.id, active.secret) {
		t.Fatal("the active client's secret does not bind")
	}
	h.now = time.Now()
	var seen []string
	done, err := h.admin().Reap(t.Context(), registration.ReapOptions{IdleSecret: 90 * 24 * time.Hour},
		func(r registration.Reaped) { seen = append(seen, r.ClientID) })
	if err != nil || done[registration.ReasonIdleSecret] != 1 || !reflect.DeepEqual(seen, []string{idle.id}) {
		t.Fatalf("reaped %v %v (%v), want only the client that never bound", done, seen, err)
	}
	for _, id := range []string{active.id, public.id} {
		if _, err := st.Get(t.Context(), id); err != nil {
			t.Fatalf("client %s reaped: %v", id, err)
		}
	}
	done, err = h.admin().Reap(t.Context(), registration.ReapOptions{IdlePublic: 90 * 24 * time.Hour}, nil)
	if err != nil || done[registration.ReasonIdlePublic] != 1 {
		t.Fatalf("reaped %v (%v), want the idle public client", done, err)
	}

	plain := newHarness(t, func(s *setup) { s.store = ldapBackend(t) })
	plain.registerClient(webClient)
	if _, err := plain.admin().Reap(t.Context(), registration.ReapOptions{IdleSecret: time.Hour}, nil); !errors.Is(err, registration.ErrNoBindRecords) {
		t.Fatalf("idle-secret reaping without bind records: %v", err)
	}
}
