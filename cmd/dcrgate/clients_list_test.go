package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// listFixture is five clients, each picked out by some filters and not by
// others, relative to now.
func listFixture(now time.Time) []client.Record {
	recent, old := used(now.Add(-time.Hour)), used(now.Add(-40*24*time.Hour))
	return []client.Record{
		record("alpha", owned("https://as-a.example.com", "alice", "jti-a"), named("Alpha Portal"),
			issued(date("2025-01-10")), recent),
		record("bravo", public, owned("https://as-b.example.com", "bob", "jti-b"), named("Bravo Mobile"),
			issued(date("2025-06-01"))),
		record("charlie", owned("https://as-b.example.com", "alice", "jti-c"), named("Charlie Tool"),
			issued(date("2026-02-01")), recent, disabled("abuse report")),
		record("delta", owned("https://as-a.example.com", "carol", "jti-d"), named("Delta"),
			issued(date("2026-03-01")), old, expires(now.Add(-time.Hour))),
		record("echo", owned("https://as-c.example.com", "dave", "jti-e"), named("Echo"),
			issued(date("2026-11-01")), recent, disabled("awaiting approval (policy hold)")),
	}
}

// TestClientsList runs every filter, as a table and as JSON lines, and
// checks the same clients come out both ways.
func TestClientsList(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	fixture := listFixture(time.Now())
	d.create(t, fixture...)
	all := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"ok/all", nil, all},
		{"ok/owner", []string{"--owner", "alice"}, []string{"alpha", "charlie"}},
		{"ok/issuer", []string{"--issuer", "https://as-a.example.com"}, []string{"alpha", "delta"}},
		{"ok/owner and issuer", []string{"--owner", "alice", "--issuer", "https://as-b.example.com"}, []string{"charlie"}},
		{"ok/token id", []string{"--token-id", "jti-b"}, []string{"bravo"}},
		{"ok/name ignores case", []string{"--name", "PORTAL"}, []string{"alpha"}},
		{"ok/created before a date", []string{"--created-before", "2026-01-01"}, []string{"alpha", "bravo"}},
		{"ok/created after an instant, inclusive", []string{"--created-after", "2026-02-01T00:00:00Z"}, []string{"charlie", "delta", "echo"}},
		{"ok/created between", []string{"--created-after", "2025-03-01", "--created-before", "2026-02-15"}, []string{"bravo", "charlie"}},
		{"ok/expired", []string{"--expired"}, []string{"delta"}},
		{"ok/disabled", []string{"--disabled"}, []string{"charlie", "echo"}},
		{"ok/public", []string{"--kind", "public"}, []string{"bravo"}},
		{"ok/secret", []string{"--kind", "secret"}, []string{"alpha", "charlie", "delta", "echo"}},
		{"ok/idle in days", []string{"--idle", "30d"}, []string{"bravo", "delta"}},
		{"ok/idle in hours", []string{"--idle", "720h"}, []string{"bravo", "delta"}},
		{"ok/idle in days and hours", []string{"--idle", "1d1h"}, []string{"bravo", "delta"}},
		{"ok/combined", []string{"--owner", "alice", "--disabled"}, []string{"charlie"}},
		{"ok/nobody", []string{"--owner", "zed"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := d.mustRun(t, append([]string{"list"}, tc.args...)...)
			if got := sortedKeys(tableRows(t, stdout)); !slices.Equal(got, tc.want) {
				t.Errorf("table lists %v, want %v\n%s", got, tc.want, stdout)
			}
			if want := countLine(len(tc.want), 0); strings.TrimSpace(stderr) != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
			stdout, _ = d.mustRun(t, append([]string{"list", "--json"}, tc.args...)...)
			var got []string
			for _, v := range jsonLines(t, stdout) {
				got = append(got, v.ClientID)
			}
			if slices.Sort(got); !slices.Equal(got, tc.want) {
				t.Errorf("JSON lists %v, want %v\n%s", got, tc.want, stdout)
			}
			assertNoSecrets(t, stdout, fixture...)
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"fail/kind", []string{"--kind", "confidential"}, "--kind"},
		{"fail/date", []string{"--created-before", "yesterday"}, "RFC 3339"},
		{"fail/duration", []string{"--idle", "3 weeks"}, "not a duration"},
		{"fail/negative duration", []string{"--idle", "-5d"}, "not a duration"},
		{"fail/limit", []string{"--limit", "-1"}, "--limit"},
		{"fail/argument", []string{"alpha"}, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := d.run(t, append([]string{"list"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want one saying %q", err, tc.says)
			}
		})
	}
}

