package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration for commands that do not need the directory
// (`dev`): Default, then the YAML file at path ("" = none), then DCRGATE_*
// environment overrides, then secret files, then Validate. lookupEnv is
// usually os.LookupEnv; tests inject their own.
func Load(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	c, err := Read(path, lookupEnv)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Read is Load without validation; its error is Problems. Commands that
// only need a few settings (health, schema check) use it; serve uses Check.
func Read(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	r := read(path, lookupEnv)
	if len(r.problems) > 0 {
		return Config{}, Problems(sortProblems(r.problems))
	}
	return r.cfg, nil
}

// Rule is a start-up check that needs more than this package knows — a
// file serve loads, a policy it compiles, a server it probes. It returns
// problems with Key and Message; Check places them in the file.
type Rule func(Config) []Problem

// Check reads the configuration as Read does and returns it with every
// problem that would keep serve from starting, in one list sorted by line:
// the file's unknown keys and values of the wrong type, bad DCRGATE_*
// variables, unreadable secret files, what ValidateForServe finds, and
// what rules find. A problem about a value already reported (a key that
// could not be read, say) is left out, so each cause is named once. When
// the file cannot be read or parsed, that is the only problem about it.
func Check(path string, lookupEnv func(string) (string, bool), rules ...Rule) (Config, []Problem) {
	r := read(path, lookupEnv)
	problems := r.problems
	if r.decoded {
		problems = appendUncovered(problems, r.src.placeAll(problemsOf(r.cfg.serveChecks())))
		for _, rule := range rules {
			problems = appendUncovered(problems, r.src.placeAll(rule(r.cfg)))
		}
	}
	return r.cfg, sortProblems(problems)
}

func noEnv(string) (string, bool) { return "", false }

// reading is a configuration as read, where each value came from, and
// what was wrong with reading it (each problem placed).
type reading struct {
	cfg      Config
	src      source
	problems []Problem
	// decoded is false when the file could not be read or parsed: nothing
	// else about it is then worth saying.
	decoded bool
}

// read applies Default, the file at path, the environment and the secret
// files, in that order, collecting every problem on the way.
func read(path string, lookupEnv func(string) (string, bool)) reading {
	if lookupEnv == nil {
		lookupEnv = noEnv
	}
	r := reading{cfg: Default(), src: source{file: path}, decoded: true}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return reading{src: r.src, problems: []Problem{{File: path, Message: "cannot be read: " + pathErrorText(err)}}}
		}
		r.src.lines, r.problems, r.decoded = decode(data, &r.cfg)
	}
	if !r.decoded {
		return reading{src: r.src, problems: r.src.placeAll(r.problems)}
	}
	var envProblems []Problem
	envProblems, r.src.env = applyEnv(&r.cfg, lookupEnv)
	r.problems = append(r.problems, envProblems...)
	r.cfg.tidy()
	r.problems = append(r.problems, r.cfg.resolveSecrets(r.src.env)...)
	r.problems = r.src.placeAll(r.problems)
	return r
}

// tidy forgives what people write without meaning anything by it: a
// trailing "/" on external_url (as browsers show URLs), which would
// otherwise double the slash in every registration_client_uri, and
// capitals in host names, which DNS ignores.
func (c *Config) tidy() {
	c.ExternalURL = strings.TrimRight(c.ExternalURL, "/")
	for i, h := range c.Registration.Anonymous.WebRedirectHosts {
		c.Registration.Anonymous.WebRedirectHosts[i] = strings.ToLower(h)
	}
}

// pathErrorText is err without the path, which the problem names already.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// decode applies a YAML document on top of c, returning the line of every
// key path and every problem with the document; false when it is not YAML
// at all. Fields the document does not mention keep their value in c.
func decode(data []byte, c *Config) (map[string]int, []Problem, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Problem{syntaxProblem(err)}, false
	}
	if len(doc.Content) == 0 { // empty file or comments only
		return nil, nil, true
	}
	w := newWalker()
	w.walk(&doc.Content[0], reflect.TypeFor[Config](), "", false)
	root := doc.Content[0]
	// The walker pruned what does not fit, so these fail only on what it
	// does not know of: say so rather than pass a value silently.
	if err := root.Decode(c); err != nil {
		w.problems = append(w.problems, Problem{Message: "could not be decoded: " + err.Error()})
	}
	if err := issuerDefaults(root, c); err != nil {
		w.problems = append(w.problems, Problem{Message: "could not be decoded: " + err.Error()})
	}
	return w.lines, w.problems, true
}

