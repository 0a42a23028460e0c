// Package ds389test runs a real, throwaway 389 Directory Server (Debian's
// 389-ds-base) loaded with the committed 389ds schema rendering, so the
// storage conformance suite and `schema check` run against a second
// directory family. Like slapdtest, each server lives in its own directory
// on its own loopback port; it is configured from the package's own dse.ldif
// template without dscreate, which needs systemd.
package ds389test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
)

// RequireEnv turns a missing 389-ds-base from a skip into a failure. It is
// separate from slapdtest's variable: CI machines may have slapd only.
const RequireEnv = "DCRGATE_REQUIRE_389DS"

// Fixed layout of every throwaway server.
const (
	Suffix    = "dc=example,dc=org"
	ClientsDN = "ou=clients," + Suffix
	RootDN    = "cn=Directory Manager"
)

// Where Debian's 389-ds-base keeps its pieces.
var (
	nsSlapd     = "/usr/sbin/ns-slapd"
	templateDSE = "/usr/share/dirsrv/data/template-dse.ldif"
	configDir   = "/etc/dirsrv/config"
)

// ErrNotInstalled means 389-ds-base is not on this machine.
var ErrNotInstalled = errors.New("ds389test: 389-ds-base (ns-slapd) not installed")

const readyTimeout = 30 * time.Second

// Server is one running ns-slapd.
type Server struct {
	URL          string
	BindDN       string
	BindPassword string
	BaseDN       string
	Dir          string

	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

func installed() error {
	for _, p := range []string{nsSlapd, templateDSE, filepath.Join(configDir, "slapd-collations.conf")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %s", ErrNotInstalled, p)
		}
	}
	return nil
}

// Require skips t when 389-ds-base is missing, or fails it when RequireEnv
// is 1.
func Require(t testing.TB) {
	t.Helper()
	if err := installed(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v, and %s=1", err, RequireEnv)
		}
		t.Skipf("%v: apt-get install 389-ds-base to run this test (set %s=1 to make this a failure)", err, RequireEnv)
	}
}

