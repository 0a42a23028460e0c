package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration for commands that do not need the directory
// (`dev`, `config check`): Default, then the YAML file at path ("" = none),
// then DCRGATE_* environment overrides, then secret files, then Validate.
// lookupEnv is usually os.LookupEnv; tests inject their own.
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

// Read is Load without validation. `serve` uses it followed by
// ValidateForServe, so that general and LDAP problems are reported together
// rather than in two rounds.
func Read(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = noEnv
	}
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := decode(data, path, &c); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(&c, lookupEnv); err != nil {
		return Config{}, fmt.Errorf("config: environment:\n%w", err)
	}
	if err := c.LDAP.resolveSecrets(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := c.InitialAccessTokens.resolveSecrets(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func noEnv(string) (string, bool) { return "", false }

// decode applies a YAML document on top of c. name only labels errors.
// Fields the document does not mention keep their value in c.
func decode(data []byte, name string, c *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 { // empty file or comments only
		return nil
	}
	root := doc.Content[0]
	if unknown := unknownKeys(root, reflect.TypeFor[Config](), ""); len(unknown) > 0 {
		return fmt.Errorf("%s: %s", name, strings.Join(unknown, "\n"))
	}
	if err := root.Decode(c); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := issuerDefaults(root, c); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// unknownKeys walks the document beside the Go type and reports every key
// that has no field, with its line and full YAML path. We do this ourselves
// because yaml.v3's KnownFields is lost in Node.Decode and names Go types
// rather than keys. Aliases are not followed: their anchors are checked
// where they are defined, and not following them rules out cycles.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) []string {
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		return unknownStructKeys(n, t, path)
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		var out []string
		for i, e := range n.Content {
			out = append(out, unknownKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	return nil // type mismatches are left to Decode, which names them
}

func unknownStructKeys(n *yaml.Node, t reflect.Type, path string) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // merge key: its mapping belongs to this struct
			out = append(out, unknownKeys(v, t, path)...)
			continue
		}
		key := joinKey(path, k.Value)
		f, ok := fieldByYAMLName(t, k.Value)
		if !ok {
			out = append(out, fmt.Sprintf("line %d: unknown key %q", k.Line, key))
			continue
		}
		out = append(out, unknownKeys(v, f.Type, key)...)
	}
	return out
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

// resolveSecrets replaces bind_password_file by the file's content, so the
// rest of the program sees one field. The path is kept (it is not secret
// and tells an operator where the password came from).
func (l *LDAP) resolveSecrets() error {
	if l.BindPasswordFile == "" {
		return nil
	}
	if l.BindPassword != "" {
		return errors.New("ldap: bind_password and bind_password_file are both set (maybe via DCRGATE_LDAP_BIND_PASSWORD); set only one")
	}
	data, err := os.ReadFile(l.BindPasswordFile)
	if err != nil {
		return fmt.Errorf("ldap.bind_password_file: %w", err)
	}
	l.BindPassword = strings.TrimRight(string(data), "\r\n")
	if l.BindPassword == "" {
		return fmt.Errorf("ldap.bind_password_file: %s is empty", l.BindPasswordFile)
	}
	return nil
}

// resolveSecrets reads every issuer's introspection client_secret_file
// into client_secret, as LDAP.resolveSecrets does for the bind password.
func (t *InitialAccessTokens) resolveSecrets() error {
	var errs []error
	for i := range t.Issuers {
		in := &t.Issuers[i].Introspection
		key := fmt.Sprintf("initial_access_tokens.issuers[%d].introspection", i)
		secret, err := readSecret(key+".client_secret", in.ClientSecret, in.ClientSecretFile)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in.ClientSecret = secret
	}
	return errors.Join(errs...)
}

// readSecret returns value, or the content of file (trailing newlines
// dropped) when file is set; both set is an error, as is an empty file.
func readSecret(key, value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", fmt.Errorf("%s and %s_file are both set; set only one", key, key)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: %w", key, err)
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("%s_file: %s is empty", key, file)
	}
	return secret, nil
}
