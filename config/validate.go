package config

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat"
)

// Accepted values of the enumerated settings.
var (
	logLevels     = []string{"debug", "info", "warn", "error"}
	logFormats    = []string{"text", "json"}
	propertyTypes = []string{"string", "strings", "boolean", "number"}
	secretSchemes = []string{"{SSHA512}", "{ARGON2}", "{PBKDF2-SHA512}", SchemeServerHashing}
	// directories are the ldap.directory layouts ("" is openldap).
	directories = []string{"", "openldap", "389ds", "opends", "ad"}
)

const (
	maxClockSkew = 5 * time.Minute
	maxPoolSize  = 256
)

// check is one validation rule: when bad, msg is reported under key. Rules
// are listed as tables (after dex's config.Validate) so that every problem
// is reported in one go instead of one per run.
type check struct {
	bad bool
	key string
	msg string
}

// problem turns a helper's answer ("" = fine) into a check.
func problem(key, msg string) check { return check{msg != "", key, msg} }

// Validate reports every problem that makes the configuration unusable in
// any mode, one line per problem, each starting with its YAML key. The ldap
// section is not checked: `dev` runs on memory. `serve` calls
// ValidateForServe instead.
func (c Config) Validate() error { return report(c.checks()) }

// ValidateForServe is Validate plus the ldap section, which `serve` needs.
// Check runs the same checks and says where each problem is.
func (c Config) ValidateForServe() error { return report(c.serveChecks()) }

func (c Config) serveChecks() []check { return append(c.checks(), c.LDAP.checks()...) }

// problemsOf turns the failed checks into problems, to be placed.
func problemsOf(checks []check) []Problem {
	var out []Problem
	for _, ch := range checks {
		if ch.bad {
			out = append(out, Problem{Key: ch.key, Message: ch.msg})
		}
	}
	return out
}

func report(checks []check) error {
	if problems := problemsOf(checks); len(problems) > 0 {
		return Problems(problems)
	}
	return nil
}

func (c Config) checks() []check {
	checks := []check{
		problem("listen", listenProblem(c.Listen)),
		problem("metrics.listen", listenProblem(c.Metrics.Listen)),
		{c.Listen != "" && c.Metrics.Listen == c.Listen, "metrics.listen", "must differ from listen"},
		{c.Management.Enabled && c.ExternalURL == "", "external_url",
			"required when management.enabled is true: it is the base of registration_client_uri"},
		problem("external_url", externalURLProblem(c.ExternalURL)),
		problem("log.level", oneOf(c.Log.Level, logLevels)),
		{c.ShutdownGracePeriod <= 0, "shutdown_grace_period", "must be > 0"},
		{c.Audit.Output == "", "audit.output", `must be "stderr", "stdout", "off" or a file path`},
		problem("log.format", oneOf(c.Log.Format, logFormats)),
	}
	checks = append(checks, c.Registration.checks(len(c.InitialAccessTokens.Issuers))...)
	checks = append(checks, c.Management.checks()...)
	checks = append(checks, c.Reaper.checks()...)
	checks = append(checks, proxyChecks(c.TrustedProxies)...)
	checks = append(checks, c.RateLimits.checks()...)
	checks = append(checks, originChecks(c.CORS.AllowedOrigins)...)
	checks = append(checks, c.MetadataDocuments.checks(c.Registration.Enabled, c.LDAP.Directory)...)
	checks = append(checks, c.Fetch.checks()...)
	checks = append(checks, c.InitialAccessTokens.checks()...)
	return append(checks, c.SoftwareStatements.checks(c.metadataOptions())...)
}

// metadataOptions are the client metadata rules the defaults of software
// statement issuers are checked against.
func (c Config) metadataOptions() client.Options {
	opts := client.Options{MaxRedirectURIs: c.Registration.MaxRedirectURIs, MaxValueLength: c.Registration.MaxValueLength}
	for _, p := range c.Registration.ExtendedMetadata {
		opts.Extensions = append(opts.Extensions, client.Extension{Name: p.Name, Type: p.Type})
	}
	return opts
}

