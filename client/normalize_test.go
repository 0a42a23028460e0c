package client

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/oauth"
)

// mcpBody is what a typical MCP client sends: a public client with a loopback
// callback and a hosted one, no application_type.
const mcpBody = `{
	"client_name": "Example MCP Client",
	"redirect_uris": ["http://127.0.0.1:33418/callback", "https://app.example.com/oauth/callback"],
	"grant_types": ["authorization_code", "refresh_token"],
	"response_types": ["code"],
	"token_endpoint_auth_method": "none",
	"scope": "mcp:tools mcp:resources",
	"client_uri": "https://app.example.com",
	"software_id": "example-mcp",
	"software_version": "1.4.2"
}`

func TestNormalizeOK(t *testing.T) {
	jwks := publicJWKS(t)
	tests := []struct {
		name, body string
		opts       Options
		want       string // canonical JSON after Normalize
	}{
		{"ok/mcp-client", mcpBody, Options{}, `{
			"client_name": "Example MCP Client",
			"redirect_uris": ["http://127.0.0.1:33418/callback", "https://app.example.com/oauth/callback"],
			"grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
			"token_endpoint_auth_method": "none", "scope": "mcp:tools mcp:resources",
			"client_uri": "https://app.example.com", "software_id": "example-mcp", "software_version": "1.4.2",
			"application_type": "web"}`},
		{"ok/defaults", `{"redirect_uris":["https://a.example/cb"]}`, Options{}, `{
			"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code"], "response_types": ["code"],
			"token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}`},
		{"ok/client-credentials-derives-no-response-types", `{"grant_types":["client_credentials"]}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}`},
		{"ok/client-credentials-empty-response-types", `{"grant_types":["client_credentials","refresh_token"],"response_types":[]}`, Options{}, `{
			"grant_types": ["client_credentials", "refresh_token"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}`},
		{"ok/response-types-derive-grants", `{"response_types":["code id_token"],"redirect_uris":["https://a.example/cb"]}`, Options{}, `{
			"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code", "implicit"], "response_types": ["code id_token"],
			"token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}`},
		{"ok/implicit-web-https", `{"grant_types":["implicit"],"response_types":["id_token","id_token token"],"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"none"}`, Options{}, `{
			"redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"], "response_types": ["id_token", "id_token token"],
			"token_endpoint_auth_method": "none", "application_type": "web"}`},
		{"ok/web-http-loopback", `{"redirect_uris":["http://localhost:6274/oauth/callback","http://[::1]/cb","http://127.0.0.1/cb"]}`, Options{}, `{
			"redirect_uris": ["http://localhost:6274/oauth/callback", "http://[::1]/cb", "http://127.0.0.1/cb"],
			"grant_types": ["authorization_code"], "response_types": ["code"],
			"token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}`},
		{"ok/native-redirects", `{"application_type":"native","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1:51004/cb","com.example.app:/oauth2redirect","https://app.example.com/native"]}`, Options{}, `{
			"redirect_uris": ["http://127.0.0.1:51004/cb", "com.example.app:/oauth2redirect", "https://app.example.com/native"],
			"grant_types": ["authorization_code"], "response_types": ["code"],
			"token_endpoint_auth_method": "none", "application_type": "native"}`},
		{"ok/duplicates-removed", `{"redirect_uris":["https://a.example/cb","https://a.example/cb"],"grant_types":["authorization_code","refresh_token","authorization_code"],"response_types":["code","code"],"scope":"a b a","contacts":["x@example.com","x@example.com"]}`, Options{}, `{
			"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
			"token_endpoint_auth_method": "client_secret_basic", "scope": "a b", "contacts": ["x@example.com"], "application_type": "web"}`},
		{"ok/response-type-sets-deduplicated", `{"response_types":["code id_token","id_token code"],"redirect_uris":["https://a.example/cb"]}`, Options{}, `{
			"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code", "implicit"], "response_types": ["code id_token"],
			"token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}`},
		{"ok/private-key-jwt-jwks", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":` + jwks + `}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": ` + jwks + `, "application_type": "web"}`},
		{"ok/private-key-jwt-jwks-uri", `{"grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://a.example/jwks.json"}`, Options{}, `{
			"grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"], "token_endpoint_auth_method": "private_key_jwt",
			"jwks_uri": "https://a.example/jwks.json", "application_type": "web"}`},
		{"ok/self-signed-tls", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":` + jwks + `}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "self_signed_tls_client_auth", "jwks": ` + jwks + `, "application_type": "web"}`},
		{"ok/tls-client-auth-dn", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=svc,O=Example"}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "tls_client_auth",
			"tls_client_auth_subject_dn": "CN=svc,O=Example", "application_type": "web"}`},
		{"ok/tls-client-auth-san-ip", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"2001:db8::1"}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "tls_client_auth",
			"tls_client_auth_san_ip": "2001:db8::1", "application_type": "web"}`},
		{"ok/tls-client-auth-san-uri", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_uri":"spiffe://example.org/svc"}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "tls_client_auth",
			"tls_client_auth_san_uri": "spiffe://example.org/svc", "application_type": "web"}`},
		{"ok/device-code-public", `{"grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"token_endpoint_auth_method":"none"}`, Options{}, `{
			"grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"], "token_endpoint_auth_method": "none", "application_type": "web"}`},
		{"ok/token-exchange", `{"grant_types":["urn:ietf:params:oauth:grant-type:token-exchange"],"token_endpoint_auth_method":"client_secret_post"}`, Options{}, `{
			"grant_types": ["urn:ietf:params:oauth:grant-type:token-exchange"], "token_endpoint_auth_method": "client_secret_post", "application_type": "web"}`},
		{"ok/uris-and-oidc-members", `{"grant_types":["client_credentials"],"client_uri":"https://a.example","logo_uri":"https://a.example/logo.png","tos_uri":"http://a.example/tos","policy_uri":"https://a.example/p",
			"sector_identifier_uri":"https://a.example/sector.json","initiate_login_uri":"https://a.example/login","request_uris":["https://a.example/r#hash"],
			"post_logout_redirect_uris":["https://a.example/bye"],"subject_type":"pairwise","default_max_age":0,"contacts":["ops@example.com"],
			"client_name#fr":"Outil","logo_uri#fr":"https://a.example/logo-fr.png"}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web",
			"client_uri": "https://a.example", "logo_uri": "https://a.example/logo.png", "tos_uri": "http://a.example/tos", "policy_uri": "https://a.example/p",
			"sector_identifier_uri": "https://a.example/sector.json", "initiate_login_uri": "https://a.example/login", "request_uris": ["https://a.example/r#hash"],
			"post_logout_redirect_uris": ["https://a.example/bye"], "subject_type": "pairwise", "default_max_age": 0, "contacts": ["ops@example.com"],
			"client_name#fr": "Outil", "logo_uri#fr": "https://a.example/logo-fr.png"}`},
		{"ok/scope-punctuation", `{"grant_types":["client_credentials"],"scope":"openid https://api.example.com/read a!#$%&'()*+,-./:;<=>?@[]^_{|}~"}`, Options{}, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web",
			"scope": "openid https://api.example.com/read a!#$%&'()*+,-./:;<=>?@[]^_{|}~"}`},
		{"ok/extensions", `{"grant_types":["client_credentials"],"tenant":"acme","groups":["a"],"trusted":false,"quota":10}`, extensionOpts, `{
			"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web",
			"tenant": "acme", "groups": ["a"], "trusted": false, "quota": 10}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeNormalize(tt.body, tt.opts)
			if err != nil {
				t.Fatalf("Decode+Normalize: %v", err)
			}
			assertJSONEqual(t, m, tt.want)
			assertRoundTrip(t, m, tt.opts)
		})
	}
}

func TestNormalizeFail(t *testing.T) {
	const code = `"redirect_uris":["https://a.example/cb"]`
	const cc = `"grant_types":["client_credentials"]`
	redirect := oauth.ErrInvalidRedirectURI
	meta := oauth.ErrInvalidClientMetadata
	tests := []struct {
		name, body string
		want       *oauth.Error
		mention    string
	}{
		// application_type
		{"fail/application_type-unknown", `{"application_type":"desktop",` + code + `}`, meta, "application_type must be web or native"},

		// redirect_uris
		{"fail/redirect-missing-with-code", `{}`, redirect, "redirect_uris is required"},
		{"fail/redirect-missing-with-implicit", `{"grant_types":["implicit"],"response_types":["token"]}`, redirect, "redirect_uris is required"},
		{"fail/redirect-relative", `{"redirect_uris":["/cb"]}`, redirect, "redirect_uris[0] must be an absolute URI"},
		{"fail/redirect-unparsable", `{"redirect_uris":["https://a.example/ok","http://[::1"]}`, redirect, "redirect_uris[1] is not a valid URI"},
		{"fail/redirect-fragment", `{"redirect_uris":["https://a.example/cb#x"]}`, redirect, "redirect_uris[0] must not contain a fragment"},
		{"fail/redirect-empty-fragment", `{"redirect_uris":["https://a.example/cb#"]}`, redirect, "fragment"},
		{"fail/redirect-userinfo", `{"redirect_uris":["https://good.example@evil.example/cb"]}`, redirect, "redirect_uris[0] must not contain userinfo"},
		{"fail/redirect-inner-space", `{"redirect_uris":["https://a.example/c b"]}`, redirect, "redirect_uris[0] must not contain whitespace"},
		{"fail/web-http-remote", `{"redirect_uris":["http://a.example/cb"]}`, redirect, "must be an https URL, or an http URL on a loopback host"},
		{"fail/web-http-loopback-lookalike", `{"redirect_uris":["http://127.0.0.1.evil.example/cb"]}`, redirect, "loopback"},
		{"fail/web-custom-scheme", `{"redirect_uris":["com.example.app:/cb"]}`, redirect, "must be an https URL"},
		{"fail/web-javascript", `{"redirect_uris":["javascript:alert(1)"]}`, redirect, "must be an https URL"},
		{"fail/https-without-host", `{"redirect_uris":["https:///cb"]}`, redirect, "must have a host"},
		{"fail/web-implicit-http-loopback", `{"grant_types":["implicit"],"response_types":["token"],"redirect_uris":["http://127.0.0.1/cb"]}`, redirect, "implicit"},
		{"fail/web-implicit-https-localhost", `{"grant_types":["implicit"],"response_types":["token"],"redirect_uris":["https://localhost/cb"]}`, redirect, "implicit"},
		{"fail/native-http-remote", `{"application_type":"native","redirect_uris":["http://a.example/cb"]}`, redirect, "RFC 8252 §7.3"},
		{"fail/native-scheme-without-dot", `{"application_type":"native","redirect_uris":["myapp:/cb"]}`, redirect, "RFC 8252 §7.1"},

		// grant_types / response_types
		{"fail/grant-unknown", `{"grant_types":["password"]}`, meta, "grant_types[0] is not a supported grant type"},
		{"fail/grant-empty", `{"grant_types":[]}`, meta, "grant_types must not be empty"},
		{"fail/no-grants-no-responses", `{"response_types":[]}`, meta, "grant_types must not be empty"},
		{"fail/code-without-authorization_code", `{"grant_types":["client_credentials"],"response_types":["code"]}`, meta, `response_types[0] "code" requires the grant type authorization_code`},
		{"fail/token-without-implicit", `{"response_types":["code","token"],"grant_types":["authorization_code"],` + code + `}`, meta, `response_types[1] "token" requires the grant type implicit`},
		{"fail/hybrid-without-implicit", `{"response_types":["code id_token"],"grant_types":["authorization_code"],` + code + `}`, meta, "requires the grant type implicit"},
		{"fail/authorization_code-without-code", `{"grant_types":["authorization_code","implicit"],"response_types":["token"],` + code + `}`, meta, "grant type authorization_code requires response_types containing code"},
		{"fail/implicit-without-response-types", `{"grant_types":["implicit"]}`, meta, "grant type implicit requires response_types containing token or id_token"},
		{"fail/implicit-with-code-default", `{"grant_types":["authorization_code","implicit"],` + code + `}`, meta, "grant type implicit requires"},
		{"fail/response-type-unknown", `{"response_types":["none"]}`, meta, "response_types[0] is not a supported response type"},
		{"fail/response-type-repeated-value", `{"response_types":["code code"]}`, meta, "response_types[0] is not a supported"},
		{"fail/response-type-double-space", `{"response_types":["code  token"]}`, meta, "response_types[0] is not a supported"},

		// token_endpoint_auth_method
		{"fail/client_secret_jwt", `{"token_endpoint_auth_method":"client_secret_jwt",` + code + `}`, meta, "client secrets are stored hashed; use private_key_jwt"},
		{"fail/auth-method-unknown", `{"token_endpoint_auth_method":"magic",` + code + `}`, meta, "token_endpoint_auth_method must be one of"},
		{"fail/none-client-credentials", `{"token_endpoint_auth_method":"none",` + cc + `}`, meta, "client_credentials"},

		// jwks / jwks_uri
		{"fail/jwks-and-jwks_uri", `{` + cc + `,"jwks_uri":"https://a.example/j","jwks":` + publicJWKS(t) + `}`, meta, "jwks and jwks_uri must not both be present"},
		{"fail/private_key_jwt-without-keys", `{` + cc + `,"token_endpoint_auth_method":"private_key_jwt"}`, meta, "private_key_jwt requires jwks or jwks_uri"},
		{"fail/self_signed-without-keys", `{` + cc + `,"token_endpoint_auth_method":"self_signed_tls_client_auth"}`, meta, "self_signed_tls_client_auth requires jwks or jwks_uri"},
		{"fail/jwks-without-keys", `{` + cc + `,"jwks":{"kty":"EC"}}`, meta, `jwks must be a JWK Set with a non-empty "keys" array`},
		{"fail/jwks-empty-keys", `{` + cc + `,"jwks":{"keys":[]}}`, meta, `non-empty "keys"`},
		{"fail/jwks-keys-not-array", `{` + cc + `,"jwks":{"keys":{}}}`, meta, `non-empty "keys"`},
		{"fail/jwks-private-key", `{` + cc + `,"jwks":` + privateJWKS(t) + `}`, meta, "jwks.keys[0] must be a public key"},
		{"fail/jwks-symmetric-key", `{` + cc + `,"jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}]}}`, meta, "must be a public key"},
		{"fail/jwks-broken-key", `{` + cc + `,"jwks":{"keys":[{"kty":"RSA","n":"!!"}]}}`, meta, "jwks is not a valid JWK Set"},

		// tls_client_auth
		{"fail/tls-no-subject", `{` + cc + `,"token_endpoint_auth_method":"tls_client_auth"}`, meta, "requires exactly one of tls_client_auth_subject_dn"},
		{"fail/tls-two-subjects", `{` + cc + `,"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=a","tls_client_auth_san_dns":"a.example"}`, meta, "exactly one"},
		{"fail/tls-subject-other-method", `{` + cc + `,"tls_client_auth_san_dns":"a.example"}`, meta, "tls_client_auth_san_dns is only allowed with token_endpoint_auth_method tls_client_auth"},
		{"fail/tls-san-ip-bad", `{` + cc + `,"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"300.1.1.1"}`, meta, "tls_client_auth_san_ip must be an IPv4 or IPv6 address"},
		{"fail/tls-san-uri-relative", `{` + cc + `,"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_uri":"spiffe"}`, meta, "tls_client_auth_san_uri must be an absolute URI"},

		// other URIs
		{"fail/client_uri-relative", `{` + cc + `,"client_uri":"www.example.com"}`, meta, "client_uri must be an absolute URI"},
		{"fail/logo_uri-javascript", `{` + cc + `,"logo_uri":"javascript:alert(1)"}`, meta, "logo_uri must be an http or https URL"},
		{"fail/tos_uri-data", `{` + cc + `,"tos_uri":"data:text/html,hi"}`, meta, "tos_uri must be an http or https URL"},
		{"fail/policy_uri-space", `{` + cc + `,"policy_uri":"https://a.example/p q"}`, meta, "policy_uri must not contain whitespace"},
		{"fail/jwks_uri-http", `{` + cc + `,"jwks_uri":"http://a.example/j"}`, meta, "jwks_uri must be an https URL"},
		{"fail/sector_identifier_uri-http", `{` + cc + `,"sector_identifier_uri":"http://a.example/s"}`, meta, "sector_identifier_uri must be an https URL"},
		{"fail/initiate_login_uri-http", `{` + cc + `,"initiate_login_uri":"http://a.example/l"}`, meta, "initiate_login_uri must be an https URL"},
		{"fail/request_uris-http", `{` + cc + `,"request_uris":["https://a.example/r","http://a.example/r"]}`, meta, "request_uris[1] must be an https URL"},
		{"fail/post_logout-fragment", `{` + cc + `,"post_logout_redirect_uris":["https://a.example/bye#x"]}`, meta, "post_logout_redirect_uris[0] must not contain a fragment"},
		{"fail/localized-logo-javascript", `{` + cc + `,"logo_uri#fr":"javascript:alert(1)"}`, meta, "logo_uri#fr must be an http or https URL"},
		{"fail/localized-client_uri-relative", `{` + cc + `,"client_uri#de-CH":"/about"}`, meta, "client_uri#de-CH must be an absolute URI"},

		// scope
		{"fail/scope-double-space", `{` + cc + `,"scope":"a  b"}`, meta, "scope must be scope tokens"},
		{"fail/scope-quote", `{` + cc + `,"scope":"a\"b"}`, meta, "RFC 6749 §3.3"},
		{"fail/scope-backslash", `{` + cc + `,"scope":"a\\b"}`, meta, "RFC 6749 §3.3"},
		{"fail/scope-non-ascii", `{` + cc + `,"scope":"café"}`, meta, "RFC 6749 §3.3"},

		// OpenID Connect members
		{"fail/subject_type", `{` + cc + `,"subject_type":"secret"}`, meta, "subject_type must be public or pairwise"},
		{"fail/default_max_age-negative", `{` + cc + `,"default_max_age":-1}`, meta, "default_max_age must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeNormalize(tt.body, Options{})
			assertOAuthError(t, err, tt.want, tt.mention)
		})
	}
}

