package slapdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// replication is one server's place in a multi-provider set: its
// olcServerID, the URLs of the providers it pulls from, and the password
// it binds to them with (the rootdn's, which every provider shares).
type replication struct {
	id       int
	peers    []string
	password string
	// seed, for every provider but the first, is an LDIF copy of the
	// first's entries, loaded instead of the base entries: providers must
	// start from the same entries (same entryUUID and entryCSN), or each
	// would hold its own suffix.
	seed string
}

// syncprovLDIF makes the database a syncrepl provider. The checkpoint
// writes the contextCSN every 100 operations or 10 minutes, as OpenLDAP's
// admin guide has it.
const syncprovLDIF = `
dn: olcOverlay=syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: syncprov
olcSpCheckpoint: 100 10
`

// globalLDIF is the server's olcServerID, which tags the entryCSN of every
// change it makes so providers can order changes from each other.
func (r *replication) globalLDIF() string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("olcServerID: %d\n", r.id)
}

// databaseLDIF is the mdb database's part: a syncrepl consumer of every
// peer (refreshAndPersist, retried every second for ever), multi-provider
// mode, and the indexes syncprov searches on.
func (r *replication) databaseLDIF() string {
	if r == nil {
		return ""
	}
	out := "olcDbIndex: entryCSN eq\nolcDbIndex: entryUUID eq\n"
	for i, peer := range r.peers {
		out += fmt.Sprintf("olcSyncrepl: {%d}rid=%03d provider=%s bindmethod=simple binddn=%q credentials=%s"+
			" searchbase=%q scope=sub type=refreshAndPersist retry=\"1 +\" timeout=2 network-timeout=2\n",
			i, r.id*10+i, peer, AdminDN, r.password, Suffix)
	}
	return out + "olcMultiProvider: TRUE\n"
}

// LaunchReplicated configures n slapd servers in dir as the providers of
// one multi-provider directory (OpenLDAP's syncrepl with olcMultiProvider,
// plain, not delta, each pulling from every other) and starts them. They
// share the rootdn's password (opts.BindPassword, or a random one) and
// start with the same entries: the first provider's base entries and
// opts.Preload, copied to the others. A write to any provider reaches the
// others within the replication delay; a stopped provider catches up when
// restarted. Fresh and TLS are not supported. ctx bounds the start-up.
func LaunchReplicated(ctx context.Context, dir string, n int, opts Options) ([]*Server, error) {
	if opts.Fresh || opts.TLS {
		return nil, errors.New("slapdtest: replicated servers support neither Fresh nor TLS")
	}
	if opts.BindPassword == "" {
		opts.BindPassword = randomPassword()
	}
	for attempt := 1; ; attempt++ {
		servers, err := launchSet(ctx, filepath.Join(dir, fmt.Sprintf("try%d", attempt)), n, opts)
		if err == nil || !errors.Is(err, errExited) || attempt == portAttempts {
			return servers, err
		}
		// A server's port was taken between freePort and bind; every
		// server's configuration names the others' ports, so all start
		// again, on new ports.
	}
}

// launchSet picks every server's port first (each configuration names the
// others'), configures the first with the base entries, copies them to the
// others, starts them all and waits until replication flows every way.
func launchSet(ctx context.Context, dir string, n int, opts Options) ([]*Server, error) {
	slapd, slapadd, err := binaries()
	if err != nil {
		return nil, err
	}
	servers := make([]*Server, n)
	for i := range servers {
		path := filepath.Join(dir, fmt.Sprintf("p%d", i+1))
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("slapdtest: %w", err)
		}
		if servers[i], err = newServer(path, opts); err != nil {
			return nil, err
		}
		if err := servers[i].pickPorts(false); err != nil {
			return nil, err
		}
	}
	stopAll := func() {
		for _, s := range servers {
			s.Stop()
			s.removeSocketDir()
		}
	}
	if err := configureSet(ctx, servers, slapadd, opts); err != nil {
		stopAll()
		return nil, err
	}
	for _, s := range servers {
		if err := s.start(ctx, slapd); err != nil {
			stopAll()
			return nil, err
		}
	}
	if err := flowing(ctx, servers); err != nil {
		stopAll()
		return nil, err
	}
	return servers, nil
}

