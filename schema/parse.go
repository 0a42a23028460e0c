package schema

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every parse error, so callers can tell a server's
// unreadable description from a failed connection.
var ErrSyntax = errors.New("schema: bad RFC 4512 description")

// InstalledAttributeType is an attribute type as a server publishes it in its
// subschema entry (RFC 4512 §4.1.2). Rule and syntax values are as the
// server wrote them: a name or an OID.
type InstalledAttributeType struct {
	OID      string
	Names    []string
	Desc     string
	Sup      string
	Equality string
	Ordering string
	Substr   string
	// Syntax is the syntax OID without the optional {length} bound.
	Syntax      string
	SingleValue bool
}

// InstalledObjectClass is an object class as a server publishes it
// (RFC 4512 §4.1.1). Must and May hold names or OIDs as the server wrote them.
type InstalledObjectClass struct {
	OID   string
	Names []string
	Desc  string
	Sup   []string
	// Kind is STRUCTURAL, AUXILIARY or ABSTRACT; STRUCTURAL when absent.
	Kind string
	Must []string
	May  []string
}

// ParseAttributeType parses one attributeTypes value (RFC 4512 §4.1.2). It is
// lenient where real servers are: keywords in any order and case, quoted
// OIDs (Active Directory), a {length} after SYNTAX, vendor X- extensions.
func ParseAttributeType(s string) (InstalledAttributeType, error) {
	d, err := parseDescription(s, attributeKeywords)
	if err != nil {
		return InstalledAttributeType{}, err
	}
	syntax, _, _ := strings.Cut(d.one("SYNTAX"), "{")
	return InstalledAttributeType{
		OID: d.oid, Names: d.terms["NAME"], Desc: d.one("DESC"), Sup: d.one("SUP"),
		Equality: d.one("EQUALITY"), Ordering: d.one("ORDERING"), Substr: d.one("SUBSTR"),
		Syntax: syntax, SingleValue: d.has("SINGLE-VALUE"),
	}, nil
}

// ParseObjectClass parses one objectClasses value (RFC 4512 §4.1.1).
func ParseObjectClass(s string) (InstalledObjectClass, error) {
	d, err := parseDescription(s, classKeywords)
	if err != nil {
		return InstalledObjectClass{}, err
	}
	kind := "STRUCTURAL" // RFC 4512 §4.1.1: the default kind
	for _, k := range []string{"ABSTRACT", "AUXILIARY", "STRUCTURAL"} {
		if d.has(k) {
			kind = k
		}
	}
	return InstalledObjectClass{
		OID: d.oid, Names: d.terms["NAME"], Desc: d.one("DESC"), Sup: d.terms["SUP"],
		Kind: kind, Must: d.terms["MUST"], May: d.terms["MAY"],
	}, nil
}

// argKind says what follows a keyword.
type argKind int

const (
	argNone argKind = iota // a flag such as SINGLE-VALUE
	argOne                 // one oid, qdstring or word
	argList                // one value or a parenthesised list
)

var attributeKeywords = map[string]argKind{
	"NAME": argList, "DESC": argOne, "OBSOLETE": argNone, "SUP": argOne, "EQUALITY": argOne,
	"ORDERING": argOne, "SUBSTR": argOne, "SYNTAX": argOne, "SINGLE-VALUE": argNone,
	"COLLECTIVE": argNone, "NO-USER-MODIFICATION": argNone, "USAGE": argOne,
}

var classKeywords = map[string]argKind{
	"NAME": argList, "DESC": argOne, "OBSOLETE": argNone, "SUP": argList, "ABSTRACT": argNone,
	"STRUCTURAL": argNone, "AUXILIARY": argNone, "MUST": argList, "MAY": argList,
}

// description is a parsed RFC 4512 definition: the OID and each keyword's
// values (none for flags).
type description struct {
	oid   string
	terms map[string][]string
}

func (d description) has(keyword string) bool { _, ok := d.terms[keyword]; return ok }