// TestNormalizeCodeMetadata covers metadata built in code rather than
// decoded: Normalize applies the value rules itself and drops extensions
// that are not configured.
func TestNormalizeCodeMetadata(t *testing.T) {
	tests := []struct {
		name    string
		m       Metadata
		mention string
	}{
		{"fail/control-character", Metadata{GrantTypes: []string{GrantClientCredentials}, ClientName: "a\x00"}, "client_name must not contain control characters"},
		{"fail/empty-element", Metadata{GrantTypes: []string{GrantClientCredentials}, Contacts: []string{""}}, "contacts[0] must not be empty"},
		{"fail/localized-base", Metadata{GrantTypes: []string{GrantClientCredentials}, Localized: map[string]string{"scope#fr": "a"}}, `"scope#fr" is not a member that takes a language tag`},
		{"fail/extension-type", Metadata{GrantTypes: []string{GrantClientCredentials}, Extensions: map[string]jsonRaw{"tenant": jsonRaw(`1`)}}, "tenant must be a string"},
		{"fail/extension-nil", Metadata{GrantTypes: []string{GrantClientCredentials}, Extensions: map[string]jsonRaw{"quota": nil}}, "quota must be a number"},
		{"fail/extension-null", Metadata{GrantTypes: []string{GrantClientCredentials}, Extensions: map[string]jsonRaw{"trusted": jsonRaw(`null`)}}, "trusted must be a boolean"},
		{"fail/jwks-not-json", Metadata{GrantTypes: []string{GrantClientCredentials}, JWKS: jsonRaw(`{"keys":`)}, "jwks must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Normalize(extensionOpts)
			assertOAuthError(t, err, oauth.ErrInvalidClientMetadata, tt.mention)
		})
	}
	t.Run("ok/unconfigured-extension-dropped", func(t *testing.T) {
		m := Metadata{GrantTypes: []string{GrantClientCredentials},
			Extensions: map[string]jsonRaw{"tenant": jsonRaw(` "acme" `), "legacy": jsonRaw(`1`)}}
		if err := m.Normalize(extensionOpts); err != nil {
			t.Fatalf("Normalize: %v", err)
		}
		if len(m.Extensions) != 1 || string(m.Extensions["tenant"]) != `"acme"` {
			t.Fatalf("Extensions = %s, want only compacted tenant", m.Extensions)
		}
	})
}

