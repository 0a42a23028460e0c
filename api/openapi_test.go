package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gin-gonic/gin"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/api/openapitest"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/ratelimit"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/memstore"
)

// contract loads the committed OpenAPI document; loading validates it as
// OpenAPI 3.1.
func contract(t *testing.T) *openapitest.Document {
	t.Helper()
	doc, err := openapitest.Load(api.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// exchange sends req through h's engine and holds both sides to doc: the
// request conforms exactly when conforms says so (the gateway must answer
// requests the document refuses too, and with a documented error), and the
// response always conforms.
func exchange(t *testing.T, doc *openapitest.Document, h *harness, req *http.Request, conforms bool) response {
	t.Helper()
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil { // a body that breaks off breaks off for the engine too
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), iotest.ErrReader(err)))
		}
	}
	res := h.serve(req)
	x := openapitest.Exchange{Request: req, RequestBody: body, Status: res.Code, Header: res.Header(), Body: res.Body.Bytes()}
	switch err := doc.CheckRequest(x); {
	case conforms && err != nil:
		t.Errorf("%s %s: the request does not conform to the document: %v", req.Method, req.URL.Path, err)
	case !conforms && err == nil:
		t.Errorf("%s %s: the document accepts a request it should refuse", req.Method, req.URL.Path)
	}
	if err := doc.CheckResponse(x); err != nil {
		t.Errorf("%s %s: the %d response does not conform to the document: %v\n%s", req.Method, req.URL.Path, res.Code, err, res.Body)
	}
	return res
}

func TestOpenAPIDocumentedPathIsTheDefault(t *testing.T) {
	if api.DocumentedPath != config.DefaultRegistrationPath {
		t.Fatalf("api/openapi.json is written for %s, but registration.path defaults to %s", api.DocumentedPath, config.DefaultRegistrationPath)
	}
}

// TestOpenAPIDocumentHasNoDuplicateKeys: the document is written by hand,
// and a JSON parser keeps only one of two equal keys, silently.
func TestOpenAPIDocumentHasNoDuplicateKeys(t *testing.T) {
	var dups []string
	if err := walkJSON(json.NewDecoder(bytes.NewReader(api.OpenAPIDocument())), "", &dups); err != nil {
		t.Fatal(err)
	}
	if len(dups) > 0 {
		t.Fatalf("keys defined twice: %v", dups)
	}
}

// walkJSON reads one value from dec and adds the path of every key that
// repeats one of its object's earlier keys to dups.
func walkJSON(dec *json.Decoder, path string, dups *[]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			name := path + "/" + key.(string)
			if seen[name] {
				*dups = append(*dups, name)
			}
			seen[name] = true
			if err := walkJSON(dec, name, dups); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, fmt.Sprintf("%s/%d", path, i), dups); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// TestOpenAPIDescribesEveryRoute: the document a gateway serves lists
// exactly the routes its engine serves, whatever the configuration.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*setup)
	}{
		{"ok/defaults", func(*setup) {}},
		{"ok/management off", func(s *setup) { s.api.ManagementEnabled = false; s.opts.Management.Enabled = false }},
		{"ok/delete not allowed", func(s *setup) { s.opts.Management.AllowClientDelete = false }},
		{"ok/another registration path", func(s *setup) { s.api.Path = "/oauth/register" }},
		{"ok/another path, management off", func(s *setup) { s.api.Path = "/r"; s.api.ManagementEnabled = false }},
		{"ok/metadata documents", func(s *setup) { s.api.MetadataDocuments = true }},
		{"ok/metadata documents, another path, management off", func(s *setup) {
			s.api.MetadataDocuments, s.api.Path, s.api.ManagementEnabled = true, "/r", false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			res := h.do(http.MethodGet, api.OpenAPIPath, "", "")
			if res.Code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", api.OpenAPIPath, res.Code, res.Body)
			}
			served, err := openapitest.Load(res.Body.Bytes())
			if err != nil {
				t.Fatalf("the served document: %v", err)
			}
			documented, routed := operations(served), engineRoutes(h)
			if !slices.Equal(documented, routed) {
				t.Fatalf("the document describes %v\nthe engine serves %v", documented, routed)
			}
		})
	}
}

