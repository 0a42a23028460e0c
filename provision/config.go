package provision

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Database is the olcDatabase entry whose suffix holds the base DN, as
// read from cn=config.
type Database struct {
	DN     string
	Suffix string
	RootDN string
	// Indexes, Limits and Access are its olcDbIndex, olcLimits and
	// olcAccess values as stored.
	Indexes, Limits, Access []string
	// Overlays are the names of its overlays, without {n}.
	Overlays []string
}

// moduleList is one olcModuleList entry.
type moduleList struct {
	dn string
	// loaded are the module names, without {n}, path or suffix.
	loaded []string
}

// slapdConfig is what init reads from cn=config.
type slapdConfig struct {
	db      Database
	modules []moduleList
	// schemas counts the entries under cn=schema,cn=config: slapd names
	// the next one added cn={schemas}<name>.
	schemas int
	// configDN is the root of the configuration, cn=config.
	configDN string
}

// readConfig reads cn=config over conn and finds the database of baseDN.
func readConfig(conn *ldap.Conn, baseDN string) (slapdConfig, error) {
	var c slapdConfig
	var err error
	if c.configDN, err = configContext(conn); err != nil {
		return c, err
	}
	if c.db, err = findDatabase(conn, c.configDN, baseDN); err != nil {
		return c, err
	}
	if c.db.Overlays, err = overlays(conn, c.db.DN); err != nil {
		return c, err
	}
	if c.modules, err = moduleLists(conn, c.configDN); err != nil {
		return c, err
	}
	schemas, err := search(conn, "cn=schema,"+c.configDN, ldap.ScopeSingleLevel, "(objectClass=olcSchemaConfig)", "1.1")
	c.schemas = len(schemas)
	return c, err
}

// configContext is where the root DSE says the server's configuration is
// (OpenLDAP's configContext); other directories publish none.
func configContext(conn *ldap.Conn) (string, error) {
	root, err := search(conn, "", ldap.ScopeBaseObject, "(objectClass=*)", "configContext")
	if err != nil {
		return "", fmt.Errorf("read the root DSE: %w", err)
	}
	if len(root) == 0 || root[0].GetAttributeValue("configContext") == "" {
		return "", ErrNotOpenLDAP
	}
	return root[0].GetAttributeValue("configContext"), nil
}

// findDatabase picks the database with the longest suffix that holds
// baseDN (a subordinate database wins over its parent).
func findDatabase(conn *ldap.Conn, configDN, baseDN string) (Database, error) {
	entries, err := search(conn, configDN, ldap.ScopeSingleLevel, "(objectClass=olcDatabaseConfig)",
		"olcSuffix", "olcRootDN", "olcDbIndex", "olcLimits", "olcAccess")
	if err == nil && len(entries) == 0 {
		err = errors.New("no database is visible") // every slapd has at least the frontend and config ones
	}
	if err != nil {
		return Database{}, fmt.Errorf("%w: read %s: %w", ErrConfigAccess, configDN, err)
	}
	base, _ := ldap.ParseDN(baseDN)
	var best Database
	var depth int
	var suffixes []string
	for _, e := range entries {
		for _, suffix := range e.GetAttributeValues("olcSuffix") {
			suffixes = append(suffixes, suffix)
			dn, err := ldap.ParseDN(suffix)
			if err != nil || !(dn.EqualFold(base) || dn.AncestorOfFold(base)) || len(dn.RDNs) <= depth {
				continue
			}
			depth = len(dn.RDNs)
			best = Database{DN: e.DN, Suffix: suffix, RootDN: e.GetAttributeValue("olcRootDN"),
				Indexes: e.GetAttributeValues("olcDbIndex"), Limits: e.GetAttributeValues("olcLimits"),
				Access: e.GetAttributeValues("olcAccess")}
		}
	}
	if best.DN == "" {
		return best, fmt.Errorf("%w %s (the databases' suffixes: %s)", ErrNoDatabase, baseDN, strings.Join(suffixes, "; "))
	}
	return best, nil
}

// overlays lists the names of dbDN's overlays.
func overlays(conn *ldap.Conn, dbDN string) ([]string, error) {
	entries, err := search(conn, dbDN, ldap.ScopeSingleLevel, "(objectClass=olcOverlayConfig)", "olcOverlay")
	var names []string
	for _, e := range entries {
		names = append(names, unindexed(e.GetAttributeValue("olcOverlay")))
	}
	return names, err
}

// moduleLists reads every olcModuleList entry.
func moduleLists(conn *ldap.Conn, configDN string) ([]moduleList, error) {
	entries, err := search(conn, configDN, ldap.ScopeSingleLevel, "(objectClass=olcModuleList)", "olcModuleLoad")
	var lists []moduleList
	for _, e := range entries {
		l := moduleList{dn: e.DN}
		for _, v := range e.GetAttributeValues("olcModuleLoad") {
			l.loaded = append(l.loaded, moduleName(v))
		}
		lists = append(lists, l)
	}
	return lists, err
}

// moduleName is the bare name of an olcModuleLoad value: "{1}pw-sha2",
// "pw-sha2.la" and "/usr/lib/ldap/pw-sha2.so" are all "pw-sha2".
func moduleName(value string) string {
	name := path.Base(unindexed(value))
	for _, ext := range []string{".la", ".so"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// search returns the entries found; noSuchObject is no entry.
func search(conn *ldap.Conn, base string, scope int, filter string, attrs ...string) ([]*ldap.Entry, error) {
	res, err := conn.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return res.Entries, nil
}
