package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// TestClientsReap: a dry run lists what is due and changes nothing; the
// real run does it; idle limits come from the configuration unless a flag
// says otherwise; idle secret clients need bind records slapdtest lacks.
func TestClientsReap(t *testing.T) {
	d := newDirectory(t, slapdtest.Options{}, "reaper:\n  idle_public_clients: 720h\n")
	now := time.Now()
	d.create(t,
		record("expired1", settled, expires(now.Add(-time.Hour))),
		record("linger1"), // an expired retained secret and previous token
		record("keep1", settled, used(now)),
		record("idlepub1", public, settled, issued(date("2025-01-01"))),
	)
	expired, linger, idle := "would remove expired1 (expired)\n", "would settle credentials of linger1 (secrets_settled)\n",
		"would remove idlepub1 (idle_public)\n"
	dryRun := expired + linger + idle +
		"dry run, nothing changed; due: 3 clients (expired 1, idle_public 1, idle_secret 0, secrets_settled 1)\n"
	withoutIdle := expired + linger +
		"dry run, nothing changed; due: 2 clients (expired 1, idle_public 0, idle_secret 0, secrets_settled 1)\n"
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"ok/dry run, idle limit from the configuration", dryRun, nil},
		{"ok/dry run, idle limit off", withoutIdle, []string{"--idle-public", "0"}},
		{"ok/dry run, idle limit longer", withoutIdle, []string{"--idle-public", "1000d"}},
		{"ok/dry run, idle limit shorter", dryRun, []string{"--idle-public", "1h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := d.mustRun(t, append([]string{"reap", "--dry-run"}, tc.args...)...)
			if stdout != tc.want || stderr != "" {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", stdout, tc.want, stderr)
			}
			for _, id := range []string{"expired1", "linger1", "keep1", "idlepub1"} {
				if r, err := d.get(t, id); err != nil || id == "linger1" && len(r.Secrets) != 2 {
					t.Errorf("a dry run changed %s: %v", id, err)
				}
			}
		})
	}

	t.Run("ok/reap", func(t *testing.T) {
		stdout, _ := d.mustRun(t, "reap")
		want := strings.ReplaceAll(strings.ReplaceAll(dryRun, "would remove", "removed"), "would settle", "settled")
		want = strings.Replace(want, "dry run, nothing changed; due", "reaped", 1)
		if stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
		}
		for _, id := range []string{"expired1", "idlepub1"} {
			if _, err := d.get(t, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s was not removed: %v", id, err)
			}
		}
		if r, err := d.get(t, "linger1"); err != nil || len(r.Secrets) != 1 || r.PreviousToken.Hash != "" {
			t.Errorf("linger1 was not settled: %+v %v", r.Secrets, err)
		}
		if _, err := d.get(t, "keep1"); err != nil {
			t.Errorf("keep1: %v", err)
		}
		if stdout, _ := d.mustRun(t, "reap"); !strings.HasPrefix(stdout, "reaped: 0 clients") {
			t.Errorf("a second run: %q", stdout)
		}
	})

	t.Run("fail/idle secret without bind records", func(t *testing.T) {
		stdout, _, err := d.run(t, "reap", "--idle-secret", "90d")
		if !errors.Is(err, registration.ErrNoBindRecords) || !strings.Contains(err.Error(), "--idle-secret") ||
			!strings.Contains(err.Error(), "lastbind overlay") {
			t.Fatalf("err = %v", err)
		}
		if !strings.HasPrefix(stdout, "reaped: 0 clients") {
			t.Errorf("stdout: %q", stdout)
		}
	})
	t.Run("fail/bad duration", func(t *testing.T) {
		if _, _, err := d.run(t, "reap", "--idle-public", "soon"); err == nil || !strings.Contains(err.Error(), "not a duration") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestReapProgress: on a terminal the count is redrawn in place and erased
// before anything else is written; elsewhere nothing is.
func TestReapProgress(t *testing.T) {
	for _, tc := range []struct {
		name        string
		tty, shared bool
		want        string
	}{
		{"ok/terminal", true, false, "\rreaping: 1 clients handled"},
		{"ok/shared terminal", true, true, "\rreaping: 1 clients handled\r                          \r"},
		{"ok/not a terminal", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &progress{w: &buf, tty: tc.tty, shared: tc.shared}
			p.show(1)
			p.show(2) // within progressEvery: not drawn
			p.interrupt()
			if buf.String() != tc.want {
				t.Errorf("wrote %q, want %q", buf.String(), tc.want)
			}
		})
	}
	if newProgress(&bytes.Buffer{}, &bytes.Buffer{}).tty {
		t.Error("a buffer taken for a terminal")
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Duration
	}{
		{"ok/go", "720h", 720 * time.Hour},
		{"ok/days", "90d", 90 * 24 * time.Hour},
		{"ok/days and hours", "1d12h", 36 * time.Hour},
		{"ok/zero", "0", 0},
		{"fail/empty days", "d", -1},
		{"fail/negative", "-1h", -1},
		{"fail/words", "a week", -1},
		{"fail/too many days", "999999999d", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			if tc.want < 0 && err == nil || tc.want >= 0 && (err != nil || got != tc.want) {
				t.Fatalf("parseDuration(%q) = %s, %v", tc.in, got, err)
			}
		})
	}
}
