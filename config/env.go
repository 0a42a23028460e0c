package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment override. The rest of the name is the
// YAML path upper-cased and joined by "_": ldap.bind_password is
// DCRGATE_LDAP_BIND_PASSWORD, registration.required_scopes is
// DCRGATE_REGISTRATION_REQUIRED_SCOPES (comma-separated).
//
// Every string, bool, integer, duration and string-list field has an
// override. Lists of structures (initial_access_tokens.issuers,
// registration.extended_metadata) are YAML-only: a flat variable cannot
// express them readably.
const EnvPrefix = "DCRGATE_"

var durationType = reflect.TypeFor[time.Duration]()

// applyEnv sets every field whose variable lookupEnv finds. It returns a
// problem for each bad value, naming its variable, and the variable of
// every key it set, so that later problems point there, not at the file.
func applyEnv(c *Config, lookupEnv func(string) (string, bool)) ([]Problem, map[string]string) {
	var problems []Problem
	set := map[string]string{}
	eachEnvField(reflect.ValueOf(c).Elem(), EnvPrefix, "", func(name, key string, f reflect.Value) {
		s, ok := lookupEnv(name)
		if !ok {
			return
		}
		set[key] = name
		if msg := setFromString(f, s); msg != "" {
			problems = append(problems, Problem{Key: key, Message: msg, Env: name})
		}
	})
	return problems, set
}

// eachEnvField calls visit with the variable name and the key path of
// every field that can be overridden, walking nested structs by their yaml
// names.
func eachEnvField(v reflect.Value, prefix, path string, visit func(name, key string, f reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name, ok := yamlName(t.Field(i))
		if !ok {
			continue
		}
		f, env, key := v.Field(i), prefix+strings.ToUpper(name), joinKey(path, name)
		switch {
		case f.Kind() == reflect.Struct:
			eachEnvField(f, env+"_", key, visit)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			// YAML-only, see EnvPrefix.
		default:
			visit(env, key, f)
		}
	}
}

// setFromString parses s as f's type and sets f, or leaves it and says
// what is wrong with s in the words used for the file ("" = set). Strings
// cannot be wrong, so a secret is never echoed.
func setFromString(f reflect.Value, s string) string {
	v, err := parseAs(f.Type(), s)
	switch {
	case errors.Is(err, errNoOverride):
		return fmt.Sprintf("a %s field cannot be set from the environment", f.Type())
	case err != nil:
		return scalarMismatch(f.Type(), s)
	}
	f.Set(v.Convert(f.Type()))
	return ""
}

var errNoOverride = errors.New("no environment override for this type")

// parseAs reads s as a value of type t.
func parseAs(t reflect.Type, s string) (reflect.Value, error) {
	switch {
	case t == durationType:
		d, err := time.ParseDuration(s)
		return reflect.ValueOf(d), err
	case t.Kind() == reflect.String:
		return reflect.ValueOf(s), nil
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		return reflect.ValueOf(b), err
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		return reflect.ValueOf(n), err
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return reflect.ValueOf(splitList(s)), nil
	}
	return reflect.Value{}, errNoOverride
}

// splitList reads a comma-separated list; blanks are dropped, so an empty
// variable clears the list.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
