package provision

import (
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/schema"
)

// Rules are the olcLimits and olcAccess values of the database, without
// their {n}, in order.
type Rules struct {
	Limits []string
	Access []string
}

// NewRules writes the one set of OpenLDAP rules dcrgate needs, which init
// installs and docs/directories.md and docker/openldap/init.sh show
// (cmd/dcrgate TestACLsAreOneSet compares them with this function's output):
//
//   - a limit lifting slapd's 500-entry search cap for the service account,
//     which lists and reaps every client;
//   - {0} the clients' credential hashes (userPassword and every attribute
//     the schema marks Confidential): the service account writes them,
//     everyone else may only bind with them (anonymous auth);
//   - {1} the rest of the client entries, base DN included (adding and
//     deleting a child needs write on its parent): the service account
//     writes, the reader (the authorization server's account, if any)
//     reads, nobody else sees them;
//   - {2} the passwords of the service account and its siblings (the
//     reader, when it lives beside it): each binds and changes its own.
//
// The DNs must be normalized (Target.normalize).
func NewRules(baseDN, serviceDN, readerDN string) Rules {
	service := "by dn.exact=" + quote(serviceDN) + " write"
	clients := []string{"to dn.subtree=" + quote(baseDN), service}
	if readerDN != "" {
		clients = append(clients, "by dn.exact="+quote(readerDN)+" read")
	}
	return Rules{
		Limits: []string{"dn.exact=" + quote(serviceDN) + " size=unlimited"},
		Access: []string{
			fmt.Sprintf("to dn.subtree=%s attrs=%s %s by anonymous auth by * none", quote(baseDN),
				strings.Join(hashAttributes(), ","), service),
			strings.Join(append(clients, "by * none"), " "),
			fmt.Sprintf("to dn.children=%s attrs=%s by self write by anonymous auth by * none",
				quote(parentDN(serviceDN)), schema.AttrUserPassword),
		},
	}
}

// quote puts a DN in the double quotes of an ACL pattern; an RFC 4514
// string escapes any quote inside.
func quote(dn string) string { return `"` + dn + `"` }

// hashAttributes are the attributes that hold credential hashes.
func hashAttributes() []string {
	names := []string{schema.AttrUserPassword}
	for _, a := range schema.Definition().AttributeTypes {
		if a.Confidential {
			names = append(names, a.Name)
		}
	}
	return names
}

// parentDN is dn without its first RDN; dn must parse.
func parentDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 {
		return ""
	}
	return (&ldap.DN{RDNs: parsed.RDNs[1:]}).String()
}
