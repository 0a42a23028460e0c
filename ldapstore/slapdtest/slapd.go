// Package slapdtest runs a real, throwaway OpenLDAP slapd loaded with the
// shipped dcrgate schema: for tests (Start) and for `dcrgate dev --ldap`
// (Launch). Each server lives in its own directory on its own loopback port,
// so parallel test binaries never meet.
package slapdtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/schema"
)

// ErrNotInstalled means slapd or slapadd is not on this machine.
var ErrNotInstalled = errors.New("slapdtest: slapd/slapadd not installed")

// errExited means slapd exited by itself before it was ready.
var errExited = errors.New("slapdtest: slapd exited during start-up")

// How long a server may take to come up and to go down before it is killed.
const (
	readyTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	portAttempts = 5
)

// Options select what a server offers beyond plain LDAP.
type Options struct {
	// TLS adds an ldaps:// listener and StartTLS with a certificate from a
	// throwaway CA (Server.CA).
	TLS bool
	// HashCleartext loads the ppolicy overlay with olcPPolicyHashCleartext,
	// so clear userPassword values are hashed on write as 389-DS does.
	HashCleartext bool
	// ADClass lets dcrClient entries carry cn, as Active Directory's class
	// does (its rDNAttID is cn), so that ldapstore's ad layout can be tested
	// here; the shipped OpenLDAP schema does not allow it.
	ADClass bool
	// BindPassword is the rootdn's password; empty draws a random one. Give
	// two servers the same one to stand in for replicas of one directory.
	BindPassword string
	// LastBind loads the lastbind overlay, which records each successful
	// bind in the entry's pwdLastSuccess, as OpenLDAP deployments that reap
	// idle clients do.
	LastBind bool
	// ACL, when set, replaces the database's access rules (see defaultACL)
	// with these olcAccess values, in order and without their {n} index:
	// for tests of the rules administrators are told to install. The rootdn
	// (Server.BindDN) still bypasses them.
	ACL []string
	// Preload, when set, writes LDIF entries (below ClientsDN) that are
	// loaded offline with slapadd before the server starts: 100,000
	// clients in seconds, where adding them over LDAP takes minutes.
	Preload func(w io.Writer) error
	// Fresh configures the server as Debian's `apt-get install slapd`
	// leaves it, for tests of `dcrgate directory init`: no dcrgate schema,
	// back_mdb the only module, Debian's schemas, indexes, access rules and
	// size limit, only the suffix entry (BaseDN does not exist), and
	// cn=config managed over LDAPIURL with SASL EXTERNAL by the current
	// user (PeercredDN), where Debian has root. The rootdn's password is a
	// {SSHA} hash, as Debian writes it. TLS is honoured; the other options
	// are ignored.
	Fresh bool
}

// Server is one running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT (StartTLS available with Options.TLS).
	URL string
	// LDAPSURL is ldaps://127.0.0.1:PORT with Options.TLS, else "".
	LDAPSURL string
	// LDAPIURL is ldapi:// with the %2F-escaped path of the server's Unix
	// socket, where SASL EXTERNAL binds as PeercredDN.
	LDAPIURL string
	// CA signed the server certificate and ClientCert/ClientKey, a client
	// certificate slapd accepts; set with Options.TLS.
	CA                    *CA
	ClientCert, ClientKey string
	// BindDN and BindPassword are the database's rootdn and its password.
	BindDN       string
	BindPassword string
	// BaseDN is the (initially empty) parent of client entries; it does
	// not exist on a Fresh server.
	BaseDN string
	// Suffix is the naming context, the parent of BaseDN.
	Suffix string
	// Dir holds the configuration, the database and slapd.log.
	Dir string

	// socketDir, when set, is a short directory of its own for the ldapi
	// socket, made at start and removed at stop (see chooseSocket).
	socketDir string
	// repl is the server's place in a multi-provider set, nil for a
	// server on its own (see LaunchReplicated).
	repl *replication

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *Output
}

// Launch configures a new slapd in dir (which should be empty) and starts
// it. ctx bounds the start-up only: the server runs until Stop.
func Launch(ctx context.Context, dir string) (*Server, error) {
	return LaunchWith(ctx, dir, Options{})
}

