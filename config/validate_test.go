package config

import (
	"strings"
	"testing"
	"time"
)

// servable is a complete configuration that passes ValidateForServe; each
// case below breaks one thing.
func servable() Config {
	c := Default()
	c.ExternalURL = "https://dcr.example.com"
	c.Registration.Enabled = true
	c.Registration.RequiredScopes = []string{"dcr"}
	c.Registration.ExtendedMetadata = []ExtendedProperty{{Name: "tenant", Type: "string"}}
	c.Management.Enabled = true
	c.InitialAccessTokens.Issuers = []Issuer{{Issuer: "https://as.example.com", JWKSURI: "https://as.example.com/jwks", ClockSkew: DefaultClockSkew}}
	c.LDAP.URLs = []string{"ldaps://ldap.example.org:636"}
	c.LDAP.BindDN = "cn=dcrgate,ou=services,dc=example,dc=org"
	c.LDAP.BindPassword = "pw"
	c.LDAP.BaseDN = "ou=clients,dc=example,dc=org"
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c *Config)
		serve  bool     // ValidateForServe instead of Validate
		errors []string // fragments; nil = valid
	}{
		{name: "ok/servable", serve: true, edit: func(*Config) {}},
		{name: "ok/http external_url on loopback", edit: func(c *Config) { c.ExternalURL = "http://127.0.0.1:8080/dcr" }},
		{name: "ok/http external_url on localhost", edit: func(c *Config) { c.ExternalURL = "http://localhost:8080" }},
		{name: "ok/http jwks_uri on ::1", edit: func(c *Config) { c.InitialAccessTokens.Issuers[0].JWKSURI = "http://[::1]:9000/jwks" }},
		{name: "ok/management off needs no external_url", edit: func(c *Config) { c.Management.Enabled, c.ExternalURL = false, "" }},
		{name: "ok/no token required needs no issuer", edit: func(c *Config) {
			c.Registration.RequireInitialAccessToken, c.InitialAccessTokens.Issuers, c.Registration.RequiredScopes = false, nil, nil
		}},
		{name: "ok/registration off needs no issuer", edit: func(c *Config) { c.Registration.Enabled, c.InitialAccessTokens.Issuers = false, nil }},
		{name: "ok/zero clock skew", edit: func(c *Config) { c.InitialAccessTokens.Issuers[0].ClockSkew = 0 }},
		{name: "ok/ldap is not checked outside serve", edit: func(c *Config) { c.LDAP = LDAP{} }},

		{name: "ok/server hashing over ldaps", serve: true, edit: func(c *Config) {
			c.LDAP.SecretScheme, c.LDAP.URLs = SchemeServerHashing, []string{"ldaps://ds.example.org:636"}
		}},
		{name: "ok/server hashing with start_tls", serve: true, edit: func(c *Config) {
			c.LDAP.SecretScheme, c.LDAP.URLs, c.LDAP.StartTLS = SchemeServerHashing, []string{"ldap://ds.example.org"}, true
		}},
		{name: "fail/server hashing without TLS", serve: true, edit: func(c *Config) {
			c.LDAP.SecretScheme, c.LDAP.URLs = SchemeServerHashing, []string{"ldaps://a.example.org", "ldap://b.example.org"}
		}, errors: []string{"ldap.secret_scheme: cleartext-for-server-hashing sends secrets"}},
		{name: "fail/unknown secret scheme", serve: true, edit: func(c *Config) { c.LDAP.SecretScheme = "{MD5}" },
			errors: []string{`ldap.secret_scheme: "{MD5}" is not one of`}},
		{name: "fail/client cert without key", serve: true, edit: func(c *Config) { c.LDAP.ClientCertFile = "/etc/cert.pem" },
			errors: []string{"ldap.client_cert_file: client_cert_file and client_key_file go together"}},
		{name: "ok/multi_provider", serve: true, edit: func(c *Config) {
			c.LDAP.MultiProvider, c.LDAP.URLs = true, []string{"ldap://b.example.org", "ldap://a.example.org"}
		}},
		{name: "fail/multi_provider with one URL", serve: true, edit: func(c *Config) {
			c.LDAP.MultiProvider, c.LDAP.URLs = true, []string{"ldap://a.example.org"}
		}, errors: []string{"ldap.multi_provider: needs the URLs of at least two providers"}},
		{name: "fail/start_tls with ldaps", serve: true, edit: func(c *Config) {
			c.LDAP.StartTLS, c.LDAP.URLs = true, []string{"ldaps://ds.example.org"}
		}, errors: []string{"ldap.urls[0]: start_tls cannot be used with ldaps://"}},
		{name: "fail/http jwks_uri on a network host", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers[0].JWKSURI = "http://hydra:4444/.well-known/jwks.json"
		}, errors: []string{"initial_access_tokens.issuers[0].jwks_uri: \"http://hydra:4444/.well-known/jwks.json\" must use https"}},
		{name: "ok/http jwks_uri with insecure_http", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers[0].JWKSURI = "http://hydra:4444/.well-known/jwks.json"
			c.InitialAccessTokens.Issuers[0].InsecureHTTP = true
		}},
		{name: "fail/insecure_http still needs http(s)", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers[0].JWKSURI = "ftp://hydra/jwks"
			c.InitialAccessTokens.Issuers[0].InsecureHTTP = true
		}, errors: []string{"must be an http(s) URL"}},
		{name: "fail/listen empty", edit: func(c *Config) { c.Listen = "" }, errors: []string{"listen: required"}},
		{name: "fail/listen not host:port", edit: func(c *Config) { c.Listen = "8080" }, errors: []string{`listen: "8080" is not host:port`}},
		{name: "fail/listen bad port", edit: func(c *Config) { c.Listen = ":http2" }, errors: []string{"listen:", "port must be a number"}},
		{name: "fail/metrics.listen bad", edit: func(c *Config) { c.Metrics.Listen = "localhost" }, errors: []string{"metrics.listen:"}},
		{name: "fail/metrics.listen same as listen", edit: func(c *Config) { c.Metrics.Listen = c.Listen }, errors: []string{"metrics.listen: must differ from listen"}},
		{name: "fail/external_url required by management", edit: func(c *Config) { c.ExternalURL = "" }, errors: []string{"external_url: required when management.enabled"}},
		{name: "fail/external_url relative", edit: func(c *Config) { c.ExternalURL = "/dcr" }, errors: []string{"external_url:", "not an absolute URL"}},
		{name: "fail/external_url not http", edit: func(c *Config) { c.ExternalURL = "ftp://dcr.example.com" }, errors: []string{"external_url:", "http(s) URL"}},
		{name: "fail/external_url http on public host", edit: func(c *Config) { c.ExternalURL = "http://dcr.example.com" }, errors: []string{"external_url:", "must use https"}},
		{name: "fail/external_url query", edit: func(c *Config) { c.ExternalURL = "https://dcr.example.com?x=1" }, errors: []string{"external_url:", "query or fragment"}},
		{name: "fail/external_url fragment", edit: func(c *Config) { c.ExternalURL = "https://dcr.example.com#x" }, errors: []string{"external_url:", "query or fragment"}},
		{name: "fail/external_url trailing slash", edit: func(c *Config) { c.ExternalURL = "https://dcr.example.com/" }, errors: []string{"external_url:", "must not end with '/'"}},
		{name: "ok/anonymous profile, rate limits, CORS", edit: func(c *Config) {
			c.Registration.Anonymous = AnonymousRegistration{Enabled: true, ClientLifetime: time.Hour, WebRedirectHosts: []string{"app.example.com"}}
			c.RateLimits.RegistrationPerOwner = RateLimit{PerMinute: 60, Burst: 20}
			c.CORS.AllowedOrigins = []string{"https://app.example.com", "https://*.example.com", "http://localhost:3000", "*"}
		}},
		{name: "fail/anonymous profile when no token is required", edit: func(c *Config) {
			c.Registration.Anonymous.Enabled, c.Registration.RequireInitialAccessToken = true, false
		}, errors: []string{"registration.anonymous.enabled: needs registration.require_initial_access_token: true"}},
		{name: "fail/anonymous profile values", edit: func(c *Config) {
			c.Registration.Anonymous = AnonymousRegistration{Enabled: true, ClientLifetime: -time.Hour,
				WebRedirectHosts: []string{"https://app.example.com", "App.example.com", "*.example.com", ""}}
		}, errors: []string{
			"registration.anonymous.client_lifetime: must not be negative",
			`registration.anonymous.web_redirect_hosts[0]: "https://app.example.com" must be a host name`,
			`registration.anonymous.web_redirect_hosts[1]: "App.example.com" must be lower case`,
			"registration.anonymous.web_redirect_hosts[2]:", "registration.anonymous.web_redirect_hosts[3]:",
		}},
		{name: "fail/negative rate limits", edit: func(c *Config) {
			c.RateLimits.ManagementPerIP = RateLimit{PerMinute: -1, Burst: -2}
		}, errors: []string{"rate_limits.management_per_ip.per_minute: must not be negative", "rate_limits.management_per_ip.burst: must not be negative"}},
		{name: "fail/CORS origins", edit: func(c *Config) {
			c.CORS.AllowedOrigins = []string{"app.example.com", "https://app.example.com/", "ftp://x", "https://*.*.example.com"}
		}, errors: []string{"cors.allowed_origins[0]:", "cors.allowed_origins[1]:", "cors.allowed_origins[2]:", "cors.allowed_origins[3]:"}},
		{name: "ok/metadata documents, an internal network", edit: func(c *Config) {
			c.MetadataDocuments.Enabled = true
			c.Fetch.AllowedNetworks = []string{"10.20.0.0/16", "192.168.1.7", "fd00::/8"}
		}},
		{name: "ok/metadata document hosts", edit: func(c *Config) {
			c.MetadataDocuments.AllowedHosts = []string{"tools.example.com", "*.example.org", "[2001:db8::1]", "192.0.2.7"}
			c.MetadataDocuments.DeniedHosts = []string{"evil.example.org"}
		}},
		{name: "fail/metadata document hosts", edit: func(c *Config) {
			c.MetadataDocuments.AllowedHosts = []string{"*", "https://tools.example.com", ""}
			c.MetadataDocuments.DeniedHosts = []string{"*.", "[nope]"}
		}, errors: []string{"metadata_documents.allowed_hosts[0]:", "metadata_documents.allowed_hosts[1]:", "metadata_documents.allowed_hosts[2]:",
			"metadata_documents.denied_hosts[0]:", "metadata_documents.denied_hosts[1]:"}},
		{name: "fail/metadata documents without registration", edit: func(c *Config) {
			c.MetadataDocuments.Enabled, c.Registration.Enabled = true, false
		}, errors: []string{"metadata_documents.enabled: needs registration.enabled"}},
		{name: "fail/metadata documents on AD", edit: func(c *Config) {
			c.MetadataDocuments.Enabled, c.LDAP.Directory = true, "ad"
		}, errors: []string{"metadata_documents.enabled: not supported with ldap.directory ad"}},
		{name: "fail/cache bounds", edit: func(c *Config) {
			c.MetadataDocuments.MinCache, c.MetadataDocuments.MaxCache = time.Hour, time.Minute
		}, errors: []string{"metadata_documents.max_cache: must be at least min_cache"}},
		{name: "fail/fetch bounds and networks", edit: func(c *Config) {
			c.Fetch.Timeout, c.Fetch.MaxBytes, c.Fetch.AllowedNetworks = 0, 2<<20, []string{"10.0.0.0/33", "intranet"}
		}, errors: []string{"fetch.timeout: must be > 0", "fetch.max_bytes: must be between 1 and", "fetch.allowed_networks[0]:", "fetch.allowed_networks[1]:"}},
		{name: "fail/path without leading slash", edit: func(c *Config) { c.Registration.Path = "as/clients" }, errors: []string{"registration.path:", "must start with '/'"}},
		{name: "fail/path trailing slash", edit: func(c *Config) { c.Registration.Path = "/as/clients/" }, errors: []string{"registration.path:", "must not end with '/'"}},
		{name: "fail/path with query", edit: func(c *Config) { c.Registration.Path = "/as?x" }, errors: []string{"registration.path:", "plain path"}},
		{name: "fail/token required without issuer", edit: func(c *Config) { c.InitialAccessTokens.Issuers = nil },
			errors: []string{"initial_access_tokens.issuers: at least one issuer is required when registration.require_initial_access_token"}},
		{name: "fail/token required without scope", edit: func(c *Config) { c.Registration.RequiredScopes = nil },
			errors: []string{"registration.required_scopes: at least one scope"}},
		{name: "fail/bad scope token", edit: func(c *Config) { c.Registration.RequiredScopes = []string{"dcr", "two words", ""} },
			errors: []string{`registration.required_scopes[1]: "two words" is not a scope token`, "registration.required_scopes[2]"}},
		{name: "fail/max limits", edit: func(c *Config) {
			c.Registration.MaxBodyBytes, c.Registration.MaxRedirectURIs, c.Registration.MaxValueLength = 0, -1, 0
		}, errors: []string{"registration.max_body_bytes: must be > 0", "registration.max_redirect_uris: must be > 0", "registration.max_value_length: must be > 0"}},
		{name: "fail/extended metadata", edit: func(c *Config) {
			c.Registration.ExtendedMetadata = []ExtendedProperty{{Name: "", Type: "string"}, {Name: "a#b", Type: "number"}, {Name: "t", Type: "int"}, {Name: "t", Type: "boolean"}}
		}, errors: []string{
			"registration.extended_metadata[0].name: required",
			"registration.extended_metadata[1].name: must not contain '#'",
			`registration.extended_metadata[2].type: "int" is not one of string, strings, boolean, number`,
			`registration.extended_metadata[3].name: "t" is listed twice`,
		}},
		{name: "fail/retention without period", edit: func(c *Config) {
			c.Management.RetainClientSecret, c.Management.ClientSecretRetentionPeriod = true, 0
		}, errors: []string{"management.client_secret_retention_period: must be > 0 when management.retain_client_secret is true"}},
		{name: "fail/negative retention", edit: func(c *Config) { c.Management.ClientSecretRetentionPeriod = -time.Hour },
			errors: []string{"management.client_secret_retention_period: must not be negative"}},
		{name: "fail/issuer", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers = append(c.InitialAccessTokens.Issuers,
				Issuer{Issuer: "as.example.com", JWKSURI: "", ClockSkew: 6 * time.Minute, Audience: []string{""}},
				Issuer{Issuer: "https://as.example.com", JWKSURI: "http://as.example.com/jwks", ClockSkew: -time.Second},
				Issuer{Issuer: "", JWKSURI: "/jwks"})
		}, errors: []string{
			`initial_access_tokens.issuers[1].issuer: "as.example.com" is not an absolute URL`,
			"initial_access_tokens.issuers[1].jwks_uri: one of jwks_uri, jwks_file, discovery: true or introspection_endpoint is required",
			"initial_access_tokens.issuers[1].clock_skew: 6m0s is outside 0s..5m0s",
			"initial_access_tokens.issuers[1].audience: must not contain an empty value",
			`initial_access_tokens.issuers[2].issuer: "https://as.example.com" is listed twice`,
			"initial_access_tokens.issuers[2].jwks_uri:", "must use https",
			"initial_access_tokens.issuers[2].clock_skew: -1s is outside",
			"initial_access_tokens.issuers[3].issuer: required",
			`initial_access_tokens.issuers[3].jwks_uri: "/jwks" is not an absolute URL`,
		}},
		{name: "fail/log", edit: func(c *Config) { c.Log = Log{Level: "verbose", Format: "xml"} },
			errors: []string{`log.level: "verbose" is not one of debug, info, warn, error`, `log.format: "xml" is not one of text, json`}},
		{name: "fail/ldap empty", serve: true, edit: func(c *Config) { c.LDAP = LDAP{} }, errors: []string{
			"ldap.urls: at least one", "ldap.bind_dn: required", "ldap.base_dn: required",
			"ldap.bind_password: required", "ldap.pool_size: 0 is outside 1..256", "ldap.timeout: must be > 0",
		}},
		{name: "fail/ldap values", serve: true, edit: func(c *Config) {
			c.LDAP.URLs = []string{"ldaps://ok:636", "https://ldap.example.org", "ldap://"}
			c.LDAP.BindDN, c.LDAP.BaseDN = "dcrgate", "ou=clients,,dc=org"
			c.LDAP.PoolSize, c.LDAP.Timeout = 257, -time.Second
		}, errors: []string{
			`ldap.urls[1]: "https://ldap.example.org" is not an ldap:// or ldaps:// URL`, `ldap.urls[2]: "ldap://"`,
			`ldap.bind_dn: "dcrgate" is not a DN`, `ldap.base_dn: "ou=clients,,dc=org" is not a DN`,
			"ldap.pool_size: 257 is outside", "ldap.timeout: must be > 0",
		}},
		{name: "fail/serve also reports general problems", serve: true, edit: func(c *Config) { c.LDAP.PoolSize, c.Log.Level = 0, "x" },
			errors: []string{"ldap.pool_size:", "log.level:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := servable()
			tt.edit(&c)
			validate := c.Validate
			if tt.serve {
				validate = c.ValidateForServe
			}
			err := validate()
			if tt.errors == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			wantErr(t, err, tt.errors...)
		})
	}
}

// TestValidateReportsAll checks the shape of the combined error: one line
// per problem, each starting with its key.
func TestValidateReportsAll(t *testing.T) {
	c := servable()
	c.Listen, c.Log.Format, c.Registration.Path, c.LDAP.PoolSize = "", "xml", "x", 0
	err := c.ValidateForServe()
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"listen: ", "log.format: ", "registration.path: ", "ldap.pool_size: "}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, prefix := range want {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
}
