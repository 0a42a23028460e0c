package provision

import (
	"context"

	"github.com/go-ldap/ldap/v3"
)

// lookup tells whether entries exist, through every connection that may
// see them. The rootdn sees everything. Without it, the config
// connection's identity sees what the database lets everyone read, and the
// service account, once the access rules are in, sees the base DN they
// hide from everyone else: so a second run needs no rootdn password.
type lookup struct {
	conns []*ldap.Conn
	// service is the service account's connection, closed by close.
	service *ldap.Conn
	// exact is true when the rootdn looks.
	exact bool
}

func (s *Session) lookup(ctx context.Context, t Target) *lookup {
	if s.data != nil {
		return &lookup{conns: []*ldap.Conn{s.data}, exact: true}
	}
	l := &lookup{conns: []*ldap.Conn{s.config}}
	conn, err := dial(ctx, s.access)
	if err != nil {
		return l
	}
	if err := conn.Bind(t.ServiceDN, t.ServicePassword); err != nil {
		_ = conn.Close() // no account yet, or another password: it sees nothing
		return l
	}
	l.service = conn
	l.conns = append(l.conns, conn)
	return l
}

// exists reports whether any connection sees dn.
func (l *lookup) exists(dn string) (bool, error) {
	for _, c := range l.conns {
		entries, err := search(c, dn, ldap.ScopeBaseObject, "(objectClass=*)", "1.1")
		if err != nil {
			return false, err
		}
		if len(entries) > 0 {
			return true, nil
		}
	}
	return false, nil
}

func (l *lookup) close() {
	if l.service != nil {
		_ = l.service.Close()
	}
}