// LaunchWith is Launch with options.
func LaunchWith(ctx context.Context, dir string, opts Options) (*Server, error) {
	slapd, slapadd, err := binaries()
	if err != nil {
		return nil, err
	}
	s, err := newServer(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := s.configure(ctx, slapadd, opts); err != nil {
		s.removeSocketDir()
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if err := s.pickPorts(opts.TLS); err != nil {
			return nil, err
		}
		err = s.start(ctx, slapd)
		switch {
		case err == nil:
			return s, nil
		case !errors.Is(err, errExited) || attempt == portAttempts:
			return nil, err
		}
		// slapd exited at once, most likely because another process took
		// the port between freePort and bind: try another one.
	}
}

// newServer is a server yet to be configured in dir, with its socket
// chosen.
func newServer(dir string, opts Options) (*Server, error) {
	s := &Server{BindDN: AdminDN, BindPassword: opts.BindPassword, BaseDN: ClientsDN, Suffix: Suffix, Dir: dir}
	if s.BindPassword == "" {
		s.BindPassword = randomPassword()
	}
	if err := s.chooseSocket(); err != nil {
		return nil, err
	}
	return s, nil
}

// binaries finds slapd and slapadd.
func binaries() (slapd, slapadd string, err error) {
	if slapd, err = findBinary("slapd"); err != nil {
		return "", "", err
	}
	slapadd, err = findBinary("slapadd")
	return slapd, slapadd, err
}

// findBinary finds one of slapd's tools on PATH or in /usr/sbin, where
// Debian puts them (and where a non-root PATH often does not look).
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: %s", ErrNotInstalled, name)
	}
	return p, nil
}

// maxSocketPath keeps the ldapi socket's path well within sun_path (108
// bytes on Linux).
const maxSocketPath = 100

// chooseSocket puts the ldapi socket in s.Dir, or, when that path is too
// long for a socket (a subtest's t.TempDir often is), in a short directory
// of its own under os.TempDir.
func (s *Server) chooseSocket() error {
	path := filepath.Join(s.Dir, "ldapi")
	if len(path) >= maxSocketPath {
		dir, err := os.MkdirTemp("", "slapd")
		if err != nil {
			return fmt.Errorf("slapdtest: %w", err)
		}
		s.socketDir, path = dir, filepath.Join(dir, "ldapi")
	}
	s.LDAPIURL = "ldapi://" + neturl.PathEscape(path)
	return nil
}

// pickPorts chooses the listener URLs.
func (s *Server) pickPorts(tls bool) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(port)
	if tls {
		if port, err = freePort(); err != nil {
			return err
		}
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(port)
	}
	return nil
}

// makeCerts creates the CA, the server's certificate and a client
// certificate in the server's directory.
func (s *Server) makeCerts() (*tlsFiles, error) {
	ca, err := NewCA(s.Dir, "ca")
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.Issue(s.Dir, "server", true)
	if err != nil {
		return nil, err
	}
	s.CA = ca
	if s.ClientCert, s.ClientKey, err = ca.Issue(s.Dir, "client", false); err != nil {
		return nil, err
	}
	return &tlsFiles{ca: ca.File, cert: cert, key: key}, nil
}

// configure builds cn=config and the base entries offline with slapadd, so
// the server starts with its final content and no bootstrapping over LDAP.
func (s *Server) configure(ctx context.Context, slapadd string, opts Options) error {
	confDir, dataDir := filepath.Join(s.Dir, "slapd.d"), filepath.Join(s.Dir, "data")
	for _, d := range []string{confDir, dataDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("slapdtest: %w", err)
		}
	}
	var tls *tlsFiles
	if opts.TLS {
		var err error
		if tls, err = s.makeCerts(); err != nil {
			return err
		}
	}
	for name, content := range s.setupFiles(tls, opts) {
		if err := os.WriteFile(filepath.Join(s.Dir, name), content, 0o600); err != nil {
			return fmt.Errorf("slapdtest: %w", err)
		}
	}
	if err := run(ctx, slapadd, "-F", confDir, "-n0", "-l", filepath.Join(s.Dir, "config.ldif")); err != nil {
		return err
	}
	if s.repl != nil && s.repl.seed != "" {
		// A replica starts from a copy of the first provider's entries,
		// entryUUID and entryCSN included, not from entries of its own.
		return run(ctx, slapadd, "-q", "-w", "-F", confDir, "-b", Suffix, "-l", s.repl.seed)
	}
	if err := run(ctx, slapadd, "-F", confDir, "-b", Suffix, "-l", filepath.Join(s.Dir, "base.ldif")); err != nil {
		return err
	}
	if opts.Fresh {
		return nil
	}
	return s.preload(ctx, slapadd, opts.Preload)
}

