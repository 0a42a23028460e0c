package provision

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// WriteLDIF renders the plan as RFC 2849 change records, in order, each
// after a comment saying what it adds and as whom: the records
// ldapmodify applies to the same effect, for an administrator who reviews
// changes before they run. The service account's password appears only
// as its hash.
func (p Plan) WriteLDIF(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# dcrgate directory init: %s (suffix %s)\n", p.Database.DN, p.Database.Suffix)
	b.WriteString("# Apply in this order: changes to cn=config as its manager (ldapmodify -Y EXTERNAL -H ldapi:///),\n")
	fmt.Fprintf(&b, "# entries as the database's rootdn (ldapmodify -x -D %q -W).\n", p.AdminDN)
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "# note: %s\n", n)
	}
	if p.Empty() {
		b.WriteString("# nothing to do: the directory is ready\n")
	}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "\n# add %s (%s)\n", c.Summary, p.as(c.Via))
		writeRecord(&b, c)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// as names the identity a change is made as.
func (p Plan) as(v Via) string {
	if v == ViaData {
		return "as " + p.AdminDN
	}
	return "cn=config"
}

// writeRecord writes one change record.
func writeRecord(b *strings.Builder, c Change) {
	line(b, "dn", c.DN())
	if c.Add != nil {
		b.WriteString("changetype: add\n")
		for _, a := range c.Add.Attributes {
			for _, v := range a.Vals {
				line(b, a.Type, v)
			}
		}
		return
	}
	b.WriteString("changetype: modify\n")
	for _, ch := range c.Modify.Changes {
		fmt.Fprintf(b, "%s: %s\n", operations[ch.Operation], ch.Modification.Type)
		for _, v := range ch.Modification.Vals {
			line(b, ch.Modification.Type, v)
		}
		b.WriteString("-\n")
	}
}

// operations names modify operations as LDIF does.
var operations = map[uint]string{ldap.AddAttribute: "add", ldap.DeleteAttribute: "delete", ldap.ReplaceAttribute: "replace"}

// line writes "attr: value", or "attr:: base64" for a value that is not an
// RFC 2849 SAFE-STRING.
func line(b *strings.Builder, attr, value string) {
	if safe(value) {
		b.WriteString(fold(attr+": "+value) + "\n")
		return
	}
	fmt.Fprintf(b, "%s:: %s\n", attr, base64.StdEncoding.EncodeToString([]byte(value)))
}

// foldWidth is where lines are folded, as RFC 2849 recommends.
const foldWidth = 76

// fold breaks a long line before spaces (RFC 2849 folding: the reader
// drops the newline and the one space after it, and the value's own space
// follows), so schema definitions and access rules read as text.
func fold(l string) string {
	var b strings.Builder
	for len(l) > foldWidth {
		cut := strings.LastIndexByte(l[:foldWidth], ' ')
		if cut <= 0 {
			next := strings.IndexByte(l[foldWidth:], ' ')
			if next < 0 {
				break
			}
			cut = foldWidth + next
		}
		b.WriteString(l[:cut] + "\n ")
		l = l[cut:]
	}
	return b.String() + l
}

// safe reports whether value is an RFC 2849 SAFE-STRING that no reader
// trims: ASCII without NUL, CR or LF, not starting with a space, ':' or
// '<', and not ending with a space.
func safe(value string) bool {
	if strings.HasPrefix(value, " ") || strings.HasPrefix(value, ":") || strings.HasPrefix(value, "<") ||
		strings.HasSuffix(value, " ") {
		return false
	}
	return !strings.ContainsFunc(value, func(r rune) bool { return r == 0 || r == '\n' || r == '\r' || r > 0x7f })
}

// parseEntry reads one LDIF content record (RFC 2849) — comments, folded
// lines, "attr: value" — as an add request: the committed schema file.
func parseEntry(text string) (*ldap.AddRequest, error) {
	var add *ldap.AddRequest
	for _, l := range unfold(text) {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		attr, value, ok := strings.Cut(l, ": ")
		if !ok {
			return nil, fmt.Errorf("not an LDIF line: %.60q", l)
		}
		if add == nil {
			if attr != "dn" {
				return nil, errors.New("the record does not start with dn:")
			}
			add = ldap.NewAddRequest(value, nil)
			continue
		}
		appendValue(add, attr, value)
	}
	if add == nil {
		return nil, errors.New("no record")
	}
	return add, nil
}

// appendValue adds value to attr's values, keeping the order attributes
// first appear in.
func appendValue(add *ldap.AddRequest, attr, value string) {
	for i := range add.Attributes {
		if add.Attributes[i].Type == attr {
			add.Attributes[i].Vals = append(add.Attributes[i].Vals, value)
			return
		}
	}
	add.Attribute(attr, []string{value})
}

// unfold joins RFC 2849 continuation lines (a line starting with one
// space continues the one before, without that space).
func unfold(text string) []string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, " "); ok && len(lines) > 0 {
			lines[len(lines)-1] += rest
			continue
		}
		lines = append(lines, l)
	}
	return lines
}
