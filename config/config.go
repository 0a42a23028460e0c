// Package config is dcrgate's configuration: one struct read from YAML, with
// DCRGATE_* environment overrides, whose names follow PingFederate's Dynamic
// Client Registration settings page.
package config

import "time"

// Config is the whole configuration file.
type Config struct {
	// Listen is the API listener address.
	Listen string `yaml:"listen"`
	// ShutdownGracePeriod is how long requests in flight may take to
	// finish once the process is told to stop (SIGTERM).
	ShutdownGracePeriod time.Duration `yaml:"shutdown_grace_period"`
	// ExternalURL is the public base URL of the gateway (scheme, host and
	// any path prefix added by a proxy); registration_client_uri is built on it.
	ExternalURL  string       `yaml:"external_url"`
	Registration Registration `yaml:"registration"`
	Management   Management   `yaml:"management"`
	// InitialAccessTokens lists the authorization servers whose tokens may
	// authorize registration.
	InitialAccessTokens InitialAccessTokens `yaml:"initial_access_tokens"`
	// SoftwareStatements lists who may sign software statements (RFC 7591 §2.3).
	SoftwareStatements SoftwareStatements `yaml:"software_statements"`
	LDAP               LDAP               `yaml:"ldap"`
	// Reaper removes expired and idle clients and credentials past their
	// time, periodically while serving; `dcrgate clients reap` does the
	// same once.
	Reaper Reaper `yaml:"reaper"`
	// RateLimits bound how often one caller may register or manage.
	RateLimits RateLimits `yaml:"rate_limits"`
	CORS       CORS       `yaml:"cors"`
	// MetadataDocuments fetches Client ID Metadata Documents into the
	// directory for the authorization server.
	MetadataDocuments MetadataDocuments `yaml:"metadata_documents"`
	// Fetch bounds every request dcrgate makes for a document a client
	// names by URL: metadata documents and sector_identifier_uri arrays.
	Fetch   Fetch   `yaml:"fetch"`
	Metrics Metrics `yaml:"metrics"`
	// Audit is where the audit events go.
	Audit Audit `yaml:"audit"`
	// TrustedProxies are the addresses (CIDRs or IPs) of the reverse proxies
	// whose Forwarded, X-Forwarded-For or X-Real-IP dcrgate believes for the
	// caller's address (audit events, rate limits); none by default: the
	// peer's address is the caller's.
	TrustedProxies []string `yaml:"trusted_proxies"`
	Log            Log      `yaml:"log"`
	// Policies are the client registration policies, checked in order on
	// every registration and update (see package policies for the kinds).
	Policies []Policy `yaml:"policies"`
}

// Registration is "Enable Dynamic Client Registration" and its options.
type Registration struct {
	Enabled bool   `yaml:"enabled"`
	Path    string `yaml:"path"`
	// RequireInitialAccessToken is "Require Initial Access Token".
	RequireInitialAccessToken bool `yaml:"require_initial_access_token"`
	// RequiredScopes is the required scope or scope group: any one suffices.
	RequiredScopes []string `yaml:"required_scopes"`
	// ExtendedMetadata is PingFederate's "extended properties".
	ExtendedMetadata []ExtendedProperty `yaml:"extended_metadata"`
	// MaxBodyBytes caps the request body (413 beyond it).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxRedirectURIs caps the number of redirect URIs per client.
	MaxRedirectURIs int `yaml:"max_redirect_uris"`
	// MaxValueLength caps the length of any single string value.
	MaxValueLength int `yaml:"max_value_length"`
	// ClientLifetime: clients expire unless read or updated through RFC
	// 7592 within it; 0 = never.
	ClientLifetime time.Duration `yaml:"client_lifetime"`
	// ClientSecretLifetime: client_secret_expires_at; the next read or
	// update after it issues a new secret; 0 = never.
	ClientSecretLifetime time.Duration `yaml:"client_secret_lifetime"`
	// Anonymous admits registrations without an initial access token, in
	// a narrow profile, while tokened callers keep theirs.
	Anonymous AnonymousRegistration `yaml:"anonymous"`
}

