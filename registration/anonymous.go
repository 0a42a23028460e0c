package registration

import (
	"slices"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/oauth"
)

// anonymousPolicy names the anonymous profile in refusals, audit events
// and metrics, as a configured policy would be named.
const anonymousPolicy = "anonymous_profile"

// Anonymous is the profile of registrations without an initial access
// token (RFC 7591 §3: "open registration"), as MCP clients make them on
// every login from machines nobody vouches for. Only what such a caller
// can safely be given is admitted: a public client using the
// authorization code grant, its redirect URIs on the caller's own machine
// — loopback or a private-use scheme (RFC 8252 §7) — or on a web host the
// operator allows; it lives ClientLifetime unless used. The policies with
// anonymous set judge it further; the others judge only tokened callers.
type Anonymous struct {
	Enabled bool
	// ClientLifetime is the lifetime of the clients it admits, renewed by
	// use; 0 = the registration's client_lifetime.
	ClientLifetime time.Duration
	// WebRedirectHosts are the hosts on which its clients may also have
	// https redirect URIs (browser-based hosts); none by default.
	WebRedirectHosts []string
}

// anonymousGrants are the only grant and response types it admits: the
// authorization code grant with refresh tokens. The AS must require PKCE
// of these public clients (OAuth 2.1 §4.1.1); RFC 7591 has no member that
// could ask for it.
var (
	anonymousGrants    = []string{client.GrantAuthorizationCode, client.GrantRefreshToken}
	anonymousResponses = []string{"code"}
)

// check applies the anonymous profile to md.
func (a Anonymous) check(md client.Metadata) error {
	refuse := func(base *oauth.Error, format string, args ...any) error {
		return base.WithDescription(format+" for a registration without an initial access token (policy "+anonymousPolicy+")", args...).
			WithPolicy(anonymousPolicy)
	}
	if md.TokenEndpointAuthMethod != client.AuthNone {
		return refuse(oauth.ErrInvalidClientMetadata, "only a public client (token_endpoint_auth_method none) may be registered")
	}
	for _, g := range md.GrantTypes {
		if !slices.Contains(anonymousGrants, g) {
			return refuse(oauth.ErrInvalidClientMetadata, "grant type %q may not be registered", g)
		}
	}
	for _, rt := range md.ResponseTypes {
		if !slices.Contains(anonymousResponses, rt) {
			return refuse(oauth.ErrInvalidClientMetadata, "response type %q may not be registered", rt)
		}
	}
	for i, raw := range md.RedirectURIs {
		switch host := client.RedirectHost(raw); {
		case host == "loopback", host == "private-use", slices.Contains(a.WebRedirectHosts, host):
		default:
			return refuse(oauth.ErrInvalidRedirectURI, "redirect_uris[%d] must be a loopback http URL, a private-use scheme (RFC 8252 §7) or https on an allowed host", i)
		}
	}
	return nil
}