// checks needs the issuer count: with "Require Initial Access Token" on and
// no issuer, no registration could ever succeed.
func (r Registration) checks(issuers int) []check {
	needsIAT := r.Enabled && r.RequireInitialAccessToken
	checks := []check{
		problem("registration.path", pathProblem(r.Path)),
		{needsIAT && issuers == 0, "initial_access_tokens.issuers",
			"at least one issuer is required when registration.require_initial_access_token is true"},
		{needsIAT && len(r.RequiredScopes) == 0, "registration.required_scopes",
			"at least one scope is required when registration.require_initial_access_token is true (PingFederate: \"you must also select the required scope or scope group\")"},
		{r.MaxBodyBytes <= 0, "registration.max_body_bytes", "must be > 0"},
		{r.MaxRedirectURIs <= 0, "registration.max_redirect_uris", "must be > 0"},
		{r.MaxValueLength <= 0, "registration.max_value_length", "must be > 0"},
		{r.ClientLifetime < 0, "registration.client_lifetime", "must not be negative"},
		{r.ClientSecretLifetime < 0, "registration.client_secret_lifetime", "must not be negative"},
	}
	checks = append(checks, scopeChecks("registration.required_scopes", r.RequiredScopes)...)
	checks = append(checks, r.Anonymous.checks(r.RequireInitialAccessToken)...)
	return append(checks, extendedMetadataChecks(r.ExtendedMetadata)...)
}

// checks: the profile narrows what a request without a token may do, so
// it means nothing when no token is required of anyone.
func (a AnonymousRegistration) checks(tokenRequired bool) []check {
	const key = "registration.anonymous"
	checks := []check{
		{a.Enabled && !tokenRequired, key + ".enabled",
			"needs registration.require_initial_access_token: true (with it off, every registration is already open, unprofiled)"},
		{a.ClientLifetime < 0, key + ".client_lifetime", "must not be negative"},
	}
	for i, h := range a.WebRedirectHosts {
		checks = append(checks, problem(fmt.Sprintf("%s.web_redirect_hosts[%d]", key, i), hostProblem(h)))
	}
	return checks
}

// hostProblem: a bare, lower-case DNS name, as client.RedirectHost
// returns the host of an https redirect URI.
func hostProblem(h string) string {
	switch {
	case h == "" || strings.ContainsAny(h, "/:@?# \t*"):
		return fmt.Sprintf("%q must be a host name (no scheme, port, path or wildcard)", h)
	case h != strings.ToLower(h):
		return fmt.Sprintf("%q must be lower case", h)
	}
	return ""
}

// checks: rates and bursts are counts.
func (r RateLimits) checks() []check {
	var checks []check
	for _, l := range []struct {
		name string
		RateLimit
	}{
		{"registration_per_ip", r.RegistrationPerIP}, {"anonymous_per_ip", r.AnonymousPerIP},
		{"registration_per_owner", r.RegistrationPerOwner}, {"management_per_ip", r.ManagementPerIP},
	} {
		key := "rate_limits." + l.name
		checks = append(checks,
			check{l.PerMinute < 0, key + ".per_minute", "must not be negative"},
			check{l.Burst < 0, key + ".burst", "must not be negative"})
	}
	return checks
}

// originChecks: an origin is a scheme and a host (RFC 6454), which the
// browser sends without a path; rs/cors allows one "*" in the host.
// checks: the endpoint lives under the registration path, and AD names
// entries by a cn of at most 64 characters, too short for a URL.
func (m MetadataDocuments) checks(registration bool, directory string) []check {
	checks := append(hostChecks("metadata_documents.allowed_hosts", m.AllowedHosts),
		hostChecks("metadata_documents.denied_hosts", m.DeniedHosts)...)
	return append(checks, []check{
		{m.Enabled && !registration, "metadata_documents.enabled", "needs registration.enabled: the endpoint is {registration.path}/metadata-document"},
		{m.Enabled && directory == "ad", "metadata_documents.enabled", "not supported with ldap.directory ad: AD names entries by a cn of at most 64 characters, shorter than a URL client_id"},
		{m.MinCache < 0, "metadata_documents.min_cache", "must not be negative"},
		{m.MaxCache < m.MinCache, "metadata_documents.max_cache", "must be at least min_cache"},
	}...)
}

// hostChecks: each value is a host name or address, or "*." and a domain.
func hostChecks(key string, hosts []string) []check {
	var checks []check
	for i, h := range hosts {
		name := strings.TrimPrefix(h, "*.")
		bad := name == "" || name == "*" || strings.ContainsAny(name, "/:?#@* ")
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			_, err := netip.ParseAddr(h[1 : len(h)-1])
			bad = err != nil
		}
		checks = append(checks, check{bad, fmt.Sprintf("%s[%d]", key, i),
			fmt.Sprintf("%q must be a host like tools.example.com, [2001:db8::1] or *.example.com", h)})
	}
	return checks
}

