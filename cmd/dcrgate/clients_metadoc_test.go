package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// documentHost serves one metadata document over TLS on loopback and
// returns its URL and the configuration that lets dcrgate fetch it.
func documentHost(t *testing.T, name string) (url, extra string) {
	t.Helper()
	var docURL string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id":%q,"client_name":%q,"redirect_uris":["http://127.0.0.1/cb"]}`, docURL, name)
	}))
	t.Cleanup(srv.Close)
	docURL = srv.URL + "/oauth/client.json"
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return docURL, fmt.Sprintf(`registration:
  enabled: true
  require_initial_access_token: false
metadata_documents:
  enabled: true
fetch:
  allowed_networks: [127.0.0.1]
  ca_file: %s
`, ca)
}

// TestClientsFetchMetadata: an administrator fetches a metadata document
// into the directory with the API's rules, then administers that client
// by its URL like any other, except for credentials it does not have.
func TestClientsFetchMetadata(t *testing.T) {
	url, extra := documentHost(t, "Desk Assistant")
	d := newDirectory(t, slapdtest.Options{}, extra)

	stdout, _ := d.mustRun(t, "fetch-metadata", url)
	for _, want := range []string{"client_id:                 " + url, "name:                      Desk Assistant", `"token_endpoint_auth_method": "none"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("fetch-metadata lacks %q:\n%s", want, stdout)
		}
	}
	if stdout, _ := d.mustRun(t, "show", url, "--json"); !strings.Contains(stdout, `"client_id":"`+url+`"`) {
		t.Errorf("show --json: %s", stdout)
	}
	d.mustRun(t, "disable", url)
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"fetch-metadata", url}, "disabled by an administrator"},
		{[]string{"reset-token", url}, "its document manages it"},
		{[]string{"fetch-metadata", "http://a.example/c.json"}, "expects one https URL"},
		{[]string{"fetch-metadata", "https://a.example"}, "expects one https URL"},
	} {
		if _, _, err := d.run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("clients %v: %v, want %q", tc.args, err, tc.says)
		}
	}
	d.mustRun(t, "delete", url)
	if _, err := d.store.Get(t.Context(), url); err == nil {
		t.Fatal("the client outlived delete")
	}
}
