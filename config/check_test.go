package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestTypeErrors pins the wording of values of the wrong type: each is one
// problem at its line, under its key, in the words an operator uses.
func TestTypeErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Problem // zero = no problem
	}{
		{name: "ok/duration", yaml: "ldap:\n  timeout: 1h30m\n"},
		{name: "ok/hex whole number", yaml: "ldap:\n  pool_size: 0x10\n"},
		{name: "ok/yes is a boolean in YAML 1.1", yaml: "registration:\n  enabled: yes\n"},
		{name: "ok/null is the zero value", yaml: "ldap:\n  timeout:\n"},
		{name: "ok/number as text", yaml: "listen: 8080\n"},
		{name: "ok/flow list and mapping", yaml: "registration: {required_scopes: [a, b]}\n"},
		{name: "ok/alias of the right type", yaml: "registration:\n  required_scopes: &s [dcr]\ninitial_access_tokens:\n  issuers:\n    - {issuer: https://a.example, jwks_uri: https://a.example/j, required_scopes: *s}\n"},
		{name: "ok/free-form metadata", yaml: "policies:\n  - kind: defaults\n    metadata: {grant_types: [client_credentials], x: {y: 1}}\n"},

		{name: "fail/whole number from text", yaml: "registration:\n  max_body_bytes: lots\n",
			want: Problem{Line: 2, Key: "registration.max_body_bytes", Message: `must be a whole number, not "lots"`}},
		{name: "fail/whole number from a fraction", yaml: "ldap:\n  pool_size: 1.5\n",
			want: Problem{Line: 2, Key: "ldap.pool_size", Message: `must be a whole number, not "1.5"`}},
		{name: "fail/whole number out of range", yaml: "ldap:\n  pool_size: 99999999999999999999\n",
			want: Problem{Line: 2, Key: "ldap.pool_size", Message: `"99999999999999999999" is out of range`}},
		{name: "fail/duration without a unit", yaml: "ldap:\n  timeout: 5\n",
			want: Problem{Line: 2, Key: "ldap.timeout", Message: `must be a duration like 30s, 5m or 24h, not "5"`}},
		{name: "fail/duration in words", yaml: "reaper:\n  interval: one day\n",
			want: Problem{Line: 2, Key: "reaper.interval", Message: `must be a duration like 30s, 5m or 24h, not "one day"`}},
		{name: "fail/boolean", yaml: "registration:\n  enabled: maybe\n",
			want: Problem{Line: 2, Key: "registration.enabled", Message: `must be true or false, not "maybe"`}},
		{name: "fail/list from a value", yaml: "registration:\n  required_scopes: dcr\n",
			want: Problem{Line: 2, Key: "registration.required_scopes", Message: `must be a list, not "dcr"`}},
		{name: "fail/list from a mapping", yaml: "ldap:\n  urls:\n    primary: ldaps://a\n",
			want: Problem{Line: 3, Key: "ldap.urls", Message: "must be a list, not a mapping"}},
		{name: "fail/mapping from a value", yaml: "ldap: ldaps://a\n",
			want: Problem{Line: 1, Key: "ldap", Message: `must be a mapping of keys to values, not "ldaps://a"`}},
		{name: "fail/mapping from a list", yaml: "log: [debug]\n",
			want: Problem{Line: 1, Key: "log", Message: "must be a mapping of keys to values, not a list"}},
		{name: "fail/value from a list", yaml: "listen: [\":8080\"]\n",
			want: Problem{Line: 1, Key: "listen", Message: "must be a single value, not a list"}},
		{name: "fail/list element", yaml: "initial_access_tokens:\n  issuers:\n    - https://a.example\n",
			want: Problem{Line: 3, Key: "initial_access_tokens.issuers[0]", Message: `must be a mapping of keys to values, not "https://a.example"`}},
		{name: "fail/value in a list", yaml: "registration:\n  required_scopes:\n    - dcr\n    - {name: x}\n",
			want: Problem{Line: 4, Key: "registration.required_scopes[1]", Message: "must be a single value, not a mapping"}},
		{name: "fail/alias reported where it is used", yaml: "log: &l {level: debug}\nlisten: *l\n",
			want: Problem{Line: 2, Key: "listen", Message: "must be a single value, not a mapping"}},
		{name: "fail/merge of a value", yaml: "log:\n  <<: debug\n",
			want: Problem{Line: 2, Key: "log.<<", Message: "must be a mapping, or a list of mappings, to merge"}},
		{name: "fail/repeated key", yaml: "log:\n  level: info\n  level: debug\n",
			want: Problem{Line: 3, Key: "log.level", Message: "is set twice (first on line 2)"}},
		{name: "fail/free-form mapping with a repeated key", yaml: "policies:\n  - kind: defaults\n    metadata: {a: 1, a: 2}\n",
			want: Problem{Line: 3, Key: "policies[0].metadata", Message: `cannot be read: line 3: mapping key "a" already defined at line 3`}},
		{name: "fail/not a mapping at all", yaml: "just words\n",
			want: Problem{Line: 1, Message: `the file must be a mapping of keys to values, not "just words"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "dcrgate.yaml", tt.yaml)
			r := read(path, nil)
			var want []Problem
			if tt.want != (Problem{}) {
				tt.want.File = path
				want = []Problem{tt.want}
			}
			if !reflect.DeepEqual(r.problems, want) {
				t.Errorf("problems:\n%v\nwant:\n%v", Problems(r.problems), Problems(want))
			}
		})
	}
}

// TestTypeErrorKeepsTheRest: a value of the wrong type is reported, the
// rest of the document is applied, and the key keeps its default.
func TestTypeErrorKeepsTheRest(t *testing.T) {
	path := writeFile(t, "dcrgate.yaml", "registration:\n  max_body_bytes: lots\n  path: /dcr\ninitial_access_tokens:\n  issuers:\n    - 3\n    - {issuer: https://b.example, jwks_uri: https://b.example/j}\n")
	r := read(path, nil)
	if len(r.problems) != 2 {
		t.Fatalf("problems:\n%v", Problems(r.problems))
	}
	c := r.cfg
	if c.Registration.Path != "/dcr" || c.Registration.MaxBodyBytes != Default().Registration.MaxBodyBytes {
		t.Errorf("registration = %+v", c.Registration)
	}
	// The bad element stays in place, so later elements keep their index
	// (and their problems their line).
	if is := c.InitialAccessTokens.Issuers; len(is) != 2 || is[1].Issuer != "https://b.example" {
		t.Errorf("issuers = %+v", is)
	}
}

// TestCheckPlaces checks where problems point: their key's line, the
// nearest parent the file has, the variable that set the value, or nowhere
// for a default.
func TestCheckPlaces(t *testing.T) {
	yaml := `registration:
  enabled: true
  required_scopes: dcr
initial_access_tokens:
  issuers:
    - issuer: https://a.example
      jwks_uri: http://a.example/jwks
    - issuer: https://b.example
ldap:
  bind_dn: cn=x,dc=example,dc=org
  ca_file: /etc/ca.pem
`
	path := writeFile(t, "dcrgate.yaml", yaml)
	rule := func(Config) []Problem {
		return []Problem{
			{Key: "ldap.ca_file", Message: "unreadable"},
			{Key: "registration.required_scopes[0]", Message: "covered by the type error"},
		}
	}
	_, got := Check(path, env(map[string]string{"DCRGATE_LDAP_POOL_SIZE": "0", "DCRGATE_LDAP_BIND_PASSWORD": "pw"}), rule)
	want := []string{
		path + `:3: registration.required_scopes: must be a list, not "dcr"`,
		path + `:7: initial_access_tokens.issuers[0].jwks_uri: "http://a.example/jwks" must use https (http is allowed only for localhost and loopback addresses)`,
		path + ":8: initial_access_tokens.issuers[1].jwks_uri: one of jwks_uri, jwks_file, discovery: true or introspection_endpoint is required",
		path + ":9: ldap.urls: at least one ldap:// or ldaps:// URL is required",
		path + ":9: ldap.base_dn: required",
		path + ":11: ldap.ca_file: unreadable",
		"ldap.pool_size: 0 is outside 1..256 (from DCRGATE_LDAP_POOL_SIZE)",
	}
	if got := lines(got); !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckDefaultsHaveNoLine(t *testing.T) {
	path := writeFile(t, "dcrgate.yaml", "log:\n  level: info\n")
	_, got := Check(path, nil)
	if len(got) == 0 || got[0].Error() != path+": ldap.urls: at least one ldap:// or ldaps:// URL is required" {
		t.Errorf("got:\n%v", Problems(got))
	}
}

func TestCheckUnreadable(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"fail/missing file", "", ": cannot be read: no such file or directory"},
		{"fail/not YAML", "listen: [\n", ":1: is not valid YAML: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/nonexistent/dcrgate.yaml"
			if tt.yaml != "" {
				path = writeFile(t, "dcrgate.yaml", tt.yaml)
			}
			_, got := Check(path, nil, func(Config) []Problem { t.Error("rules ran on an unreadable file"); return nil })
			if want := []string{path + tt.want}; !reflect.DeepEqual(lines(got), want) {
				t.Errorf("got %q, want %q", lines(got), want)
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"ok/everything", Problem{File: "d.yaml", Line: 3, Key: "ldap.urls", Message: "m"}, "d.yaml:3: ldap.urls: m"},
		{"ok/no line", Problem{File: "d.yaml", Key: "ldap.urls", Message: "m"}, "d.yaml: ldap.urls: m"},
		{"ok/no file", Problem{Key: "ldap.urls", Message: "m"}, "ldap.urls: m"},
		{"ok/the file itself", Problem{File: "d.yaml", Line: 1, Message: "m"}, "d.yaml:1: m"},
		{"ok/environment", Problem{File: "d.yaml", Key: "ldap.timeout", Message: "m", Env: "DCRGATE_LDAP_TIMEOUT"}, "ldap.timeout: m (from DCRGATE_LDAP_TIMEOUT)"},
		{"ok/later lines indented", Problem{File: "d.yaml", Line: 9, Key: "policies[0]", Message: "bad\n | x\n | ^"}, "d.yaml:9: policies[0]: bad\n     | x\n     | ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func lines(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}
