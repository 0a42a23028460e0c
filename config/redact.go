package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// Redacted replaces the bind password wherever LDAP is printed.
const Redacted = "[REDACTED]"

// ldapFields has LDAP's fields and yaml tags but none of its methods, so
// the printers below can format it without calling themselves.
type ldapFields LDAP

func (l LDAP) redacted() ldapFields {
	if l.BindPassword != "" {
		l.BindPassword = Redacted
	}
	return ldapFields(l)
}

// String keeps the bind password out of fmt output, including when a whole
// Config is printed with %v or %+v (fmt calls String on nested fields).
func (l LDAP) String() string { return fmt.Sprintf("%+v", l.redacted()) }

// GoString does the same for %#v.
func (l LDAP) GoString() string {
	return strings.Replace(fmt.Sprintf("%#v", l.redacted()), "config.ldapFields", "config.LDAP", 1)
}

// LogValue keeps the bind password out of slog output.
func (l LDAP) LogValue() slog.Value { return slog.AnyValue(l.redacted()) }

// MarshalJSON keeps the bind password out of JSON, which is what
// slog.JSONHandler uses when a whole Config is logged.
func (l LDAP) MarshalJSON() ([]byte, error) { return json.Marshal(l.redacted()) }

// MarshalYAML keeps the bind password out of a dumped effective
// configuration (e.g. `config check`).
func (l LDAP) MarshalYAML() (any, error) { return l.redacted(), nil }

// introspectionFields is Introspection without its methods, as ldapFields.
type introspectionFields Introspection

func (in Introspection) redacted() introspectionFields {
	if in.ClientSecret != "" {
		in.ClientSecret = Redacted
	}
	return introspectionFields(in)
}

// String keeps the introspection client secret out of fmt output.
func (in Introspection) String() string { return fmt.Sprintf("%+v", in.redacted()) }

// LogValue keeps it out of slog output.
func (in Introspection) LogValue() slog.Value { return slog.AnyValue(in.redacted()) }

// MarshalJSON keeps it out of JSON.
func (in Introspection) MarshalJSON() ([]byte, error) { return json.Marshal(in.redacted()) }

// MarshalYAML keeps it out of a dumped effective configuration.
func (in Introspection) MarshalYAML() (any, error) { return in.redacted(), nil }
