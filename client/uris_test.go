package client

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/oauth"
)

// uriMembersUnderTest are all URI-valued members, with a language-tagged
// variant of each localizable one.
var uriMembersUnderTest = append([]string{"redirect_uris", "client_uri#fr", "logo_uri#de-CH", "tos_uri#fr", "policy_uri#en-GB"}, uriMembers...)

// uriMetadata is metadata, valid but for uri in member, of a client whose
// application_type is app.
func uriMetadata(member, app, uri string) Metadata {
	m := Metadata{ApplicationType: app, GrantTypes: []string{GrantClientCredentials}}
	switch member {
	case "redirect_uris":
		m.GrantTypes = []string{GrantAuthorizationCode}
	case "tls_client_auth_san_uri":
		m.TokenEndpointAuthMethod = AuthTLSClientAuth
	}
	switch f, ok := fieldsByName[member]; {
	case !ok:
		m.Localized = map[string]string{member: uri}
	case f.kind == kindStrings:
		f.value(&m).Set(reflect.ValueOf([]string{uri}))
	default:
		f.value(&m).Set(reflect.ValueOf(uri))
	}
	return m
}

// uriBody is uriMetadata as a registration body.
func uriBody(t *testing.T, member, app, uri string) string {
	t.Helper()
	m := uriMetadata(member, app, uri)
	b, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// uriLabel is how error descriptions name the first value of member.
func uriLabel(member string) string {
	if f, ok := fieldsByName[member]; ok && f.kind == kindStrings {
		return member + "[0] "
	}
	return member + " "
}

// uriErrorCode is the error an unacceptable value of member gets: RFC 7591
// §3.2.2 keeps invalid_redirect_uri for redirect_uris.
func uriErrorCode(member string) *oauth.Error {
	if member == "redirect_uris" {
		return oauth.ErrInvalidRedirectURI
	}
	return oauth.ErrInvalidClientMetadata
}

// assertURIRefused checks that the registration of uri in member fails with
// the member's error code, a description that names the member and its index
// and mentions mention, and does not echo the URI.
func assertURIRefused(t *testing.T, member, app, uri, mention string) {
	t.Helper()
	_, err := decodeNormalize(uriBody(t, member, app, uri), Options{})
	assertOAuthError(t, err, uriErrorCode(member), mention)
	var e *oauth.Error
	errors.As(err, &e)
	if !strings.HasPrefix(e.Description, uriLabel(member)) {
		t.Fatalf("description %q does not start with %q", e.Description, uriLabel(member))
	}
	if strings.Contains(e.Description, uri) {
		t.Fatalf("description %q echoes the URI", e.Description)
	}
}

// TestURIMembersRefuseHostileURIs sends every hostile URI in every URI
// member, for web and native clients. The https ones pass every member's
// scheme rule, so what refuses them must be the rule each one names.
func TestURIMembersRefuseHostileURIs(t *testing.T) {
	hostile := []struct{ name, uri, mention string }{
		{"javascript", "javascript:alert(1)", ""},
		{"javascript-authority", "JavaScript://a.example/%0Aalert(1)", ""},
		{"data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", ""},
		{"vbscript", "VBScript:MsgBox(1)", ""},
		{"file", "file:///etc/passwd", ""},
		{"file-host", "file://server.example/share", ""},
		{"wildcard-host", "https://*/x", "host must not contain a wildcard"},
		{"wildcard-subdomain", "https://*.example.com/x", "host must not contain a wildcard"},
		{"port-too-big", "https://a.example:99999/x", "port must be a number from 1 to 65535"},
		{"port-65536", "https://a.example:65536/x", "port must be a number from 1 to 65535"},
		{"port-zero", "https://a.example:0/x", "port must be a number from 1 to 65535"},
		{"port-leading-zero", "https://a.example:0443/x", "without leading zeros"},
		{"port-non-numeric", "https://a.example:https/x", "is not a valid URI"},
		{"port-empty", "https://a.example:/x", "must not have an empty port"},
		{"port-without-host", "https://:443/x", "must have a host"},
		{"zone", "https://[fe80::1%25eth0]/x", "IPv6 zone identifier (RFC 6874)"},
		{"host-underscore", "https://a_b.example/x", "host must be a DNS name or an IP address"},
		{"host-punctuation", "https://a!b.example/x", "host must be a DNS name or an IP address"},
		{"host-encoded-percent", "https://a%25b.example/x", "host must be a DNS name or an IP address"},
		{"host-empty-label", "https://a..example/x", "host must be a DNS name or an IP address"},
		{"host-trailing-dot", "https://a.example./x", "host must be a DNS name or an IP address"},
		{"host-fullwidth-slash", "https://evil.example\uff0f.a.example/x", "host must be a DNS name or an IP address"},
		{"host-numeric-tld", "https://127.1/x", "host must be a DNS name or an IP address"},
	}
	for _, member := range uriMembersUnderTest {
		for _, app := range []string{"web", "native"} {
			for _, h := range hostile {
				t.Run("fail/"+member+"/"+app+"/"+h.name, func(t *testing.T) {
					assertURIRefused(t, member, app, h.uri, h.mention)
				})
			}
		}
	}
}

func TestURIRulesOK(t *testing.T) {
	tests := []struct{ name, member, app, uri string }{
		// Loopback http with any port (RFC 8252 §7.3), web or native.
		{"ok/redirect-web-loopback-port-1", "redirect_uris", "web", "http://127.0.0.1:1/cb"},
		{"ok/redirect-web-loopback-port-65535", "redirect_uris", "web", "http://127.0.0.1:65535/cb"},
		{"ok/redirect-native-loopback-ipv6-port", "redirect_uris", "native", "http://[::1]:51004/cb"},
		{"ok/redirect-native-localhost-port", "redirect_uris", "native", "http://localhost:8080/cb"},
		// Private-use schemes (RFC 8252 §7.1), with or without an authority.
		{"ok/redirect-native-private-use", "redirect_uris", "native", "com.example.app:/oauth2redirect"},
		{"ok/redirect-native-private-use-authority", "redirect_uris", "native", "com.example.app://callback/cb"},
		// Claimed https (RFC 8252 §7.2) and ordinary hosts.
		{"ok/redirect-native-claimed-https", "redirect_uris", "native", "https://app.example.com/native"},
		{"ok/redirect-https-port", "redirect_uris", "web", "https://a.example:8443/cb"},
		{"ok/redirect-https-default-port", "redirect_uris", "web", "https://a.example:443/cb"},
		{"ok/redirect-ipv4", "redirect_uris", "web", "https://192.0.2.1/cb"},
		{"ok/redirect-ipv6", "redirect_uris", "web", "https://[2001:db8::1]:8443/cb"},
		{"ok/redirect-single-label", "redirect_uris", "web", "https://intranet/cb"},
		{"ok/redirect-uppercase", "redirect_uris", "web", "HTTPS://A.Example/cb"},
		{"ok/redirect-hyphen-and-digits", "redirect_uris", "web", "https://my-app2.example-1.com/cb"},
		// Internationalized names: U-labels (letters, and marks in Devanagari)
		// and A-labels.
		{"ok/redirect-idn-u-label", "redirect_uris", "web", "https://bücher.example/cb"},
		{"ok/redirect-idn-marks", "redirect_uris", "web", "https://उदाहरण.परीक्षा/cb"},
		{"ok/redirect-idn-a-label", "redirect_uris", "web", "https://xn--bcher-kva.example/cb"},
		{"ok/client_uri-idn", "client_uri", "web", "https://bücher.example"},
		// post_logout_redirect_uris follow the redirect_uris rules.
		{"ok/logout-web-https", "post_logout_redirect_uris", "web", "https://a.example/bye"},
		{"ok/logout-web-loopback", "post_logout_redirect_uris", "web", "http://localhost:6274/bye"},
		{"ok/logout-native-loopback", "post_logout_redirect_uris", "native", "http://127.0.0.1:51004/bye"},
		{"ok/logout-native-private-use", "post_logout_redirect_uris", "native", "com.example.app:/logout"},
		{"ok/logout-native-claimed-https", "post_logout_redirect_uris", "native", "https://app.example.com/bye"},
		// tls_client_auth_san_uri takes any other scheme.
		{"ok/san-uri-spiffe", "tls_client_auth_san_uri", "web", "spiffe://example.org/ns/prod/sa/svc"},
		{"ok/san-uri-urn", "tls_client_auth_san_uri", "web", "urn:example:svc"},
		{"ok/san-uri-https-port", "tls_client_auth_san_uri", "web", "https://svc.example:8443/"},
		// Other members with ports and IP literals.
		{"ok/jwks_uri-port", "jwks_uri", "web", "https://a.example:8443/jwks.json"},
		{"ok/request_uris-ipv6", "request_uris", "web", "https://[2001:db8::2]/r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeNormalize(uriBody(t, tt.member, tt.app, tt.uri), Options{})
			if err != nil {
				t.Fatalf("Decode+Normalize: %v", err)
			}
			assertRoundTrip(t, m, Options{})
		})
	}
	t.Run("ok/logout-loopback-with-implicit", func(t *testing.T) {
		// The implicit rule of redirect_uris (https, no localhost) is not
		// applied to post_logout_redirect_uris: no token goes there.
		body := `{"grant_types":["implicit"],"response_types":["id_token"],"token_endpoint_auth_method":"none",
			"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["http://127.0.0.1:8080/bye"]}`
		if _, err := decodeNormalize(body, Options{}); err != nil {
			t.Fatalf("Decode+Normalize: %v", err)
		}
	})
}

