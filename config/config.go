// Package config is dcrgate's configuration: one struct read from YAML, with
// DCRGATE_* environment overrides, whose names follow PingFederate's Dynamic
// Client Registration settings page.
package config

import "time"

// Config is the whole configuration file.
type Config struct {
	// Listen is the API listener address.
	Listen string `yaml:"listen"`
	// ExternalURL is the public base URL of the gateway (scheme, host and
	// any path prefix added by a proxy); registration_client_uri is built on it.
	ExternalURL  string       `yaml:"external_url"`
	Registration Registration `yaml:"registration"`
	Management   Management   `yaml:"management"`
	// InitialAccessTokens lists the authorization servers whose tokens may
	// authorize registration.
	InitialAccessTokens InitialAccessTokens `yaml:"initial_access_tokens"`
	LDAP                LDAP                `yaml:"ldap"`
	Metrics             Metrics             `yaml:"metrics"`
	Log                 Log                 `yaml:"log"`
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
}

// InitialAccessTokens configures token validation.
type InitialAccessTokens struct {
	Issuers []Issuer `yaml:"issuers"`
}

// Issuer is one trusted authorization server.
type Issuer struct {
	Issuer   string   `yaml:"issuer"`
	JWKSURI  string   `yaml:"jwks_uri"`
	Audience []string `yaml:"audience"`
	// ClockSkew tolerated on exp/nbf/iat.
	ClockSkew time.Duration `yaml:"clock_skew"`
}

// LDAP is the directory connection and layout.
type LDAP struct {
	URLs             []string      `yaml:"urls"`
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
	Message    string   `yaml:"message"`
	Error      string   `yaml:"error"`
	// Issuers and Scopes limit the policy to callers whose initial access
	// token comes from one of Issuers and carries one of Scopes.
	Issuers []string `yaml:"issuers"`
	Scopes  []string `yaml:"scopes"`
}