// maxFetchBytes caps fetch.max_bytes: the documents are small JSON, and
// each fetch holds its body in memory.
const maxFetchBytes = 1 << 20

func (f Fetch) checks() []check {
	checks := []check{
		{f.Timeout <= 0, "fetch.timeout", "must be > 0"},
		{f.MaxBytes <= 0 || f.MaxBytes > maxFetchBytes, "fetch.max_bytes", fmt.Sprintf("must be between 1 and %d", maxFetchBytes)},
	}
	for i, n := range f.AllowedNetworks {
		_, err := ParseNetwork(n)
		checks = append(checks, check{err != nil, fmt.Sprintf("fetch.allowed_networks[%d]", i),
			fmt.Sprintf("%q must be a CIDR like 10.20.0.0/16 or an IP address", n)})
	}
	return checks
}

// ParseNetwork reads a CIDR or a single IP address as a prefix.
func ParseNetwork(s string) (netip.Prefix, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

func originChecks(origins []string) []check {
	var checks []check
	for i, o := range origins {
		scheme, host, ok := strings.Cut(o, "://")
		bad := o != "*" && (!ok || (scheme != "https" && scheme != "http") || host == "" ||
			strings.ContainsAny(host, "/?# ") || strings.Count(o, "*") > 1)
		checks = append(checks, check{bad, fmt.Sprintf("cors.allowed_origins[%d]", i),
			fmt.Sprintf("%q must be an origin like https://app.example.com (no path), a wildcard like https://*.example.com, or *", o)})
	}
	return checks
}

// extendedMetadataChecks: names become JSON member names, and '#' is
// reserved for language tags (client_name#fr, RFC 7591 §2.2).
func extendedMetadataChecks(props []ExtendedProperty) []check {
	var checks []check
	seen := map[string]bool{}
	for i, p := range props {
		key := fmt.Sprintf("registration.extended_metadata[%d]", i)
		checks = append(checks,
			check{p.Name == "", key + ".name", "required"},
			check{strings.Contains(p.Name, "#"), key + ".name", "must not contain '#' (reserved for language tags)"},
			check{p.Name != "" && seen[p.Name], key + ".name", fmt.Sprintf("%q is listed twice", p.Name)},
			problem(key+".type", oneOf(p.Type, propertyTypes)),
		)
		seen[p.Name] = true
	}
	return checks
}

// proxyChecks: each trusted proxy is an IP address or a CIDR.
func proxyChecks(proxies []string) []check {
	var checks []check
	for i, p := range proxies {
		_, perr := netip.ParsePrefix(p)
		_, aerr := netip.ParseAddr(p)
		checks = append(checks, check{perr != nil && aerr != nil, fmt.Sprintf("trusted_proxies[%d]", i), "must be an IP address or a CIDR"})
	}
	return checks
}

func (r Reaper) checks() []check {
	return []check{
		{r.Interval < 0, "reaper.interval", "must not be negative"},
		{r.IdlePublicClients < 0, "reaper.idle_public_clients", "must not be negative"},
		{r.IdleSecretClients < 0, "reaper.idle_secret_clients", "must not be negative"},
	}
}

func (m Management) checks() []check {
	return []check{
		{m.ClientSecretRetentionPeriod < 0, "management.client_secret_retention_period", "must not be negative"},
		{m.RetainClientSecret && m.ClientSecretRetentionPeriod == 0, "management.client_secret_retention_period",
			"must be > 0 when management.retain_client_secret is true"},
		{m.RotationGracePeriod < 0 || m.RotationGracePeriod > MaxRotationGracePeriod, "management.rotation_grace_period",
			fmt.Sprintf("must be between 0s and %s", MaxRotationGracePeriod)},
	}
}

func (t InitialAccessTokens) checks() []check {
	checks := []check{{t.MaxRegistrationsPerToken < 0, "initial_access_tokens.max_registrations_per_token", "must not be negative"}}
	seen := map[string]bool{}
	prefixes := map[string]int{} // token_prefix → first issuer index
	for i, is := range t.Issuers {
		key := fmt.Sprintf("initial_access_tokens.issuers[%d]", i)
		checks = append(checks, is.checks(key)...)
		checks = append(checks,
			check{is.Issuer != "" && seen[is.Issuer], key + ".issuer", fmt.Sprintf("%q is listed twice", is.Issuer)})
		seen[is.Issuer] = true
		if is.IntrospectionEndpoint == "" {
			continue
		}
		p := is.Introspection.TokenPrefix
		first, dup := prefixes[p]
		checks = append(checks, check{dup, key + ".introspection.token_prefix", fmt.Sprintf(
			"%q is also the prefix of issuers[%d]: an opaque token is sent to one introspection endpoint only, chosen by its prefix (\"\" = any token)", p, first)})
		if !dup {
			prefixes[p] = i
		}
	}
	return checks
}

// countTrue counts the conditions that hold.
func countTrue(conds ...bool) int {
	n := 0
	for _, c := range conds {
		if c {
			n++
		}
	}
	return n
}

// urlProblem checks one of the issuer's endpoints: https unless loopback,
// or any http(s) URL when insecure_http is set.
func (is Issuer) urlProblem(raw string) string {
	if !is.InsecureHTTP || raw == "" {
		return httpURLProblem(raw)
	}
	if p := absoluteURLProblem(raw); p != "" {
		return p
	}
	if u, _ := url.Parse(raw); u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("%q must be an http(s) URL", raw)
	}
	return ""
}