// Start runs a throwaway 389-DS for the test, stopped when it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	s, err := Launch(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Launch configures a server in dir, starts it and creates the suffix's
// backend and ou=clients over LDAP. ctx bounds the start-up only.
func Launch(ctx context.Context, dir string) (*Server, error) {
	if err := installed(); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "ldap://127.0.0.1:" + strconv.Itoa(port), BindDN: RootDN,
		BindPassword: rand.Text(), BaseDN: ClientsDN, Dir: dir}
	if err := s.configure(port); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	if err := s.populate(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// configure writes dse.ldif from the package's template and installs the
// committed 389ds schema as the instance's 99user.ldif: exactly what an
// administrator does.
func (s *Server) configure(port int) error {
	paths := map[string]string{}
	// ns-slapd reads user schema only from <config dir>/schema.
	for _, name := range []string{"config", "config/schema", "db", "log", "run", "lock", "tmp", "bak", "ldif", "inst", "certs"} {
		paths[name] = filepath.Join(s.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(paths[name], 0o700); err != nil {
			return fmt.Errorf("ds389test: %w", err)
		}
	}
	template, err := os.ReadFile(templateDSE)
	if err != nil {
		return fmt.Errorf("ds389test: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("ds389test: %w", err)
	}
	dse := strings.NewReplacer(
		"%schema_dir%", paths["config/schema"], "%lock_dir%", paths["lock"], "%tmp_dir%", paths["tmp"],
		"%cert_dir%", paths["certs"], "%ldif_dir%", paths["ldif"], "%bak_dir%", paths["bak"],
		"%run_dir%", paths["run"], "%inst_dir%", paths["inst"], "%log_dir%", paths["log"],
		"%fqdn%", "localhost", "%ds_port%", strconv.Itoa(port), "%ds_user%", u.Username,
		"%rootdn%", RootDN, "%ds_passwd%", slapdtest.SSHA512(s.BindPassword), "%ds_suffix%", Suffix,
		"%config_dir%", paths["config"], "%db_dir%", paths["db"], "%db_home_dir%", paths["db"],
		"%db_lib%", "bdb", "%ldapi_enabled%", "off", "%ldapi%", filepath.Join(paths["run"], "slapd.socket"),
		"%ldapi_autobind%", "off",
	).Replace(string(template))
	// Pre-hashed {SSHA512} userPassword values are how dcrgate writes
	// secrets; 389-DS accepts them only with this switch on.
	dse = strings.Replace(dse, "\nnsslapd-rootdn:", "\nnsslapd-allow-hashed-passwords: on\nnsslapd-rootdn:", 1)
	files := map[string][]byte{filepath.Join(paths["config"], "dse.ldif"): []byte(dse)}
	if files[filepath.Join(paths["config/schema"], "99user.ldif")], err = schema.Committed(schema.DS389{}); err != nil {
		return err
	}
	for _, name := range []string{"slapd-collations.conf", "certmap.conf"} {
		if files[filepath.Join(paths["config"], name)], err = os.ReadFile(filepath.Join(configDir, name)); err != nil {
			return fmt.Errorf("ds389test: %w", err)
		}
	}
	for path, content := range files {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			return fmt.Errorf("ds389test: %w", err)
		}
	}
	return nil
}

// start runs ns-slapd in the foreground (-d 0) and waits for a bind.
func (s *Server) start(ctx context.Context) error {
	cmd := exec.Command(nsSlapd, "-D", filepath.Join(s.Dir, "config"), "-d", "0")
	out, err := os.Create(filepath.Join(s.Dir, "ns-slapd.out"))
	if err != nil {
		return fmt.Errorf("ds389test: %w", err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ds389test: start ns-slapd: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		conn, err := s.Dial()
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("ds389test: ns-slapd exited during start-up (%v)\n%s", err, s.errorLog())
		case <-ctx.Done():
			s.Stop()
			return fmt.Errorf("ds389test: not ready: %w (last error: %v)\n%s", ctx.Err(), err, s.errorLog())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "log", "errors"))
	return string(b)
}

// Dial returns a connection bound as the root DN.
func (s *Server) Dial() (*ldap.Conn, error) {
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

// populate adds the backend for Suffix, its mapping tree node, the suffix
// entry and ou=clients, as dscreate's backend step would.
func (s *Server) populate() error {
	conn, err := s.Dial()
	if err != nil {
		return fmt.Errorf("ds389test: %w", err)
	}
	defer conn.Close()
	entries := []struct {
		dn    string
		attrs map[string][]string
	}{
		{"cn=userRoot,cn=ldbm database,cn=plugins,cn=config", map[string][]string{
			"objectClass": {"top", "extensibleObject", "nsBackendInstance"}, "cn": {"userRoot"},
			"nsslapd-suffix": {Suffix}}},
		{`cn="` + Suffix + `",cn=mapping tree,cn=config`, map[string][]string{
			"objectClass": {"top", "extensibleObject", "nsMappingTree"}, "cn": {Suffix},
			"nsslapd-state": {"backend"}, "nsslapd-backend": {"userRoot"}}},
		{Suffix, map[string][]string{"objectClass": {"top", "domain"}, "dc": {"example"}}},
		{ClientsDN, map[string][]string{"objectClass": {"top", "organizationalUnit"}, "ou": {"clients"}}},
	}
	for _, e := range entries {
		add := ldap.NewAddRequest(e.dn, nil)
		for name, values := range e.attrs {
			add.Attribute(name, values)
		}
		if err := conn.Add(add); err != nil {
			return fmt.Errorf("ds389test: add %s: %w", e.dn, err)
		}
	}
	return nil
}

var ouCounter struct {
	sync.Mutex
	n int
}

// NewOU adds a fresh, empty organizational unit under Suffix.
func (s *Server) NewOU() (string, error) {
	ouCounter.Lock()
	ouCounter.n++
	name := "t" + strconv.Itoa(ouCounter.n)
	ouCounter.Unlock()
	dn := "ou=" + ldap.EscapeDN(name) + "," + Suffix
	conn, err := s.Dial()
	if err != nil {
		return "", fmt.Errorf("ds389test: %w", err)
	}
	defer conn.Close()
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "organizationalUnit"})
	add.Attribute("ou", []string{name})
	if err := conn.Add(add); err != nil {
		return "", fmt.Errorf("ds389test: add %s: %w", dn, err)
	}
	return dn, nil
}

// Stop terminates ns-slapd (SIGTERM, then SIGKILL after a grace period).
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("ds389test: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