// TestOpenAPIServesTheCommittedDocument: with the default path and every
// endpoint on, the gateway serves api/openapi.json byte for byte.
func TestOpenAPIServesTheCommittedDocument(t *testing.T) {
	res := newHarness(t, func(s *setup) { s.api.MetadataDocuments = true }).do(http.MethodGet, api.OpenAPIPath, "", "")
	if !bytes.Equal(res.Body.Bytes(), api.OpenAPIDocument()) {
		t.Fatal("the served document differs from api/openapi.json")
	}
}

func TestOpenAPINotServedWhenRegistrationIsOff(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.api.RegistrationEnabled = false })
	if routes := engineRoutes(h); len(routes) != 0 {
		t.Fatalf("routes with registration off: %v", routes)
	}
	wantError(t, h.do(http.MethodGet, api.OpenAPIPath, "", ""), http.StatusNotFound, "not_found", "")
}

// operations lists the document's operations as "METHOD path", sorted.
func operations(doc *openapitest.Document) []string {
	var ops []string
	for path, item := range doc.Spec().Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// ginParam is a gin path parameter; OpenAPI writes it {name}.
var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// engineRoutes lists the routes of h's gin engine as "METHOD path", sorted,
// with OpenAPI's path templates.
func engineRoutes(h *harness) []string {
	var routes []string
	for _, r := range h.handler.(*gin.Engine).Routes() {
		routes = append(routes, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(routes)
	return routes
}

// jsonTypes are the JSON types of the Go types client.Metadata uses.
var jsonTypes = map[reflect.Type]string{
	reflect.TypeFor[string]():          "string",
	reflect.TypeFor[[]string]():        "array",
	reflect.TypeFor[bool]():            "boolean",
	reflect.TypeFor[*int64]():          "integer",
	reflect.TypeFor[json.RawMessage](): "object",
}

// TestOpenAPIMetadataSchema: the ClientMetadata schema has exactly the
// members client.Metadata knows, each with its JSON type.
func TestOpenAPIMetadataSchema(t *testing.T) {
	schema := contract(t).Spec().Components.Schemas["ClientMetadata"].Value
	known := map[string]bool{}
	for f := range reflect.TypeFor[client.Metadata]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = true
		want, ok := jsonTypes[f.Type]
		if !ok {
			t.Fatalf("Metadata.%s has Go type %s: add its JSON type to this test and the document", f.Name, f.Type)
		}
		prop := schema.Properties[name]
		switch {
		case prop == nil:
			t.Errorf("the document lacks the member %s", name)
		case !prop.Value.Type.Is(want):
			t.Errorf("%s is documented as %v, want %s", name, prop.Value.Type, want)
		case want == "array" && !prop.Value.Items.Value.Type.Is("string"):
			t.Errorf("%s items are documented as %v, want string", name, prop.Value.Items.Value.Type)
		}
	}
	for name := range schema.Properties {
		if !known[name] {
			t.Errorf("the document has the member %s, which client.Metadata does not know", name)
		}
	}
}

// TestOpenAPILanguageTags: every language-tagged member the gateway keeps
// is one the document's pattern names.
func TestOpenAPILanguageTags(t *testing.T) {
	doc := contract(t)
	var patterns []*regexp.Regexp
	for p := range doc.Spec().Components.Schemas["ClientMetadata"].Value.PatternProperties {
		patterns = append(patterns, regexp.MustCompile(p))
	}
	h := newHarness(t)
	res := exchange(t, doc, h, newRequest(http.MethodPost, endpoint, h.token("dcr"),
		`{"redirect_uris":["https://app.example.com/cb"],"client_name#fr":"Appli","client_name#de-CH":"App","client_uri#fr":"https://app.example.com/fr",
		"logo_uri#fr":"https://app.example.com/fr.png","tos_uri#fr":"https://app.example.com/cgu","policy_uri#fr":"https://app.example.com/vie-privee"}`), true)
	kept := 0
	for name := range res.json {
		if !strings.Contains(name, "#") {
			continue
		}
		kept++
		if !slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(name) }) {
			t.Errorf("the gateway keeps %s, which no pattern of the document names", name)
		}
	}
	if kept != 6 {
		t.Fatalf("kept %d language-tagged members, want 6: %s", kept, res.Body)
	}
}