func (d description) one(keyword string) string {
	if v := d.terms[keyword]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseDescription reads "( oid keyword value ... )". Extensions (X-...)
// are read as lists and dropped; any other unknown keyword is an error,
// since its arguments cannot be told from the next keyword.
func parseDescription(s string, keywords map[string]argKind) (description, error) {
	toks, err := tokenize(s)
	if err != nil {
		return description{}, err
	}
	p := &tokenParser{toks: toks}
	if !p.take("(") {
		return description{}, fmt.Errorf("%w: does not start with (", ErrSyntax)
	}
	d := description{terms: map[string][]string{}}
	if d.oid, err = p.value(); err != nil {
		return description{}, fmt.Errorf("%w: no OID", ErrSyntax)
	}
	for !p.take(")") {
		if err := p.term(keywords, d.terms); err != nil {
			return description{}, err
		}
	}
	if !p.done() {
		return description{}, fmt.Errorf("%w: text after the closing )", ErrSyntax)
	}
	return d, nil
}

// term reads one keyword and its arguments into terms.
func (p *tokenParser) term(keywords map[string]argKind, terms map[string][]string) error {
	tok, ok := p.next()
	if !ok {
		return fmt.Errorf("%w: no closing )", ErrSyntax)
	}
	if tok.quoted || tok.text == "(" || tok.text == "$" {
		return fmt.Errorf("%w: expected a keyword, got %q", ErrSyntax, tok.text)
	}
	keyword := strings.ToUpper(tok.text)
	kind, known := keywords[keyword]
	if !known && !strings.HasPrefix(keyword, "X-") {
		return fmt.Errorf("%w: unknown keyword %q", ErrSyntax, tok.text)
	}
	if _, dup := terms[keyword]; dup {
		return fmt.Errorf("%w: %s given twice", ErrSyntax, keyword)
	}
	var values []string
	var err error
	switch {
	case !known:
		values, err = p.list()
	case kind == argNone:
		values = []string{}
	case kind == argOne:
		var v string
		v, err = p.value()
		values = []string{v}
	default:
		values, err = p.list()
	}
	if err != nil {
		return fmt.Errorf("%w (after %s)", err, keyword)
	}
	terms[keyword] = values
	return nil
}

type token struct {
	text   string
	quoted bool
}

type tokenParser struct {
	toks []token
	pos  int
}

func (p *tokenParser) done() bool { return p.pos == len(p.toks) }

func (p *tokenParser) next() (token, bool) {
	if p.done() {
		return token{}, false
	}
	p.pos++
	return p.toks[p.pos-1], true
}

// take consumes the unquoted punctuation sym if it comes next.
func (p *tokenParser) take(sym string) bool {
	if !p.done() && !p.toks[p.pos].quoted && p.toks[p.pos].text == sym {
		p.pos++
		return true
	}
	return false
}

// value reads one quoted string or bare word.
func (p *tokenParser) value() (string, error) {
	tok, ok := p.next()
	if !ok || (!tok.quoted && strings.ContainsAny(tok.text, "()$")) {
		return "", fmt.Errorf("%w: expected a value", ErrSyntax)
	}
	return tok.text, nil
}

// list reads one value or "( value [$] value ... )": RFC 4512 separates
// oids with $ and qdescrs with spaces; both are accepted for either.
func (p *tokenParser) list() ([]string, error) {
	if !p.take("(") {
		v, err := p.value()
		return []string{v}, err
	}
	values := []string{}
	for !p.take(")") {
		if len(values) > 0 {
			p.take("$")
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	return values, nil
}

// tokenize splits s into "(", ")", "$", quoted strings (RFC 4512 qdstring,
// with \27 and \5C escapes decoded) and bare words.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '$':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quoted string", ErrSyntax)
			}
			text, err := unescapeQDString(s[i+1 : i+1+end])
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{text: text, quoted: true})
			i += end + 2
		default:
			end := strings.IndexAny(s[i:], " \t\n\r()$'")
			if end < 0 {
				end = len(s) - i
			}
			toks = append(toks, token{text: s[i : i+end]})
			i += end
		}
	}
	return toks, nil
}

// unescapeQDString decodes RFC 4512 §4.1 escapes: a backslash followed by
// two hex digits (\27 for the quote, \5C for the backslash).
func unescapeQDString(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", fmt.Errorf("%w: truncated escape in quoted string", ErrSyntax)
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%w: bad escape \\%s in quoted string", ErrSyntax, s[i+1:i+3])
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}
