package provision

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
)

// entries adds what is missing of the suffix entry, the service account
// with its parents, and the base DN with its parents, parents first. An
// existing service account keeps its password: init never overwrites a
// credential someone may be using.
func (p *planner) entries(exists func(dn string) (bool, error)) error {
	var wanted []string
	for _, dn := range []string{p.t.ServiceDN, p.t.BaseDN} {
		chain, err := p.chain(dn)
		if err != nil {
			return err
		}
		for _, d := range chain {
			if !slices.Contains(wanted, d) {
				wanted = append(wanted, d)
			}
		}
	}
	for _, dn := range wanted {
		found, err := exists(dn)
		if err != nil {
			return fmt.Errorf("look up %s: %w", dn, err)
		}
		if found {
			if dn == p.t.ServiceDN {
				p.note("the service account %s exists: its password is left as it is", dn)
			}
			continue
		}
		c, err := p.entry(dn)
		if err != nil {
			return err
		}
		p.add(c)
	}
	return nil
}

// chain lists the DNs from the database's suffix down to dn, inclusive.
func (p *planner) chain(dn string) ([]string, error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return nil, err
	}
	suffix, err := ldap.ParseDN(p.cfg.db.Suffix)
	if err != nil || !(suffix.EqualFold(parsed) || suffix.AncestorOfFold(parsed)) {
		return nil, fmt.Errorf("%s is not in the database of the base DN (suffix %s): init creates entries there only",
			dn, p.cfg.db.Suffix)
	}
	var chain []string
	for i := len(parsed.RDNs) - len(suffix.RDNs); i >= 0; i-- {
		chain = append(chain, (&ldap.DN{RDNs: parsed.RDNs[i:]}).String())
	}
	return chain, nil
}

// entry is the add of one missing entry, of the class its RDN calls for.
func (p *planner) entry(dn string) (Change, error) {
	parsed, _ := ldap.ParseDN(dn) // from chain, so it parses
	rdn := parsed.RDNs[0].Attributes
	if len(rdn) != 1 {
		return Change{}, fmt.Errorf("init does not create %s (a multi-valued RDN): add it by hand", dn)
	}
	kind, value := strings.ToLower(rdn[0].Type), rdn[0].Value
	add := ldap.NewAddRequest(dn, nil)
	c := Change{Summary: "entry " + dn, Via: ViaData, Add: add}
	switch {
	case dn == p.t.ServiceDN:
		return p.serviceAccount(c, kind, value)
	case kind == "ou":
		add.Attribute("objectClass", []string{"top", "organizationalUnit"})
	case kind == "dc" && p.isSuffix(parsed):
		// The suffix, as Debian's slapd package creates it.
		add.Attribute("objectClass", []string{"top", "dcObject", "organization"})
		add.Attribute("o", []string{value})
	case kind == "o":
		add.Attribute("objectClass", []string{"top", "organization"})
	default:
		return Change{}, fmt.Errorf("init creates only ou=, o= and the suffix's dc= entries, not %s: add it by hand", dn)
	}
	add.Attribute(kind, []string{value})
	return c, nil
}

// isSuffix reports whether dn is the database's suffix.
func (p *planner) isSuffix(dn *ldap.DN) bool {
	suffix, err := ldap.ParseDN(p.cfg.db.Suffix)
	return err == nil && suffix.EqualFold(dn)
}

// serviceAccount is the gateway's account: an entry that only binds, with
// the configured password as {SSHA512}, which pw-sha2 verifies whatever
// the clients' scheme. The clear password is neither stored nor shown.
func (p *planner) serviceAccount(c Change, kind, value string) (Change, error) {
	class, ok := map[string]string{"cn": "applicationProcess", "uid": "account"}[kind]
	if !ok {
		return Change{}, fmt.Errorf("init creates a service account named by cn= or uid=, not %s: add it by hand", c.Add.DN)
	}
	hasher, err := credentials.NewHasher(credentials.SchemeSSHA512)
	if err != nil {
		return Change{}, err
	}
	hash, err := hasher.Hash(p.t.ServicePassword)
	if err != nil {
		return Change{}, err
	}
	c.Summary = "service account " + c.Add.DN
	c.Add.Attribute("objectClass", []string{class, "simpleSecurityObject"})
	c.Add.Attribute(kind, []string{value})
	c.Add.Attribute("userPassword", []string{hash})
	return c, nil
}
