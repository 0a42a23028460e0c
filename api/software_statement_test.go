package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/policies"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// statementSetup trusts signer (inline JWKS) for scopes openid and read,
// with a default token_endpoint_auth_method.
func statementSetup(t *testing.T, signer *devissuer.Issuer) func(*setup) {
	rr := httptest.NewRecorder()
	signer.JWKSHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	set, err := jwk.Parse(rr.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	sv, err := iat.NewStatementVerifier(t.Context(), []iat.StatementIssuer{{
		JWKSConfig: iat.JWKSConfig{Issuer: signer.Issuer(), JWKS: set},
		Scopes:     []string{"openid", "read"},
		Defaults:   []byte(`{"token_endpoint_auth_method":"client_secret_post","client_name":"from defaults"}`),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(s *setup) { s.opts.Statements = sv }
}

func statement(t *testing.T, signer *devissuer.Issuer, opts ...devissuer.MintOption) string {
	t.Helper()
	base := []devissuer.MintOption{devissuer.WithType(""), devissuer.WithClaim("scope", nil),
		devissuer.WithClaim("software_id", "app-42"), devissuer.WithClaim("client_name", "Signed Name")}
	s, err := signer.Mint("app-42", nil, time.Hour, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withStatement(stmt, extra string) string {
	return `{"redirect_uris":["https://app.example.com/cb"],"client_name":"JSON Name"` + extra + `,"software_statement":"` + stmt + `"}`
}

func TestSoftwareStatements(t *testing.T) {
	signer := newDevIssuer(t, "https://software.example.com")
	stranger := newDevIssuer(t, "https://stranger.example.com")
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		check  func(t *testing.T, res response)
	}{
		{name: "ok/statement wins over JSON, defaults fill the rest", body: withStatement(statement(t, signer), ""),
			status: http.StatusCreated, check: func(t *testing.T, res response) {
				if res.str("client_name") != "Signed Name" || res.str("software_id") != "app-42" ||
					res.str("token_endpoint_auth_method") != "client_secret_post" || res.str("scope") != "openid read" {
					t.Errorf("client = %s", res.Body)
				}
			}},
		{name: "ok/statement scope within the grant", body: withStatement(statement(t, signer, devissuer.WithClaim("scope", "read")), ""),
			status: http.StatusCreated, check: func(t *testing.T, res response) {
				if res.str("scope") != "read" {
					t.Errorf("scope = %q", res.str("scope"))
				}
			}},
		{name: "fail/untrusted issuer", body: withStatement(statement(t, stranger), ""),
			status: http.StatusBadRequest, code: "unapproved_software_statement"},
		{name: "fail/statement asks for more than its issuer grants",
			body:   withStatement(statement(t, signer, devissuer.WithClaim("scope", "admin")), ""),
			status: http.StatusBadRequest, code: "unapproved_software_statement"},
		{name: "fail/forged signature", body: withStatement(statement(t, stranger, devissuer.WithClaim("iss", signer.Issuer())), ""),
			status: http.StatusBadRequest, code: "invalid_software_statement"},
		{name: "fail/expired", body: withStatement(statement(t, signer, devissuer.WithExpiry(time.Now().Add(-time.Hour))), ""),
			status: http.StatusBadRequest, code: "invalid_software_statement"},
		{name: "fail/malformed", body: withStatement("abc.def", ""), status: http.StatusBadRequest, code: "invalid_software_statement"},
		{name: "fail/bad metadata inside", body: withStatement(statement(t, signer, devissuer.WithClaim("redirect_uris", 5)), ""),
			status: http.StatusBadRequest, code: "invalid_software_statement"},
		{name: "fail/JSON scope beyond the grant", body: withStatement(statement(t, signer), `,"scope":"admin"`),
			status: http.StatusBadRequest, code: "invalid_client_metadata"},
		{name: "fail/statement not a string", body: `{"redirect_uris":["https://app.example.com/cb"],"software_statement":7}`,
			status: http.StatusBadRequest, code: "invalid_client_metadata"},
		{name: "fail/duplicate member beside a statement",
			body:   `{"client_name":"a","client_name":"b","software_statement":"` + statement(t, signer) + `"}`,
			status: http.StatusBadRequest, code: "invalid_client_metadata"},
	}
	h := newHarness(t, statementSetup(t, signer))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(http.MethodPost, endpoint, h.token("dcr"), tt.body)
			if res.Code != tt.status || res.str("error") != tt.code {
				t.Fatalf("got %d %s, want %d %s", res.Code, res.Body, tt.status, tt.code)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func TestSoftwareStatementNotTrusted(t *testing.T) {
	h := newHarness(t) // no statement issuers configured
	res := h.do(http.MethodPost, endpoint, h.token("dcr"), withStatement(statement(t, newDevIssuer(t, "https://sw.example.com")), ""))
	wantError(t, res, http.StatusBadRequest, "unapproved_software_statement", "trusts no software statement issuer")
}

func TestSoftwareStatementRequiredByPolicy(t *testing.T) {
	signer := newDevIssuer(t, "https://software.example.com")
	h := newHarness(t, statementSetup(t, signer), func(s *setup) { s.policy = policies.SoftwareStatement{} })
	wantError(t, h.do(http.MethodPost, endpoint, h.token("dcr"), webClient), http.StatusBadRequest, "invalid_software_statement", "required")
	if res := h.do(http.MethodPost, endpoint, h.token("dcr"), withStatement(statement(t, signer), "")); res.Code != http.StatusCreated {
		t.Fatalf("with a statement: %d %s", res.Code, res.Body)
	}
}

func newDevIssuer(t *testing.T, name string) *devissuer.Issuer {
	t.Helper()
	iss, err := devissuer.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}