// setupFiles are the files configure writes to the server's directory, by
// name: config.ldif and base.ldif for slapadd, and the dcrgate schema the
// first includes (none on a Fresh server).
func (s *Server) setupFiles(tls *tlsFiles, opts Options) map[string][]byte {
	if opts.Fresh {
		return map[string][]byte{
			"config.ldif": []byte(freshConfigLDIF(s.Dir, ssha(s.BindPassword), tls)),
			"base.ldif":   []byte(suffixLDIF),
		}
	}
	schemaPath := filepath.Join(s.Dir, "dcrgate.ldif")
	return map[string][]byte{
		"dcrgate.ldif": schemaLDIF(opts),
		"config.ldif":  []byte(configLDIF(s.Dir, schemaPath, SSHA512(s.BindPassword), tls, opts, s.repl)),
		"base.ldif":    []byte(baseLDIF()),
	}
}

// preload loads the entries write produces, in slapadd's quick mode (-q:
// no consistency checks, the entries come from a test that knows them).
func (s *Server) preload(ctx context.Context, slapadd string, write func(io.Writer) error) error {
	if write == nil {
		return nil
	}
	path := filepath.Join(s.Dir, "preload.ldif")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("slapdtest: %w", err)
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("slapdtest: preload: %w", err)
	}
	return run(ctx, slapadd, "-q", "-F", filepath.Join(s.Dir, "slapd.d"), "-b", Suffix, "-l", path)
}

// schemaLDIF is the shipped schema, with cn allowed in dcrClient for
// Options.ADClass.
func schemaLDIF(opts Options) []byte {
	if !opts.ADClass {
		return schema.OpenLDAPLDIF()
	}
	def := schema.Definition()
	def.ObjectClasses[0].May = append(def.ObjectClasses[0].May, "cn")
	return schema.OpenLDAPConfig{}.Render(def)
}

// run runs a set-up command, returning its output in the error.
func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("slapdtest: %s %v: %w\n%s", filepath.Base(name), args, err, out)
	}
	return nil
}

// freePort asks the kernel for an unused loopback port. Another process may
// take it before slapd binds it; Launch retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("slapdtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs slapd in the foreground (-d keeps it attached, so its PID is
// the one we stop) and waits until it accepts a bind.
func (s *Server) start(ctx context.Context, slapd string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = &Output{}
	if s.socketDir != "" {
		if err := os.MkdirAll(s.socketDir, 0o700); err != nil {
			return fmt.Errorf("slapdtest: %w", err)
		}
	}
	urls := s.URL + "/ " + s.LDAPIURL
	if s.LDAPSURL != "" {
		urls += " " + s.LDAPSURL + "/"
	}
	cmd := exec.Command(slapd, "-F", filepath.Join(s.Dir, "slapd.d"), "-h", urls, "-d", "0")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("slapdtest: start slapd: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
	if err := s.waitReady(ctx); err != nil {
		s.stopLocked()
		return fmt.Errorf("%w\nslapd output:\n%s", err, s.log)
	}
	return nil
}

// waitReady polls with a real connect and bind: a listening socket alone
// does not prove the database and schema loaded.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		err := s.ping()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("%w (%v)", errExited, err)
		case <-ctx.Done():
			return fmt.Errorf("slapdtest: slapd not ready at %s: %w (last error: %v)", s.URL, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) ping() error {
	conn, err := s.dialBound()
	if err == nil {
		conn.Close()
	}
	return err
}

// dialBound connects to s as its rootdn, giving up on the connect after a
// second.
func (s *Server) dialBound() (*ldap.Conn, error) {
	conn, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return nil, err
	}
	if err := conn.Bind(s.BindDN, s.BindPassword); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// exited reports whether the last started slapd has exited.
func (s *Server) exited() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		return true
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Pid is the running slapd's process ID, 0 when it is stopped; the bench
// tool reads its CPU time from /proc.
func (s *Server) Pid() int {
	if s.exited() {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop terminates slapd: SIGTERM, then SIGKILL if it is still running after
// a grace period. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	s.removeSocketDir()
}

// removeSocketDir removes the socket's own directory, if it has one: it
// lives under os.TempDir, which no test cleans up.
func (s *Server) removeSocketDir() {
	if s.socketDir != "" {
		_ = os.RemoveAll(s.socketDir)
	}
}

// Restart stops slapd and starts it again on the same URL with the same
// data, for failover and reconnect tests.
func (s *Server) Restart(ctx context.Context) error {
	slapd, _, err := binaries()
	if err != nil {
		return err
	}
	s.Stop()
	return s.start(ctx, slapd)
}

// Output collects what a process or a logger writes from other goroutines
// (exec's copying goroutine, request handlers) while a test reads it:
// slapd's output here, dcrgate's logs in the tests that watch them.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset forgets everything written so far.
func (b *Output) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
