// Package provision prepares an OpenLDAP directory for dcrgate, the work of
// `dcrgate directory init`. It reads what the server already has (cn=config,
// the installed schema, the entries) and computes a Plan: the LDAP adds and
// modifies still missing, in the order they must be made. The same Plan is
// rendered as LDIF for change control and applied, so what an administrator
// reviews is what runs; and since it is computed from the server, a
// prepared directory plans nothing and init can run again safely.
//
// It knows nothing of the command line: `cmd/dcrgate` maps the gateway's
// configuration and flags to a Target and an Access.
package provision

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Errors a caller can tell apart, to add advice in its own terms (flags).
var (
	// ErrNotOpenLDAP: the server does not publish cn=config, so it is not
	// an OpenLDAP configured online; other directories are prepared by
	// hand (docs/directories.md).
	ErrNotOpenLDAP = errors.New("the server publishes no configContext in its root DSE: it is not OpenLDAP configured through cn=config; prepare it by hand as docs/directories.md describes")
	// ErrConfigAccess: the identity on the config connection may not read
	// or change cn=config.
	ErrConfigAccess = errors.New("no access to cn=config")
	// ErrNoDatabase: no database's suffix holds the base DN.
	ErrNoDatabase = errors.New("no database holds the base DN")
	// ErrSchemaMismatch: a dcrgate schema is installed and differs from
	// this version's; init never changes an installed schema.
	ErrSchemaMismatch = errors.New("the installed dcrgate schema differs from this version's, and init does not change an installed schema")
	// ErrConflict: the database has part of what init would add, in a
	// form init cannot reconcile without overwriting someone's choice.
	ErrConflict = errors.New("the directory has a conflicting setting")
	// ErrNeedAdmin: entries must be added, which only the database's
	// rootdn can do on a fresh slapd, and its password was not given.
	ErrNeedAdmin = errors.New("entries must be added as the database's rootdn, and its password was not given")
)

// Target is what the directory is prepared for: the gateway's ldap
// settings and, optionally, the authorization server's account.
type Target struct {
	// BaseDN is the parent of the client entries (ldap.base_dn).
	BaseDN string
	// ServiceDN and ServicePassword are the gateway's own account
	// (ldap.bind_dn and its password). The password is stored hashed, and
	// only when init creates the account.
	ServiceDN, ServicePassword string
	// ReaderDN, when set, is the authorization server's account: it may
	// read the clients but none of their hashes. Init does not create it.
	ReaderDN string
	// SecretScheme is ldap.secret_scheme; slapd loads the module that
	// verifies it on bind.
	SecretScheme string
	// LastBind adds the lastbind overlay, which records each client's last
	// successful bind in authTimestamp, for reaper.idle_secret_clients.
	LastBind bool
}

// normalize checks the DNs and writes them as RFC 4514 strings, so that
// the rules init writes and those it finds compare as text.
func (t *Target) normalize() error {
	for _, f := range []struct {
		name string
		dn   *string
	}{{"base DN", &t.BaseDN}, {"service account DN", &t.ServiceDN}, {"reader DN", &t.ReaderDN}} {
		if *f.dn == "" && f.name == "reader DN" {
			continue
		}
		dn, err := ldap.ParseDN(*f.dn)
		if err != nil || len(dn.RDNs) == 0 {
			return fmt.Errorf("%s %q is not a DN: %v", f.name, *f.dn, err)
		}
		*f.dn = dn.String()
	}
	if t.ServicePassword == "" {
		return errors.New("the service account needs a password (ldap.bind_password or bind_password_file)")
	}
	return nil
}

// Via says which connection a change goes over.
type Via int

const (
	// ViaConfig is cn=config's manager: root over ldapi:/// with SASL
	// EXTERNAL, or cn=config's rootdn.
	ViaConfig Via = iota
	// ViaData is the database's rootdn, which on a fresh slapd is the only
	// identity that may add entries.
	ViaData
)

// Change is one LDAP operation of a plan: exactly one of Add and Modify.
type Change struct {
	// Summary says what the change adds, e.g. "index dcrClientId eq".
	Summary string
	Via     Via
	Add     *ldap.AddRequest
	Modify  *ldap.ModifyRequest
}

// DN is the entry the change adds or modifies.
func (c Change) DN() string {
	if c.Add != nil {
		return c.Add.DN
	}
	return c.Modify.DN
}

// Plan is what init still has to do, in order.
type Plan struct {
	// Database is the database that holds the base DN.
	Database Database
	// AdminDN is the identity entries are added as (ViaData).
	AdminDN string
	Changes []Change
	// Notes are what the administrator should know that is no change:
	// an account left as it was, a step init leaves to them.
	Notes []string
}

// Empty reports whether the directory is ready.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// needsData reports whether any change must be made as the rootdn.
func (p Plan) needsData() bool {
	for _, c := range p.Changes {
		if c.Via == ViaData {
			return true
		}
	}
	return false
}

// unindexed strips the {n} prefix of an X-ORDERED value (olcAccess,
// olcLimits, olcModuleLoad, olcOverlay) and folds its white space, which
// is how slapd stores a rule written over several lines.
func unindexed(value string) string {
	if strings.HasPrefix(value, "{") {
		if end := strings.IndexByte(value, '}'); end > 0 {
			value = value[end+1:]
		}
	}
	return strings.Join(strings.Fields(value), " ")
}
