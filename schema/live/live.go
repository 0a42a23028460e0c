// Package live reads the schema a running directory server has installed,
// for `dcrgate schema check`. It is the I/O half of the check: the
// comparison itself is schema.Check, which knows nothing of LDAP.
package live

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"slices"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/schema"
)

// adCapability is LDAP_CAP_ACTIVE_DIRECTORY_OID, which every AD domain
// controller lists in its root DSE's supportedCapabilities.
const adCapability = "1.2.840.113556.1.4.800"

// Server is what Read found.
type Server struct {
	// SubschemaDN is the entry the definitions were read from.
	SubschemaDN string
	Installed   schema.Installed
	// ActiveDirectory is true when the root DSE says so; the check then
	// compares the way AD publishes its schema.
	ActiveDirectory bool
	// Unreadable lists definitions the parser could not read; they are
	// skipped (see schema.ParseInstalled).
	Unreadable []error
}

// Options returns the comparison options that fit this server.
func (s Server) Options() schema.CheckOptions {
	return schema.CheckOptions{ActiveDirectory: s.ActiveDirectory}
}

// Dial connects to the first of l.URLs that answers, with l's TLS settings,
// and binds as l.BindDN (anonymously when it is empty). The caller closes
// the connection.
func Dial(ctx context.Context, l config.LDAP) (*ldap.Conn, error) {
	if len(l.URLs) == 0 {
		return nil, errors.New("ldap.urls is empty")
	}
	tlsConfig, err := ldapstore.TLSConfig(l.CAFile, l.ClientCertFile, l.ClientKeyFile, l.InsecureSkipVerify)
	if err != nil {
		return nil, err
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = ldapstore.DefaultTimeout
	}
	var errs []error
	for _, url := range l.URLs {
		conn, err := dialOne(ctx, url, l, tlsConfig, timeout)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", url, err))
	}
	return nil, errors.Join(errs...)
}

func dialOne(ctx context.Context, url string, l config.LDAP, tlsConfig *tls.Config, timeout time.Duration) (*ldap.Conn, error) {
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Timeout: timeout})}
	if tlsConfig != nil {
		opts = append(opts, ldap.DialWithTLSConfig(tlsConfig))
	}
	conn, err := ldap.DialURL(url, opts...)
	if err != nil {
		return nil, err
	}
	conn.SetTimeout(timeout)
	if err := setUp(ctx, conn, l, tlsConfig, hostname(url)); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// setUp runs StartTLS (RFC 4513 §3) when asked, then the bind.
func setUp(ctx context.Context, conn *ldap.Conn, l config.LDAP, tlsConfig *tls.Config, host string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.StartTLS {
		if tlsConfig == nil {
			tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if tlsConfig.ServerName == "" {
			tlsConfig = tlsConfig.Clone()
			tlsConfig.ServerName = host
		}
		if err := conn.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("StartTLS: %w", err)
		}
	}
	if l.BindDN == "" {
		return nil
	}
	if err := conn.Bind(l.BindDN, l.BindPassword); err != nil {
		return fmt.Errorf("bind as %s: %w", l.BindDN, err)
	}
	return nil
}

// Read finds the subschema entry through the root DSE's subschemaSubentry
// (RFC 4512 §5.1) and parses its attributeTypes and objectClasses, which
// are operational and so must be asked for by name (RFC 4512 §4.2).
func Read(conn *ldap.Conn) (Server, error) {
	root, err := baseEntry(conn, "", "(objectClass=*)", "subschemaSubentry", "supportedCapabilities")
	if err != nil {
		return Server{}, fmt.Errorf("read the root DSE: %w", err)
	}
	s := Server{
		SubschemaDN:     root.GetAttributeValue("subschemaSubentry"),
		ActiveDirectory: slices.Contains(root.GetAttributeValues("supportedCapabilities"), adCapability),
	}
	if s.SubschemaDN == "" {
		return Server{}, errors.New("the root DSE names no subschemaSubentry (is the bind DN allowed to read it?)")
	}
	sub, err := baseEntry(conn, s.SubschemaDN, "(objectClass=subschema)", "attributeTypes", "objectClasses")
	if err != nil {
		return Server{}, fmt.Errorf("read the subschema entry %s: %w", s.SubschemaDN, err)
	}
	s.Installed, s.Unreadable = schema.ParseInstalled(sub.GetAttributeValues("attributeTypes"), sub.GetAttributeValues("objectClasses"))
	return s, nil
}

// hostname is the host of an ldap:// URL, the name StartTLS verifies.
func hostname(rawURL string) string {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func baseEntry(conn *ldap.Conn, dn, filter string, attrs ...string) (*ldap.Entry, error) {
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, filter, attrs, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("%d entries, want 1", len(res.Entries))
	}
	return res.Entries[0], nil
}
