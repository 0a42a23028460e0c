package e2e

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
)

// TestMetadataDocumentThroughServe plays the authorization server of the
// MCP flow: it meets a URL client_id it cannot find in the directory, has
// the binary fetch its metadata document (switched on from the
// environment), and then finds the client in slapd with the filter
// docs/directories.md gives it: public, no secret, an expiry. A caller
// without a token, and a document on the cloud metadata address, are
// refused.
func TestMetadataDocumentThroughServe(t *testing.T) {
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	var docURL string
	host := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		fmt.Fprintf(w, `{"client_id":%q,"client_name":"Desk Assistant","redirect_uris":["http://127.0.0.1:33418/callback"],"grant_types":["authorization_code","refresh_token"]}`, docURL)
	}))
	t.Cleanup(host.Close)
	docURL = host.URL + "/oauth/client.json"
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: host.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startServe(t, srv, issuer, "DCRGATE_METADATA_DOCUMENTS_ENABLED=true",
		"DCRGATE_FETCH_ALLOWED_NETWORKS=127.0.0.1", "DCRGATE_FETCH_CA_FILE="+ca)
	endpoint := gw.endpoint + "/metadata-document"
	asToken := issuer.mint(t, "authorization-server", "dcr")

	wantStatus(t, "without a token", call(t, "POST", endpoint, "", map[string]any{"client_id": docURL}), 401)
	refused := call(t, "POST", endpoint, asToken, map[string]any{"client_id": "https://169.254.169.254/latest/meta-data"})
	wantStatus(t, "the cloud metadata address", refused, 400)

	got := call(t, "POST", endpoint, asToken, map[string]any{"client_id": docURL})
	wantStatus(t, "first fetch", got, 201)
	if got.str("client_id") != docURL || got.str("client_secret") != "" || got.str("registration_access_token") != "" {
		t.Fatalf("first fetch answered %v", got.body)
	}
	wantStatus(t, "second fetch, fresh", call(t, "POST", endpoint, asToken, map[string]any{"client_id": docURL}), 200)

	conn := directory{t, srv}.conn()
	defer conn.Close()
	filter := fmt.Sprintf("(&(objectClass=%s)(%s=%s)(!(%s=TRUE)))", schema.ClassClient, schema.AttrClientID,
		ldap.EscapeFilter(docURL), schema.AttrDisabled)
	res, err := conn.Search(ldap.NewSearchRequest(srv.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, []string{schema.AttrExpiresAt, schema.AttrUserPassword}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("the AS's search %s: %v, %d entries", filter, err, len(res.Entries))
	}
	e := res.Entries[0]
	if e.GetAttributeValue(schema.AttrExpiresAt) == "" || len(e.GetAttributeValues(schema.AttrUserPassword)) != 0 {
		t.Fatalf("entry %s: expiry %q, %d secrets", e.DN, e.GetAttributeValue(schema.AttrExpiresAt), len(e.GetAttributeValues(schema.AttrUserPassword)))
	}
}
