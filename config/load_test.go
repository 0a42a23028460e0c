package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefault(t *testing.T) {
	d := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"registration.enabled", d.Registration.Enabled, false},
		{"registration.path", d.Registration.Path, "/as/clients.oauth2"},
		{"registration.require_initial_access_token", d.Registration.RequireInitialAccessToken, true},
		{"registration.max_body_bytes", d.Registration.MaxBodyBytes, int64(64 * 1024)},
		{"registration.max_redirect_uris", d.Registration.MaxRedirectURIs, 20},
		{"registration.max_value_length", d.Registration.MaxValueLength, 2048},
		{"management.enabled", d.Management.Enabled, false},
		{"management.rotate_client_secret", d.Management.RotateClientSecret, true},
		{"management.rotate_registration_access_token", d.Management.RotateRegistrationAccessToken, true},
		{"management.allow_client_delete", d.Management.AllowClientDelete, true},
		{"management.retain_client_secret", d.Management.RetainClientSecret, false},
		{"management.client_secret_retention_period", d.Management.ClientSecretRetentionPeriod, 24 * time.Hour},
		{"listen", d.Listen, ":8080"},
		{"metrics.listen", d.Metrics.Listen, ":9090"},
		{"ldap.pool_size", d.LDAP.PoolSize, 8},
		{"ldap.timeout", d.LDAP.Timeout, 5 * time.Second},
		{"log.level", d.Log.Level, "info"},
		{"log.format", d.Log.Format, "text"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Default() does not validate: %v", err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string // "" with noFile = path ""
		check func(t *testing.T, c Config)
		err   []string // fragments; nil = success
	}{
		{name: "ok/no file is defaults", check: func(t *testing.T, c Config) {
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v, want defaults", c)
			}
		}},
		{name: "ok/empty file is defaults", yaml: "# nothing\n", check: func(t *testing.T, c Config) {
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v, want defaults", c)
			}
		}},
		{name: "ok/file overrides and keeps other defaults", yaml: "management:\n  client_secret_retention_period: 90m\n  retain_client_secret: true\n",
			check: func(t *testing.T, c Config) {
				m := c.Management
				if m.ClientSecretRetentionPeriod != 90*time.Minute || !m.RetainClientSecret || !m.RotateClientSecret {
					t.Errorf("management = %+v", m)
				}
			}},
		{name: "ok/issuer clock_skew defaults only when absent", yaml: `
initial_access_tokens:
  issuers:
    - {issuer: https://a.example, jwks_uri: https://a.example/jwks}
    - {issuer: https://b.example, jwks_uri: https://b.example/jwks, clock_skew: 0s}
    - {issuer: https://c.example, jwks_uri: https://c.example/jwks, clock_skew: 2m}
`, check: func(t *testing.T, c Config) {
			var got []time.Duration
			for _, is := range c.InitialAccessTokens.Issuers {
				got = append(got, is.ClockSkew)
			}
			if want := []time.Duration{DefaultClockSkew, 0, 2 * time.Minute}; !reflect.DeepEqual(got, want) {
				t.Errorf("clock skews = %v, want %v", got, want)
			}
		}},
		{name: "ok/statement issuer clock_skew defaults only when absent", yaml: `
software_statements:
  trusted_issuers:
    - {issuer: https://a.example, jwks_uri: https://a.example/jwks}
    - {issuer: https://b.example, jwks_uri: https://b.example/jwks, clock_skew: 0s}
    - {issuer: https://c.example, jwks_uri: https://c.example/jwks, clock_skew: 2m}
    - {issuer: https://d.example, jwks_uri: https://d.example/jwks, clock_skew: null}
`, check: func(t *testing.T, c Config) {
			var got []time.Duration
			for _, is := range c.SoftwareStatements.TrustedIssuers {
				got = append(got, is.ClockSkew)
			}
			if want := []time.Duration{DefaultClockSkew, 0, 2 * time.Minute, DefaultClockSkew}; !reflect.DeepEqual(got, want) {
				t.Errorf("clock skews = %v, want %v", got, want)
			}
		}},
		{name: "ok/clock_skew 0s inherited through a merge key is kept", yaml: `
initial_access_tokens:
  issuers:
    - &strict {issuer: https://a.example, jwks_uri: https://a.example/jwks, clock_skew: 0s}
    - {<<: *strict, issuer: https://b.example, jwks_uri: https://b.example/jwks}
    - {issuer: https://c.example, jwks_uri: https://c.example/jwks}
`, check: func(t *testing.T, c Config) {
			var got []time.Duration
			for _, is := range c.InitialAccessTokens.Issuers {
				got = append(got, is.ClockSkew)
			}
			if want := []time.Duration{0, 0, DefaultClockSkew}; !reflect.DeepEqual(got, want) {
				t.Errorf("clock skews = %v, want %v", got, want)
			}
		}},
		{name: "fail/anchor holder outside known keys", yaml: "base: &b\n  level: debug\nlog:\n  <<: *b\n", err: []string{`:1: base: unknown key`}},
		{name: "fail/unknown top-level key names key and line", yaml: "listen: \":1\"\nlisten_addr: \":2\"\n",
			err: []string{`:2: listen_addr: unknown key`}},
		{name: "fail/unknown nested keys are all reported with their path", yaml: "registration:\n  enabeld: true\nldap:\n  bindpw: x\n",
			err: []string{`:2: registration.enabeld: unknown key (did you mean enabled?)`, `:4: ldap.bindpw: unknown key`}},
		{name: "fail/unknown key inside a list", yaml: "initial_access_tokens:\n  issuers:\n    - issuer: https://a.example\n      jwks: https://a.example/jwks\n",
			err: []string{`:4: initial_access_tokens.issuers[0].jwks: unknown key`}},
		{name: "fail/bad duration", yaml: "ldap:\n  timeout: 5 seconds\n", err: []string{`:2: ldap.timeout: must be a duration like 30s, 5m or 24h, not "5 seconds"`}},
		{name: "fail/wrong type", yaml: "registration:\n  max_redirect_uris: many\n", err: []string{`:2: registration.max_redirect_uris: must be a whole number, not "many"`}},
		{name: "fail/duplicate key", yaml: "listen: \":1\"\nlisten: \":2\"\n", err: []string{":2: listen: is set twice (first on line 1)"}},
		{name: "fail/not a mapping", yaml: "- listen\n", err: []string{":1: the file must be a mapping of keys to values, not a list"}},
		{name: "fail/invalid YAML", yaml: "listen: [\n", err: []string{":1: is not valid YAML"}},
		{name: "fail/validation runs", yaml: "log:\n  level: loud\n", err: []string{`log.level: "loud" is not one of`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "dcrgate.yaml", tt.yaml)
			}
			c, err := Load(path, env(nil))
			if tt.err != nil {
				wantErr(t, err, tt.err...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadMergeKey(t *testing.T) {
	path := writeFile(t, "dcrgate.yaml", "log: &l\n  level: debug\nmetrics:\n  listen: \":9\"\n")
	if _, err := Load(path, nil); err != nil {
		t.Fatalf("nil lookupEnv and anchors: %v", err)
	}
	path = writeFile(t, "dcrgate.yaml", "log:\n  <<: {level: debug, format: json}\n")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("log = %+v", c.Log)
	}
}

// TestExternalURLTrailingSlash: a URL copied from a browser's address bar,
// in the file or the environment, is the same URL without its slash.
func TestExternalURLTrailingSlash(t *testing.T) {
	path := writeFile(t, "dcrgate.yaml", "external_url: https://dcr.example.com/\n")
	for name, vars := range map[string]map[string]string{
		"file":        nil,
		"environment": {"DCRGATE_EXTERNAL_URL": "https://dcr.example.com/gw/"},
	} {
		c, err := Load(path, env(vars))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasSuffix(c.ExternalURL, "/") || !strings.HasPrefix(c.ExternalURL, "https://dcr.example.com") {
			t.Errorf("%s: external_url = %q", name, c.ExternalURL)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/dcrgate.yaml", env(nil))
	wantErr(t, err, "/nonexistent/dcrgate.yaml", "no such file")
}

func TestLoadBindPassword(t *testing.T) {
	secret := writeFile(t, "ldap", "s3cret\n")
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string
		err  []string
	}{
		{name: "ok/file read and trailing newline trimmed", yaml: "ldap:\n  bind_password_file: " + secret + "\n", want: "s3cret"},
		{name: "ok/file from env", env: map[string]string{"DCRGATE_LDAP_BIND_PASSWORD_FILE": secret}, want: "s3cret"},
		{name: "ok/password from env", env: map[string]string{"DCRGATE_LDAP_BIND_PASSWORD": "fromenv"}, want: "fromenv"},
		{name: "fail/file and password both set", yaml: "ldap:\n  bind_password: x\n  bind_password_file: " + secret + "\n",
			err: []string{"bind_password and bind_password_file are both set"}},
		{name: "fail/file in YAML and password in env", yaml: "ldap:\n  bind_password_file: " + secret + "\n",
			env: map[string]string{"DCRGATE_LDAP_BIND_PASSWORD": "x"}, err: []string{"both set"}},
		{name: "fail/missing file", yaml: "ldap:\n  bind_password_file: /nonexistent/ldap\n",
			err: []string{"ldap.bind_password_file", "/nonexistent/ldap", "no such file"}},
		{name: "fail/empty file", yaml: "ldap:\n  bind_password_file: " + writeFile(t, "empty", "\n") + "\n",
			err: []string{"ldap.bind_password_file", "is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "dcrgate.yaml", tt.yaml)
			}
			c, err := Load(path, env(tt.env))
			if tt.err != nil {
				wantErr(t, err, tt.err...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.LDAP.BindPassword != tt.want {
				t.Errorf("bind password = %q, want %q", c.LDAP.BindPassword, tt.want)
			}
		})
	}
}

// TestExample proves the shipped example is accepted for serve and mentions
// every key, so it cannot fall behind the struct.
func TestExample(t *testing.T) {
	const path = "../dcrgate.example.yaml"
	c, err := Read(path, env(map[string]string{"DCRGATE_LDAP_BIND_PASSWORD": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateForServe(); err != nil {
		t.Fatalf("example does not validate for serve:\n%v", err)
	}
	if _, err := Load(path, env(nil)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeFor[Config](), "") {
		if !containsKey(t, data, key) {
			t.Errorf("example lacks %s", key)
		}
	}
}

// yamlKeys lists every leaf key path of t; list elements are written "[]".
func yamlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		name, ok := yamlName(t.Field(i))
		if !ok {
			continue
		}
		ft, key := t.Field(i).Type, joinKey(prefix, name)
		switch {
		case ft.Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(ft, key)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(ft.Elem(), key+"[]")...)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// containsKey decodes data generically and looks key up, taking the first
// element of lists.
func containsKey(t *testing.T, data []byte, key string) bool {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return hasPath(doc, strings.Split(strings.ReplaceAll(key, "[]", ""), "."))
}

// hasPath reports whether path exists below cur; in a list, any element
// may hold it (each policy kind shows different keys).
func hasPath(cur any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	if l, ok := cur.([]any); ok {
		for _, el := range l {
			if hasPath(el, path) {
				return true
			}
		}
		return false
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return false
	}
	next, ok := m[path[0]]
	return ok && hasPath(next, path[1:])
}

// TestDockerComposeConfig keeps the compose stack's config servable: the
// docker files cannot be run here, but their dcrgate.yaml can be checked.
func TestDockerComposeConfig(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Read("../docker/dcrgate.yaml", env(map[string]string{"DCRGATE_LDAP_BIND_PASSWORD_FILE": pw}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateForServe(); err != nil {
		t.Fatalf("docker/dcrgate.yaml does not validate for serve:\n%v", err)
	}
}
