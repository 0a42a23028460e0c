package slapdtest

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// RequireEnv names the variable that turns a missing slapd from a skip into
// a failure; CI sets it so the LDAP tests can never silently not run.
const RequireEnv = "DCRGATE_REQUIRE_SLAPD"

// Require skips t when slapd is not installed, or fails it when RequireEnv
// is set to 1.
func Require(t testing.TB) {
	t.Helper()
	if _, _, err := binaries(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v, and %s=1", err, RequireEnv)
		}
		t.Skipf("%v: install Debian's slapd package to run this test (set %s=1 to make this a failure)", err, RequireEnv)
	}
}

// Start runs a throwaway slapd for the test, stopped and removed when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	s, err := LaunchWith(t.Context(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop) // registered after TempDir's, so it runs first
	return s
}

var ouCounter atomic.Int64

// NewOU adds a fresh, empty organizational unit under Suffix and returns its
// DN: a cheap way to give each test its own empty client base.
func (s *Server) NewOU() (string, error) {
	name := fmt.Sprintf("t%d", ouCounter.Add(1))
	dn := fmt.Sprintf("ou=%s,%s", ldap.EscapeDN(name), s.Suffix)
	conn, err := s.dialBound()
	if err != nil {
		return "", fmt.Errorf("slapdtest: %w", err)
	}
	defer conn.Close()
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "organizationalUnit"})
	add.Attribute("ou", []string{name})
	if err := conn.Add(add); err != nil {
		return "", fmt.Errorf("slapdtest: add %s: %w", dn, err)
	}
	return dn, nil
}

// StartReplicated runs n throwaway slapd servers as the providers of one
// multi-provider directory (LaunchReplicated), all stopped and removed
// when the test ends.
func StartReplicated(t testing.TB, n int, opts Options) []*Server {
	t.Helper()
	Require(t)
	servers, err := LaunchReplicated(t.Context(), t.TempDir(), n, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		t.Cleanup(s.Stop)
	}
	return servers
}
