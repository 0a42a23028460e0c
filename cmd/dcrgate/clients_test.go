package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// directory is a throwaway slapd with a dcrgate configuration file for it
// and a store on the same base DN, to put the clients the CLI works on.
type directory struct {
	srv    *slapdtest.Server
	config string
	store  *ldapstore.Store
}

// newDirectory starts slapd (opts preloads it) and writes a configuration
// with management enabled; extra is appended to the YAML.
func newDirectory(t *testing.T, opts slapdtest.Options, extra string) *directory {
	t.Helper()
	srv := slapdtest.StartWith(t, opts)
	d := &directory{srv: srv, config: writeConfig(t, srv, extra)}
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN, Timeout: 5 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	d.store = st
	return d
}

// writeConfig writes a dcrgate configuration for srv's directory.
func writeConfig(t *testing.T, srv *slapdtest.Server, extra string) string {
	t.Helper()
	yaml := fmt.Sprintf(`external_url: https://dcr.example.com
management:
  enabled: true
ldap:
  urls: [%s]
  bind_dn: %q
  bind_password: %q
  base_dn: %q
  timeout: 5s
log:
  level: warn
%s`, srv.URL, srv.BindDN, srv.BindPassword, srv.BaseDN, extra)
	path := filepath.Join(t.TempDir(), "dcrgate.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// create stores records as they are, server state included.
func (d *directory) create(t *testing.T, records ...client.Record) {
	t.Helper()
	for _, r := range records {
		if err := d.store.Create(t.Context(), r); err != nil {
			t.Fatalf("create %s: %v", r.ID, err)
		}
	}
}

// get reads a client straight from the directory.
func (d *directory) get(t *testing.T, id string) (client.Record, error) {
	t.Helper()
	return d.store.Get(t.Context(), id)
}

// commandTimeout bounds every command a test runs.
const commandTimeout = time.Minute

// clients runs `dcrgate clients args... -c config` in-process, stdout to
// out, and returns stderr.
func (d *directory) clients(t *testing.T, out io.Writer, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), commandTimeout)
	defer cancel()
	cmd := newRootCommand()
	var errOut bytes.Buffer
	cmd.SetOut(out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append(append([]string{"clients"}, args...), "--config", d.config, "--actor", "test"))
	err := cmd.ExecuteContext(ctx)
	return errOut.String(), err
}

// run is clients with stdout returned as a string.
func (d *directory) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out bytes.Buffer
	stderr, err = d.clients(t, &out, args...)
	return out.String(), stderr, err
}

// mustRun is run that fails the test on an error.
func (d *directory) mustRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := d.run(t, args...)
	if err != nil {
		t.Fatalf("clients %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout, stderr)
	}
	return stdout, stderr
}

// record is storetest's fully populated record with the edits a test needs.
func record(id string, edits ...func(*client.Record)) client.Record {
	r := storetest.NewRecord(id)
	for _, e := range edits {
		e(&r)
	}
	return r
}

func owned(issuer, subject, tokenID string) func(*client.Record) {
	return func(r *client.Record) { r.Owner.Issuer, r.Owner.Subject, r.Owner.TokenID = issuer, subject, tokenID }
}

func named(name string) func(*client.Record) {
	return func(r *client.Record) { r.Metadata.ClientName = name }
}

func issued(t time.Time) func(*client.Record) { return func(r *client.Record) { r.IssuedAt = t } }

func used(t time.Time) func(*client.Record) { return func(r *client.Record) { r.LastUsedAt = t } }

func expires(t time.Time) func(*client.Record) { return func(r *client.Record) { r.ExpiresAt = t } }

func disabled(reason string) func(*client.Record) {
	return func(r *client.Record) { r.Disabled, r.DisabledReason = true, reason }
}

// public makes the client a public one: no secret at all.
func public(r *client.Record) {
	r.Metadata.TokenEndpointAuthMethod = client.AuthNone
	r.Secrets, r.SecretExpiresAt = nil, time.Time{}
}

// settled leaves the client nothing a rotation kept, so the reaper has
// nothing to settle on it.
func settled(r *client.Record) {
	r.Secrets, r.PreviousToken = r.Secrets[:min(len(r.Secrets), 1)], client.PreviousToken{}
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// secretsOf lists every hash a record holds: none may be printed.
func secretsOf(r client.Record) []string {
	out := []string{r.RegistrationTokenHash, r.PreviousToken.Hash}
	for _, s := range r.Secrets {
		out = append(out, s.Hash)
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// assertNoSecrets fails if out shows a hash of records, or anything named
// like one.
func assertNoSecrets(t *testing.T, out string, records ...client.Record) {
	t.Helper()
	lower := strings.ToLower(out)
	for _, word := range []string{"userpassword", "hash", "{ssha512}"} {
		if strings.Contains(lower, word) {
			t.Errorf("output mentions %q:\n%s", word, out)
		}
	}
	for _, r := range records {
		for _, h := range secretsOf(r) {
			if strings.Contains(out, h) {
				t.Errorf("output shows a hash of %s: %s", r.ID, h)
			}
		}
	}
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, out string) []clientView {
	t.Helper()
	var views []clientView
	for line := range strings.Lines(out) {
		var v clientView
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not one JSON object per line: %v\n%s", err, line)
		}
		views = append(views, v)
	}
	return views
}

// tableRows reads the table: the header, then one client per line.
func tableRows(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "STATUS") {
		t.Fatalf("no table header:\n%s", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		rows[strings.Fields(l)[0]] = l
	}
	return rows
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
