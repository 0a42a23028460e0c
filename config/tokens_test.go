package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateTokenIssuers(t *testing.T) {
	intro := func(c *Config) *Issuer {
		is := &c.InitialAccessTokens.Issuers[0]
		is.JWKSURI, is.IntrospectionEndpoint = "", "https://as.example.com/introspect"
		is.Introspection = Introspection{AuthMethod: "client_secret_basic", ClientID: "dcrgate", ClientSecret: "s"}
		return is
	}
	tests := []struct {
		name   string
		edit   func(c *Config)
		errors []string
	}{
		{name: "ok/discovery", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers[0].JWKSURI, c.InitialAccessTokens.Issuers[0].Discovery = "", true
		}},
		{name: "ok/introspection only", edit: func(c *Config) { intro(c) }},
		{name: "ok/introspection without client auth", edit: func(c *Config) {
			intro(c).Introspection = Introspection{AuthMethod: "none", TokenPrefix: "ory_at_"}
		}},
		{name: "ok/per-issuer scopes, algorithms, cap", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers[0].RequiredScopes = []string{"dcr:admin"}
			c.InitialAccessTokens.Issuers[0].Algorithms = []string{"PS256"}
			c.InitialAccessTokens.MaxRegistrationsPerToken = 3
		}},
		{name: "ok/software statement issuer", edit: func(c *Config) {
			c.SoftwareStatements.TrustedIssuers = []StatementIssuer{{Issuer: "https://sw.example.com", JWKSURI: "https://sw.example.com/jwks",
				Scopes: []string{"openid"}, Defaults: map[string]any{"grant_types": []any{"client_credentials"}}}}
		}},
		{name: "fail/no key source at all", edit: func(c *Config) { c.InitialAccessTokens.Issuers[0].JWKSURI = "" },
			errors: []string{"issuers[0].jwks_uri: one of jwks_uri, jwks_file, discovery: true or introspection_endpoint is required"}},
		{name: "ok/jwks_file", edit: func(c *Config) {
			is := &c.InitialAccessTokens.Issuers[0]
			is.JWKSURI, is.JWKSFile = "", "trial-jwks.json"
		}},
		{name: "fail/jwks_uri and jwks_file", edit: func(c *Config) { c.InitialAccessTokens.Issuers[0].JWKSFile = "trial-jwks.json" },
			errors: []string{"issuers[0].discovery: jwks_uri, jwks_file and discovery: true are exclusive"}},
		{name: "fail/jwks_uri and discovery", edit: func(c *Config) { c.InitialAccessTokens.Issuers[0].Discovery = true },
			errors: []string{"issuers[0].discovery: jwks_uri, jwks_file and discovery: true are exclusive"}},
		{name: "fail/discovery over http", edit: func(c *Config) {
			is := &c.InitialAccessTokens.Issuers[0]
			is.Issuer, is.JWKSURI, is.Discovery = "http://as.example.com", "", true
		}, errors: []string{"issuers[0].issuer: \"http://as.example.com\" must use https"}},
		{name: "fail/every introspection problem at once", edit: func(c *Config) {
			is := intro(c)
			is.IntrospectionEndpoint = "http://as.example.com/i"
			is.RequireATJWT = true
			is.Algorithms = []string{"HS256"}
			is.RequiredScopes = []string{"a b"}
			is.JWKSMaxAge = -1
			is.Introspection = Introspection{AuthMethod: "private_key_jwt", ClientSecret: "x", SigningAlg: "none", Timeout: -1, CacheTTL: -1, InactiveCacheTTL: -1, CacheSize: -1}
			c.InitialAccessTokens.MaxRegistrationsPerToken = -1
		}, errors: []string{
			"initial_access_tokens.max_registrations_per_token: must not be negative",
			"issuers[0].introspection_endpoint: \"http://as.example.com/i\" must use https",
			"issuers[0].require_at_jwt: needs jwks_uri, jwks_file or discovery",
			"issuers[0].algorithms[0]: \"HS256\" is not one of",
			"issuers[0].required_scopes[0]: \"a b\" is not a scope token",
			"issuers[0].jwks_max_age: must not be negative",
			"issuers[0].introspection.client_id: required by auth_method private_key_jwt",
			"issuers[0].introspection.private_key_file: required by auth_method private_key_jwt",
			"issuers[0].introspection.client_secret: is only used by client_secret_basic and client_secret_post",
			"issuers[0].introspection.signing_alg: \"none\" is not one of",
			"issuers[0].introspection.timeout: must not be negative",
			"issuers[0].introspection.cache_ttl: must not be negative",
			"issuers[0].introspection.inactive_cache_ttl: must not be negative",
			"issuers[0].introspection.cache_size: must not be negative",
		}},
		{name: "fail/secret method without secret", edit: func(c *Config) { intro(c).Introspection.ClientSecret = "" },
			errors: []string{"issuers[0].introspection.client_secret: required by auth_method client_secret_basic"}},
		{name: "fail/unknown auth method", edit: func(c *Config) { intro(c).Introspection.AuthMethod = "tls_client_auth" },
			errors: []string{"issuers[0].introspection.auth_method: \"tls_client_auth\" is not one of"}},
		{name: "fail/introspection settings without endpoint", edit: func(c *Config) {
			c.InitialAccessTokens.Issuers[0].Introspection.Timeout = 1
		}, errors: []string{"issuers[0].introspection: is set but introspection_endpoint is not"}},
		{name: "fail/two catch-all introspection issuers", edit: func(c *Config) {
			intro(c)
			second := c.InitialAccessTokens.Issuers[0]
			second.Issuer = "https://b.example.com"
			c.InitialAccessTokens.Issuers = append(c.InitialAccessTokens.Issuers, second)
		}, errors: []string{"issuers[1].introspection.token_prefix: \"\" is also the prefix of issuers[0]"}},
		{name: "fail/software statement issuers", edit: func(c *Config) {
			c.SoftwareStatements.TrustedIssuers = []StatementIssuer{
				{Issuer: "sw", Scopes: []string{"a\"b"}, Algorithms: []string{"HS512"}, ClockSkew: -1},
				{Issuer: "https://sw.example.com", JWKS: `{"keys":[]}`},
				{Issuer: "https://sw.example.com", JWKS: "nope", JWKSURI: "https://x.example.com/j",
					Defaults: map[string]any{"redirect_uris": "not a list"}},
			}
		}, errors: []string{
			"software_statements.trusted_issuers[0].issuer: \"sw\" is not an absolute URL",
			"software_statements.trusted_issuers[0].jwks_uri: exactly one of jwks_uri and jwks is required",
			"software_statements.trusted_issuers[0].clock_skew: -1ns is outside",
			"software_statements.trusted_issuers[0].algorithms[0]: \"HS512\" is not one of",
			"software_statements.trusted_issuers[0].scopes[0]",
			"software_statements.trusted_issuers[1].jwks: the JWK Set has no keys",
			"software_statements.trusted_issuers[2].issuer: \"https://sw.example.com\" is listed twice",
			"software_statements.trusted_issuers[2].jwks_uri: exactly one of",
			"software_statements.trusted_issuers[2].jwks: not a JWK Set",
			"software_statements.trusted_issuers[2].defaults: ",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := servable()
			tt.edit(&c)
			err := c.Validate()
			if tt.errors == nil {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			for _, want := range tt.errors {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestIntrospectionSecretFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := func(extra string) string {
		return "initial_access_tokens:\n  issuers:\n    - issuer: https://as.example.com\n      introspection_endpoint: https://as.example.com/i\n" +
			"      introspection:\n        auth_method: client_secret_post\n        client_id: dcrgate\n" + extra
	}
	tests := []struct {
		name, yaml, want, err string
	}{
		{name: "ok/file", yaml: doc("        client_secret_file: " + file + "\n"), want: "from-file"},
		{name: "fail/both", yaml: doc("        client_secret: x\n        client_secret_file: " + file + "\n"), err: "both set"},
		{name: "fail/missing file", yaml: doc("        client_secret_file: " + file + ".nope\n"), err: "client_secret_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Read(path, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Read() error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := c.InitialAccessTokens.Issuers[0].Introspection
			if in.ClientSecret != tt.want {
				t.Errorf("client_secret = %q", in.ClientSecret)
			}
			if strings.Contains(in.String(), tt.want) {
				t.Errorf("String() shows the secret: %s", in)
			}
		})
	}
}