// TestOpenAPIEnumsAreAccepted: every value the document lists for
// token_endpoint_auth_method and grant_types registers, with the members
// that value needs.
func TestOpenAPIEnumsAreAccepted(t *testing.T) {
	doc := contract(t)
	props := doc.Spec().Components.Schemas["ClientMetadata"].Value.Properties
	needs := map[string]string{
		"private_key_jwt":             `"jwks_uri":"https://app.example.com/jwks",`,
		"self_signed_tls_client_auth": `"jwks_uri":"https://app.example.com/jwks",`,
		"tls_client_auth":             `"tls_client_auth_subject_dn":"CN=app",`,
		"implicit":                    `"response_types":["token"],`,
	}
	h := newHarness(t)
	for _, method := range props["token_endpoint_auth_method"].Value.Enum {
		body := fmt.Sprintf(`{%s"token_endpoint_auth_method":%q,"redirect_uris":["https://app.example.com/cb"]}`, needs[method.(string)], method)
		if res := exchange(t, doc, h, newRequest(http.MethodPost, endpoint, h.token("dcr"), body), true); res.Code != http.StatusCreated {
			t.Errorf("token_endpoint_auth_method %s: %d %s", method, res.Code, res.Body)
		}
	}
	for _, grant := range props["grant_types"].Value.Items.Value.Enum {
		body := fmt.Sprintf(`{%s"grant_types":[%q],"redirect_uris":["https://app.example.com/cb"]}`, needs[grant.(string)], grant)
		if res := exchange(t, doc, h, newRequest(http.MethodPost, endpoint, h.token("dcr"), body), true); res.Code != http.StatusCreated {
			t.Errorf("grant type %s: %d %s", grant, res.Code, res.Body)
		}
	}
}

// TestOpenAPILifecycle drives register, read, update and delete through
// the engine; every request and every answer conforms to the document.
func TestOpenAPILifecycle(t *testing.T) {
	doc := contract(t)
	h := newHarness(t)
	steps := []struct {
		name, method, body string
		status             int
	}{
		{"read", http.MethodGet, "", http.StatusOK},
		{"update", http.MethodPut, `{"client_id":"ID","client_secret":"SECRET","client_name":"Renamed","redirect_uris":["https://app.example.com/cb2"],"tenant":"acme"}`, http.StatusOK},
		{"read again", http.MethodGet, "", http.StatusOK},
		{"delete", http.MethodDelete, "", http.StatusNoContent},
	}
	reg := exchange(t, doc, h, newRequest(http.MethodPost, endpoint, h.token("dcr"),
		`{"redirect_uris":["https://app.example.com/cb"],"client_name":"Web App","client_name#fr":"Appli Web","tenant":"acme","scope":"openid profile"}`), true)
	if reg.Code != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.Code, reg.Body)
	}
	c := registered{reg.str("client_id"), reg.str("client_secret"), reg.str("registration_access_token")}
	for _, s := range steps {
		res := exchange(t, doc, h, newRequest(s.method, clientPath(c.id), c.token, fill(s.body, c)), true)
		if res.Code != s.status {
			t.Fatalf("%s: %d %s", s.name, res.Code, res.Body)
		}
		if rotated := res.str("registration_access_token"); rotated != "" {
			c.token, c.secret = rotated, res.str("client_secret")
		}
	}
}

// call builds the request of a case on its harness.
type call func(h *harness) *http.Request

// post registers body with a dcr token, and headers as name/value pairs.
func post(body string, headers ...string) call {
	return func(h *harness) *http.Request {
		return newRequest(http.MethodPost, endpoint, h.token("dcr"), body, headers...)
	}
}

// send is a call that needs nothing from the harness.
func send(method, path, token, body string) call {
	return func(*harness) *http.Request { return newRequest(method, path, token, body) }
}

// onClient registers a web client, then calls method on it with its
// registration access token and body, where "ID" and "SECRET" stand for
// the client's.
func onClient(method, body string) call {
	return onClientWith(method, func(c registered) string { return c.token }, body)
}

