package client

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bodies through the registration path. Decode,
// Normalize and Marshal must never panic, whatever Normalize accepts must
// survive the store unchanged (assertRoundTrip), and every URI it accepts
// must be safe (assertSafeURIs).
func FuzzDecode(f *testing.F) {
	seeds := []string{
		mcpBody,
		`{}`,
		`null`,
		`{"redirect_uris":["https://a.example/cb"],"client_name#fr":"Outil","logo_uri#de-CH":"https://a.example/l.png"}`,
		`{"application_type":"native","redirect_uris":["com.example.app:/cb","http://[::1]:8080/"]}`,
		`{"grant_types":["client_credentials"],"response_types":[],"tenant":"acme","groups":["a"],"trusted":true,"quota":-1.5e3}`,
		`{"grant_types":["implicit"],"response_types":["id_token token"],"redirect_uris":["https://a.example/cb"]}`,
		`{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":` + publicJWKS(f) + `}`,
		`{"grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"::1"}`,
		`{"scope":"a b a","default_max_age":0,"client_id":"x","registration_access_token":"t"}`,
		`{"client_name":"\u00e9\u2028","scope":"a","scope":"b"}`,
		`{"redirect_uris":["http://[::1%25eth0]:8080/cb","https://*.example.com/cb"],"post_logout_redirect_uris":["javascript:alert(1)"]}`,
		`{"grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_uri":"DATA:,x"}`,
		`{"grant_types":["client_credentials"],"client_uri":"https://b\u00fccher.example:99999","logo_uri#fr":"https://a.example:/l.png"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body, extensionOpts)
		if err != nil {
			return
		}
		m := req.Metadata
		if _, err := m.MarshalJSON(); err != nil {
			t.Fatalf("Marshal of decoded metadata failed: %v", err)
		}
		if err := m.Normalize(extensionOpts); err != nil {
			return
		}
		assertRoundTrip(t, m, extensionOpts)
		assertSafeURIs(t, &m)
	})
}

// FuzzURIMembers puts one arbitrary URI in each URI member in turn, for a
// web or a native client: the URI rules get every input, not only the ones
// that survive JSON mutation. Whatever is accepted must be safe.
func FuzzURIMembers(f *testing.F) {
	seeds := []string{
		"https://a.example/cb", "http://127.0.0.1:51004/cb", "http://[::1]/cb", "com.example.app:/cb",
		"com.example.app://cb:8080/x", "spiffe://example.org/svc", "urn:example:svc", "https://bücher.example/",
		"javascript:alert(1)", "JaVaScRiPt://a.example/%0aalert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd",
		"https://*/cb", "https://*.example.com/cb", "https://a.example:99999/cb", "https://a.example:0/cb",
		"https://a.example:/cb", "http://[::1%25eth0]/cb", "https://a%25b.example/", "https://127.1/", "https://a.example./",
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, uri string, native bool) {
		app := "web"
		if native {
			app = "native"
		}
		for _, member := range uriMembersUnderTest {
			m := uriMetadata(member, app, uri)
			if err := m.Normalize(Options{}); err != nil {
				continue
			}
			assertSafeURI(t, member, uri)
		}
	})
}

// assertSafeURIs checks every URI value of normalized metadata.
func assertSafeURIs(t *testing.T, m *Metadata) {
	t.Helper()
	for _, raw := range m.RedirectURIs {
		assertSafeURI(t, "redirect_uris", raw)
	}
	for _, name := range uriMembers {
		for _, raw := range m.stringValues(name) {
			assertSafeURI(t, name, raw)
		}
	}
	for name, raw := range m.Localized {
		if base, _, _ := strings.Cut(name, "#"); uriRules[base] != nil {
			assertSafeURI(t, name, raw)
		}
	}
}

// assertSafeURI checks the invariants of an accepted URI, written apart from
// the rules that enforce them: no script or local scheme, in any case; and
// in the host no '*', no '%' (zone identifiers, escapes), and a port that is
// absent or a number from 1 to 65535.
func assertSafeURI(t *testing.T, member, raw string) {
	t.Helper()
	for _, scheme := range []string{"javascript:", "data:", "vbscript:", "file:"} {
		if strings.HasPrefix(strings.ToLower(raw), scheme) {
			t.Fatalf("%s accepted %q, which uses %s", member, raw, scheme)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s accepted %q, which url.Parse refuses: %v", member, raw, err)
	}
	if strings.ContainsAny(u.Host, "*%") {
		t.Fatalf("%s accepted %q, whose host %q has '*' or '%%'", member, raw, u.Host)
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("%s accepted %q, whose port %q is not 1 to 65535", member, raw, port)
		}
	}
}
