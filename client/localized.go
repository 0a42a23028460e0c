package client

import (
	"strings"
)

// localizable are the members RFC 7591 §2.2 lets a client send in several
// languages as "member#tag". Language tags on other members are ignored like
// any unknown member.
var localizable = map[string]bool{
	"client_name": true,
	"client_uri":  true,
	"logo_uri":    true,
	"tos_uri":     true,
	"policy_uri":  true,
}

// isLocalizedName reports whether name is "member#tag" for a localizable
// member; the tag itself is checked later so that a bad one is reported.
func isLocalizedName(name string) bool {
	base, _, found := strings.Cut(name, "#")
	return found && localizable[base]
}

func errTooManyLocalized() error {
	return invalidMetadata("at most %d language-tagged members are allowed", maxLocalized)
}

// checkLocalized checks one language-tagged member: its tag and its value.
func checkLocalized(name, value string, maxLength int) error {
	base, tag, _ := strings.Cut(name, "#")
	if !localizable[base] {
		return invalidMetadata("%s is not a member that takes a language tag (RFC 7591 §2.2)", quoteName(name))
	}
	if !isLanguageTag(tag) {
		return invalidMetadata("%s must carry a BCP 47 language tag (RFC 7591 §2.2)", quoteName(name))
	}
	if value == "" {
		return invalidMetadata("%s must not be empty", name)
	}
	return checkString(name, value, maxLength)
}

// isLanguageTag checks the shape of a BCP 47 tag (RFC 5646 §2.1) loosely:
// subtags of 1 to 8 ASCII letters or digits joined by hyphens, the first
// made of letters. It does not consult the IANA registry; the point is to
// keep member names well-formed, not to judge languages.
func isLanguageTag(tag string) bool {
	for i, sub := range strings.Split(tag, "-") {
		if len(sub) < 1 || len(sub) > 8 || !isAlnum(sub) || (i == 0 && !isAlpha(sub)) {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool { return strings.IndexFunc(s, notAlnum) < 0 }
func isAlpha(s string) bool { return strings.IndexFunc(s, notAlpha) < 0 }

func notAlpha(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }
func notAlnum(r rune) bool { return notAlpha(r) && !(r >= '0' && r <= '9') }
