package policies

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/dcrgate/dcrgate/oauth"
)

// redirectHosts is Keycloak's "Trusted Hosts" policy: every redirect URI
// (and post-logout redirect URI) must name an allowed host. A value
// "*.example.com" allows any subdomain of example.com; "localhost",
// "127.0.0.1" and "[::1]" must be listed to allow loopback redirects; a value
// ending in ":" ("com.example.app:") allows a private-use URI scheme
// (RFC 8252 §7.1), which has no host.
type redirectHosts struct {
	name    string
	allowed []string
}

func newRedirectHosts(s Spec) (Policy, error) {
	if len(s.Values) == 0 {
		return nil, errors.New("values: at least one allowed host is required")
	}
	for _, v := range s.Values {
		if v == "" || v == "*" || v == "*." {
			return nil, fmt.Errorf("values: %q allows everything; remove the policy instead", v)
		}
	}
	return redirectHosts{name: s.displayName(), allowed: s.Values}, nil
}

// Check implements Policy.
func (p redirectHosts) Check(_ context.Context, r Request) error {
	lists := []struct {
		member string
		uris   []string
	}{
		{"redirect_uris", r.Metadata.RedirectURIs},
		{"post_logout_redirect_uris", r.Metadata.PostLogoutRedirectURIs},
	}
	for _, l := range lists {
		member := l.member
		for i, raw := range l.uris {
			if !p.allows(raw) {
				return refusal(oauth.ErrInvalidRedirectURI, p.name, "%s[%d] is not on an allowed host", member, i)
			}
		}
	}
	return nil
}

// allows reports whether raw's host (or, without a host, its scheme) is
// allowed. Metadata validation has already made raw an absolute URI.
func (p redirectHosts) allows(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(u.Host, "[") {
		host = "[" + host + "]"
	}
	for _, a := range p.allowed {
		if matchHost(strings.ToLower(a), host, strings.ToLower(u.Scheme)) {
			return true
		}
	}
	return false
}

// HostMatches reports whether host is named by pattern: the host itself,
// or with a leading "*.", any of its subdomains; case does not matter.
func HostMatches(pattern, host string) bool {
	return matchHost(strings.ToLower(pattern), strings.ToLower(host), "")
}

func matchHost(allowed, host, scheme string) bool {
	switch {
	case strings.HasSuffix(allowed, ":"):
		return host == "" && allowed == scheme+":"
	case strings.HasPrefix(allowed, "*."):
		return strings.HasSuffix(host, allowed[1:]) && len(host) > len(allowed)-1
	default:
		return host != "" && host == allowed
	}
}
