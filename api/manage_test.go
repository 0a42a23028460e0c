package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
)

// registered is a client as its developer holds it.
type registered struct {
	id, secret, token string
}

func (h *harness) registerClient(body string) registered {
	h.t.Helper()
	res := h.register(body)
	return registered{res.str("client_id"), res.str("client_secret"), res.str("registration_access_token")}
}

func (h *harness) secretWorks(id, secret string) bool {
	h.t.Helper()
	r, err := h.store.Get(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range r.Secrets {
		if ok, _ := h.hasher.Verify(secret, s.Hash); ok {
			return true
		}
	}
	return false
}

func TestReadRotates(t *testing.T) {
	h := newHarness(t)
	c := h.registerClient(webClient)
	res := h.do(http.MethodGet, clientPath(c.id), c.token, "")
	if res.Code != http.StatusOK || res.str("client_id") != c.id || res.str("client_name") != "Web App" {
		t.Fatalf("GET: %d %s", res.Code, res.Body)
	}
	newSecret, newToken := res.str("client_secret"), res.str("registration_access_token")
	if newSecret == "" || newSecret == c.secret || newToken == "" || newToken == c.token {
		t.Fatalf("GET did not rotate: secret %q token %q", newSecret, newToken)
	}
	if h.secretWorks(c.id, c.secret) || !h.secretWorks(c.id, newSecret) {
		t.Fatal("after rotation the old secret must fail and the new one work")
	}
	wantError(t, h.do(http.MethodGet, clientPath(c.id), c.token, ""), 401, "invalid_token", "")
	if res := h.do(http.MethodGet, clientPath(c.id), newToken, ""); res.Code != http.StatusOK {
		t.Fatalf("new token refused: %d", res.Code)
	}
}

func TestReadWithoutRotation(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.opts.Management.RotateClientSecret = false
		s.opts.Management.RotateRegistrationAccessToken = false
	})
	c := h.registerClient(webClient)
	for range 2 {
		res := h.do(http.MethodGet, clientPath(c.id), c.token, "")
		if res.Code != http.StatusOK {
			t.Fatalf("GET: %d %s", res.Code, res.Body)
		}
		if res.str("client_secret") != "" || res.str("registration_access_token") != "" {
			t.Fatal("credentials re-issued although rotation is off")
		}
		if res.json["client_secret_expires_at"] != float64(0) {
			t.Fatal("client_secret_expires_at missing for a confidential client")
		}
	}
	if !h.secretWorks(c.id, c.secret) {
		t.Fatal("secret changed although rotation is off")
	}
}

func TestRetainClientSecret(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.Management.RetainClientSecret = true })
	c := h.registerClient(webClient)
	res := h.do(http.MethodGet, clientPath(c.id), c.token, "")
	second := res.str("client_secret")
	if !h.secretWorks(c.id, c.secret) || !h.secretWorks(c.id, second) {
		t.Fatal("within the retention period both secrets must work")
	}
	h.now = h.now.Add(2 * time.Hour) // past the one-hour retention period
	res = h.do(http.MethodGet, clientPath(c.id), res.str("registration_access_token"), "")
	if res.Code != http.StatusOK {
		t.Fatalf("GET: %d", res.Code)
	}
	if h.secretWorks(c.id, c.secret) {
		t.Fatal("a secret past its retention period still works")
	}
	if !h.secretWorks(c.id, second) || !h.secretWorks(c.id, res.str("client_secret")) {
		t.Fatal("the just-rotated secret must be retained and the new one work")
	}
}

