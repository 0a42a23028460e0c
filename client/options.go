package client

import (
	"errors"
	"fmt"
	"strings"
)

// Extension value types, as written in the configuration.
const (
	ExtensionString  = "string"
	ExtensionStrings = "strings"
	ExtensionBoolean = "boolean"
	ExtensionNumber  = "number"
)

// Limits applied when Options leaves them zero, and the bounds that are not
// configurable. They keep a registration small enough for one directory
// entry and keep hostile bodies from costing more than they are worth.
const (
	DefaultMaxRedirectURIs = 20
	DefaultMaxValueLength  = 2048
	// maxArrayLength bounds every array member other than redirect_uris.
	maxArrayLength = 100
	// maxLocalized bounds the number of language-tagged members.
	maxLocalized = 100
	// maxSoftwareStatementLength bounds software_statement, a JWT that often
	// carries a certificate chain and so cannot live under MaxValueLength.
	maxSoftwareStatementLength = 64 << 10
)

// ErrInvalidOptions reports a bad extended metadata configuration.
var ErrInvalidOptions = errors.New("client: invalid options")

// Options configures decoding and validation; the caller fills it from the
// configuration.
type Options struct {
	// Extensions are the configured extended metadata properties
	// (PingFederate's "extended properties"): members kept besides RFC 7591's.
	Extensions []Extension
	// MaxRedirectURIs caps redirect_uris; 0 means DefaultMaxRedirectURIs.
	MaxRedirectURIs int
	// MaxValueLength caps any single string value, in bytes; 0 means
	// DefaultMaxValueLength.
	MaxValueLength int
}

// Extension is one configured extended metadata property.
type Extension struct {
	Name string
	// Type is ExtensionString, ExtensionStrings, ExtensionBoolean or
	// ExtensionNumber.
	Type string
	// Required makes a registration without the member fail.
	Required bool
}

// extensionKinds maps the configured type names to the JSON kinds they hold.
var extensionKinds = map[string]kind{
	ExtensionString:  kindString,
	ExtensionStrings: kindStrings,
	ExtensionBoolean: kindBool,
	ExtensionNumber:  kindNumber,
}

// Validate reports every problem of the extension configuration at once.
// An extension may not shadow a standard member (its value would be ambiguous
// in the stored JSON) nor contain '#' (RFC 7591 §2.2 reserves it for language
// tags).
func (o Options) Validate() error {
	var errs []error
	if o.MaxRedirectURIs < 0 {
		errs = append(errs, fmt.Errorf("%w: max redirect URIs must not be negative", ErrInvalidOptions))
	}
	if o.MaxValueLength < 0 {
		errs = append(errs, fmt.Errorf("%w: max value length must not be negative", ErrInvalidOptions))
	}
	seen := make(map[string]bool, len(o.Extensions))
	for _, ext := range o.Extensions {
		if problem := ext.problem(seen); problem != "" {
			errs = append(errs, fmt.Errorf("%w: extension %q %s", ErrInvalidOptions, ext.Name, problem))
		}
		seen[ext.Name] = true
	}
	return errors.Join(errs...)
}

// problem describes what is wrong with ext, or returns "" when it is fine.
func (ext Extension) problem(seen map[string]bool) string {
	switch {
	case ext.Name == "":
		return "has an empty name"
	case strings.ContainsRune(ext.Name, '#'):
		return "must not contain '#', which marks language tags (RFC 7591 §2.2)"
	case strings.IndexFunc(ext.Name, isForbiddenNameRune) >= 0:
		return "must not contain whitespace or control characters"
	case isStandardMember(ext.Name):
		return "clashes with a standard client metadata member"
	case seen[ext.Name]:
		return "is configured twice"
	}
	if _, ok := extensionKinds[ext.Type]; !ok {
		return fmt.Sprintf("has unknown type %q (want string, strings, boolean or number)", ext.Type)
	}
	return ""
}

// withDefaults returns o with zero limits replaced by the defaults.
func (o Options) withDefaults() Options {
	if o.MaxRedirectURIs <= 0 {
		o.MaxRedirectURIs = DefaultMaxRedirectURIs
	}
	if o.MaxValueLength <= 0 {
		o.MaxValueLength = DefaultMaxValueLength
	}
	return o
}

// extension returns the configured extension called name.
func (o Options) extension(name string) (Extension, bool) {
	for _, ext := range o.Extensions {
		if ext.Name == name {
			return ext, true
		}
	}
	return Extension{}, false
}

// maxItems is the largest number of values the array member name may hold.
func (o Options) maxItems(name string) int {
	if name == "redirect_uris" {
		return o.MaxRedirectURIs
	}
	return maxArrayLength
}