// yamlLine finds the line in yaml.v3's syntax errors ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem reports a file that is not YAML, at its line when known.
func syntaxProblem(err error) Problem {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return Problem{Message: "is not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	return Problem{Line: line, Message: "is not valid YAML: " + m[2]}
}

func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// yamlName is the key yaml.v3 uses for a struct field, and false for
// fields it skips.
func yamlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return "", false
	case "":
		return strings.ToLower(f.Name), true
	}
	return name, true
}

func fieldByYAMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if n, ok := yamlName(t.Field(i)); ok && n == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// issuerDefaults sets DefaultClockSkew on the token issuers and the
// software statement issuers whose YAML omits clock_skew. yaml.v3 builds
// list elements from zero values, and 0 is a valid (strict) skew, so only
// the key's absence (or null) can mean "default". This is the one place
// the default is applied: iat uses exactly the skew it is given.
func issuerDefaults(root *yaml.Node, c *Config) error {
	var seen struct {
		IAT struct {
			Issuers []skewSeen `yaml:"issuers"`
		} `yaml:"initial_access_tokens"`
		Statements struct {
			TrustedIssuers []skewSeen `yaml:"trusted_issuers"`
		} `yaml:"software_statements"`
	}
	if err := root.Decode(&seen); err != nil {
		return err
	}
	for i := range c.InitialAccessTokens.Issuers {
		defaultSkew(seen.IAT.Issuers, i, &c.InitialAccessTokens.Issuers[i].ClockSkew)
	}
	for i := range c.SoftwareStatements.TrustedIssuers {
		defaultSkew(seen.Statements.TrustedIssuers, i, &c.SoftwareStatements.TrustedIssuers[i].ClockSkew)
	}
	return nil
}

// skewSeen is one list element as written: ClockSkew is nil when the key
// is absent or null.
type skewSeen struct {
	ClockSkew any `yaml:"clock_skew"`
}

// defaultSkew sets *skew to DefaultClockSkew when element i of the
// document's list has no clock_skew.
func defaultSkew(seen []skewSeen, i int, skew *time.Duration) {
	if i < len(seen) && seen[i].ClockSkew == nil {
		*skew = DefaultClockSkew
	}
}

// resolveSecrets replaces every secret file (ldap.bind_password_file,
// introspection client_secret_file) by its content, so the rest of the
// program sees one field. The paths are kept: they are not secret and tell
// an operator where a value came from. env names the keys set from the
// environment, for the message when a value and its file are both set.
func (c *Config) resolveSecrets(env map[string]string) []Problem {
	var problems []Problem
	l := &c.LDAP
	l.BindPassword, problems = readSecret("ldap.bind_password", l.BindPassword, l.BindPasswordFile, env)
	for i := range c.InitialAccessTokens.Issuers {
		in := &c.InitialAccessTokens.Issuers[i].Introspection
		key := fmt.Sprintf("initial_access_tokens.issuers[%d].introspection.client_secret", i)
		var more []Problem
		in.ClientSecret, more = readSecret(key, in.ClientSecret, in.ClientSecretFile, env)
		problems = append(problems, more...)
	}
	return problems
}

// readSecret returns value, or the content of file (trailing newlines
// dropped) when file is set; both set is a problem, as is an empty file.
// Problems are about key's _file.
func readSecret(key, value, file string, env map[string]string) (string, []Problem) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return value, []Problem{bothSet(key, env)}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", []Problem{{Key: key + "_file", Message: err.Error()}}
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" {
		return "", []Problem{{Key: key + "_file", Message: file + " is empty"}}
	}
	return secret, nil
}

// bothSet says that key and key_file are both set, and where the value
// came from when that was the environment, where it is easy to forget.
func bothSet(key string, env map[string]string) Problem {
	name := key[strings.LastIndex(key, ".")+1:]
	msg := fmt.Sprintf("%s and %s_file are both set; set only one", name, name)
	if v, ok := env[key]; ok {
		msg += fmt.Sprintf(" (%s comes from %s)", name, v)
	}
	return Problem{Key: key + "_file", Message: msg}
}
