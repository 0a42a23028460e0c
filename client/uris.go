package client

import (
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// checkRedirectURIs checks redirect_uris (RFC 7591 §2): required when a
// grant type uses the authorization endpoint (authorization_code, implicit),
// and each one acceptable for the client's application_type. Errors are
// invalid_redirect_uri (RFC 7591 §3.2.2). The URI itself is not echoed in the
// description; its index is.
func (m *Metadata) checkRedirectURIs() error {
	if len(m.RedirectURIs) == 0 {
		if slices.Contains(m.GrantTypes, GrantAuthorizationCode) || slices.Contains(m.GrantTypes, GrantImplicit) {
			return invalidRedirectURI("redirect_uris is required with the authorization_code and implicit grant types (RFC 7591 §2)")
		}
		return nil
	}
	for i, raw := range m.RedirectURIs {
		if problem := m.uriProblem(raw, redirectURI); problem != "" {
			return invalidRedirectURI("redirect_uris[%d] %s", i, problem)
		}
	}
	return nil
}

// redirectURI is the rule of redirect_uris.
func redirectURI(m *Metadata, u *url.URL, raw string) string {
	return redirectionProblem(u, raw, m.ApplicationType, slices.Contains(m.GrantTypes, GrantImplicit))
}

// logoutRedirectURI is the rule of post_logout_redirect_uris. OpenID Connect
// RP-Initiated Logout 1.0 §3.1: the OP redirects the End-User's User Agent to
// them after logout, and they "SHOULD use the https scheme". They are
// redirection endpoints like redirect_uris and follow the same rules for the
// client's application_type, so a logout cannot send a browser to a
// javascript: or data: URI. The implicit-grant rule is not applied: no token
// is delivered to them.
func logoutRedirectURI(m *Metadata, u *url.URL, raw string) string {
	return redirectionProblem(u, raw, m.ApplicationType, false)
}

// redirectionProblem describes what is wrong with a redirection endpoint of
// a client of applicationType, or returns "" when it is acceptable.
func redirectionProblem(u *url.URL, raw, applicationType string, implicit bool) string {
	if problem := redirectShapeProblem(u, raw); problem != "" {
		return problem
	}
	if applicationType == "native" {
		return nativeRedirectProblem(u)
	}
	return webRedirectProblem(u, implicit)
}

// redirectShapeProblem: RFC 6749 §3.1.2 — "The endpoint URI MUST NOT include
// a fragment component". Userinfo is refused too: RFC 3986 §3.2.1 deprecates
// passwords in URIs and "user@host" is a classic way to disguise a host.
func redirectShapeProblem(u *url.URL, raw string) string {
	switch {
	case strings.Contains(raw, "#"):
		return "must not contain a fragment (RFC 6749 §3.1.2)"
	case u.User != nil:
		return "must not contain userinfo"
	}
	return ""
}

// webRedirectProblem applies the rules for web clients. OpenID Connect
// Registration §2: web clients using the implicit grant "MUST only register
// URLs using the https scheme as redirect_uris; they MUST NOT use localhost as
// the hostname". Otherwise https is required, except that http is allowed on
// a loopback host, as OAuth 2.1 §2.3.1 allows and MCP clients that run a
// local callback listener expect.
func webRedirectProblem(u *url.URL, implicit bool) string {
	switch {
	case implicit && (u.Scheme != "https" || isLoopbackHost(u.Hostname())):
		return "must be an https URL on a non-loopback host with the implicit grant (OpenID Connect Registration §2)"
	case u.Scheme == "https":
		return hostProblem(u)
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return ""
	}
	return "must be an https URL, or an http URL on a loopback host (127.0.0.1, [::1] or localhost)"
}

// nativeRedirectProblem applies RFC 8252 §7 for native apps: a loopback
// http URL with any port (§7.3), a claimed https URL (§7.2), or a private-use
// URI scheme, which §7.1 says must be a reverse domain name
// ("com.example.app"), i.e. contain a period, so apps do not collide.
func nativeRedirectProblem(u *url.URL) string {
	switch u.Scheme {
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return ""
		}
		return "may use http only on a loopback host for native clients (RFC 8252 §7.3)"
	case "https":
		return hostProblem(u)
	}
	if !strings.Contains(u.Scheme, ".") {
		return "must use a private-use URI scheme in reverse domain name form, such as com.example.app (RFC 8252 §7.1)"
	}
	return ""
}

// isLoopbackHost reports whether host names the loopback interface: an IPv4
// or IPv6 loopback address (RFC 8252 §7.3), or "localhost".
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// parseAbsoluteURI parses raw as an absolute URI (RFC 3986 §4.3: it has a
// scheme). Whitespace is refused outright rather than left to each parser.
func parseAbsoluteURI(raw string) (*url.URL, string) {
	if strings.IndexFunc(raw, unicode.IsSpace) >= 0 {
		return nil, "must not contain whitespace"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, "is not a valid URI"
	case !u.IsAbs():
		return nil, "must be an absolute URI"
	}
	return u, ""
}