// flowing waits until replication runs from every provider to every
// other: a consumer sets up its session a moment after start, and until
// then writes stay where they were made. Each provider writes the suffix
// entry's description, which the others must then show.
func flowing(ctx context.Context, servers []*Server) error {
	for _, from := range servers {
		conn, err := from.dialBound()
		if err != nil {
			return fmt.Errorf("slapdtest: %w", err)
		}
		mark := "written on " + from.URL
		req := ldap.NewModifyRequest(Suffix, nil)
		req.Replace("description", []string{mark})
		err = conn.Modify(req)
		conn.Close()
		if err != nil {
			return fmt.Errorf("slapdtest: %w", err)
		}
		for _, to := range servers {
			if _, err := to.WaitForValue(ctx, Suffix, "description", mark, readyTimeout); err != nil {
				return err
			}
		}
	}
	return nil
}

// configureSet writes every server's configuration; the first gets the
// entries, the others a copy of them.
func configureSet(ctx context.Context, servers []*Server, slapadd string, opts Options) error {
	seed := filepath.Join(filepath.Dir(servers[0].Dir), "seed.ldif")
	for i, s := range servers {
		s.repl = &replication{id: i + 1, password: opts.BindPassword}
		for j, peer := range servers {
			if j != i {
				s.repl.peers = append(s.repl.peers, peer.URL)
			}
		}
		if i > 0 {
			s.repl.seed = seed
		}
		if err := s.configure(ctx, slapadd, opts); err != nil {
			return err
		}
		if i == 0 {
			if err := slapcat(ctx, s, seed); err != nil {
				return err
			}
		}
	}
	return nil
}

// slapcat dumps s's entries, operational attributes included, to path.
func slapcat(ctx context.Context, s *Server, path string) error {
	bin, err := findBinary("slapcat")
	if err != nil {
		return err
	}
	return run(ctx, bin, "-F", filepath.Join(s.Dir, "slapd.d"), "-b", Suffix, "-l", path)
}

// WaitFor polls until dn exists on s, at most within: how a test waits for
// a write made on another provider to arrive.
func (s *Server) WaitFor(ctx context.Context, dn string, within time.Duration) error {
	_, err := s.waitEntry(ctx, dn, within, func(*ldap.Entry) bool { return true })
	return err
}

// WaitForValue polls until dn exists on s with attr holding value, at
// most within, and returns how long that took.
func (s *Server) WaitForValue(ctx context.Context, dn, attr, value string, within time.Duration) (time.Duration, error) {
	return s.waitEntry(ctx, dn, within, func(e *ldap.Entry) bool {
		for _, v := range e.GetAttributeValues(attr) {
			if strings.EqualFold(v, value) {
				return true
			}
		}
		return false
	})
}

// waitEntry polls s every millisecond over one connection until dn
// exists and ok accepts it, and returns how long it waited.
func (s *Server) waitEntry(ctx context.Context, dn string, within time.Duration, ok func(*ldap.Entry) bool) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var conn *ldap.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		var err error
		if conn == nil {
			conn, err = s.dialBound()
		}
		if err == nil {
			var e *ldap.Entry
			if e, err = readEntry(conn, dn); err == nil && e != nil && ok(e) {
				return time.Since(start), nil
			}
		}
		if err != nil && conn != nil {
			conn.Close()
			conn = nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("slapdtest: %s not as expected on %s within %s (last error: %v)", dn, s.URL, within, err)
		case <-time.After(time.Millisecond):
		}
	}
}

// readEntry reads dn with every attribute, nil if it does not exist.
func readEntry(conn *ldap.Conn, dn string) (*ldap.Entry, error) {
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"*", "+"}, nil))
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return nil, nil
	case err != nil:
		return nil, err
	case len(res.Entries) == 0:
		return nil, nil
	}
	return res.Entries[0], nil
}