// checks are the rules of one issuer; key is its YAML path.
func (is Issuer) checks(key string) []check {
	keySources := countTrue(is.JWKSURI != "", is.JWKSFile != "", is.Discovery)
	hasKeys := keySources > 0
	checks := []check{
		problem(key+".issuer", absoluteURLProblem(is.Issuer)),
		{!hasKeys && is.IntrospectionEndpoint == "", key + ".jwks_uri",
			"one of jwks_uri, jwks_file, discovery: true or introspection_endpoint is required"},
		{keySources > 1, key + ".discovery", "jwks_uri, jwks_file and discovery: true are exclusive"},
		problem(key+".jwks_uri", is.urlProblem(is.JWKSURI)),
		problem(key+".introspection_endpoint", is.urlProblem(is.IntrospectionEndpoint)),
		{is.ClockSkew < 0 || is.ClockSkew > maxClockSkew, key + ".clock_skew",
			fmt.Sprintf("%s is outside 0s..%s", is.ClockSkew, maxClockSkew)},
		{slices.Contains(is.Audience, ""), key + ".audience", "must not contain an empty value"},
		{is.RequireATJWT && !hasKeys, key + ".require_at_jwt", "needs jwks_uri, jwks_file or discovery: introspected tokens have no JOSE header"},
		{is.JWKSMaxAge < 0, key + ".jwks_max_age", "must not be negative"},
	}
	if is.Discovery {
		// Discovery trusts the metadata document for the keys' location.
		checks = append(checks, problem(key+".issuer", is.urlProblem(is.Issuer)))
	}
	checks = append(checks, algorithmChecks(key+".algorithms", is.Algorithms)...)
	checks = append(checks, scopeChecks(key+".required_scopes", is.RequiredScopes)...)
	return append(checks, is.Introspection.checks(key+".introspection", is.IntrospectionEndpoint != "")...)
}

// checks: the section only makes sense with an endpoint, and each
// authentication method needs its own credentials.
func (in Introspection) checks(key string, used bool) []check {
	if !used {
		return []check{{in != (Introspection{}), key, "is set but introspection_endpoint is not"}}
	}
	secret := in.AuthMethod == iat.AuthClientSecretBasic || in.AuthMethod == iat.AuthClientSecretPost
	keyed := in.AuthMethod == iat.AuthPrivateKeyJWT
	checks := []check{
		problem(key+".auth_method", oneOf(in.AuthMethod, iat.AuthMethods)),
		{(secret || keyed) && in.ClientID == "", key + ".client_id", "required by auth_method " + in.AuthMethod},
		// An unreadable client_secret_file is reported where it is read.
		{secret && in.ClientSecret == "" && in.ClientSecretFile == "", key + ".client_secret",
			"required by auth_method " + in.AuthMethod + " (or client_secret_file)"},
		{keyed && in.PrivateKeyFile == "", key + ".private_key_file", "required by auth_method private_key_jwt"},
		{!secret && in.ClientSecret != "", key + ".client_secret", "is only used by client_secret_basic and client_secret_post"},
		{!keyed && in.PrivateKeyFile != "", key + ".private_key_file", "is only used by private_key_jwt"},
		{in.Timeout < 0, key + ".timeout", "must not be negative"},
		{in.CacheTTL < 0, key + ".cache_ttl", "must not be negative"},
		{in.InactiveCacheTTL < 0, key + ".inactive_cache_ttl", "must not be negative"},
		{in.CacheSize < 0, key + ".cache_size", "must not be negative"},
	}
	if in.SigningAlg != "" {
		checks = append(checks, problem(key+".signing_alg", oneOf(in.SigningAlg, iat.Algorithms())))
	}
	return checks
}