// uriRule describes what is wrong with a parsed URI member of m, or returns
// "". Rules that depend on other members (the application type) read them
// from m.
type uriRule func(m *Metadata, u *url.URL, raw string) string

// webPageURI is for URIs shown to end users as links or images (client_uri,
// logo_uri, tos_uri, policy_uri): only http(s), so that a consent page never
// renders a javascript: or data: URI a client chose.
func webPageURI(_ *Metadata, u *url.URL, _ string) string {
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must be an http or https URL"
	}
	return hostProblem(u)
}

// httpsURI is for URIs the authorization server fetches or sends users to
// on the client's behalf (jwks_uri, sector_identifier_uri,
// initiate_login_uri, request_uris): OpenID Connect Registration §2 requires
// https for each.
func httpsURI(_ *Metadata, u *url.URL, _ string) string {
	if u.Scheme != "https" {
		return "must be an https URL (OpenID Connect Registration §2)"
	}
	return hostProblem(u)
}

// anyAbsoluteURI accepts any absolute URI (tls_client_auth_san_uri names a
// certificate SAN, which may use any scheme), within the rules every URI
// member obeys (uriProblem).
func anyAbsoluteURI(*Metadata, *url.URL, string) string { return "" }

// uriRules lists the URI members other than redirect_uris, with their rule.
// Language-tagged variants follow the rule of their base member.
var uriRules = map[string]uriRule{
	"client_uri":                webPageURI,
	"logo_uri":                  webPageURI,
	"tos_uri":                   webPageURI,
	"policy_uri":                webPageURI,
	"jwks_uri":                  httpsURI,
	"sector_identifier_uri":     httpsURI,
	"initiate_login_uri":        httpsURI,
	"request_uris":              httpsURI,
	"post_logout_redirect_uris": logoutRedirectURI,
	"tls_client_auth_san_uri":   anyAbsoluteURI,
}

// uriMembers are the keys of uriRules in a fixed order, so that the first
// problem reported does not vary from run to run.
var uriMembers = slices.Sorted(maps.Keys(uriRules))

// checkURIs applies uriRules to every URI member and language-tagged variant.
func (m *Metadata) checkURIs() error {
	for _, name := range uriMembers {
		multi := fieldsByName[name].kind == kindStrings
		for i, raw := range m.stringValues(name) {
			member := name
			if multi {
				member = fmt.Sprintf("%s[%d]", name, i)
			}
			if err := m.checkURI(member, raw, uriRules[name]); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Localized)) {
		base, _, _ := strings.Cut(name, "#")
		if rule, ok := uriRules[base]; ok {
			if err := m.checkURI(name, m.Localized[name], rule); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Metadata) checkURI(member, raw string, rule uriRule) error {
	if problem := m.uriProblem(raw, rule); problem != "" {
		return invalidMetadata("%s %s", member, problem)
	}
	return nil
}

// uriProblem describes what is wrong with raw as the value of a URI member
// whose own rule is rule, or returns "". The member's rule runs first, so a
// URI with the wrong scheme is told which scheme the member needs; then come
// the rules every URI member obeys, whatever its own rule allows.
func (m *Metadata) uriProblem(raw string, rule uriRule) string {
	u, problem := parseAbsoluteURI(raw)
	if problem == "" {
		problem = rule(m, u, raw)
	}
	if problem == "" {
		problem = firstProblem(u, schemeProblem, authorityProblem)
	}
	return problem
}

// forbiddenSchemes are never acceptable in a URI member, even where its rule
// allows any scheme (tls_client_auth_san_uri) or a private-use one (native
// redirect URIs): javascript: and vbscript: run code in the page that follows
// or renders them, data: makes a document of the URI itself, and file: reads
// the disk of whoever follows it. None names a place a client is reached at.
var forbiddenSchemes = []string{"javascript", "vbscript", "data", "file"}

// schemeProblem refuses forbiddenSchemes. url.Parse lowercases the scheme,
// but schemes are case-insensitive (RFC 3986 §3.1), so the comparison does
// not rely on it.
func schemeProblem(u *url.URL) string {
	for _, scheme := range forbiddenSchemes {
		if strings.EqualFold(u.Scheme, scheme) {
			return "must not use the " + scheme + ": scheme"
		}
	}
	return ""
}

// RedirectHost classifies an already-validated redirect URI for the
// anonymous profile: "loopback" for http on a loopback host (RFC 8252
// §7.3), "private-use" for a reverse-domain private-use scheme (§7.1), or
// the host of an https URL (§7.2 claimed, or a web app's); "" for anything
// else.
func RedirectHost(raw string) string {
	u, problem := parseAbsoluteURI(raw)
	switch {
	case problem != "":
		return ""
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return "loopback"
	case u.Scheme == "https":
		return strings.ToLower(u.Hostname())
	case strings.Contains(u.Scheme, ".") && schemeProblem(u) == "":
		return "private-use"
	}
	return ""
}
