package ldapstore

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// replicationBound is how long a write may take to reach the other
// provider here; on loopback it takes milliseconds.
const replicationBound = 10 * time.Second

// providers is a two-provider directory with a fresh OU on both.
type providers struct {
	servers []*slapdtest.Server
	ou      string
}

func startProviders(t *testing.T) providers {
	t.Helper()
	servers := slapdtest.StartReplicated(t, 2, slapdtest.Options{})
	return providers{servers: servers, ou: newReplicatedOU(t, servers)}
}

// newReplicatedOU adds an OU on the first provider and waits until every
// provider has it.
func newReplicatedOU(t *testing.T, servers []*slapdtest.Server) string {
	t.Helper()
	ou, err := servers[0].NewOU()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers[1:] {
		if err := s.WaitFor(t.Context(), ou, replicationBound); err != nil {
			t.Fatal(err)
		}
	}
	return ou
}

// gateway is a store over the providers listed in the order of urls.
func (p providers) gateway(t *testing.T, multiProvider bool, urls ...string) *Store {
	return p.gatewayWith(t, multiProvider, urls, nil)
}

// gatewayWith is gateway with its metrics on reg.
func (p providers) gatewayWith(t *testing.T, multiProvider bool, urls []string, reg prometheus.Registerer) *Store {
	t.Helper()
	cfg := configFor(p.servers[0], p.ou)
	cfg.URLs, cfg.MultiProvider, cfg.Registerer = urls, multiProvider, reg
	s, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// writer is the olcServerID of the provider that made the entry's last
// change: the third field of its entryCSN (RFC 4533's CSN, as OpenLDAP
// writes it: time#count#sid#mod).
func (p providers) writer(t *testing.T, on *slapdtest.Server, id string) int {
	t.Helper()
	conn := rawConn(t, on)
	defer conn.Close()
	res, err := conn.Search(ldap.NewSearchRequest(entryDN(p.ou, id), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"entryCSN"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s on %s: %v", id, on.URL, err)
	}
	csn := res.Entries[0].GetAttributeValue("entryCSN")
	parts := strings.Split(csn, "#")
	if len(parts) != 4 {
		t.Fatalf("entryCSN %q", csn)
	}
	sid, err := strconv.ParseInt(parts[2], 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	return int(sid)
}

// entryDN is a client's DN in the OpenLDAP layout.
func entryDN(ou, id string) string { return "dcrClientId=" + id + "," + ou }

// TestMultiProviderOneWriter: two gateways list the providers in opposite
// orders. With MultiProvider both send everything to the same provider,
// the first in sorted order: a client one registers the other reads at
// once, and concurrent updates through both lose nothing, since one
// server decides every compare-and-swap. Without it each writes to its
// first URL: the writes of the two gateways are made by two providers.
func TestMultiProviderOneWriter(t *testing.T) {
	p := startProviders(t)
	p1, p2 := p.servers[0], p.servers[1]
	sorted := slices.Sorted(slices.Values([]string{p1.URL, p2.URL}))
	wantSID := 1
	if sorted[0] == p2.URL {
		wantSID = 2
	}

	t.Run("listed order", func(t *testing.T) {
		a, b := p.gateway(t, false, p1.URL, p2.URL), p.gateway(t, false, p2.URL, p1.URL)
		for i, gw := range []*Store{a, b} {
			r := storetest.NewRecord(fmt.Sprintf("listed%d", i))
			if err := gw.Create(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			if sid := p.writer(t, p.servers[i], r.ID); sid != i+1 {
				t.Fatalf("gateway %d's create made by provider %d, want its first URL's, %d", i, sid, i+1)
			}
		}
	})

	a, b := p.gateway(t, true, p1.URL, p2.URL), p.gateway(t, true, p2.URL, p1.URL)
	r := storetest.NewRecord("onewriter")
	r.Metadata.Contacts = nil
	if err := a.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(t.Context(), r.ID); err != nil {
		t.Fatalf("the other gateway reads a just registered client: %v", err)
	}
	succeeded := raceUpdates(t, r.ID, a, b)
	for _, s := range p.servers {
		if _, err := s.WaitForValue(t.Context(), entryDN(p.ou, r.ID), "dcrRevision", strconv.Itoa(1+len(succeeded)), replicationBound); err != nil {
			t.Fatalf("revision %d on %s: %v", 1+len(succeeded), s.URL, err)
		}
		got := p.gateway(t, false, s.URL)
		storetest.WantContacts(t, got, r.ID, succeeded)
		if sid := p.writer(t, s, r.ID); sid != wantSID {
			t.Fatalf("last write made by provider %d, want %d (%s, first in sorted order)", sid, wantSID, sorted[0])
		}
	}
	t.Logf("%d of %d concurrent updates through two gateways succeeded, none lost", len(succeeded), 2*raceWriters*raceEach)

	t.Run("remembered writes", func(t *testing.T) {
		// a remembers the entry it created; b's update makes that memory
		// stale, and a's next update, tried from memory, fails its guard
		// on the provider both write to and is redone on the stored entry.
		r := storetest.NewRecord("remembered")
		r.Metadata.Contacts = nil
		if err := a.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		for i, gw := range []*Store{b, a} {
			if _, err := gw.Update(t.Context(), r.ID, func(old client.Record) (client.Record, error) {
				old.Metadata.Contacts = append(old.Metadata.Contacts, fmt.Sprintf("update%d@example.com", i))
				return old, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.Get(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Metadata.Contacts) != 2 || got.Revision != 3 {
			t.Fatalf("after an update through each gateway: revision %d, contacts %v", got.Revision, got.Metadata.Contacts)
		}
	})
}

const raceWriters, raceEach = 4, 5

// raceUpdates has raceWriters writers on each gateway add contacts to one
// client, and returns the contacts of the updates that succeeded.
func raceUpdates(t *testing.T, id string, gateways ...*Store) []string {
	t.Helper()
	stores := make([]store.Store, len(gateways))
	for i, g := range gateways {
		stores[i] = g
	}
	return storetest.RaceContacts(t, id, raceWriters, raceEach, stores...)
}

// TestMultiProviderFailback: while the preferred provider is down both
// gateways write to the other; once it is back and has answered the
// failback probes, both return to it at the same tick, and the updates
// made all along, through both gateways, are all there: none was decided
// by two providers at once.
func TestMultiProviderFailback(t *testing.T) {
	shortenFailback(t)
	p := startProviders(t)
	first, second := p.servers[0], p.servers[1]
	if first.URL > second.URL {
		first, second = second, first
	}
	firstSID, secondSID := 1, 2
	if first != p.servers[0] {
		firstSID, secondSID = 2, 1
	}
	reg := prometheus.NewRegistry()
	a, b := p.gatewayWith(t, true, []string{first.URL, second.URL}, reg), p.gateway(t, true, second.URL, first.URL)
	r := storetest.NewRecord("failback")
	r.Metadata.Contacts = nil
	if err := a.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if err := second.WaitFor(t.Context(), entryDN(p.ou, r.ID), replicationBound); err != nil {
		t.Fatal(err)
	}
	first.Stop()
	succeeded := raceUpdates(t, r.ID, a, b)
	if sid := p.writer(t, second, r.ID); sid != secondSID {
		t.Fatalf("write during the outage made by provider %d, want %d", sid, secondSID)
	}
	if n := metricValue(t, reg, "dcrgate_ldap_providers_fenced"); n != 1 {
		t.Fatalf("dcrgate_ldap_providers_fenced = %v during the outage, want 1", n)
	}
	if err := first.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Keep updating through both gateways until they are back on the
	// first provider: the failback happens under load.
	deadline := time.Now().Add(time.Duration(failbackProbes+2) * failbackTick)
	for p.writer(t, second, r.ID) != firstSID && time.Now().Before(deadline) {
		succeeded = append(succeeded, raceUpdates(t, r.ID, a, b)...)
	}
	if sid := p.writer(t, second, r.ID); sid != firstSID {
		t.Fatalf("writes after the failback made by provider %d, want %d", sid, firstSID)
	}
	if n := metricValue(t, reg, "dcrgate_ldap_providers_fenced"); n != 0 {
		t.Fatalf("dcrgate_ldap_providers_fenced = %v after the failback, want 0", n)
	}
	for _, s := range p.servers {
		if _, err := s.WaitForValue(t.Context(), entryDN(p.ou, r.ID), "dcrRevision", strconv.Itoa(1+len(succeeded)), replicationBound); err != nil {
			g, _ := p.gateway(t, false, s.URL).Get(t.Context(), r.ID)
			t.Fatalf("%d updates succeeded; %s holds revision %d: %v", len(succeeded), s.URL, g.Revision, err)
		}
		storetest.WantContacts(t, p.gateway(t, false, s.URL), r.ID, succeeded)
	}
	t.Logf("%d updates through two gateways across failover and failback, none lost", len(succeeded))
}

// shortenFailback makes failback take one or two seconds instead of five
// to ten; the pause stays.
func shortenFailback(t *testing.T) {
	tick := failbackTick
	failbackTick = time.Second
	t.Cleanup(func() { failbackTick = tick })
}

// TestMultiProviderConformance runs the store conformance suite on a
// gateway over two replicating providers.
func TestMultiProviderConformance(t *testing.T) {
	servers := slapdtest.StartReplicated(t, 2, slapdtest.Options{})
	storetest.Run(t, func(t *testing.T) store.Store {
		p := providers{servers: servers, ou: newReplicatedOU(t, servers)}
		return p.gateway(t, true, servers[1].URL, servers[0].URL)
	})
}