func algorithmChecks(key string, algs []string) []check {
	var checks []check
	for i, a := range algs {
		checks = append(checks, problem(fmt.Sprintf("%s[%d]", key, i), oneOf(a, iat.Algorithms())))
	}
	return checks
}

func scopeChecks(key string, scopes []string) []check {
	var checks []check
	for i, s := range scopes {
		checks = append(checks, check{!isScopeToken(s), fmt.Sprintf("%s[%d]", key, i),
			fmt.Sprintf("%q is not a scope token (RFC 6749 §3.3: printable ASCII, no space, '\"' or '\\')", s)})
	}
	return checks
}

// checks for software_statements: each issuer once, with exactly one key
// source, and defaults that are valid client metadata.
func (s SoftwareStatements) checks(md client.Options) []check {
	var checks []check
	seen := map[string]bool{}
	for i, is := range s.TrustedIssuers {
		key := fmt.Sprintf("software_statements.trusted_issuers[%d]", i)
		checks = append(checks,
			problem(key+".issuer", absoluteURLProblem(is.Issuer)),
			check{is.Issuer != "" && seen[is.Issuer], key + ".issuer", fmt.Sprintf("%q is listed twice", is.Issuer)},
			check{(is.JWKSURI == "") == (is.JWKS == ""), key + ".jwks_uri", "exactly one of jwks_uri and jwks is required"},
			problem(key+".jwks_uri", httpURLProblem(is.JWKSURI)),
			problem(key+".jwks", jwksProblem(is.JWKS)),
			check{is.ClockSkew < 0 || is.ClockSkew > maxClockSkew, key + ".clock_skew",
				fmt.Sprintf("%s is outside 0s..%s", is.ClockSkew, maxClockSkew)},
			problem(key+".defaults", defaultsProblem(is.Defaults, md)),
		)
		seen[is.Issuer] = true
		checks = append(checks, algorithmChecks(key+".algorithms", is.Algorithms)...)
		checks = append(checks, scopeChecks(key+".scopes", is.Scopes)...)
	}
	return checks
}

func jwksProblem(raw string) string {
	if raw == "" {
		return ""
	}
	set, err := jwk.Parse([]byte(raw))
	if err != nil {
		return fmt.Sprintf("not a JWK Set: %v", err)
	}
	if set.Len() == 0 {
		return "the JWK Set has no keys"
	}
	return ""
}

// defaultsProblem decodes the defaults as a registration request would be,
// so a typo is found at start, not on the first registration.
func defaultsProblem(defaults map[string]any, md client.Options) string {
	if len(defaults) == 0 {
		return ""
	}
	data, err := json.Marshal(defaults)
	if err != nil {
		return fmt.Sprintf("not representable as JSON: %v", err)
	}
	if _, err := client.Decode(data, md); err != nil {
		return err.Error()
	}
	return ""
}