// AnonymousRegistration is the profile of registrations that carry no
// initial access token, for MCP clients and other native apps that
// register themselves on every login: public clients only
// (token_endpoint_auth_method none), the authorization code grant,
// loopback or private-use-scheme redirect URIs (RFC 8252) or https on
// WebRedirectHosts, judged by the policies marked anonymous, at the
// rate_limits.anonymous_per_ip rate.
type AnonymousRegistration struct {
	Enabled bool `yaml:"enabled"`
	// ClientLifetime is how long such a client lives unless renewed by a
	// read or update through RFC 7592; 0 = registration.client_lifetime.
	ClientLifetime time.Duration `yaml:"client_lifetime"`
	// WebRedirectHosts are the hosts (browser-based MCP hosts, say) on
	// which its clients may also have https redirect URIs.
	WebRedirectHosts []string `yaml:"web_redirect_hosts"`
}

// RateLimits are token buckets per caller address (through the trusted
// proxies) and per token owner; beyond them a caller gets 429 with
// Retry-After. They are counted per replica.
type RateLimits struct {
	// RegistrationPerIP: registrations with an initial access token.
	RegistrationPerIP RateLimit `yaml:"registration_per_ip"`
	// AnonymousPerIP: registrations without one (registration.anonymous).
	AnonymousPerIP RateLimit `yaml:"anonymous_per_ip"`
	// RegistrationPerOwner: registrations by one token owner (issuer and
	// subject), from any address.
	RegistrationPerOwner RateLimit `yaml:"registration_per_owner"`
	// ManagementPerIP: RFC 7592 reads, updates and deletes.
	ManagementPerIP RateLimit `yaml:"management_per_ip"`
}

// RateLimit is a sustained rate and a burst; per_minute 0 = no limit.
type RateLimit struct {
	PerMinute int `yaml:"per_minute"`
	Burst     int `yaml:"burst"`
}

// MetadataDocuments are clients whose client_id is the https URL of a JSON
// document describing them (draft-ietf-oauth-client-id-metadata-document),
// fetched on request at {registration.path}/metadata-document.
type MetadataDocuments struct {
	Enabled bool `yaml:"enabled"`
	// MinCache and MaxCache bound how long a fetched document is kept (its
	// Cache-Control max-age, clamped; an hour without one): the entry
	// expires then, and the authorization server asks again.
	MinCache time.Duration `yaml:"min_cache"`
	MaxCache time.Duration `yaml:"max_cache"`
	// AllowedHosts, when set, are the only hosts documents are fetched
	// from; DeniedHosts never are. "*.example.com" names every subdomain.
	AllowedHosts []string `yaml:"allowed_hosts"`
	DeniedHosts  []string `yaml:"denied_hosts"`
}

// Fetch bounds outgoing requests for documents clients name by URL. Only
// https on port 443 to public addresses, no proxy, no redirect.
type Fetch struct {
	// Timeout bounds one fetch as a whole.
	Timeout time.Duration `yaml:"timeout"`
	// MaxBytes bounds a document.
	MaxBytes int64 `yaml:"max_bytes"`
	// AllowedNetworks (CIDRs or IPs) may be fetched from although they are
	// private, loopback or otherwise special, on any port: documents
	// served inside the company. Empty: the public internet only.
	AllowedNetworks []string `yaml:"allowed_networks"`
	// CAFile is a PEM bundle trusted besides the system's roots.
	CAFile string `yaml:"ca_file"`
}

