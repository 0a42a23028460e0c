package provision

import "testing"

// TestSortedAttrs: the order of an attrs= list does not make a rule
// another one.
func TestSortedAttrs(t *testing.T) {
	a := `to dn.subtree="ou=clients,dc=example,dc=org" attrs=userPassword,dcrSecretHash by * none`
	b := `to dn.subtree="ou=clients,dc=example,dc=org" attrs=dcrSecretHash,userPassword by * none`
	if sortedAttrs(a) != sortedAttrs(b) {
		t.Errorf("%q and %q differ", sortedAttrs(a), sortedAttrs(b))
	}
}