// TestClientsListShows checks what the rows say: status, dates, owner, and
// the JSON's metadata and server state.
func TestClientsListShows(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	fixture := listFixture(time.Now())
	d.create(t, fixture...)
	stdout, _ := d.mustRun(t, "list")
	t.Log("\n" + stdout)
	rows := tableRows(t, stdout)
	for id, want := range map[string][]string{
		"alpha":   {"Alpha Portal", "alice", "2025-01-10", "active"},
		"bravo":   {"Bravo Mobile", "bob", "2025-06-01", "never", "active"},
		"charlie": {"disabled"},
		"delta":   {"expired"},
		"echo":    {"awaiting approval"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[id], w) {
				t.Errorf("row of %s lacks %q: %s", id, w, rows[id])
			}
		}
	}
	stdout, _ = d.mustRun(t, "list", "--json", "--owner", "alice", "--disabled")
	t.Log("\n" + stdout)
	v := jsonLines(t, stdout)
	if len(v) != 1 {
		t.Fatalf("want charlie alone:\n%s", stdout)
	}
	if c := v[0]; c.Status != "disabled" || c.DisabledReason != "abuse report" || c.Metadata.ClientName != "Charlie Tool" ||
		c.Owner.Issuer != "https://as-b.example.com" || !c.HasSecret || c.RetainedSecrets != 1 ||
		c.StatementIssuer != "https://software.example.com" || !c.CreatedAt.Equal(date("2026-02-01")) {
		t.Errorf("charlie as JSON: %+v", c)
	}
	if !strings.Contains(stdout, `"metadata":{"redirect_uris":[`) {
		t.Errorf("metadata is not the client's canonical JSON:\n%s", stdout)
	}
}

// TestClientsListLimit: --limit ends the walk after N rows and says so.
func TestClientsListLimit(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	d.create(t, listFixture(time.Now())...)
	for _, tc := range []struct {
		name  string
		limit string
		rows  int
		says  string
	}{
		{"ok/fewer than all", "2", 2, "2 clients (stopped at --limit"},
		{"ok/one", "1", 1, "1 client (stopped"},
		{"ok/more than all", "50", 5, "5 clients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := d.mustRun(t, "list", "--limit", tc.limit)
			if n := len(tableRows(t, stdout)); n != tc.rows || !strings.HasPrefix(stderr, tc.says) {
				t.Errorf("%d rows, stderr %q; want %d, %q", n, stderr, tc.rows, tc.says)
			}
			stdout, _ = d.mustRun(t, "list", "--json", "--limit", tc.limit)
			if n := len(jsonLines(t, stdout)); n != tc.rows {
				t.Errorf("%d JSON lines, want %d", n, tc.rows)
			}
		})
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"ok/short", "Alpha", "Alpha"},
		{"ok/exact", "0123456789", "0123456789"},
		{"ok/long", "0123456789ab", "012345678…"},
		{"ok/runes, not bytes", "アプリアプリアプリアプリ", "アプリアプリアプリ…"},
		{"ok/one line", "two\nlines\tand  tabs", "two lines…"},
		{"ok/no escape sequences", "evil\x1b[2Jname", "evil?[2Jn…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cut(tc.in, 10); got != tc.want {
				t.Errorf("cut(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// failingWriter is a stdout that is gone.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestClientsListBrokenStdout: a failed write is the command's error.
func TestClientsListBrokenStdout(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "")
	d.create(t, listFixture(time.Now())...)
	for _, args := range [][]string{{"list"}, {"list", "--json"}} {
		if _, err := d.clients(t, failingWriter{}, args...); err == nil || err.Error() != "broken pipe" {
			t.Errorf("%v: err = %v", args, err)
		}
	}
}