func TestManagementNoOracle(t *testing.T) {
	h := newHarness(t)
	a := h.registerClient(webClient)
	b := h.registerClient(webClient)
	cases := map[string]response{
		"unknown client":   h.do(http.MethodGet, clientPath("nosuchclient"), a.token, ""),
		"wrong token":      h.do(http.MethodGet, clientPath(a.id), "wrong", ""),
		"other's token":    h.do(http.MethodGet, clientPath(b.id), a.token, ""),
		"malformed id":     h.do(http.MethodGet, clientPath("UPPER*)(x"), a.token, ""),
		"delete unknown":   h.do(http.MethodDelete, clientPath("nosuchclient"), a.token, ""),
		"delete other's":   h.do(http.MethodDelete, clientPath(b.id), a.token, ""),
		"iat as rat":       h.do(http.MethodGet, clientPath(a.id), h.token("dcr"), ""),
		"update other's":   h.do(http.MethodPut, clientPath(b.id), a.token, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://x.example/cb"]}`, b.id)),
		"update unknown":   h.do(http.MethodPut, clientPath("nosuchclient"), a.token, `{"client_id":"nosuchclient","redirect_uris":["https://x.example/cb"]}`),
		"update malformed": h.do(http.MethodPut, clientPath("a,b"), a.token, `{"client_id":"a,b","redirect_uris":["https://x.example/cb"]}`),
	}
	want := cases["unknown client"].Body.String()
	for name, res := range cases {
		wantError(t, res, 401, "invalid_token", "")
		if res.Body.String() != want || res.Header().Get("WWW-Authenticate") != `Bearer realm="dcrgate", error="invalid_token"` {
			t.Errorf("%s: answer differs from an unknown client's: %s", name, res.Body)
		}
	}
	wantError(t, h.do(http.MethodGet, clientPath(a.id), "", ""), 401, "invalid_token", "")
	// The failed attempts changed nothing.
	if res := h.do(http.MethodGet, clientPath(b.id), b.token, ""); res.Code != http.StatusOK {
		t.Fatalf("b's own token stopped working: %d", res.Code)
	}
}

func TestUpdate(t *testing.T) {
	h := newHarness(t)
	c := h.registerClient(`{"redirect_uris":["https://app.example.com/cb"],"client_name":"Web App","logo_uri":"https://app.example.com/logo.png"}`)
	body := fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"redirect_uris":["https://app.example.com/cb2"],"client_name":"Renamed"}`, c.id, c.secret)
	res := h.do(http.MethodPut, clientPath(c.id), c.token, body)
	if res.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.Code, res.Body)
	}
	if res.str("client_name") != "Renamed" || res.json["redirect_uris"].([]any)[0] != "https://app.example.com/cb2" {
		t.Fatalf("PUT did not replace: %s", res.Body)
	}
	if _, ok := res.json["logo_uri"]; ok {
		t.Fatal("an omitted field survived the full replacement")
	}
	if res.str("client_secret") == c.secret || res.str("registration_access_token") == c.token {
		t.Fatal("PUT did not rotate")
	}
	wantError(t, h.do(http.MethodPut, clientPath(c.id), c.token, body), 401, "invalid_token", "")
}

func TestUpdateRejects(t *testing.T) {
	h := newHarness(t)
	c := h.registerClient(webClient)
	tests := []struct {
		name, body, code, mentions string
	}{
		{"fail/no client_id", `{"redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_id"},
		{"fail/other client_id", `{"client_id":"someoneelse","redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_id"},
		{"fail/registration_access_token", `{"client_id":"ID","registration_access_token":"x","redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "registration_access_token"},
		{"fail/registration_client_uri", `{"client_id":"ID","registration_client_uri":"https://x","redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "registration_client_uri"},
		{"fail/client_secret_expires_at", `{"client_id":"ID","client_secret_expires_at":0,"redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_secret_expires_at"},
		{"fail/client_id_issued_at", `{"client_id":"ID","client_id_issued_at":0,"redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_id_issued_at"},
		{"fail/wrong secret", `{"client_id":"ID","client_secret":"guess","redirect_uris":["https://app.example.com/cb"]}`, "invalid_client_metadata", "client_secret"},
		{"fail/bad redirect", `{"client_id":"ID","redirect_uris":["http://app.example.com/cb"]}`, "invalid_redirect_uri", "redirect"},
		{"fail/malformed", `{"client_id":`, "invalid_client_metadata", "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.ReplaceAll(tt.body, `"ID"`, fmt.Sprintf("%q", c.id))
			wantError(t, h.do(http.MethodPut, clientPath(c.id), c.token, body), 400, tt.code, tt.mentions)
		})
	}
	// Nothing was changed by the refused updates: the token still works.
	res := h.do(http.MethodGet, clientPath(c.id), c.token, "")
	if res.Code != http.StatusOK || res.str("client_name") != "Web App" {
		t.Fatalf("refused updates changed the client: %d %s", res.Code, res.Body)
	}
}

func TestUpdateToPublicAndBack(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.Management.RotateClientSecret = false })
	c := h.registerClient(webClient)
	res := h.do(http.MethodPut, clientPath(c.id), c.token,
		fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none"}`, c.id))
	if res.Code != http.StatusOK || res.str("client_secret") != "" || h.secretWorks(c.id, c.secret) {
		t.Fatalf("to public: %d %s", res.Code, res.Body)
	}
	res = h.do(http.MethodPut, clientPath(c.id), res.str("registration_access_token"),
		fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"]}`, c.id))
	if res.Code != http.StatusOK || res.str("client_secret") == "" || !h.secretWorks(c.id, res.str("client_secret")) {
		t.Fatalf("back to confidential must issue a secret: %d %s", res.Code, res.Body)
	}
}

func TestDelete(t *testing.T) {
	h := newHarness(t)
	c := h.registerClient(webClient)
	res := h.do(http.MethodDelete, clientPath(c.id), c.token, "")
	if res.Code != http.StatusNoContent || res.Body.Len() != 0 {
		t.Fatalf("DELETE: %d %s", res.Code, res.Body)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		wantError(t, h.do(method, clientPath(c.id), c.token, ""), 401, "invalid_token", "")
	}
	wantError(t, h.do(http.MethodPut, clientPath(c.id), c.token, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://a.example/cb"]}`, c.id)), 401, "invalid_token", "")
}

func TestDeleteDisabled(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.Management.AllowClientDelete = false })
	c := h.registerClient(webClient)
	res := h.do(http.MethodDelete, clientPath(c.id), c.token, "")
	wantError(t, res, 405, "invalid_request", "delete")
	if got := res.Header().Get("Allow"); got != "GET, PUT" {
		t.Fatalf("Allow = %q", got)
	}
	if _, err := h.store.Get(t.Context(), c.id); err != nil {
		t.Fatalf("client gone after a refused delete: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	h.register(webClient)
	h.do(http.MethodGet, clientPath("nosuchclient"), "x", "")
	families, err := h.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			seen[f.GetName()+" "+labels["handler"]+" "+labels["code"]] = true
		}
	}
	for _, want := range []string{
		"dcrgate_http_requests_total " + endpoint + " 201",
		"dcrgate_http_requests_total " + endpoint + "/:client_id 401",
	} {
		if !seen[want] {
			t.Errorf("missing metric %q in %v", want, seen)
		}
	}
}

// panicking is a Registrar that fails in the worst way, to prove the
// recovery middleware answers without internals.
type panicking struct{}

func (panicking) Register(context.Context, string, []byte) (registration.Registration, error) {
	panic("secret internal state")
}
func (panicking) Read(context.Context, string, string) (registration.Registration, error) {
	return registration.Registration{}, errors.New("ldap: internal detail")
}
func (panicking) Update(context.Context, string, string, []byte) (registration.Registration, error) {
	panic("boom")
}
func (panicking) Delete(context.Context, string, string) error { panic("boom") }

func TestServerErrorsHideInternals(t *testing.T) {
	cfg := defaultSetup().api
	router := api.NewRouter(cfg, panicking{}, metrics.New(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	h := &harness{t: t, handler: router, allowServerError: true}
	for _, res := range []response{
		h.do(http.MethodPost, endpoint, "t", webClient),
		h.do(http.MethodGet, clientPath("abc"), "t", ""),
	} {
		if res.Code != 500 || res.str("error") != "server_error" || strings.Contains(res.Body.String(), "internal") {
			t.Fatalf("got %d %s", res.Code, res.Body)
		}
	}
}
