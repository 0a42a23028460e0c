// Package ldapstore keeps clients in an LDAP directory, one entry per client
// in the schema dcrgate ships (package schema). It implements store.Store
// with a pool of bound connections that fails over between servers, and
// compare-and-swap updates on the dcrRevision attribute that work on every
// directory without server-side transactions. Where the root DSE lists the
// Assertion (RFC 4528) and Post-Read (RFC 4527) controls, the guard is an
// assertion: Create, Get, DeleteIfTokenHash and (with Post-Read and
// Modify-Increment) ReplaceIfTokenHash are one round trip, Update and
// Delete two (read, guarded write), counted in
// dcrgate_ldap_operations_total.
package ldapstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/credentials"
)

// Config is the directory connection. A thin mapping from config.LDAP is the
// caller's job; the YAML looks like this:
//
//	ldap:
//	  urls: [ldaps://ldap1:636, ldaps://ldap2:636]   # tried in order
//	  multi_provider: false                        # true: in sorted order, see MultiProvider
//	  bind_dn: cn=dcrgate,ou=services,dc=example,dc=org
//	  bind_password_file: /run/secrets/ldap
//	  base_dn: ou=clients,dc=example,dc=org
//	  pool_size: 8
//	  timeout: 5s
//	  secret_scheme: "{SSHA512}"
//	  ca_file: /etc/dcrgate/ldap-ca.pem      # for ldaps:// and start_tls
//	  directory: openldap                    # or 389ds, opends, ad
//
// The bind DN needs read, write and delete on entries under BaseDN,
// including read and write on userPassword.
type Config struct {
	// URLs are ldap://, ldaps:// or ldapi:// URLs, tried in order on every
	// dial: the first one that answers wins.
	URLs []string
	// MultiProvider says the URLs are providers of one directory that
	// all take writes and replicate to each other (OpenLDAP multi-provider,
	// 389-DS multi-supplier, AD multi-master). They are then tried in
	// sorted order, whatever order they are listed in, and connections
	// made to another provider while the first was down are closed once
	// its dial backoff ends: every gateway configured with the same
	// providers sends every request to the same one at a time, so that a
	// compare-and-swap is decided by one server and a gateway reads what
	// any gateway wrote (docs/scaling.md).
	MultiProvider bool
	BindDN        string
	BindPassword  string
	// BaseDN is the parent of the client entries; it must exist.
	BaseDN string
	// PoolSize caps the open connections (default 8).
	PoolSize int
	// Timeout bounds dialing, waiting for a free connection and each
	// operation (default 5s).
	Timeout time.Duration
	// SecretScheme is the password scheme the directory verifies on bind and
	// in which callers must hash new secrets (default "{SSHA512}").
	SecretScheme string
	// TLS configures ldaps:// and StartTLS connections (see TLSConfig); nil
	// uses the system roots. ServerName is set per URL when empty.
	TLS *tls.Config
	// StartTLS upgrades ldap:// connections before the bind (RFC 4513 §3);
	// a server that refuses fails the dial.
	StartTLS bool
	// Layout is the directory's entry layout: LayoutOpenLDAP (default),
	// Layout389DS and LayoutOpenDS (RDN dcrClientId, secrets in
	// userPassword, verified by bind), or LayoutAD (RDN cn, secrets in
	// dcrSecretHash, verified by comparing hashes).
	Layout string
	// StartUnreachable lets New succeed while the directory is unreachable
	// (not while it refuses the bind or lacks the base DN: that is
	// configuration): the store answers store.ErrUnavailable and keeps
	// trying in the background, so an orchestrator does not crash-loop a
	// gateway started before its directory.
	StartUnreachable bool
	// LastBindAttribute is the operational attribute in which the directory
	// records a client's last successful bind, as GeneralizedTime, for
	// reaping clients whose secret is no longer used; "" takes the
	// layout's default (OpenLDAP 2.5 lastbind overlay: authTimestamp; use
	// pwdLastSuccess with 2.6; 389-DS: lastLoginTime; OpenDJ/PingDS:
	// ds-pwp-last-login-time; AD: none).
	LastBindAttribute string
	// Registerer, when set, receives dcrgate_ldap_operations_total, the LDAP
	// requests sent by operation and result; dcrgate_ldap_dials_total and
	// dcrgate_ldap_dial_failures_total, the connection attempts; and
	// dcrgate_ldap_up, 0 while the directory is unreachable and requests
	// are refused at once.
	Registerer prometheus.Registerer
}

// Defaults applied by New.
const (
	DefaultPoolSize     = 8
	DefaultTimeout      = 5 * time.Second
	DefaultSecretScheme = "{SSHA512}"
)

// supportedSchemes are the schemes credentials.NewHasher makes: those
// Debian's slapd verifies with pw-sha2, argon2 and slapd-contrib's
// pw-pbkdf2, and clear text for directories that hash on write.
var supportedSchemes = map[string]bool{credentials.SchemeSSHA512: true, credentials.SchemeArgon2: true,
	credentials.SchemePBKDF2SHA512: true, credentials.SchemeServerHashing: true}

func (c Config) withDefaults() Config {
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.SecretScheme == "" {
		c.SecretScheme = DefaultSecretScheme
	}
	if c.Layout == "" {
		c.Layout = LayoutOpenLDAP
	}
	return c
}

// validate reports every problem at once, so one restart fixes them all.
func (c Config) validate() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, errors.New("no LDAP URLs"))
	}
	if c.BaseDN == "" {
		errs = append(errs, errors.New("no base DN"))
	}
	if c.PoolSize < 0 {
		errs = append(errs, fmt.Errorf("pool size %d is negative", c.PoolSize))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", c.Timeout))
	}
	if !supportedSchemes[c.SecretScheme] {
		errs = append(errs, fmt.Errorf("secret scheme %q is not supported", c.SecretScheme))
	}
	if _, ok := layouts[c.Layout]; !ok {
		errs = append(errs, fmt.Errorf("directory layout %q is not one of openldap, 389ds, opends, ad", c.Layout))
	} else if !layouts[c.Layout].bindVerifies && c.SecretScheme == credentials.SchemeServerHashing {
		// Nothing hashes dcrSecretHash on write: the secret would stay clear.
		errs = append(errs, fmt.Errorf("secret scheme %s needs a directory that hashes userPassword; layout %s keeps secrets in %s",
			c.SecretScheme, c.Layout, layouts[c.Layout].secrets))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ldapstore: invalid config: %w", err)
	}
	return nil
}
