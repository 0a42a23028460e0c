package ldapstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/store"
)

// TestProviderOrder: every gateway sorts the same providers the same way,
// however they are listed and whatever the case of their hosts.
func TestProviderOrder(t *testing.T) {
	a := []string{"ldaps://LDAP2.example.org", "ldaps://ldap1.example.org", "ldaps://ldap3.example.org"}
	b := []string{"ldaps://ldap3.example.org", "ldaps://ldap2.example.org", "ldaps://LDAP1.example.org"}
	providerOrder(a)
	providerOrder(b)
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			t.Fatalf("orders differ: %v and %v", a, b)
		}
	}
	if !slices.Equal(a, []string{"ldaps://ldap1.example.org", "ldaps://LDAP2.example.org", "ldaps://ldap3.example.org"}) {
		t.Fatalf("order %v", a)
	}
}

// TestFence: a fenced provider is readmitted only by failbackProbes
// answered probes in a row, and its readmission holds requests back for
// failbackPause from the tick.
func TestFence(t *testing.T) {
	const u = "ldap://p1"
	f := newFence()
	if f.fenced(u) || (*fence)(nil).fenced(u) {
		t.Fatal("fenced before any failure")
	}
	f.shut(u)
	tick := time.Now()
	steps := []struct {
		ok, readmitted bool
	}{{true, false}, {false, false}, {true, false}, {true, true}}
	for i, s := range steps {
		if got := f.probed(u, s.ok, tick); got != s.readmitted || f.fenced(u) == s.readmitted {
			t.Fatalf("probe %d (answered %v): readmitted %v, fenced %v", i, s.ok, got, f.fenced(u))
		}
	}
	if f.probed(u, true, tick) {
		t.Fatal("a provider not fenced was readmitted again")
	}
	ctx, cancel := context.WithTimeout(t.Context(), f.pause/10)
	defer cancel()
	if err := f.wait(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a request during the pause whose deadline ends first: %v, want ErrUnavailable", err)
	}
	start := time.Now()
	if err := f.wait(t.Context()); err != nil || time.Since(start) > f.pause {
		t.Fatalf("wait: %v after %s", err, time.Since(start))
	}
	if err := (*fence)(nil).wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}
