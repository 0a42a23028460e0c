package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
)

// manyClients is how many clients the bounded-memory listing reads: twenty
// of ldapstore's pages of 500.
const manyClients = 10_000

// manyClientsLDIF writes manyClients minimal client entries, as
// api/owner_test.go does, each with valid metadata padded by a description
// member to about a kilobyte, so that the records, not the process's fixed
// costs, dominate what holding them all would take. It returns the
// entries' total size through size.
func manyClientsLDIF(size *int) func(io.Writer) error {
	padding := strings.Repeat("a client of the listing test ", 25)
	return func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for i := range manyClients {
			id := fmt.Sprintf("many%022d", i)
			n, err := fmt.Fprintf(bw, "dn: dcrClientId=%s,%s\nobjectClass: top\nobjectClass: dcrClient\ndcrClientId: %s\n"+
				"dcrRevision: 1\ndcrIssuedAt: 20260101000000Z\n"+
				"dcrMetadata: {\"redirect_uris\":[\"https://app%d.example.com/cb\"],\"client_name\":\"App %d\",\"description\":\"%s\"}\n"+
				"dcrOwnerIssuer: https://as.example.com\ndcrOwnerSubject: owner-%d\ndcrOwnerTokenId: jti-%d\n\n",
				id, slapdtest.ClientsDN, id, i, i, padding, i%100, i%1000)
			if err != nil {
				return err
			}
			*size += n
		}
		return bw.Flush()
	}
}

// jsonLineCounter counts the JSON lines written to it, checking each, and
// keeps nothing but the line being written.
type jsonLineCounter struct {
	lines, invalid int
	line           []byte
}

func (c *jsonLineCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b != '\n' {
			c.line = append(c.line, b)
			continue
		}
		if !json.Valid(c.line) || !strings.HasPrefix(string(c.line), `{"client_id":"many`) {
			c.invalid++
		}
		c.lines, c.line = c.lines+1, c.line[:0]
	}
	return len(p), nil
}

// heapPeak samples the heap until stop is closed and returns its highest
// HeapAlloc.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	peak := make(chan uint64, 1)
	go func() {
		var ms runtime.MemStats
		var top uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	return peak
}

// heapNow is HeapAlloc after a collection: what is live.
func heapNow() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestClientsListBoundedMemory lists 10,000 clients as JSON and checks that
// every one comes out while the heap grows by a fraction of what holding
// them all would take. The collector runs at GOGC=1 meanwhile, so that
// HeapAlloc follows what is live rather than garbage awaiting a
// collection. Two bounds: the clients' LDIF, since records take at least
// the text they decode from, and what holding all the records really
// takes, measured afterwards by collecting them from the same directory.
// Measured: the listing holds one page (500 of the 20 pages) as go-ldap
// entries, about 4 MiB, against 11 MiB of LDIF and 23 MiB of records.
func TestClientsListBoundedMemory(t *testing.T) {
	var ldifSize int
	d := newDirectory(t, slapdtest.Options{Preload: manyClientsLDIF(&ldifSize)}, "")
	defer debug.SetGCPercent(debug.SetGCPercent(1))

	base := heapNow()
	stop := make(chan struct{})
	peak := heapPeak(stop)
	out := &jsonLineCounter{}
	start := time.Now()
	if _, err := d.clients(t, out, "list", "--json"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	close(stop)
	growth := int64(<-peak) - int64(base)
	if out.lines != manyClients || out.invalid != 0 || len(out.line) != 0 {
		t.Fatalf("%d lines, %d of them not a client's JSON, %d bytes unterminated; want %d",
			out.lines, out.invalid, len(out.line), manyClients)
	}

	held := heldRecords(t, d)
	t.Logf("listed %d clients in %s; LDIF %d bytes (%d a client); holding all the records takes %.1f MiB; "+
		"the listing's heap grew by at most %.1f MiB (%.0f%% of that)", manyClients, took.Round(time.Millisecond),
		ldifSize, ldifSize/manyClients, mib(held), mib(growth), 100*float64(growth)/float64(held))
	if growth > int64(ldifSize) {
		t.Errorf("the heap grew by %.1f MiB, want under the clients' LDIF (%.1f MiB)", mib(growth), mib(int64(ldifSize)))
	}
	if growth > held/2 {
		t.Errorf("the heap grew by %.1f MiB, want under half what holding the records takes (%.1f MiB)", mib(growth), mib(held))
	}
}

// heldRecords measures the live heap that holding every client takes.
func heldRecords(t *testing.T, d *directory) int64 {
	t.Helper()
	before := heapNow()
	all := make([]client.Record, 0, manyClients)
	if err := d.store.Walk(t.Context(), store.Query{}, func(r client.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	held := int64(heapNow()) - int64(before)
	runtime.KeepAlive(all)
	return held
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