// CORS opens the registration and management endpoints to web pages.
type CORS struct {
	// AllowedOrigins are the origins (https://host[:port], or a wildcard
	// such as https://*.example.com) whose pages may call the API; none
	// by default.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// ExtendedProperty is one configured extension metadata field.
type ExtendedProperty struct {
	Name string `yaml:"name"`
	// Type is one of string, strings, boolean, number.
	Type string `yaml:"type"`
	// Required makes registration fail without it.
	Required bool `yaml:"required"`
}

// Management is "Enable Dynamic Client Registration Management" (RFC 7592).
type Management struct {
	Enabled                       bool          `yaml:"enabled"`
	RotateClientSecret            bool          `yaml:"rotate_client_secret"`
	RotateRegistrationAccessToken bool          `yaml:"rotate_registration_access_token"`
	AllowClientDelete             bool          `yaml:"allow_client_delete"`
	RetainClientSecret            bool          `yaml:"retain_client_secret"`
	ClientSecretRetentionPeriod   time.Duration `yaml:"client_secret_retention_period"`
	// RotationGracePeriod keeps a rotated registration access token (and
	// secret) working this long, or until the new token is first used, so
	// that a lost answer never locks a client out; 0 = not at all.
	RotationGracePeriod time.Duration `yaml:"rotation_grace_period"`
}

// InitialAccessTokens configures token validation.
type InitialAccessTokens struct {
	Issuers []Issuer `yaml:"issuers"`
	// MaxRegistrationsPerToken caps the clients one token (by jti, or by
	// hash for opaque tokens) may register; 0 = no cap.
	MaxRegistrationsPerToken int `yaml:"max_registrations_per_token"`
}

// Issuer is one trusted authorization server. Its JWT access tokens are
// verified with jwks_uri (or, with discovery, the jwks_uri of its RFC 8414
// metadata); opaque tokens, and JWTs when it has no keys configured, are
// checked at introspection_endpoint (RFC 7662).
type Issuer struct {
	Issuer  string `yaml:"issuer"`
	JWKSURI string `yaml:"jwks_uri"`
	// JWKSFile is a JWK Set in a local file, read once at start: for an
	// issuer that publishes no URL, such as the key pair of
	// `dcrgate token keygen` in a trial. Its keys are never refetched.
	JWKSFile string `yaml:"jwks_file"`
	// Discovery reads jwks_uri from the issuer's metadata instead.
	Discovery             bool          `yaml:"discovery"`
	IntrospectionEndpoint string        `yaml:"introspection_endpoint"`
	Introspection         Introspection `yaml:"introspection"`
	Audience              []string      `yaml:"audience"`
	// Algorithms narrows the accepted JWS algorithms; empty = all asymmetric ones.
	Algorithms []string `yaml:"algorithms"`
	// ClockSkew tolerated on exp/nbf/iat; omitted = DefaultClockSkew,
	// 0 = none.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// ScopeClaim is the claim with the scopes; "" = scope, then scp.
	ScopeClaim string `yaml:"scope_claim"`
	// RequireATJWT refuses JWTs whose typ is not at+jwt (RFC 9068).
	RequireATJWT bool `yaml:"require_at_jwt"`
	// RequiredScopes overrides registration.required_scopes for this issuer.
	RequiredScopes []string `yaml:"required_scopes"`
	// JWKSMaxAge: cached keys stop verifying this long after the last
	// successful JWKS fetch; 0 = never.
	JWKSMaxAge time.Duration `yaml:"jwks_max_age"`
	// InsecureHTTP allows plain-http URLs for this issuer on non-loopback
	// hosts (a compose network, a lab). Keys and introspection answers then
	// travel unprotected; start-up logs a warning. Never in production.
	InsecureHTTP bool `yaml:"insecure_http"`
}

// Introspection is how dcrgate calls an issuer's introspection endpoint.
type Introspection struct {
	// AuthMethod is none, client_secret_basic, client_secret_post or private_key_jwt.
	AuthMethod       string `yaml:"auth_method"`
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// PrivateKeyFile is a PEM private key for private_key_jwt.
	PrivateKeyFile string `yaml:"private_key_file"`
	PrivateKeyID   string `yaml:"private_key_id"`
	SigningAlg     string `yaml:"signing_alg"`
	// TokenPrefix routes opaque tokens that start with it here; "" takes
	// opaque tokens no other issuer's prefix matches.
	TokenPrefix      string        `yaml:"token_prefix"`
	Timeout          time.Duration `yaml:"timeout"`
	CacheTTL         time.Duration `yaml:"cache_ttl"`
	InactiveCacheTTL time.Duration `yaml:"inactive_cache_ttl"`
	CacheSize        int           `yaml:"cache_size"`
}

// SoftwareStatements configures software statement verification.
type SoftwareStatements struct {
	TrustedIssuers []StatementIssuer `yaml:"trusted_issuers"`
}

// StatementIssuer is one trusted signer of software statements.
type StatementIssuer struct {
	Issuer string `yaml:"issuer"`
	// Exactly one of JWKSURI and JWKS (an inline JWK Set as JSON).
	JWKSURI    string   `yaml:"jwks_uri"`
	JWKS       string   `yaml:"jwks"`
	Algorithms []string `yaml:"algorithms"`
	// ClockSkew tolerated on exp/nbf/iat; omitted = DefaultClockSkew,
	// 0 = none.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// Scopes are the only scopes its statements may grant, and the default.
	Scopes []string `yaml:"scopes"`
	// Defaults are client metadata applied when neither the statement nor
	// the request sets them.
	Defaults map[string]any `yaml:"defaults"`
}

// LDAP is the directory connection and layout.
type LDAP struct {
	URLs []string `yaml:"urls"`
	// MultiProvider says the URLs are providers of one replicated
	// directory that all take writes (OpenLDAP multi-provider, 389-DS
	// multi-supplier, AD multi-master): every gateway then uses the same
	// one at a time, the first in sorted order that answers, whatever
	// order they are listed in (docs/scaling.md).
	MultiProvider    bool          `yaml:"multi_provider"`
	BindDN           string        `yaml:"bind_dn"`
	BindPassword     string        `yaml:"bind_password"`
	BindPasswordFile string        `yaml:"bind_password_file"`
	BaseDN           string        `yaml:"base_dn"`
	PoolSize         int           `yaml:"pool_size"`
	Timeout          time.Duration `yaml:"timeout"`
	// SecretScheme is how client secrets are written to userPassword:
	// {SSHA512}, {ARGON2}, {PBKDF2-SHA512} (the directory verifies them on
	// bind), or cleartext-for-server-hashing for directories that hash on
	// write (389-DS, PingDS), which then needs TLS.
	SecretScheme string `yaml:"secret_scheme"`
	// Directory is the entry layout: openldap (default), 389ds or opends
	// (RDN dcrClientId, secrets in userPassword, checked by bind), or ad
	// (RDN cn, secrets in the confidential dcrSecretHash).
	Directory string `yaml:"directory"`
	// LastBindAttribute is where the directory records a client's last
	// successful bind, for reaper.idle_secret_clients; "" = the directory's
	// usual one (OpenLDAP 2.5 lastbind overlay: authTimestamp, 2.6:
	// pwdLastSuccess; 389-DS: lastLoginTime; PingDS: ds-pwp-last-login-time).
	LastBindAttribute string `yaml:"last_bind_attribute"`
	// StartTLS upgrades ldap:// connections with the StartTLS operation.
	StartTLS bool `yaml:"start_tls"`
	// CAFile holds the PEM CA certificates that sign the directory's
	// certificate; empty uses the system roots.
	CAFile string `yaml:"ca_file"`
	// ClientCertFile and ClientKeyFile, together, authenticate the gateway
	// to the directory with a TLS client certificate.
	ClientCertFile string `yaml:"client_cert_file"`
	ClientKeyFile  string `yaml:"client_key_file"`
	// InsecureSkipVerify disables certificate checks; for tests only, and
	// logged loudly at start.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Reaper configures the removal of what is past its time.
type Reaper struct {
	// Interval runs the reaper in `serve` this often; 0 = never (run
	// `dcrgate clients reap` from cron instead). Several replicas may run
	// it: every removal is a guarded write that one of them wins.
	Interval time.Duration `yaml:"interval"`
	// IdlePublicClients removes public clients neither read nor updated
	// for this long; 0 = never.
	IdlePublicClients time.Duration `yaml:"idle_public_clients"`
	// IdleSecretClients removes clients with a secret the directory has
	// not seen bind, nor anyone read or updated, for this long; needs the
	// directory's last-bind record (OpenLDAP: lastbind overlay); 0 = never.
	IdleSecretClients time.Duration `yaml:"idle_secret_clients"`
}

// Audit configures the audit trail: one JSON line per event
// (package audit documents the format).
type Audit struct {
	// Output is "stderr" (default), "stdout", "off", or a file path,
	// appended to.
	Output string `yaml:"output"`
}

// Metrics is the telemetry listener (/metrics, /healthz, /readyz).
type Metrics struct {
	Listen string `yaml:"listen"`
}

// Log configures log/slog output.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// Policy is one client registration policy; which keys apply depends on
// kind (package policies documents each).
type Policy struct {
	Name       string   `yaml:"name"`
	Kind       string   `yaml:"kind"`
	Values     []string `yaml:"values"`
	Max        int      `yaml:"max"`
	Expression string   `yaml:"expression"`
	// Metadata are the members a defaults policy fills in.
	Metadata map[string]any `yaml:"metadata"`
	Message  string         `yaml:"message"`
	Error    string         `yaml:"error"`
	// Issuers and Scopes limit the policy to callers whose initial access
	// token comes from one of Issuers and carries one of Scopes.
	Issuers []string `yaml:"issuers"`
	Scopes  []string `yaml:"scopes"`
	// Anonymous makes the policy judge the registrations without an
	// initial access token (registration.anonymous), and only those.
	Anonymous bool `yaml:"anonymous"`
}
