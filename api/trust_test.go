package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// trustChain is the example configuration's kind of chain: trusted hosts,
// machine clients for administrators only, and a scope allow-list that
// only tokens with the dcr scope are held to.
func trustChain(t *testing.T) policies.Chain {
	t.Helper()
	chain, err := policies.Build([]policies.Spec{
		{Name: "trusted-hosts", Kind: policies.KindRedirectURIHosts, Values: []string{"*.example.com", "127.0.0.1"}},
		{Name: "admins-only-machines", Kind: policies.KindCEL, Error: "access_denied",
			Expression: `!("client_credentials" in metadata.grant_types) || "dcr:admin" in principal.scopes`},
		{Name: "dcr-scopes", Kind: policies.KindAllowedScopes, Values: []string{"openid", "profile"}, Scopes: []string{"dcr"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return chain
}

// TestUpdateTokenBeforeBody: RFC 7592 §2.2 — a PUT with a wrong or unknown
// registration access token is 401, whatever its body, and the answer is
// the same as for an unknown client: no validation or policy detail
// reaches a caller who could not manage the client. The right token gets
// the details.
func TestUpdateTokenBeforeBody(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) {
			s.store = newStore(t)
			s.policy = trustChain(t)
			s.opts.Metadata.Extensions = []client.Extension{{Name: "tenant", Type: "string", Required: true}}
		})
		c := h.registerClient(`{"redirect_uris":["https://app.example.com/cb"],"tenant":"acme"}`)
		other := h.registerClient(`{"redirect_uris":["https://app.example.com/cb"],"tenant":"acme"}`)
		bodies := map[string]struct{ body, code, mentions string }{
			"policy refusal":    {`{"client_id":"ID","tenant":"acme","redirect_uris":["https://evil.example.net/cb"]}`, "invalid_redirect_uri", "policy trusted-hosts"},
			"missing extension": {`{"client_id":"ID","redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "tenant"},
			"malformed JSON":    {`{"client_id":`, "invalid_client_metadata", "JSON"},
			"other client_id":   {`{"client_id":"someone","tenant":"acme","redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_id"},
			"server members":    {`{"client_id":"ID","tenant":"acme","client_id_issued_at":1,"redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_id_issued_at"},
		}
		unknown := h.do(http.MethodPut, clientPath("nosuchclient"), c.token, `{"client_id":"nosuchclient"}`)
		wantError(t, unknown, 401, "invalid_token", "")
		for name, b := range bodies {
			body := strings.ReplaceAll(b.body, `"ID"`, fmt.Sprintf("%q", c.id))
			for who, token := range map[string]string{"wrong token": "wrong", "other client's token": other.token,
				"initial access token": h.token("dcr", "dcr:admin")} {
				res := h.do(http.MethodPut, clientPath(c.id), token, body)
				if res.Code != 401 || res.Body.String() != unknown.Body.String() {
					t.Errorf("%s, %s: %d %s; want the unknown client's 401", name, who, res.Code, res.Body)
				}
			}
			wantError(t, h.do(http.MethodPut, clientPath(c.id), c.token, body), 400, b.code, b.mentions)
		}
	})
}

// TestUpdateJudgedAsTheOwner: the policies judge an update as the caller
// whose token registered the client, so a PUT can never obtain what the
// registration would have been refused — and an administrator's client
// keeps what the administrator may have.
func TestUpdateJudgedAsTheOwner(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) { s.store = newStore(t); s.policy = trustChain(t) })
		machine := func(id, name string) string {
			return fmt.Sprintf(`{"client_id":%q,"client_name":%q,"grant_types":["client_credentials"],"response_types":[]}`, id, name)
		}
		dev := h.registerClient(webClient)
		wantError(t, h.do(http.MethodPut, clientPath(dev.id), dev.token, machine(dev.id, "now a machine")),
			403, "access_denied", "policy admins-only-machines")
		res := h.do(http.MethodGet, clientPath(dev.id), dev.token, "")
		if res.Code != http.StatusOK || res.json["grant_types"].([]any)[0] != "authorization_code" {
			t.Fatalf("the refused update changed the client: %d %s", res.Code, res.Body)
		}
		dev.token = res.str("registration_access_token")
		wantError(t, h.do(http.MethodPut, clientPath(dev.id), dev.token,
			fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"scope":"openid email"}`, dev.id)),
			400, "invalid_client_metadata", "policy dcr-scopes")

		admin := h.register(`{"grant_types":["client_credentials"],"response_types":[]}`, h.token("dcr:admin"))
		id, token := admin.str("client_id"), admin.str("registration_access_token")
		if res := h.do(http.MethodPut, clientPath(id), token, machine(id, "renamed by its admin")); res.Code != http.StatusOK {
			t.Fatalf("an administrator's own update refused: %d %s", res.Code, res.Body)
		}
	})
}

// TestUpdateWithinSoftwareStatement: what a software statement fixed at
// registration holds on every update that does not bring a new statement:
// its claims take precedence over the body, its issuer's grant bounds the
// scope, and a policy requiring a statement is still met.
func TestUpdateWithinSoftwareStatement(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		signer := newDevIssuer(t, "https://software.example.com")
		h := newHarness(t, statementSetup(t, signer), func(s *setup) {
			s.store = newStore(t)
			s.policy = policies.SoftwareStatement{}
		})
		reg := h.register(withStatement(statement(t, signer), ""))
		id, token := reg.str("client_id"), reg.str("registration_access_token")
		put := func(body string) response {
			t.Helper()
			res := h.do(http.MethodPut, clientPath(id), token, body)
			if res.Code == http.StatusOK {
				token = res.str("registration_access_token")
			}
			return res
		}
		res := put(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"software_id":"evil","client_name":"Mine now"}`, id))
		if res.Code != http.StatusOK || res.str("software_id") != "app-42" || res.str("client_name") != "Signed Name" {
			t.Fatalf("an update escaped its statement: %d %s", res.Code, res.Body)
		}
		wantError(t, put(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"scope":"openid admin"}`, id)),
			400, "invalid_client_metadata", "not granted")
		if res := put(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"scope":"read"}`, id)); res.Code != http.StatusOK || res.str("scope") != "read" {
			t.Fatalf("a narrower scope: %d %s", res.Code, res.Body)
		}
		fresh := statement(t, signer, devissuer.WithClaim("client_name", "Signed Again"))
		res = put(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"software_statement":%q}`, id, fresh))
		if res.Code != http.StatusOK || res.str("client_name") != "Signed Again" {
			t.Fatalf("a new statement: %d %s", res.Code, res.Body)
		}
		forged := statement(t, newDevIssuer(t, "https://stranger.example.com"), devissuer.WithClaim("iss", signer.Issuer()))
		wantError(t, put(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"software_statement":%q}`, id, forged)),
			400, "invalid_software_statement", "")
		res = h.do(http.MethodGet, clientPath(id), token, "")
		if res.Code != http.StatusOK || res.str("client_name") != "Signed Again" || res.str("software_id") != "app-42" {
			t.Fatalf("after the refused statement: %d %s", res.Code, res.Body)
		}
	})
}

// TestRotationGrace: after a rotation the replaced token (and secret)
// keeps working for the grace period, so a client whose answer was lost
// is never locked out; the first use of the new token ends it, and a
// caller that retries with the old token keeps it as long as the first
// grace lasts, never longer.
func TestRotationGrace(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) {
			s.store = newStore(t)
			s.opts.Management.RotationGracePeriod = 10 * time.Minute
		})
		c := h.registerClient(webClient)
		get := func(token string) response { t.Helper(); return h.do(http.MethodGet, clientPath(c.id), token, "") }

		lost := get(c.token) // this answer never reaches the client
		if lost.Code != http.StatusOK {
			t.Fatalf("GET: %d %s", lost.Code, lost.Body)
		}
		h.now = h.now.Add(4 * time.Minute)
		retry := get(c.token)
		if retry.Code != http.StatusOK {
			t.Fatalf("the token whose rotation was lost is refused: %d %s", retry.Code, retry.Body)
		}
		if !h.secretWorks(c.id, c.secret) || h.secretWorks(c.id, lost.str("client_secret")) || !h.secretWorks(c.id, retry.str("client_secret")) {
			t.Fatal("want the secret the client holds and the new one working, and the undelivered one not")
		}
		h.now = h.now.Add(4 * time.Minute)
		if res := get(c.token); res.Code != http.StatusOK {
			t.Fatalf("within the first grace period: %d", res.Code)
		}
		h.now = h.now.Add(3 * time.Minute) // 11 minutes after the first rotation
		wantError(t, get(c.token), 401, "invalid_token", "")

		next := h.registerClient(webClient)
		first := h.do(http.MethodGet, clientPath(next.id), next.token, "")
		second := h.do(http.MethodGet, clientPath(next.id), first.str("registration_access_token"), "")
		if second.Code != http.StatusOK {
			t.Fatalf("the new token: %d", second.Code)
		}
		wantError(t, h.do(http.MethodGet, clientPath(next.id), next.token, ""), 401, "invalid_token", "")
		if h.secretWorks(next.id, next.secret) {
			t.Fatal("the first use of the new token must end the old secret's grace")
		}
		if !h.secretWorks(next.id, first.str("client_secret")) {
			t.Fatal("the secret replaced by the last rotation must be in its grace period")
		}
		if res := h.do(http.MethodDelete, clientPath(next.id), first.str("registration_access_token"), ""); res.Code != http.StatusNoContent {
			t.Fatalf("DELETE with the previous token in grace: %d %s", res.Code, res.Body)
		}
	})
}

// TestHostileClaims: a trusted token whose claims the directory could not
// store is the token's fault — 401 invalid_token, never a 500 — and a jti
// that does not fit the directory is kept as its hash, so counting per
// token still works.
func TestHostileClaims(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		h := newHarness(t, func(s *setup) { s.store = newStore(t); s.opts.MaxRegistrationsPerToken = 1 })
		mint := func(subject string, opts ...devissuer.MintOption) string {
			t.Helper()
			tok, err := h.issuer.Mint(subject, []string{"dcr"}, time.Hour, opts...)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		for name, tok := range map[string]string{
			"NUL in sub":          mint("dev\x00eloper"),
			"C1 control in sub":   mint("dev\u0085eloper"),
			"NUL in client_id":    mint("developer", devissuer.WithClaim("client_id", "a\x00b")),
			"space inside scope":  mint("developer", devissuer.WithClaim("scope", []string{"dcr", "a b"})),
			"oversized subject":   mint(strings.Repeat("s", 1025)),
			"escape in client_id": mint("developer", devissuer.WithClaim("client_id", "\x1b[31mred")),
		} {
			wantError(t, h.do(http.MethodPost, endpoint, tok, webClient), 401, "invalid_token", "")
			if n := h.stored(t); n != 0 {
				t.Fatalf("%s: %d clients stored", name, n)
			}
		}
		odd := mint("developer", devissuer.WithClaim("jti", "jti with spaces and ünïcode"))
		if res := h.do(http.MethodPost, endpoint, odd, webClient); res.Code != http.StatusCreated {
			t.Fatalf("a jti the directory cannot hold as is: %d %s", res.Code, res.Body)
		}
		wantError(t, h.do(http.MethodPost, endpoint, odd, webClient), http.StatusForbidden, "access_denied", "already registered 1")
	})
}
