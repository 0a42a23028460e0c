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

// applyEnv sets every field whose variable lookupEnv finds, and reports
// every bad value at once, each naming its variable.
func applyEnv(c *Config, lookupEnv func(string) (string, bool)) error {
	var errs []error
	eachEnvField(reflect.ValueOf(c).Elem(), EnvPrefix, func(name string, f reflect.Value) {
		s, ok := lookupEnv(name)
		if !ok {
			return
		}
		if err := setFromString(f, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

// eachEnvField calls visit with the variable name of every field that can
// be overridden, walking nested structs by their yaml names.
func eachEnvField(v reflect.Value, prefix string, visit func(string, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		name, ok := yamlName(t.Field(i))
		if !ok {
			continue
		}
		f, key := v.Field(i), prefix+strings.ToUpper(name)
		switch {
		case f.Kind() == reflect.Struct:
			eachEnvField(f, key+"_", visit)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			// YAML-only, see EnvPrefix.
		default:
			visit(key, f)
		}
	}
}

// setFromString parses s as f's type. Values are echoed only for types
// that can fail to parse, never for strings, so a secret is not printed.
func setFromString(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (examples: 30s, 5m, 24h)", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", s)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int, f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number in range", s)
		}
		f.SetInt(n)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		f.Set(reflect.ValueOf(splitList(s)).Convert(f.Type()))
	default:
		return fmt.Errorf("a %s field cannot be set from the environment", f.Type())
	}
	return nil
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
