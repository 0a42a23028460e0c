package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(c Config) bool
		err   []string
	}{
		{name: "ok/string", env: map[string]string{"DCRGATE_LISTEN": ":7000"},
			check: func(c Config) bool { return c.Listen == ":7000" }},
		{name: "ok/nested string", env: map[string]string{"DCRGATE_EXTERNAL_URL": "https://x.example"},
			check: func(c Config) bool { return c.ExternalURL == "https://x.example" }},
		{name: "ok/bool", env: map[string]string{"DCRGATE_REGISTRATION_ENABLED": "true", "DCRGATE_REGISTRATION_REQUIRE_INITIAL_ACCESS_TOKEN": "false"},
			check: func(c Config) bool {
				return c.Registration.Enabled && !c.Registration.RequireInitialAccessToken
			}},
		{name: "ok/int", env: map[string]string{"DCRGATE_LDAP_POOL_SIZE": "16"},
			check: func(c Config) bool { return c.LDAP.PoolSize == 16 }},
		{name: "ok/int64", env: map[string]string{"DCRGATE_REGISTRATION_MAX_BODY_BYTES": "1048576"},
			check: func(c Config) bool { return c.Registration.MaxBodyBytes == 1<<20 }},
		{name: "ok/duration", env: map[string]string{"DCRGATE_MANAGEMENT_CLIENT_SECRET_RETENTION_PERIOD": "1h30m"},
			check: func(c Config) bool { return c.Management.ClientSecretRetentionPeriod == 90*time.Minute }},
		{name: "ok/list trims and drops blanks", env: map[string]string{"DCRGATE_REGISTRATION_REQUIRED_SCOPES": " dcr, admin ,,"},
			check: func(c Config) bool {
				return reflect.DeepEqual(c.Registration.RequiredScopes, []string{"dcr", "admin"})
			}},
		{name: "ok/ldap urls", env: map[string]string{"DCRGATE_LDAP_URLS": "ldaps://a:636,ldaps://b:636"},
			check: func(c Config) bool { return reflect.DeepEqual(c.LDAP.URLs, []string{"ldaps://a:636", "ldaps://b:636"}) }},
		{name: "ok/empty list variable clears the list", env: map[string]string{"DCRGATE_LDAP_URLS": ""},
			check: func(c Config) bool { return len(c.LDAP.URLs) == 0 }},
		{name: "ok/env beats file", env: map[string]string{"DCRGATE_LOG_LEVEL": "debug"},
			check: func(c Config) bool { return c.Log.Level == "debug" }},
		{name: "fail/bad bool", env: map[string]string{"DCRGATE_MANAGEMENT_ENABLED": "yes please"},
			err: []string{`management.enabled: must be true or false, not "yes please" (from DCRGATE_MANAGEMENT_ENABLED)`}},
		{name: "fail/bad int", env: map[string]string{"DCRGATE_LDAP_POOL_SIZE": "eight"},
			err: []string{`ldap.pool_size: must be a whole number, not "eight" (from DCRGATE_LDAP_POOL_SIZE)`}},
		{name: "fail/int out of range", env: map[string]string{"DCRGATE_REGISTRATION_MAX_BODY_BYTES": "99999999999999999999"},
			err: []string{`registration.max_body_bytes: "99999999999999999999" is out of range (from DCRGATE_REGISTRATION_MAX_BODY_BYTES)`}},
		{name: "fail/bad duration", env: map[string]string{"DCRGATE_LDAP_TIMEOUT": "5"},
			err: []string{`ldap.timeout: must be a duration like 30s, 5m or 24h, not "5" (from DCRGATE_LDAP_TIMEOUT)`}},
		{name: "fail/every bad variable is reported", env: map[string]string{"DCRGATE_LDAP_TIMEOUT": "x", "DCRGATE_LOG_LEVEL": "debug", "DCRGATE_REGISTRATION_ENABLED": "x"},
			err: []string{"DCRGATE_LDAP_TIMEOUT", "DCRGATE_REGISTRATION_ENABLED"}},
		{name: "fail/bad value fails validation naming the key", env: map[string]string{"DCRGATE_LDAP_POOL_SIZE": "0", "DCRGATE_LISTEN": "nope"},
			err: []string{"listen:"}},
	}
	file := writeFile(t, "dcrgate.yaml", "log:\n  level: warn\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(file, env(tt.env))
			if tt.err != nil {
				wantErr(t, err, tt.err...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("override not applied: %+v", c)
			}
		})
	}
}

// TestEnvFields guards the generic walk: names are unique and every field
// it reaches has a type setFromString understands, so a new field type
// fails here instead of silently lacking an override.
func TestEnvFields(t *testing.T) {
	seen := map[string]bool{}
	var c Config
	eachEnvField(reflect.ValueOf(&c).Elem(), EnvPrefix, "", func(name, key string, f reflect.Value) {
		if seen[name] {
			t.Errorf("%s names two fields", name)
		}
		seen[name] = true
		if want := EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_")); name != want {
			t.Errorf("key %s has variable %s, want %s", key, name, want)
		}
		if msg := setFromString(f, sampleFor(f)); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
	})
	for _, name := range []string{"DCRGATE_LISTEN", "DCRGATE_EXTERNAL_URL", "DCRGATE_REGISTRATION_REQUIRED_SCOPES",
		"DCRGATE_MANAGEMENT_CLIENT_SECRET_RETENTION_PERIOD", "DCRGATE_LDAP_BIND_PASSWORD", "DCRGATE_LDAP_URLS", "DCRGATE_METRICS_LISTEN"} {
		if !seen[name] {
			t.Errorf("%s is not an override", name)
		}
	}
	for _, yamlOnly := range []string{"DCRGATE_INITIAL_ACCESS_TOKENS_ISSUERS", "DCRGATE_REGISTRATION_EXTENDED_METADATA"} {
		if seen[yamlOnly] {
			t.Errorf("%s should be YAML-only", yamlOnly)
		}
	}
}

func sampleFor(f reflect.Value) string {
	switch {
	case f.Type() == durationType:
		return "1s"
	case f.Kind() == reflect.Bool:
		return "true"
	case f.Kind() == reflect.String, f.Kind() == reflect.Slice:
		return "a,b"
	}
	return "1"
}

func TestSetFromStringUnsupported(t *testing.T) {
	var x float64
	msg := setFromString(reflect.ValueOf(&x).Elem(), "1.5")
	if msg != "a float64 field cannot be set from the environment" {
		t.Errorf("setFromString = %q", msg)
	}
}
