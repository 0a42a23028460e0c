package client

import (
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Normalize fills the defaults of RFC 7591 §2 and OpenID Connect
// Registration 1.0 §2 and validates the metadata. Errors are *oauth.Error,
// invalid_redirect_uri or invalid_client_metadata, naming the member.
// Normalize is idempotent: normalizing its own output changes nothing, so a
// stored client re-validates cleanly. Extensions not in opts are dropped,
// like unknown members (RFC 7591 §2).
//
// Duplicate values in array members and in scope are removed rather than
// refused: they are harmless to the client, but a directory refuses
// duplicate attribute values.
func (m *Metadata) Normalize(opts Options) error {
	opts = opts.withDefaults()
	if err := m.checkValues(opts); err != nil {
		return err
	}
	for _, step := range normalizeSteps {
		if err := step(m); err != nil {
			return err
		}
	}
	m.dropEmpty()
	return nil
}

// normalizeSteps run in order: later rules rely on the defaults earlier ones
// fill in (redirect URI rules need the application and grant types).
var normalizeSteps = []func(*Metadata) error{
	(*Metadata).removeDuplicates,
	(*Metadata).normalizeApplicationType,
	(*Metadata).normalizeGrantAndResponseTypes,
	(*Metadata).normalizeAuthMethod,
	(*Metadata).checkKeys,
	(*Metadata).checkTLSClientAuth,
	(*Metadata).checkRedirectURIs,
	(*Metadata).checkURIs,
	(*Metadata).normalizeScope,
	(*Metadata).checkSubjectType,
	(*Metadata).checkDefaultMaxAge,
}

// checkValues applies the value rules Decode applies, so that metadata built
// in code (admin tools, tests) meets them too.
func (m *Metadata) checkValues(opts Options) error {
	for _, f := range metadataFields {
		if f.value(m).IsZero() {
			continue
		}
		if err := checkFieldValue(f, m, opts); err != nil {
			return err
		}
	}
	if len(m.Localized) > maxLocalized {
		return errTooManyLocalized()
	}
	for _, name := range slices.Sorted(maps.Keys(m.Localized)) {
		if err := checkLocalized(name, m.Localized[name], opts.MaxValueLength); err != nil {
			return err
		}
	}
	return m.checkExtensions(opts)
}

// checkExtensions keeps the configured extensions, checked and compacted,
// and drops the rest.
func (m *Metadata) checkExtensions(opts Options) error {
	for _, name := range slices.Sorted(maps.Keys(m.Extensions)) {
		ext, ok := opts.extension(name)
		if !ok {
			delete(m.Extensions, name)
			continue
		}
		value, err := parseExtension(ext, m.Extensions[name], opts)
		if err != nil {
			return err
		}
		m.Extensions[name] = value
	}
	return nil
}

// removeDuplicates removes repeated values from every array member, keeping
// the first occurrence; an empty array stays empty (not absent), because an
// explicit empty response_types means something (RFC 7591 §2.1).
func (m *Metadata) removeDuplicates() error {
	for _, f := range metadataFields {
		v := f.value(m)
		if values, ok := v.Interface().([]string); ok && values != nil && hasRepeats(values) {
			v.Set(reflect.ValueOf(uniqueBy(values, identity)))
		}
	}
	return nil
}

// hasRepeats reports whether a value occurs twice. Every request
// normalizes a dozen short lists that almost never repeat, so they are
// checked pairwise, without the set and copy uniqueBy makes.
func hasRepeats(values []string) bool {
	if len(values) > 16 {
		return true // let uniqueBy decide, in linear time
	}
	for i, v := range values {
		if slices.Contains(values[:i], v) {
			return true
		}
	}
	return false
}

// uniqueBy returns values without the ones whose key repeats an earlier one.
func uniqueBy(values []string, key func(string) string) []string {
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if k := key(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

func identity(s string) string { return s }

// dropEmpty makes empty arrays and maps absent, the form UnmarshalJSON
// returns, so normalized metadata round-trips exactly.
func (m *Metadata) dropEmpty() {
	for _, f := range metadataFields {
		if v := f.value(m); v.Kind() == reflect.Slice && v.Len() == 0 {
			v.SetZero()
		}
	}
	if len(m.Localized) == 0 {
		m.Localized = nil
	}
	if len(m.Extensions) == 0 {
		m.Extensions = nil
	}
}

// normalizeApplicationType defaults application_type to "web" (OpenID
// Connect Registration §2: "The default, if omitted, is web"); the MCP
// clients this gateway serves usually omit it.
func (m *Metadata) normalizeApplicationType() error {
	switch m.ApplicationType {
	case "":
		m.ApplicationType = "web"
	case "web", "native":
	default:
		return invalidMetadata("application_type must be web or native")
	}
	return nil
}

// normalizeScope checks scope as RFC 6749 §3.3 defines it — scope tokens of
// NQCHAR (%x21 / %x23-5B / %x5D-7E) separated by single spaces — and removes
// repeated tokens.
func (m *Metadata) normalizeScope() error {
	if m.Scope == "" {
		return nil
	}
	tokens := strings.Split(m.Scope, " ")
	for _, tok := range tokens {
		if tok == "" || strings.IndexFunc(tok, notNQChar) >= 0 {
			return invalidMetadata("scope must be scope tokens separated by single spaces (RFC 6749 §3.3)")
		}
	}
	m.Scope = strings.Join(uniqueBy(tokens, identity), " ")
	return nil
}

func notNQChar(r rune) bool {
	return r < 0x21 || r == '"' || r == '\\' || r > 0x7e
}

// checkSubjectType accepts the two subject types OpenID Connect Core §8
// defines; empty leaves the choice to the authorization server.
func (m *Metadata) checkSubjectType() error {
	switch m.SubjectType {
	case "", "public", "pairwise":
		return nil
	}
	return invalidMetadata("subject_type must be public or pairwise")
}

// checkDefaultMaxAge: default_max_age is a number of seconds (OpenID Connect
// Registration §2), so it cannot be negative.
func (m *Metadata) checkDefaultMaxAge() error {
	if m.DefaultMaxAge != nil && *m.DefaultMaxAge < 0 {
		return invalidMetadata("default_max_age must not be negative")
	}
	return nil
}
