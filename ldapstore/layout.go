package ldapstore

import (
	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/schema"
)

// Directory layouts (Config.Layout): how a client entry is named and where
// its secret hashes live. OpenLDAP, 389-DS and the OpenDS family share one
// layout; the names exist so a config says which directory it is for.
const (
	LayoutOpenLDAP = "openldap"
	Layout389DS    = "389ds"
	LayoutOpenDS   = "opends"
	// LayoutAD is Active Directory: RDN cn=<client_id> (the classSchema's
	// rDNAttID) and the hashes in the confidential dcrSecretHash, since AD
	// verifies passwords on bind for security principals only.
	LayoutAD = "ad"
)

// layout is one directory's entry shape. The store's attrs always use
// schema.AttrUserPassword as the key of the secret hashes; attr maps it to
// the attribute the directory keeps them in, at the edge where requests
// are built and entries read.
type layout struct {
	// rdn names the entry: dcrClientId, or cn on AD, where cn is also
	// written as an attribute (a directory keeps the RDN value in the entry).
	rdn string
	// secrets holds the secret hashes.
	secrets string
	// bindVerifies says a bind as the entry checks its secret; without it
	// VerifySecret compares hashes.
	bindVerifies bool
	// lastBind is the operational attribute where the directory records an
	// entry's last successful bind (GeneralizedTime), or "" when it keeps
	// none dcrgate can read (Config.LastBindAttribute overrides it).
	lastBind string
}

// keyLastBind is the store's name for the directory's last-bind record;
// layout.attr maps it to the directory's attribute.
const keyLastBind = "lastBind"

var layouts = map[string]layout{
	// OpenLDAP 2.5's lastbind overlay writes authTimestamp (2.6 writes
	// pwdLastSuccess); 389-DS's account policy plugin lastLoginTime;
	// OpenDJ/PingDS the password policy's last-login-time-attribute, by
	// convention ds-pwp-last-login-time. Active Directory's
	// lastLogonTimestamp is not a GeneralizedTime, and AD does not verify
	// these clients by bind anyway.
	LayoutOpenLDAP: {rdn: schema.AttrClientID, secrets: schema.AttrUserPassword, bindVerifies: true, lastBind: "authTimestamp"},
	Layout389DS:    {rdn: schema.AttrClientID, secrets: schema.AttrUserPassword, bindVerifies: true, lastBind: "lastLoginTime"},
	LayoutOpenDS:   {rdn: schema.AttrClientID, secrets: schema.AttrUserPassword, bindVerifies: true, lastBind: "ds-pwp-last-login-time"},
	LayoutAD:       {rdn: "cn", secrets: schema.AttrSecretHash},
}

// defaultLayout is the layout of an empty Config.Layout.
var defaultLayout = layouts[LayoutOpenLDAP]

// dn is the entry's DN; id must already be valid.
func (l layout) dn(id, baseDN string) string {
	return l.rdn + "=" + ldap.EscapeDN(id) + "," + baseDN
}

// attr is the directory's name for one of the store's attributes; "" for
// one this directory does not have.
func (l layout) attr(name string) string {
	switch name {
	case schema.AttrUserPassword:
		return l.secrets
	case keyLastBind:
		return l.lastBind
	}
	return name
}

// attrs maps a list of the store's attribute names to the directory's,
// leaving out those it does not have.
func (l layout) attrs(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if a := l.attr(n); a != "" {
			out = append(out, a)
		}
	}
	return out
}
