package provision

import (
	"strings"
	"testing"
)

// FuzzFold: every folded line unfolds to itself, and a line is folded
// only where a space lets it be.
func FuzzFold(f *testing.F) {
	f.Add(`olcAccess: {0}to dn.subtree="ou=clients,dc=example,dc=org" by dn.exact="cn=dcrgate,ou=services,dc=example,dc=org" write by * none`)
	f.Add(strings.Repeat("x", 200) + " y")
	f.Add("   leading and  double  spaces " + strings.Repeat("z ", 60))
	f.Fuzz(func(t *testing.T, l string) {
		if strings.ContainsAny(l, "\r\n") {
			t.Skip()
		}
		folded := fold(l)
		if got := strings.Join(unfold(folded), "\n"); got != l {
			t.Fatalf("unfold(fold(%q)) = %q", l, got)
		}
		for _, part := range strings.Split(folded, "\n")[1:] {
			if !strings.HasPrefix(part, "  ") {
				t.Fatalf("continuation %q does not fold at a space", part)
			}
		}
	})
}
