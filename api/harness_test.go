package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/memstore"
)

const (
	endpoint    = "/as/clients.oauth2"
	externalURL = "https://dcr.example.com"
)

// harness is the real gin engine over the real registration service, a
// memory store and a JWKS validator reading a development issuer's keys
// over HTTP: every layer but the directory is the production code.
type harness struct {
	t        *testing.T
	handler  http.Handler
	issuer   *devissuer.Issuer
	store    store.Store
	registry *prometheus.Registry
	now      time.Time
	hasher   credentials.Hasher
	svc      *registration.Service
	// allowServerError is set only by the test that provokes 500s.
	allowServerError bool
}

// setup describes one harness; tests change the defaults they care about.
type setup struct {
	api    api.Config
	opts   registration.Options
	store  store.Store
	policy policies.Policy
	// tokens, when set, replaces the development issuer's validator.
	tokens func(dev iat.Validator) iat.Validator
	// registrar, when set, replaces the registration service behind the
	// engine (the service is still built, for tests that reach the store).
	registrar api.Registrar
}

func defaultSetup() setup {
	return setup{
		api: api.Config{Path: endpoint, RegistrationEnabled: true, ManagementEnabled: true,
			MaxBodyBytes: 64 << 10, Realm: "dcrgate"},
		opts: registration.Options{
			RequireInitialAccessToken: true,
			RequiredScopes:            []string{"dcr", "dcr:admin"},
			Management: registration.Management{Enabled: true, RotateClientSecret: true,
				RotateRegistrationAccessToken: true, AllowClientDelete: true,
				ClientSecretRetentionPeriod: time.Hour},
			Metadata: client.Options{
				Extensions:      []client.Extension{{Name: "tenant", Type: "string"}},
				MaxRedirectURIs: 5,
			},
			ClientURI: func(id string) string { return externalURL + endpoint + "/" + id },
		},
	}
}

// harnessIssuer is the issuer of the harness's initial access tokens.
const harnessIssuer = "https://as.example.com"

func newHarness(t *testing.T, change ...func(*setup)) *harness {
	t.Helper()
	s := defaultSetup()
	for _, c := range change {
		if c != nil {
			c(&s)
		}
	}
	issuer, err := devissuer.New(harnessIssuer)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(issuer.JWKSHandler())
	t.Cleanup(jwks.Close)
	validator, err := iat.NewJWKSValidator(t.Context(), iat.JWKSConfig{Issuer: issuer.Issuer(), JWKSURI: jwks.URL}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = validator.Close() })
	if s.store == nil {
		s.store = memstore.New()
	}
	hasher, _ := credentials.NewHasher(credentials.SchemeSSHA512)
	h := &harness{t: t, issuer: issuer, store: s.store, registry: prometheus.NewRegistry(),
		now: time.Now(), hasher: hasher}
	options := []registration.Option{registration.WithClock(func() time.Time { return h.now })}
	if s.policy != nil {
		options = append(options, registration.WithPolicy(s.policy))
	}
	var tokens iat.Validator = validator
	if s.tokens != nil {
		tokens = s.tokens(validator)
	}
	svc := registration.New(s.store, tokens, hasher, s.opts, options...)
	t.Cleanup(svc.Close)
	h.svc = svc
	var registrar api.Registrar = svc
	if s.registrar != nil {
		registrar = s.registrar
	}
	h.handler = api.NewRouter(s.api, registrar, metrics.New(h.registry), slog.New(slog.DiscardHandler))
	return h
}

// token mints an initial access token with the given scopes.
func (h *harness) token(scopes ...string) string {
	h.t.Helper()
	tok, err := h.issuer.Mint("developer-1", scopes, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// response is a recorded response with its body decoded when it is JSON.
type response struct {
	*httptest.ResponseRecorder
	json map[string]any
}

func (r response) str(name string) string { s, _ := r.json[name].(string); return s }

func (h *harness) do(method, path, bearer, body string, headers ...string) response {
	h.t.Helper()
	return h.serve(newRequest(method, path, bearer, body, headers...))
}

// newRequest builds a request: body, when set, as JSON; bearer, when set,
// as the Authorization; then headers, as name/value pairs.
func newRequest(method, path, bearer, body string, headers ...string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// serve sends req through the engine and checks what every answer carries.
func (h *harness) serve(req *http.Request) response {
	h.t.Helper()
	rr := httptest.NewRecorder()
	h.handler.ServeHTTP(rr, req)
	res := response{ResponseRecorder: rr}
	if rr.Body.Len() > 0 {
		if err := json.Unmarshal(rr.Body.Bytes(), &res.json); err != nil {
			h.t.Fatalf("%s %s: body is not a JSON object: %q", req.Method, req.URL.Path, rr.Body.String())
		}
	}
	checkCommonHeaders(h.t, req.Method, req.URL.Path, rr, h.allowServerError)
	return res
}

// checkCommonHeaders asserts what every response carries.
func checkCommonHeaders(t *testing.T, method, path string, rr *httptest.ResponseRecorder, allowServerError bool) {
	t.Helper()
	if got := rr.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s %s: Cache-Control = %q", method, path, got)
	}
	if got := rr.Header().Get("Pragma"); got != "no-cache" {
		t.Errorf("%s %s: Pragma = %q", method, path, got)
	}
	if got := rr.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s %s: X-Content-Type-Options = %q", method, path, got)
	}
	if rr.Code != http.StatusNoContent {
		if got := rr.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("%s %s: Content-Type = %q", method, path, got)
		}
	}
	if rr.Code >= 500 && rr.Code != http.StatusServiceUnavailable && !allowServerError {
		t.Errorf("%s %s: unexpected server error %d: %s", method, path, rr.Code, rr.Body)
	}
}

// register posts body with a valid token and expects 201.
// register registers body with a dcr token, or with token when given.
func (h *harness) register(body string, token ...string) response {
	h.t.Helper()
	bearer := h.token("dcr")
	if len(token) > 0 {
		bearer = token[0]
	}
	res := h.do(http.MethodPost, endpoint, bearer, body)
	if res.Code != http.StatusCreated {
		h.t.Fatalf("register: %d %s", res.Code, res.Body)
	}
	return res
}

// wantError asserts an RFC-shaped error response.
func wantError(t *testing.T, res response, status int, code, descriptionContains string) {
	t.Helper()
	if res.Code != status || res.str("error") != code {
		t.Fatalf("got %d %s, want %d %s", res.Code, res.Body, status, code)
	}
	if !strings.Contains(res.str("error_description"), descriptionContains) {
		t.Fatalf("error_description %q does not mention %q", res.str("error_description"), descriptionContains)
	}
}

func clientPath(id string) string { return endpoint + "/" + id }

const webClient = `{"redirect_uris":["https://app.example.com/cb"],"client_name":"Web App"}`

// stored counts the clients in the harness's store.
func (h *harness) stored(t *testing.T) int {
	t.Helper()
	n, err := h.store.Count(t.Context(), store.Query{}, 1<<20)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}
