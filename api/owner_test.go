package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// bigOwner is the caller that already has 100,000 clients, all registered
// with one initial access token.
const (
	bigOwnerClients = 100_000
	bigOwnerSubject = "big-owner"
	bigOwnerToken   = "big-token"
)

// writeBigOwner writes bigOwnerClients minimal client entries of one owner
// and one token as LDIF, for slapdtest's offline preload.
func writeBigOwner(issuer string) func(w io.Writer) error {
	return func(w io.Writer) error {
		for i := range bigOwnerClients {
			id := fmt.Sprintf("big%023d", i)
			_, err := fmt.Fprintf(w, "dn: dcrClientId=%s,%s\nobjectClass: top\nobjectClass: dcrClient\ndcrClientId: %s\n"+
				"dcrRevision: 1\ndcrMetadata: {\"redirect_uris\":[\"https://app.example.com/cb\"]}\n"+
				"dcrOwnerIssuer: %s\ndcrOwnerSubject: %s\ndcrOwnerTokenId: %s\n\n",
				id, slapdtest.ClientsDN, id, issuer, bigOwnerSubject, bigOwnerToken)
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// ldapSearches reads dcrgate_ldap_operations_total{operation="search"}.
func ldapSearches(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "dcrgate_ldap_operations_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelValue(m, "operation") == "search" {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestOwnerWithManyClients: a caller that already has 100,000 clients is
// refused by max_registrations_per_token and max_clients_per_owner at the
// cost of counting to the limit — one page of DNs, never its clients
// decoded — and a caller with none still registers. The bound asserted is
// the number of LDAP round trips, which does not depend on the machine;
// the wall-clock bound is only a guard against the old 15 s.
func TestOwnerWithManyClients(t *testing.T) {
	srv := slapdtest.StartWith(t, slapdtest.Options{Preload: writeBigOwner(harnessIssuer)})
	reg := prometheus.NewRegistry()
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN, Timeout: 5 * time.Second, Registerer: reg}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if n, err := st.Count(t.Context(), store.Query{OwnerTokenID: bigOwnerToken}, bigOwnerClients+1); err != nil || n != bigOwnerClients {
		t.Fatalf("preloaded %d clients (%v), want %d", n, err, bigOwnerClients)
	}
	for _, tc := range []struct {
		name string
		edit func(*setup)
		// searches is the most LDAP searches the refusal may take: one page
		// of DNs, and the request that abandons the rest of the search.
		searches float64
		mentions string
	}{
		{"max_registrations_per_token", func(s *setup) { s.opts.MaxRegistrationsPerToken = 50 }, 2, "already registered 50"},
		{"max_clients_per_owner", func(s *setup) {
			chain, err := policies.Build([]policies.Spec{{Name: "cap", Kind: policies.KindMaxClientsPerOwner, Max: 50}},
				policies.WithOwnerCounter(func(ctx context.Context, issuer, subject string, limit int) (int, error) {
					return st.Count(ctx, store.Query{OwnerIssuer: issuer, OwnerSubject: subject}, limit)
				}))
			if err != nil {
				t.Fatal(err)
			}
			s.policy = chain
		}, 2, "policy cap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) { s.store = st }, tc.edit)
			big, err := h.issuer.Mint(bigOwnerSubject, []string{"dcr"}, time.Hour, devissuer.WithClaim("jti", bigOwnerToken))
			if err != nil {
				t.Fatal(err)
			}
			before, start := ldapSearches(t, reg), time.Now()
			wantError(t, h.do(http.MethodPost, endpoint, big, webClient), http.StatusForbidden, "access_denied", tc.mentions)
			took, searches := time.Since(start), ldapSearches(t, reg)-before
			if searches > tc.searches {
				t.Errorf("the refusal took %.0f LDAP searches, want at most %.0f", searches, tc.searches)
			}
			if took > 5*time.Second {
				t.Errorf("the refusal took %s", took)
			}
			// Many refusals at once leave the pool to everybody else.
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Go(func() {
					if i%4 == 0 {
						if res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient); res.Code != http.StatusCreated {
							t.Errorf("another caller beside the refusals: %d %s", res.Code, res.Body)
						}
						return
					}
					wantError(t, h.do(http.MethodPost, endpoint, big, webClient), http.StatusForbidden, "access_denied", tc.mentions)
				})
			}
			wg.Wait()
		})
	}
}
