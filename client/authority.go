package client

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules of this file apply to the authority of every URI member that has
// one. The authorization server compares registered URIs literally and user
// agents resolve them, so a host or port that is not one plain name or number
// either matches nothing or names a different place than it seems to.

// authorityProblem checks the host and port of u, if u has an authority with
// something in it; "com.example.app:/cb" and "file:///x" have none.
func authorityProblem(u *url.URL) string {
	if u.Host == "" {
		return ""
	}
	return firstProblem(u, hostProblem, hostNameProblem, portProblem)
}

// hostProblem: a URI with an authority must name a host; "https://:80/" has
// only a port.
func hostProblem(u *url.URL) string {
	if u.Hostname() == "" {
		return "must have a host"
	}
	return ""
}

// hostNameProblem: RFC 3986 §3.2.2 — "host = IP-literal / IPv4address /
// reg-name". A registered name must also be a host name a resolver accepts,
// since that is what a browser will look up.
func hostNameProblem(u *url.URL) string {
	host := u.Hostname()
	switch {
	case strings.HasPrefix(u.Host, "["):
		return ipLiteralProblem(host)
	case strings.Contains(host, "*"):
		return "host must not contain a wildcard (*): each URI is registered exactly"
	case isHostName(host) || isIPv4(host): // in this order: a failed netip parse allocates
		return ""
	}
	return "host must be a DNS name or an IP address"
}

// ipLiteralProblem refuses IPv6 zone identifiers: RFC 6874 lets a URI carry
// one (fe80::1%25eth0), but a zone names a network interface of one machine
// (RFC 4007 §6), so it means nothing to the authorization server or to any
// other host, and the same URI would lead elsewhere on each of them.
func ipLiteralProblem(host string) string {
	addr, err := netip.ParseAddr(host)
	switch {
	case err == nil && addr.Zone() != "", strings.Contains(host, "%"):
		return "host must not have an IPv6 zone identifier (RFC 6874)"
	case err != nil || !addr.Is6():
		return "host must be a DNS name or an IP address"
	}
	return ""
}

// isIPv4 reports whether host is an IPv4 address in dotted-decimal form
// (RFC 3986 §3.2.2 "IPv4address"); netip refuses leading zeros, which some
// resolvers read as octal.
func isIPv4(host string) bool {
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is4()
}

// isHostName checks host against RFC 1123 §2.1: labels of letters, digits
// and hyphens, separated by dots, not starting or ending with a hyphen; and
// "a valid host name can never have the dotted-decimal form #.#.#.#, since at
// least the highest-level component label will be alphabetic". The last rule
// matters: browsers read "127.1", "0x7f.1" or "2130706433" as 127.0.0.1 (WHATWG
// URL, IPv4 parser), so the host a browser visits would not be the name that
// isLoopbackHost and the redirect host policies saw.
//
// Empty labels are refused, so "a..example" and the trailing dot of
// "a.example." are too: the trailing-dot form names the same host, but the
// authorization server compares the URI literally.
//
// Internationalized names: url.Parse accepts Unicode hosts and so did this
// package, so labels may carry non-ASCII letters, combining marks and digits
// (U-labels, RFC 5890 §2.3.2.1) as well as A-labels ("xn--..."). Their
// punctuation and symbols are refused: under UTS #46 mapping some of them
// become ".", "/" or "#" ("a\uFF0Fb" is "a/b"), which would split the host a
// browser visits from the one registered. No letter, mark or digit maps to a
// URI delimiter under NFKC or UTS #46. Full IDNA validation (RFC 5891) is not
// done.
func isHostName(host string) bool {
	var last string
	for label := range strings.SplitSeq(host, ".") {
		if !isHostLabel(label) {
			return false
		}
		last = label
	}
	top, _ := utf8.DecodeRuneInString(last)
	return unicode.IsLetter(top)
}

func isHostLabel(label string) bool {
	return label != "" && label[0] != '-' && label[len(label)-1] != '-' &&
		strings.IndexFunc(label, notHostLabelRune) < 0
}

// notHostLabelRune reports runes that are not letters, digits, hyphens, or
// (beyond ASCII) combining marks. Invalid UTF-8 decodes as U+FFFD, a symbol.
func notHostLabelRune(r rune) bool {
	return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) &&
		!(r >= utf8.RuneSelf && unicode.IsMark(r))
}

// portProblem: RFC 3986 §3.2.3 — "URI producers and normalizers should omit
// the port component and its ':' delimiter if port is empty". A registration
// is such a producer, and since URIs are compared literally, "a.example:" and
// "a.example" would be two spellings of one endpoint; so would ":080" and
// ":80", hence no leading zeros. A port is a TCP port, 1 to 65535: port 0 is
// reserved in the IANA registry and no listener can be reached on it. Loopback
// redirect URIs may use any port (RFC 8252 §7.3), any port a listener can
// have, so this range covers them. url.Parse already refuses non-digits.
func portProblem(u *url.URL) string {
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "must not have an empty port; omit the ':' (RFC 3986 §3.2.3)"
		}
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || port[0] < '1' || port[0] > '9' || n > 65535 {
		return "port must be a number from 1 to 65535 without leading zeros"
	}
	return ""
}

// firstProblem returns the first problem one of checks finds in u, or "".
func firstProblem(u *url.URL, checks ...func(*url.URL) string) string {
	for _, check := range checks {
		if problem := check(u); problem != "" {
			return problem
		}
	}
	return ""
}
