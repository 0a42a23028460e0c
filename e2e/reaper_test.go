package e2e

import (
	"bufio"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// metricSum reads a counter from a gateway's /metrics, summed over the
// series whose labels contain match.
func metricSum(t *testing.T, gw *gateway, name, match string) float64 {
	t.Helper()
	res, err := http.Get(gw.telemetry + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var sum float64
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// TestPeriodicReaperOnTwoReplicas: two `serve` processes reap the same
// directory on short intervals; every expired client is removed, each by
// exactly one of them, and the live ones stay.
func TestPeriodicReaperOnTwoReplicas(t *testing.T) {
	const expired = 40
	srv := slapdtest.Start(t)
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range expired + 5 {
		r := storetest.NewRecord(fmt.Sprintf("reap%03d", i))
		r.Owner.Subject = "reaped"
		if i < expired {
			r.ExpiresAt = time.Now().Add(-time.Hour)
		}
		if err := st.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	issuer := newIssuer(t)
	a := startServe(t, srv, issuer, "DCRGATE_REAPER_INTERVAL=300ms")
	b := startServe(t, srv, issuer, "DCRGATE_REAPER_INTERVAL=300ms")
	dir := directory{t: t, srv: srv}
	deadline := time.Now().Add(20 * time.Second)
	for dir.owned("reaped") != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients left, want the 5 live ones", dir.owned("reaped"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // both replicas run again over what is left
	byA := metricSum(t, a, "dcrgate_reaped_clients_total", `reason="expired"`)
	byB := metricSum(t, b, "dcrgate_reaped_clients_total", `reason="expired"`)
	if byA+byB != expired {
		t.Fatalf("replicas counted %v + %v removals of %d expired clients: a client was removed twice or not counted", byA, byB, expired)
	}
	t.Logf("replica a removed %v, replica b %v", byA, byB)
}