func TestIsConfidential(t *testing.T) {
	tests := []struct {
		method string
		want   bool
	}{
		{"", true},
		{AuthClientSecretBasic, true},
		{AuthClientSecretPost, true},
		{AuthNone, false},
		{AuthPrivateKeyJWT, false},
		{AuthTLSClientAuth, false},
		{AuthSelfSignedTLSClientAuth, false},
	}
	for _, tt := range tests {
		name := "ok/" + strings.ReplaceAll(tt.method, "_", "-")
		t.Run(name, func(t *testing.T) {
			if got := (Metadata{TokenEndpointAuthMethod: tt.method}).IsConfidential(); got != tt.want {
				t.Fatalf("IsConfidential(%q) = %v, want %v", tt.method, got, tt.want)
			}
		})
	}
}

// TestRuleTablesNameKnownMembers guards the tables that look members up by
// name: a typo there would silently check the wrong field.
func TestRuleTablesNameKnownMembers(t *testing.T) {
	var names []string
	names = append(names, uriMembers...)
	names = append(names, tlsSubjectMembers...)
	for base := range localizable {
		names = append(names, base)
	}
	for _, name := range names {
		if _, ok := fieldsByName[name]; !ok {
			t.Errorf("rule table names %q, which is not a Metadata member", name)
		}
	}
	// Every field but Localized and Extensions must be a described member.
	if want := reflect.TypeFor[Metadata]().NumField() - 2; len(metadataFields) != want {
		t.Errorf("described %d Metadata members, want %d: a field without a json tag?", len(metadataFields), want)
	}
}
