package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/schema"
)

// clientJSON is a typical confidential web client. {m} is a per-client
// marker as long as a client ID, so every client has its own redirect URIs
// (as real ones do: a shared value would turn slapd's equality index into
// one huge ID list) while every entry keeps exactly the same size.
const clientJSON = `"redirect_uris":["https://app-{m}.example.com/callback","https://app-{m}.example.com/silent-renew"],` +
	`"client_name":"{n}{m}","grant_types":["authorization_code","refresh_token"],"response_types":["code"],` +
	`"token_endpoint_auth_method":"client_secret_basic","scope":"openid profile email offline_access",` +
	`"client_uri":"https://app-{m}.example.com/","logo_uri":"https://app-{m}.example.com/logo.png",` +
	`"contacts":["ops@example.com"],"software_id":"4NRB1-0XZABZI9E6-5SM3R","software_version":"2.1.0"}`

// The two client names a PUT toggles between, of equal length so an
// updated entry keeps its size.
const (
	nameA = "Bench App "
	nameB = "Bench Upd "
)

func clientName(renamed bool) string {
	if renamed {
		return nameB
	}
	return nameA
}

// registerBody is a registration request for the client marked m.
func registerBody(m string) []byte {
	return []byte("{" + strings.NewReplacer("{m}", m, "{n}", nameA).Replace(clientJSON))
}

// updateBody is an RFC 7592 update request: the same metadata with the
// client's ID and, when renamed, the other name.
func updateBody(id string, renamed bool) []byte {
	return []byte(`{"client_id":"` + id + `",` + strings.NewReplacer("{m}", id, "{n}", clientName(renamed)).Replace(clientJSON))
}

// fixture is one client a worker owns: its ID, its current registration
// access token (rotated by dcrgate), and its revision (bumped by raw modifies).
type fixture struct {
	id, rat string
	rev     uint64
	renamed bool
}

// template is an entry exactly as dcrgate wrote it for one registration,
// cloned under new IDs for every raw write, so the baseline writes entries of
// the same shape and size as dcrgate does.
type template struct {
	attrs  []*ldap.EntryAttribute
	marker string
	id     string
	baseDN string
	// names is the attribute list a read asks for: what the entry holds.
	names []string
}

func newTemplate(e *ldap.Entry, id, marker, baseDN string) *template {
	t := &template{attrs: e.Attributes, marker: marker, id: id, baseDN: baseDN}
	for _, a := range e.Attributes {
		if !strings.EqualFold(a.Name, "objectClass") {
			t.names = append(t.names, a.Name)
		}
	}
	return t
}

func (t *template) dn(id string) string {
	return schema.AttrClientID + "=" + ldap.EscapeDN(id) + "," + t.baseDN
}

// values returns attribute a's values for client id.
func (t *template) values(a *ldap.EntryAttribute, f fixture) []string {
	switch {
	case strings.EqualFold(a.Name, schema.AttrClientID):
		return []string{f.id}
	case strings.EqualFold(a.Name, schema.AttrRevision):
		return []string{strconv.FormatUint(f.rev, 10)}
	case strings.EqualFold(a.Name, schema.AttrRegistrationTokenHash):
		return []string{credentials.HashToken(f.rat)}
	}
	r := strings.NewReplacer(t.marker, f.id, t.id, f.id, nameA, clientName(f.renamed))
	out := make([]string, len(a.Values))
	for i, v := range a.Values {
		out[i] = r.Replace(v)
	}
	return out
}

// metadata is client f's stored metadata (dcrMetadata), "{}" if the
// template has none.
func (t *template) metadata(f fixture) string {
	for _, a := range t.attrs {
		if strings.EqualFold(a.Name, schema.AttrMetadata) && len(a.Values) > 0 {
			return t.values(a, f)[0]
		}
	}
	return "{}"
}

// addRequest clones the template as client f.
func (t *template) addRequest(f fixture) *ldap.AddRequest {
	req := ldap.NewAddRequest(t.dn(f.id), nil)
	for _, a := range t.attrs {
		req.Attribute(a.Name, t.values(a, f))
	}
	return req
}

// newFixture draws a fresh client identity at revision 1.
func newFixture() fixture {
	return fixture{id: credentials.NewClientID(), rat: credentials.NewRegistrationToken(), rev: 1}
}

// modifyRequest is what dcrgate sends for a PUT with rotation: the revision
// swap that makes it a compare-and-swap, the renamed metadata and its
// searchable copy, a new secret hash and a new token hash. It moves f to the
// state it describes.
func (t *template) modifyRequest(f *fixture, secretHash string) *ldap.ModifyRequest {
	req := ldap.NewModifyRequest(t.dn(f.id), nil)
	req.Delete(schema.AttrRevision, []string{strconv.FormatUint(f.rev, 10)})
	f.rev++
	f.renamed = !f.renamed
	f.rat = credentials.NewRegistrationToken()
	req.Add(schema.AttrRevision, []string{strconv.FormatUint(f.rev, 10)})
	for _, a := range t.attrs {
		switch {
		case strings.EqualFold(a.Name, schema.AttrMetadata), strings.EqualFold(a.Name, schema.AttrClientName),
			strings.EqualFold(a.Name, schema.AttrRegistrationTokenHash):
			req.Replace(a.Name, t.values(a, *f))
		}
	}
	req.Replace(schema.AttrUserPassword, []string{secretHash})
	return req
}

// searchRequest is dcrgate's read: the entry by DN, every stored attribute.
func (t *template) searchRequest(id string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(t.dn(id), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass="+schema.ClassClient+")", t.names, nil)
}

// bag is a stock of clients that delete phases consume.
type bag struct {
	mu    sync.Mutex
	items []fixture
}

// push keeps f; a nil bag keeps nothing.
func (b *bag) push(f fixture) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items = append(b.items, f)
}

func (b *bag) pop() (fixture, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.items) == 0 {
		return fixture{}, errExhausted
	}
	f := b.items[len(b.items)-1]
	b.items = b.items[:len(b.items)-1]
	return f, nil
}

func (b *bag) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items)
}

// describe summarises the template for the log.
func (t *template) describe() string {
	size := 0
	for _, a := range t.attrs {
		for _, v := range a.Values {
			size += len(a.Name) + len(v)
		}
	}
	return fmt.Sprintf("%d attributes, ~%d bytes", len(t.attrs), size)
}