// onClientWith is onClient with the token token picks ("" for none).
func onClientWith(method string, token func(registered) string, body string) call {
	return func(h *harness) *http.Request {
		c := h.registerClient(webClient)
		return newRequest(method, clientPath(c.id), token(c), fill(body, c))
	}
}

// fill puts c's ID and secret where body says "ID" and "SECRET".
func fill(body string, c registered) string {
	return strings.NewReplacer(`"ID"`, fmt.Sprintf("%q", c.id), `"SECRET"`, fmt.Sprintf("%q", c.secret)).Replace(body)
}

// brokenOff registers a body the connection loses halfway.
func brokenOff(h *harness) *http.Request {
	req := newRequest(http.MethodPost, endpoint, h.token("dcr"), webClient)
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"redirect_uris":`), iotest.ErrReader(errors.New("connection reset"))))
	return req
}

// bearer picks the token s whatever the client.
func bearer(s string) func(registered) string { return func(registered) string { return s } }

// thenBreak makes the harness's store (a brokenStore) fail with err once
// next's client is registered.
func thenBreak(err error, next call) call {
	return func(h *harness) *http.Request {
		req := next(h)
		h.store.(*brokenStore).err = err
		return req
	}
}

// brokenStore fails every call with err once err is set: a directory that
// went away (store.ErrUnavailable), or whose writes keep losing their race
// (store.ErrConflict).
type brokenStore struct {
	store.Store
	err error
}

func (b *brokenStore) Create(ctx context.Context, r client.Record) error {
	if b.err != nil {
		return b.err
	}
	return b.Store.Create(ctx, r)
}

func (b *brokenStore) Get(ctx context.Context, id string) (client.Record, error) {
	if b.err != nil {
		return client.Record{}, b.err
	}
	return b.Store.Get(ctx, id)
}

func (b *brokenStore) Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	if b.err != nil {
		return client.Record{}, b.err
	}
	return b.Store.Update(ctx, id, fn)
}

func (b *brokenStore) Delete(ctx context.Context, id string, cond func(client.Record) error) error {
	if b.err != nil {
		return b.err
	}
	return b.Store.Delete(ctx, id, cond)
}

// downIssuer is a token issuer that cannot be reached.
type downIssuer struct{}

func (downIssuer) Validate(context.Context, string) (iat.Principal, error) {
	return iat.Principal{}, iat.ErrUnavailable
}

// withPolicies configures a chain refusing clients named "Forbidden" with
// access_denied and holding clients named "Partner…" for approval.
func withPolicies(t *testing.T) func(*setup) {
	chain, err := policies.Build([]policies.Spec{
		{Name: "no-forbidden", Kind: policies.KindCEL, Error: "access_denied", Expression: `!has(metadata.client_name) || metadata.client_name != "Forbidden"`},
		{Name: "review", Kind: policies.KindApproval, Expression: `has(metadata.client_name) && metadata.client_name.startsWith("Partner")`},
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(s *setup) { s.policy = chain }
}

// TestOpenAPIAnswers provokes every answer the gateway gives, each kind of
// error included, and holds each exchange to the document.
func TestOpenAPIAnswers(t *testing.T) {
	signer := newDevIssuer(t, "https://software.example.com")
	stranger := newDevIssuer(t, "https://stranger.example.com")
	managementOff := func(s *setup) { s.api.ManagementEnabled = false; s.opts.Management.Enabled = false }
	broken := func(s *setup) { s.store = &brokenStore{Store: memstore.New()} }
	failing := func(s *setup) { s.registrar = panicking{} }
	const update = `{"client_id":"ID","redirect_uris":["https://app.example.com/cb"]}`
	big := `{"client_id":"abc","client_name":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name     string
		setup    func(*setup)
		call     call
		status   int
		code     string
		conforms bool
	}{
		{name: "ok/register a confidential client", call: post(webClient), status: 201, conforms: true},
		{name: "ok/register a public client", call: post(`{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`),
			status: 201, conforms: true},
		{name: "ok/register a machine client", call: post(`{"grant_types":["client_credentials"],"response_types":[],"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]},"token_endpoint_auth_method":"private_key_jwt"}`),
			status: 201, conforms: true},
		{name: "ok/register with charset", call: post(webClient, "Content-Type", "application/json; charset=utf-8"), status: 201, conforms: true},
		{name: "ok/register with the caller's request id", call: post(webClient, "X-Request-Id", "trace-42"), status: 201, conforms: true},
		{name: "ok/register a client held for approval", setup: withPolicies(t),
			call: post(`{"redirect_uris":["https://app.example.com/cb"],"client_name":"Partner App"}`), status: 201, conforms: true},
		{name: "ok/register with a software statement", setup: statementSetup(t, signer),
			call: post(withStatement(statement(t, signer), "")), status: 201, conforms: true},
		{name: "ok/register with management off", setup: managementOff, call: post(webClient), status: 201, conforms: true},
		{name: "ok/register without a token where none is required, outside the document's security",
			setup: func(s *setup) { s.opts.RequireInitialAccessToken = false },
			call:  send(http.MethodPost, endpoint, "", webClient), status: 201},
		{name: "ok/register without a token under the anonymous profile, outside the committed document's security",
			setup: func(s *setup) { s.opts.Anonymous.Enabled, s.api.AnonymousRegistration = true, true },
			call:  send(http.MethodPost, endpoint, "", mcpClient), status: 201},
		{name: "ok/read", call: onClient(http.MethodGet, ""), status: 200, conforms: true},
		{name: "ok/read without rotation",
			setup: func(s *setup) {
				s.opts.Management.RotateClientSecret, s.opts.Management.RotateRegistrationAccessToken = false, false
			},
			call: onClient(http.MethodGet, ""), status: 200, conforms: true},
		{name: "ok/update", call: onClient(http.MethodPut, `{"client_id":"ID","client_secret":"SECRET","redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none"}`),
			status: 200, conforms: true},
		{name: "ok/delete", call: onClient(http.MethodDelete, ""), status: 204, conforms: true},
		{name: "ok/the document", call: send(http.MethodGet, api.OpenAPIPath, "", ""), status: 200, conforms: true},

		{name: "fail/register malformed JSON", call: post(`{"redirect_uris":`), status: 400, code: "invalid_client_metadata"},
		{name: "fail/register a form", call: post("redirect_uris=x", "Content-Type", "application/x-www-form-urlencoded"), status: 400, code: "invalid_client_metadata"},
		{name: "fail/register a member of the wrong type", call: post(`{"redirect_uris":"https://a.example/cb"}`), status: 400, code: "invalid_client_metadata"},
		{name: "fail/register client_secret_jwt", call: post(`{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_jwt"}`),
			status: 400, code: "invalid_client_metadata"},
		{name: "fail/register a member twice", call: post(`{"client_name":"a","client_name":"b","redirect_uris":["https://a.example/cb"]}`),
			status: 400, code: "invalid_client_metadata", conforms: true},
		{name: "fail/register a body that breaks off", call: brokenOff, status: 400, code: "invalid_request"},
		{name: "fail/register a redirect URI with a fragment", call: post(`{"redirect_uris":["https://a.example/cb#x"]}`),
			status: 400, code: "invalid_redirect_uri", conforms: true},
		{name: "fail/register a forged software statement", setup: statementSetup(t, signer),
			call:   post(withStatement(statement(t, stranger, devissuer.WithClaim("iss", signer.Issuer())), "")),
			status: 400, code: "invalid_software_statement", conforms: true},
		{name: "fail/register a statement of an untrusted issuer", setup: statementSetup(t, signer),
			call: post(withStatement(statement(t, stranger), "")), status: 400, code: "unapproved_software_statement", conforms: true},
		{name: "fail/register without a token", call: send(http.MethodPost, endpoint, "", webClient), status: 401, code: "invalid_token"},
		{name: "fail/register over the rate limit",
			setup: func(s *setup) { s.opts.RateLimits.RegistrationPerIP = ratelimit.Limit{PerMinute: 1, Burst: 1} },
			call: func(h *harness) *http.Request {
				h.register(webClient)
				return newRequest(http.MethodPost, endpoint, h.token("dcr"), webClient)
			}, status: 429, code: "slow_down", conforms: true},
		{name: "fail/register with a bad token", call: send(http.MethodPost, endpoint, "forged", webClient),
			status: 401, code: "invalid_token", conforms: true},
		{name: "fail/register without the scope", call: func(h *harness) *http.Request {
			return newRequest(http.MethodPost, endpoint, h.token("openid"), webClient)
		}, status: 403, code: "insufficient_scope", conforms: true},
		{name: "fail/register over the token's cap", setup: func(s *setup) { s.opts.MaxRegistrationsPerToken = 1 },
			call: func(h *harness) *http.Request {
				tok := h.token("dcr")
				h.register(webClient, tok)
				return newRequest(http.MethodPost, endpoint, tok, webClient)
			}, status: 403, code: "access_denied", conforms: true},
		{name: "fail/register refused by a policy", setup: withPolicies(t),
			call: post(`{"redirect_uris":["https://a.example/cb"],"client_name":"Forbidden"}`), status: 403, code: "access_denied", conforms: true},
		{name: "fail/register with registration off", setup: func(s *setup) { s.api.RegistrationEnabled = false },
			call: post(webClient), status: 404, code: "not_found", conforms: true},
		{name: "fail/register too large a body", call: post(big), status: 413, code: "invalid_request", conforms: true},
		{name: "fail/register with a bug", setup: failing, call: post(webClient), status: 500, code: "server_error", conforms: true},
		{name: "fail/register with the issuer down", setup: func(s *setup) { s.tokens = func(iat.Validator) iat.Validator { return downIssuer{} } },
			call: post(webClient), status: 503, code: "temporarily_unavailable", conforms: true},
		{name: "fail/register with the directory down", setup: broken, call: thenBreak(store.ErrUnavailable, post(webClient)),
			status: 503, code: "temporarily_unavailable", conforms: true},

		{name: "fail/read without a token", call: onClientWith(http.MethodGet, bearer(""), ""), status: 401, code: "invalid_token"},
		{name: "fail/read with a wrong token", call: onClientWith(http.MethodGet, bearer("wrong"), ""), status: 401, code: "invalid_token", conforms: true},
		{name: "fail/read a malformed client ID", call: send(http.MethodGet, clientPath("UPPER"), "t", ""), status: 401, code: "invalid_token"},
		{name: "fail/read a client held for approval", setup: withPolicies(t), call: func(h *harness) *http.Request {
			res := h.register(`{"redirect_uris":["https://app.example.com/cb"],"client_name":"Partner App"}`)
			return newRequest(http.MethodGet, clientPath(res.str("client_id")), res.str("registration_access_token"), "")
		}, status: 401, code: "invalid_token", conforms: true},
		{name: "fail/read with management off", setup: managementOff,
			call: send(http.MethodGet, clientPath("abc"), "t", ""), status: 404, code: "not_found", conforms: true},
		{name: "fail/read losing every race", setup: broken, call: thenBreak(store.ErrConflict, onClient(http.MethodGet, "")),
			status: 409, code: "invalid_request", conforms: true},
		{name: "fail/read with a bug", setup: failing, call: send(http.MethodGet, clientPath("abc"), "t", ""),
			status: 500, code: "server_error", conforms: true},
		{name: "fail/read with the directory down", setup: broken, call: thenBreak(store.ErrUnavailable, onClient(http.MethodGet, "")),
			status: 503, code: "temporarily_unavailable", conforms: true},

		{name: "fail/update without client_id", call: onClient(http.MethodPut, `{"redirect_uris":["https://app.example.com/cb"]}`),
			status: 400, code: "invalid_client_metadata"},
		{name: "fail/update a server-set member", call: onClient(http.MethodPut, `{"client_id":"ID","client_id_issued_at":0,"redirect_uris":["https://app.example.com/cb"]}`),
			status: 400, code: "invalid_client_metadata"},
		{name: "fail/update with a wrong secret", call: onClient(http.MethodPut, `{"client_id":"ID","client_secret":"guess","redirect_uris":["https://app.example.com/cb"]}`),
			status: 400, code: "invalid_client_metadata", conforms: true},
		{name: "fail/update to a bad redirect URI", call: onClient(http.MethodPut, `{"client_id":"ID","redirect_uris":["http://app.example.com/cb"]}`),
			status: 400, code: "invalid_redirect_uri", conforms: true},
		{name: "fail/update with a wrong token", call: onClientWith(http.MethodPut, bearer("wrong"), update), status: 401, code: "invalid_token", conforms: true},
		{name: "fail/update refused by a policy", setup: withPolicies(t),
			call:   onClient(http.MethodPut, `{"client_id":"ID","client_name":"Forbidden","redirect_uris":["https://app.example.com/cb"]}`),
			status: 403, code: "access_denied", conforms: true},
		{name: "fail/update with management off", setup: managementOff,
			call: send(http.MethodPut, clientPath("abc"), "t", `{"client_id":"abc"}`), status: 404, code: "not_found", conforms: true},
		{name: "fail/update losing every race", setup: broken, call: thenBreak(store.ErrConflict, onClient(http.MethodPut, update)),
			status: 409, code: "invalid_request", conforms: true},
		{name: "fail/update too large a body", call: send(http.MethodPut, clientPath("abc"), "t", big),
			status: 413, code: "invalid_request", conforms: true},
		{name: "fail/update with a bug", setup: failing, call: send(http.MethodPut, clientPath("abc"), "t", `{"client_id":"abc"}`),
			status: 500, code: "server_error", conforms: true},
		{name: "fail/update with the directory down", setup: broken, call: thenBreak(store.ErrUnavailable, onClient(http.MethodPut, update)),
			status: 503, code: "temporarily_unavailable", conforms: true},

		{name: "fail/delete with a wrong token", call: onClientWith(http.MethodDelete, bearer("wrong"), ""), status: 401, code: "invalid_token", conforms: true},
		{name: "fail/delete with management off", setup: managementOff,
			call: send(http.MethodDelete, clientPath("abc"), "t", ""), status: 404, code: "not_found", conforms: true},
		{name: "fail/delete not allowed", setup: func(s *setup) { s.opts.Management.AllowClientDelete = false },
			call: onClient(http.MethodDelete, ""), status: 405, code: "invalid_request", conforms: true},
		{name: "fail/delete losing every race", setup: broken, call: thenBreak(store.ErrConflict, onClient(http.MethodDelete, "")),
			status: 409, code: "invalid_request", conforms: true},
		{name: "fail/delete with a bug", setup: failing, call: send(http.MethodDelete, clientPath("abc"), "t", ""),
			status: 500, code: "server_error", conforms: true},
		{name: "fail/delete with the directory down", setup: broken, call: thenBreak(store.ErrUnavailable, onClient(http.MethodDelete, "")),
			status: 503, code: "temporarily_unavailable", conforms: true},

		{name: "fail/a method the client path does not serve", call: onClient(http.MethodPatch, update), status: 405, code: "invalid_request"},
		{name: "fail/a method the registration path does not serve", call: send(http.MethodGet, endpoint, "", ""), status: 405, code: "invalid_request"},
		{name: "fail/an unknown path", call: send(http.MethodGet, "/as/nothing", "", ""), status: 404, code: "not_found"},
		{name: "fail/the document with registration off", setup: func(s *setup) { s.api.RegistrationEnabled = false },
			call: send(http.MethodGet, api.OpenAPIPath, "", ""), status: 404, code: "not_found", conforms: true},
	}
	doc := contract(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			h.allowServerError = tt.status == http.StatusInternalServerError
			res := exchange(t, doc, h, tt.call(h), tt.conforms)
			if res.Code != tt.status || res.str("error") != tt.code {
				t.Fatalf("got %d %s, want %d %s", res.Code, res.Body, tt.status, tt.code)
			}
		})
	}
}

// TestOpenAPIAnonymous: a gateway whose anonymous profile admits
// registrations without a token serves a document that says so.
func TestOpenAPIAnonymous(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.Anonymous.Enabled, s.api.AnonymousRegistration = true, true })
	res := h.do(http.MethodGet, api.OpenAPIPath, "", "")
	var doc struct {
		Paths map[string]struct {
			Post struct {
				Security []map[string][]string `json:"security"`
			} `json:"post"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	security := doc.Paths[endpoint].Post.Security
	if len(security) != 2 || len(security[1]) != 0 {
		t.Fatalf("registration security %v, want the token or nothing", security)
	}
}