func (l LDAP) checks() []check {
	checks := []check{
		{len(l.URLs) == 0, "ldap.urls", "at least one ldap:// or ldaps:// URL is required"},
		{l.MultiProvider && len(l.URLs) == 1, "ldap.multi_provider", "needs the URLs of at least two providers"},
		problem("ldap.bind_dn", dnProblem(l.BindDN)),
		problem("ldap.base_dn", dnProblem(l.BaseDN)),
		// An unreadable bind_password_file is reported where it is read.
		{l.BindPassword == "" && l.BindPasswordFile == "", "ldap.bind_password",
			"required: set bind_password, bind_password_file or DCRGATE_LDAP_BIND_PASSWORD"},
		{l.PoolSize < 1 || l.PoolSize > maxPoolSize, "ldap.pool_size", fmt.Sprintf("%d is outside 1..%d", l.PoolSize, maxPoolSize)},
		{l.Timeout <= 0, "ldap.timeout", "must be > 0"},
		problem("ldap.secret_scheme", oneOf(l.SecretScheme, secretSchemes)),
		{(l.ClientCertFile == "") != (l.ClientKeyFile == ""), "ldap.client_cert_file",
			"client_cert_file and client_key_file go together"},
		{l.SecretScheme == SchemeServerHashing && !l.usesTLS(), "ldap.secret_scheme",
			SchemeServerHashing + " sends secrets to the directory in clear: use ldaps:// URLs or start_tls"},
		problem("ldap.directory", oneOf(l.Directory, directories)),
		{l.Directory == "ad" && l.SecretScheme == SchemeServerHashing, "ldap.secret_scheme",
			SchemeServerHashing + " cannot be used with directory: ad, which keeps secrets in dcrSecretHash and hashes nothing"},
	}
	for i, u := range l.URLs {
		checks = append(checks, check{l.StartTLS && strings.HasPrefix(strings.ToLower(u), "ldaps://"),
			fmt.Sprintf("ldap.urls[%d]", i), "start_tls cannot be used with ldaps:// (already TLS)"})
	}
	for i, u := range l.URLs {
		checks = append(checks, problem(fmt.Sprintf("ldap.urls[%d]", i), ldapURLProblem(u)))
	}
	return checks
}

// SchemeServerHashing is the ldap.secret_scheme for directories that hash
// userPassword themselves on write.
const SchemeServerHashing = "cleartext-for-server-hashing"

// usesTLS reports whether every connection is encrypted.
func (l LDAP) usesTLS() bool {
	if l.StartTLS {
		return true
	}
	for _, u := range l.URLs {
		if !strings.HasPrefix(strings.ToLower(u), "ldaps://") {
			return false
		}
	}
	return len(l.URLs) > 0
}

// The helpers below return "" when the value is fine, else the reason.

func oneOf(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return ""
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

func listenProblem(addr string) string {
	if addr == "" {
		return "required (host:port, e.g. \":8080\")"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("%q: port must be a number 0..65535", addr)
	}
	return ""
}

// pathProblem: management lives at {path}/{client_id}, so a trailing slash
// would double it.
func pathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%q must start with '/'", p)
	case strings.HasSuffix(p, "/"):
		return fmt.Sprintf("%q must not end with '/'", p)
	case strings.ContainsAny(p, "?# \t"):
		return fmt.Sprintf("%q must be a plain path (no query, fragment or spaces)", p)
	}
	return ""
}

// externalURLProblem: registration_client_uri is external_url + path +
// "/" + client_id, so a query, fragment or trailing slash would break it.
func externalURLProblem(raw string) string {
	if raw == "" {
		return "" // required-ness is a separate rule
	}
	if p := httpURLProblem(raw); p != "" {
		return p
	}
	u, _ := url.Parse(raw) // parsed fine above
	switch {
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q must not have a query or fragment", raw)
	case strings.HasSuffix(u.Path, "/"):
		return fmt.Sprintf("%q must not end with '/'", raw)
	}
	return ""
}

// httpURLProblem requires an absolute http(s) URL, https unless the host is
// loopback: registration access tokens (external_url) and signing keys
// (jwks_uri) must not cross a network in clear (RFC 7591 §5).
func httpURLProblem(raw string) string {
	if raw == "" {
		return ""
	}
	if p := absoluteURLProblem(raw); p != "" {
		return p
	}
	u, _ := url.Parse(raw)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q must be an http(s) URL", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Sprintf("%q must use https (http is allowed only for localhost and loopback addresses)", raw)
	}
	return ""
}

func absoluteURLProblem(raw string) string {
	if raw == "" {
		return "required"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute URL (scheme://host/...)", raw)
	}
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func ldapURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return fmt.Sprintf("%q is not an ldap:// or ldaps:// URL with a host", raw)
	}
	return ""
}

func dnProblem(dn string) string {
	if strings.TrimSpace(dn) == "" {
		return "required"
	}
	if _, err := ldap.ParseDN(dn); err != nil {
		return fmt.Sprintf("%q is not a DN: %v", dn, err)
	}
	return ""
}

// isScopeToken implements RFC 6749 §3.3:
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}
