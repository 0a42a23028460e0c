package slapdtest

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// replicationBound is how long a write may take to reach the other
// provider in these tests; on loopback it takes milliseconds.
const replicationBound = 10 * time.Second

// TestReplicated: an add on either provider reaches the other, and so
// does a modify; a provider stopped while the other takes writes has them
// once restarted.
func TestReplicated(t *testing.T) {
	servers := StartReplicated(t, 2, Options{})
	p1, p2 := servers[0], servers[1]
	if p1.BindPassword != p2.BindPassword || p1.URL == p2.URL {
		t.Fatalf("providers %s and %s: want one password, two URLs", p1.URL, p2.URL)
	}
	for _, dir := range [][2]*Server{{p1, p2}, {p2, p1}} {
		from, to := dir[0], dir[1]
		dn, err := from.NewOU()
		if err != nil {
			t.Fatal(err)
		}
		if err := to.WaitFor(t.Context(), dn, replicationBound); err != nil {
			t.Fatalf("added on %s: %v", from.URL, err)
		}
		modify(t, to, dn, "replicated back")
		lag, err := from.WaitForValue(t.Context(), dn, "description", "replicated back", replicationBound)
		if err != nil {
			t.Fatalf("modified on %s: %v", to.URL, err)
		}
		t.Logf("%s -> %s: a modify arrived in %s", to.URL, from.URL, lag)
	}
	p2.Stop()
	dn, err := p1.NewOU()
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p2.WaitFor(t.Context(), dn, replicationBound); err != nil {
		t.Fatalf("restarted provider did not catch up: %v", err)
	}
}

// modify sets dn's description on s.
func modify(t *testing.T, s *Server, dn, description string) {
	t.Helper()
	conn, err := s.dialBound()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace("description", []string{description})
	if err := conn.Modify(req); err != nil {
		t.Fatalf("modify %s on %s: %v", dn, s.URL, err)
	}
}
