package ldapstore

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// The ad layout is tested on slapd with a dcrClient class that allows cn,
// as AD's does; no Active Directory was available to test against.

// adStores returns a function giving ad-layout stores over fresh OUs of
// one slapd.
func adStores(t *testing.T) (func(t *testing.T) *Store, *slapdtest.Server) {
	srv := slapdtest.StartWith(t, slapdtest.Options{ADClass: true})
	return func(t *testing.T) *Store {
		return storeAt(t, srv, func(c *Config) { c.Layout = LayoutAD })
	}, srv
}

func TestConformanceADLayout(t *testing.T) {
	open, _ := adStores(t)
	t.Run("controls", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
	})
	t.Run("fallback", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return withoutControls(open(t)) })
	})
}

// TestADLayoutEntry checks the entry an AS on AD reads: named by cn, the
// hashes in dcrSecretHash and none in userPassword, and secrets verified
// by comparing hashes (a bind as the entry cannot work there).
func TestADLayoutEntry(t *testing.T) {
	open, srv := adStores(t)
	s := open(t)
	r := storetest.NewRecord("adclient")
	r.Secrets = []client.SecretHash{
		{Hash: slapdtest.SSHA512("current")},
		{Hash: slapdtest.SSHA512("retained"), ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second).UTC()},
		{Hash: slapdtest.SSHA512("expired"), ExpiresAt: time.Now().Add(-time.Hour).Truncate(time.Second).UTC()},
	}
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	entryDN := "cn=adclient," + s.cfg.BaseDN
	res, err := rawConn(t, srv).Search(ldap.NewSearchRequest(entryDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=dcrClient)", []string{"cn", schema.AttrClientID, schema.AttrUserPassword, schema.AttrSecretHash}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("entry %s: %v", entryDN, err)
	}
	e := res.Entries[0]
	if e.GetAttributeValue("cn") != r.ID || e.GetAttributeValue(schema.AttrClientID) != r.ID ||
		len(e.GetAttributeValues(schema.AttrUserPassword)) != 0 || len(e.GetAttributeValues(schema.AttrSecretHash)) != 3 {
		t.Fatalf("entry attributes %+v", e.Attributes)
	}
	checkVerifySecret(t, s, []secretCase{
		{"ok/current", r.ID, "current", true},
		{"ok/retained", r.ID, "retained", true},
		{"fail/expired", r.ID, "expired", false},
		{"fail/wrong", r.ID, "Current", false},
		{"fail/empty", r.ID, "", false},
		{"fail/unknown client", "nobody", "current", false},
		{"fail/malformed id", "a,cn=x", "current", false},
	})
	if err := bindAs(t, srv.URL, entryDN, "current"); err == nil {
		t.Fatal("bind as an ad-layout entry succeeded; its secrets must not be in userPassword")
	}
}

func TestLayoutConfig(t *testing.T) {
	tests := []struct {
		name, layout, scheme, wantErr string
	}{
		{"fail/unknown layout", "novell", "", `layout "novell"`},
		{"fail/ad with server hashing", LayoutAD, credentials.SchemeServerHashing, "dcrSecretHash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), Config{URLs: []string{"ldap://127.0.0.1:1"}, BaseDN: "ou=x", Layout: tt.layout, SecretScheme: tt.scheme}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
			}
			if errors.Is(err, store.ErrUnavailable) {
				t.Fatal("a bad config must be refused before dialling")
			}
		})
	}
}

// TestADLayoutThroughTheAPI registers and updates a client over the ad
// layout: the secret the API hands out is the one VerifySecret accepts, and
// a PUT (one Modify) replaces it in dcrSecretHash.
func TestADLayoutThroughTheAPI(t *testing.T) {
	open, _ := adStores(t)
	s := open(t)
	p := newPutAPI(t, s, registration.Management{RotateClientSecret: true, RotateRegistrationAccessToken: true})
	_, reg := p.do(http.MethodPost, putPath, "", `{"redirect_uris":["https://app.example.com/cb"]}`)
	id, first := reg["client_id"].(string), reg["client_secret"].(string)
	body := fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb2"]}`, id)
	code, res := p.do(http.MethodPut, putPath+"/"+id, reg["registration_access_token"].(string), body)
	second, _ := res["client_secret"].(string)
	if code != http.StatusOK || second == "" {
		t.Fatalf("PUT: %d %v", code, res)
	}
	for secret, want := range map[string]bool{first: false, second: true} {
		if ok, err := s.VerifySecret(t.Context(), id, secret); ok != want || err != nil {
			t.Errorf("VerifySecret = %v, %v; want %v", ok, err, want)
		}
	}
}
