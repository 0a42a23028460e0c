package provision

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/schema/live"
)

// Access says how init reaches the server. Every connection uses URL.
type Access struct {
	// URL is usually ldapi:/// on the server itself.
	URL string
	// TLS is used by ldaps:// URLs.
	TLS     *tls.Config
	Timeout time.Duration
	// BindDN and BindPassword bind the config connection; an empty BindDN
	// binds with SASL EXTERNAL, as root over ldapi on a Debian slapd.
	BindDN, BindPassword string
	// AdminDN and AdminPassword bind the data connection, which adds the
	// entries. An empty AdminDN is the database's olcRootDN; an empty
	// AdminPassword leaves the data connection closed, and then a plan that
	// adds entries can be shown but not applied.
	AdminDN, AdminPassword string
}

// Session is an open config connection, and the data connection once a
// plan has found the database's rootdn.
type Session struct {
	access Access
	config *ldap.Conn
	data   *ldap.Conn
}

// Open dials URL and binds the config connection.
func Open(ctx context.Context, a Access) (*Session, error) {
	conn, err := dial(ctx, a)
	if err != nil {
		return nil, err
	}
	if a.BindDN == "" {
		err = conn.ExternalBind()
	} else {
		err = conn.Bind(a.BindDN, a.BindPassword)
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("%w: bind as %s over %s: %w", ErrConfigAccess, orExternal(a.BindDN), a.URL, err)
	}
	return &Session{access: a, config: conn}, nil
}

// Close closes the connections.
func (s *Session) Close() {
	for _, c := range []*ldap.Conn{s.config, s.data} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// Plan reads the server and computes what t still needs.
func (s *Session) Plan(ctx context.Context, t Target) (Plan, error) {
	if err := t.normalize(); err != nil {
		return Plan{}, err
	}
	cfg, err := readConfig(s.config, t.BaseDN)
	if err != nil {
		return Plan{}, err
	}
	adminDN := s.access.AdminDN
	if adminDN == "" {
		adminDN = cfg.db.RootDN
	}
	if err := s.openData(ctx, adminDN); err != nil {
		return Plan{}, err
	}
	installed, err := s.installedSchema()
	if err != nil {
		return Plan{}, err
	}
	look := s.lookup(ctx, t)
	defer look.close()
	plan, err := newPlan(t, cfg, adminDN, installed, look.exists)
	if err == nil && !look.exact && plan.needsData() {
		plan.Notes = append(plan.Notes, "entries were looked up as "+s.identity()+
			", which may not see them all: with the rootdn's password the plan is exact")
	}
	return plan, err
}

// openData binds the data connection as dn, when a password was given.
func (s *Session) openData(ctx context.Context, dn string) error {
	if s.access.AdminPassword == "" || s.data != nil {
		return nil
	}
	conn, err := dial(ctx, s.access)
	if err != nil {
		return err
	}
	if err := conn.Bind(dn, s.access.AdminPassword); err != nil {
		_ = conn.Close()
		return fmt.Errorf("bind as the database's rootdn %s: %w", dn, err)
	}
	s.data = conn
	return nil
}

// installedSchema checks the server's subschema against this version's.
func (s *Session) installedSchema() (schema.Report, error) {
	srv, err := live.Read(s.config)
	if err != nil {
		return schema.Report{}, err
	}
	return schema.Check(schema.Definition(), srv.Installed, srv.Options()), nil
}

// identity is who the config connection is bound as, for messages.
func (s *Session) identity() string {
	if res, err := s.config.WhoAmI(nil); err == nil && res.AuthzID != "" {
		return strings.TrimPrefix(res.AuthzID, "dn:") // RFC 4513 §5.2.1.8 authzId
	}
	return orExternal(s.access.BindDN)
}

// Apply makes the plan's changes in order, calling applied after each. It
// refuses up front a plan it could not finish for want of the rootdn.
func (s *Session) Apply(p Plan, applied func(Change)) error {
	if p.needsData() && s.data == nil {
		return fmt.Errorf("%w (%s)", ErrNeedAdmin, p.AdminDN)
	}
	for _, c := range p.Changes {
		if err := s.apply(c); err != nil {
			return fmt.Errorf("add %s (%s): %w", c.Summary, p.as(c.Via), err)
		}
		applied(c)
	}
	return nil
}

// apply sends one change over its connection.
func (s *Session) apply(c Change) error {
	conn := s.config
	if c.Via == ViaData {
		conn = s.data
	}
	var err error
	if c.Add != nil {
		err = conn.Add(c.Add)
	} else {
		err = conn.Modify(c.Modify)
	}
	if c.Via == ViaConfig && ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		return fmt.Errorf("%w: %s may not change it: %w", ErrConfigAccess, s.identity(), err)
	}
	return err
}

// Verify is what serve does first: the service account, on its own
// connection, reads the base DN.
func Verify(conn *ldap.Conn, baseDN string) error {
	res, err := conn.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	if err == nil && len(res.Entries) != 1 {
		err = errors.New("the entry is not visible")
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", baseDN, err)
	}
	return nil
}

// dial connects to a.URL.
func dial(ctx context.Context, a Access) (*ldap.Conn, error) {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Timeout: timeout})}
	if a.TLS != nil {
		opts = append(opts, ldap.DialWithTLSConfig(a.TLS))
	}
	conn, err := ldap.DialURL(a.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", a.URL, err)
	}
	conn.SetTimeout(timeout)
	return conn, nil
}

func orExternal(dn string) string {
	if dn == "" {
		return "SASL EXTERNAL"
	}
	return dn
}