func TestURIRulesFail(t *testing.T) {
	const webRule = "must be an https URL, or an http URL on a loopback host"
	const privateUse = "must use a private-use URI scheme in reverse domain name form"
	tests := []struct{ name, member, app, uri, mention string }{
		// post_logout_redirect_uris: the redirect_uris scheme rules.
		{"fail/logout-web-javascript", "post_logout_redirect_uris", "web", "javascript:alert(document.cookie)", webRule},
		{"fail/logout-web-data", "post_logout_redirect_uris", "web", "data:text/html,<script>alert(1)</script>", webRule},
		{"fail/logout-web-http-remote", "post_logout_redirect_uris", "web", "http://a.example/bye", webRule},
		{"fail/logout-web-private-use", "post_logout_redirect_uris", "web", "com.example.app:/bye", webRule},
		{"fail/logout-native-javascript", "post_logout_redirect_uris", "native", "javascript:alert(1)", privateUse},
		{"fail/logout-native-data", "post_logout_redirect_uris", "native", "data:,bye", privateUse},
		{"fail/logout-native-scheme-without-dot", "post_logout_redirect_uris", "native", "myapp:/bye", privateUse},
		{"fail/logout-native-http-remote", "post_logout_redirect_uris", "native", "http://a.example/bye", "RFC 8252 §7.3"},
		{"fail/logout-userinfo", "post_logout_redirect_uris", "web", "https://good.example@evil.example/bye", "must not contain userinfo"},

		// Forbidden schemes where the member's own rule allows any scheme.
		{"fail/san-uri-javascript", "tls_client_auth_san_uri", "web", "javascript:alert(1)", "must not use the javascript: scheme"},
		{"fail/san-uri-vbscript-mixed-case", "tls_client_auth_san_uri", "web", "VbScript:MsgBox(1)", "must not use the vbscript: scheme"},
		{"fail/san-uri-data", "tls_client_auth_san_uri", "web", "data:,x", "must not use the data: scheme"},
		{"fail/san-uri-file", "tls_client_auth_san_uri", "web", "FILE:///etc/passwd", "must not use the file: scheme"},

		// Hosts of redirect URIs.
		{"fail/redirect-wildcard", "redirect_uris", "web", "https://*/cb", "host must not contain a wildcard"},
		{"fail/redirect-wildcard-subdomain", "redirect_uris", "web", "https://*.example.com/cb", "host must not contain a wildcard"},
		{"fail/redirect-wildcard-label-part", "redirect_uris", "web", "https://app-*.example.com/cb", "host must not contain a wildcard"},
		{"fail/redirect-loopback-zone", "redirect_uris", "web", "http://[::1%25eth0]/cb", "IPv6 zone identifier"},
		{"fail/redirect-native-loopback-zone", "redirect_uris", "native", "http://[::1%25lo]:8080/cb", "IPv6 zone identifier"},
		{"fail/redirect-loopback-port-too-big", "redirect_uris", "web", "http://127.0.0.1:65536/cb", "port must be a number from 1 to 65535"},
		{"fail/redirect-loopback-port-huge", "redirect_uris", "native", "http://127.0.0.1:99999999999999999999/cb", "port must be a number from 1 to 65535"},
		{"fail/redirect-loopback-port-zero", "redirect_uris", "native", "http://127.0.0.1:0/cb", "port must be a number from 1 to 65535"},
		{"fail/redirect-loopback-port-empty", "redirect_uris", "web", "http://[::1]:/cb", "must not have an empty port"},
		{"fail/redirect-port-letters", "redirect_uris", "web", "https://a.example:8o8o/cb", "is not a valid URI"},
		{"fail/redirect-port-sign", "redirect_uris", "web", "https://a.example:+443/cb", "is not a valid URI"},
		{"fail/redirect-leading-hyphen", "redirect_uris", "web", "https://-a.example/cb", "host must be a DNS name"},
		{"fail/redirect-trailing-hyphen", "redirect_uris", "web", "https://a-.example/cb", "host must be a DNS name"},
		{"fail/redirect-leading-dot", "redirect_uris", "web", "https://.a.example/cb", "host must be a DNS name"},
		{"fail/redirect-host-semicolon", "redirect_uris", "web", "https://a;b.example/cb", "host must be a DNS name"},
		{"fail/redirect-host-tilde", "redirect_uris", "web", "https://a~b.example/cb", "host must be a DNS name"},
		{"fail/redirect-host-decimal-ip", "redirect_uris", "web", "https://2130706433/cb", "host must be a DNS name"},
		{"fail/redirect-host-hex-ip", "redirect_uris", "web", "https://0x7f.0.0.1/cb", "host must be a DNS name"},
		{"fail/redirect-host-octal-ip", "redirect_uris", "web", "https://127.000.000.001/cb", "host must be a DNS name"},
		{"fail/redirect-host-five-part-ip", "redirect_uris", "web", "https://1.2.3.4.5/cb", "host must be a DNS name"},
		{"fail/redirect-idn-ideographic-dot", "redirect_uris", "web", "https://a\u3002example/cb", "host must be a DNS name"},
		{"fail/redirect-idn-symbol", "redirect_uris", "web", "https://a\u2100b.example/cb", "host must be a DNS name"},
		{"fail/redirect-host-invalid-utf8", "redirect_uris", "web", "https://b%C0.example/cb", "host must be a DNS name"},
		{"fail/redirect-native-private-use-wildcard", "redirect_uris", "native", "com.example.app://*/cb", "host must not contain a wildcard"},
		{"fail/redirect-native-private-use-port", "redirect_uris", "native", "com.example.app://callback:70000/cb", "port must be a number"},

		// Hosts of the other members.
		{"fail/san-uri-wildcard", "tls_client_auth_san_uri", "web", "spiffe://*.example.org/svc", "host must not contain a wildcard"},
		{"fail/san-uri-zone", "tls_client_auth_san_uri", "web", "spiffe://[fe80::1%25eth0]/svc", "IPv6 zone identifier"},
		{"fail/san-uri-port", "tls_client_auth_san_uri", "web", "spiffe://example.org:0/svc", "port must be a number"},
		{"fail/request_uris-zone", "request_uris", "web", "https://[fe80::1%25eth0]/r", "IPv6 zone identifier"},
		{"fail/logo_uri-localized-wildcard", "logo_uri#fr", "web", "https://*.example.com/logo.png", "host must not contain a wildcard"},
		{"fail/logout-port-too-big", "post_logout_redirect_uris", "native", "http://localhost:65536/bye", "port must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertURIRefused(t, tt.member, tt.app, tt.uri, tt.mention)
		})
	}
}

// TestSchemeProblemIgnoresCase does not rely on url.Parse lowercasing the
// scheme.
func TestSchemeProblemIgnoresCase(t *testing.T) {
	for _, scheme := range []string{"javascript", "JavaScript", "VBSCRIPT", "Data", "fILE"} {
		t.Run("fail/"+scheme, func(t *testing.T) {
			if schemeProblem(&url.URL{Scheme: scheme}) == "" {
				t.Fatalf("scheme %q accepted", scheme)
			}
		})
	}
	for _, scheme := range []string{"https", "com.example.app", "spiffe", "javascript.example", "datax", "files"} {
		t.Run("ok/"+scheme, func(t *testing.T) {
			if problem := schemeProblem(&url.URL{Scheme: scheme}); problem != "" {
				t.Fatalf("scheme %q refused: %s", scheme, problem)
			}
		})
	}
}
