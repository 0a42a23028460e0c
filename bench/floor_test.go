package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
)

// TestFloorDoesTheRawWork drives the floor with the bench's own API client
// and checks in the directory that each call did what the raw phase does:
// Add a template clone, the rotating Modify (revision, name, token hash),
// Delete. The template goes through the file the floor process reads.
func TestFloorDoesTheRawWork(t *testing.T) {
	srv := slapdtest.Start(t)
	dir := directory{URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword, BaseDN: srv.BaseDN}
	pool, err := newConnPool(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.close)
	tpl := learnTemplateInProcess(t, srv, pool)
	path := filepath.Join(t.TempDir(), "template.json")
	if err := tpl.write(path); err != nil {
		t.Fatal(err)
	}
	if tpl, err = readTemplate(path); err != nil {
		t.Fatal(err)
	}
	hasher, err := credentials.NewHasher(benchSecretScheme)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer((&floor{tpl: tpl, pool: pool, hasher: hasher}).routes())
	t.Cleanup(hs.Close)
	api := newAPIClient(hs.URL+registrationPath, "ignored", 2)
	stored := func(id string) *ldap.Entry {
		t.Helper()
		var res *ldap.SearchResult
		err := pool.do(func(c *ldap.Conn) (err error) { res, err = c.Search(tpl.searchRequest(id)); return err })
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil
		}
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("reading %s: %v", id, err)
		}
		return res.Entries[0]
	}

	f, err := api.register(t.Context(), credentials.NewClientID())
	if err != nil {
		t.Fatal(err)
	}
	e := stored(f.id)
	if e == nil || e.GetAttributeValue(schema.AttrRevision) != "1" ||
		e.GetAttributeValue(schema.AttrRegistrationTokenHash) != credentials.HashToken(f.rat) {
		t.Fatalf("register stored %+v, want a clone at revision 1 with the returned token's hash", e)
	}
	for rev, name := range []string{nameB, nameA} {
		if err := api.update(t.Context(), &f); err != nil {
			t.Fatal(err)
		}
		e := stored(f.id)
		if got := e.GetAttributeValue(schema.AttrRevision); got != []string{"2", "3"}[rev] {
			t.Errorf("after PUT %d the revision is %s", rev+1, got)
		}
		if got := e.GetAttributeValue(schema.AttrClientName); !strings.HasPrefix(got, name) {
			t.Errorf("after PUT %d the name is %q, want %q...", rev+1, got, name)
		}
		if e.GetAttributeValue(schema.AttrRegistrationTokenHash) != credentials.HashToken(f.rat) {
			t.Errorf("after PUT %d the stored token hash is not the returned token's", rev+1)
		}
	}
	checkFloorRead(t, hs.URL+registrationPath+"/"+f.id, f.id)
	if err := api.remove(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if stored(f.id) != nil {
		t.Fatal("DELETE left the entry")
	}
	if err := api.read(t.Context(), &f); err == nil {
		t.Fatal("GET of a deleted client succeeded")
	}
}

// checkFloorRead checks that a GET answers the stored metadata as one JSON
// object naming the client once.
func checkFloorRead(t *testing.T, url, id string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d, %v", res.StatusCode, err)
	}
	if body["client_id"] != id || body["redirect_uris"] == nil {
		t.Fatalf("GET answered %v", body)
	}
}

// learnTemplateInProcess registers one client through dcrgate's engine and
// learns the template from its entry, as the bench's setup does.
func learnTemplateInProcess(t *testing.T, srv *slapdtest.Server, pool *connPool) *template {
	t.Helper()
	p := newInProcess(t, srv, true)
	marker := credentials.NewClientID()
	code, body := p.do(http.MethodPost, benchPath, p.iat, registerBody(marker))
	var r registered
	if code != http.StatusCreated || json.Unmarshal(body, &r) != nil {
		t.Fatalf("register: %d %s", code, body)
	}
	tpl := &template{baseDN: srv.BaseDN}
	req := ldap.NewSearchRequest(tpl.dn(r.ClientID), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"*"}, nil)
	var res *ldap.SearchResult
	if err := pool.do(func(c *ldap.Conn) (err error) { res, err = c.Search(req); return err }); err != nil || len(res.Entries) != 1 {
		t.Fatalf("reading the template entry: %v", err)
	}
	return newTemplate(res.Entries[0], r.ClientID, marker, srv.BaseDN)
}
