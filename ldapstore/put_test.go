package ldapstore

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/memstore"
)

const putPath = "/as/clients.oauth2"

// casOnly hides every optional capability of a store, so the service takes
// the read-modify-write path it takes on stores without them.
type casOnly struct{ store.Store }

// putAPI is the real gin engine and registration service over st, with
// open registration and management on.
type putAPI struct {
	t       *testing.T
	handler http.Handler
	store   store.Store
}

func newPutAPI(t *testing.T, st store.Store, m registration.Management) *putAPI {
	hasher, err := credentials.NewHasher(credentials.SchemeSSHA512)
	if err != nil {
		t.Fatal(err)
	}
	m.Enabled = true
	svc := registration.New(st, nil, hasher, registration.Options{Management: m,
		ClientURI: func(id string) string { return "https://dcr.example.com" + putPath + "/" + id }})
	h := api.NewRouter(api.Config{Path: putPath, RegistrationEnabled: true, ManagementEnabled: true,
		MaxBodyBytes: 64 << 10, Realm: "dcrgate"}, svc, metrics.New(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	return &putAPI{t: t, handler: h, store: st}
}

// do sends one request and returns the status and decoded JSON body.
func (p *putAPI) do(method, path, bearer, body string) (int, map[string]any) {
	p.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rr := httptest.NewRecorder()
	p.handler.ServeHTTP(rr, req)
	var out map[string]any
	if rr.Body.Len() > 0 {
		if err := json.Unmarshal(rr.Body.Bytes(), &out); err != nil {
			p.t.Fatalf("%s %s: %d %q", method, path, rr.Code, rr.Body)
		}
	}
	return rr.Code, out
}

// secretWorks checks secret against the stored hashes, whatever the store.
func (p *putAPI) secretWorks(id, secret string) bool {
	p.t.Helper()
	r, err := p.store.Get(p.t.Context(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	h, _ := credentials.NewHasher(credentials.SchemeSSHA512)
	for _, s := range r.Secrets {
		if ok, _ := h.Verify(secret, s.Hash); ok {
			return true
		}
	}
	return false
}

// transcript runs the key PUT cases and records every answer with the
// random values (IDs, secrets, tokens, times) reduced to whether they were
// sent, so that two backends' transcripts can be compared.
func (p *putAPI) transcript() []string {
	var lines []string
	var issuedAt any
	record := func(step string, code int, body map[string]any) {
		lines = append(lines, fmt.Sprintf("%s: %d %s", step, code, normalized(body, issuedAt)))
	}
	code, reg := p.do(http.MethodPost, putPath, "", `{"redirect_uris":["https://app.example.com/cb"],"client_name":"Web","logo_uri":"https://app.example.com/logo.png","scope":"openid email"}`)
	issuedAt = reg["client_id_issued_at"]
	record("register", code, reg)
	id, secret, token := reg["client_id"].(string), reg["client_secret"].(string), reg["registration_access_token"].(string)
	path := putPath + "/" + id
	update := func(step, bearer, body string) map[string]any {
		code, res := p.do(http.MethodPut, path, bearer, fmt.Sprintf(body, id))
		record(step, code, res)
		if s, _ := res["client_secret"].(string); s != "" {
			lines = append(lines, fmt.Sprintf("%s: new secret works %v, old %v", step, p.secretWorks(id, s), p.secretWorks(id, secret)))
			secret = s
		}
		if t, _ := res["registration_access_token"].(string); t != "" {
			token = t
		}
		return res
	}
	update("fail/wrong token", "wrong", `{"client_id":%q,"redirect_uris":["https://app.example.com/cb"]}`)
	old := token
	update("ok/omitted fields reset", token, `{"client_id":%q,"redirect_uris":["https://app.example.com/cb2"],"client_name":"Renamed"}`)
	update("fail/old token after rotation", old, `{"client_id":%q,"redirect_uris":["https://app.example.com/cb"]}`)
	update("ok/to public", token, `{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none"}`)
	update("ok/back to confidential", token, `{"client_id":%q,"redirect_uris":["https://app.example.com/cb"],"scope":"profile"}`)
	update("ok/with the current secret", token, `{"client_id":%q,"client_secret":"`+secret+`","redirect_uris":["https://app.example.com/cb"]}`)
	code, res := p.do(http.MethodGet, path, token, "")
	record("read", code, res)
	code, res = p.do(http.MethodPut, putPath+"/nosuchclient", token, `{"client_id":"nosuchclient","redirect_uris":["https://app.example.com/cb"]}`)
	record("fail/unknown client", code, res)
	return lines
}

// normalized renders body with the values that differ per run replaced;
// client_id_issued_at must stay the registration's.
func normalized(body map[string]any, issuedAt any) string {
	out := map[string]any{}
	for k, v := range body {
		switch {
		case k == "client_id_issued_at":
			out[k] = v == issuedAt
		case k == "client_id", k == "client_secret", k == "registration_access_token", k == "registration_client_uri":
			out[k] = "<set>"
		default:
			out[k] = v
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// TestPutSameOnEveryBackend runs the PUT cases through the API on memstore
// read-modify-write (the reference), memstore's and ldapstore's token-guarded
// replacement, and ldapstore without the controls: every answer must be
// the same.
func TestPutSameOnEveryBackend(t *testing.T) {
	options := map[string]registration.Management{
		"rotate all":       {RotateClientSecret: true, RotateRegistrationAccessToken: true},
		"rotate token":     {RotateRegistrationAccessToken: true},
		"rotate nothing":   {},
		"retain on rotate": {RotateClientSecret: true, RetainClientSecret: true, ClientSecretRetentionPeriod: time.Hour},
	}
	for name, m := range options {
		t.Run(name, func(t *testing.T) {
			want := newPutAPI(t, casOnly{memstore.New()}, m).transcript()
			backends := map[string]func() store.Store{
				"memstore":            func() store.Store { return memstore.New() },
				"ldapstore":           func() store.Store { s, _ := newStore(t); return s },
				"ldapstore/fallback":  func() store.Store { s, _ := newStore(t); return withoutControls(s) },
				"ldapstore/cas only":  func() store.Store { s, _ := newStore(t); return casOnly{s} },
				"ldapstore/forgetful": func() store.Store { s, _ := newStore(t); return withoutMemory(s) },
			}
			for backend, open := range backends {
				if got := newPutAPI(t, open(), m).transcript(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s answers differently:\n got %s\nwant %s", backend, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
				}
			}
		})
	}
}

// TestPutRoundTrips: a PUT of a client this process wrote last is one LDAP
// Modify, whatever it checks or rotates; of another, a read, then the
// guarded Modify: the token is checked on the stored entry before the
// body is judged.
func TestPutRoundTrips(t *testing.T) {
	tests := []struct {
		name       string
		m          registration.Management
		withSecret bool
		// elsewhere makes the store forget it registered the client, as
		// if another dcrgate had.
		elsewhere bool
		// want with the controls, and without them.
		want, fallback map[string]int
	}{
		{"ok/rotating", registration.Management{RotateClientSecret: true, RotateRegistrationAccessToken: true}, false, false,
			map[string]int{opModify: 1}, map[string]int{opModify: 1}},
		{"ok/rotating, registered elsewhere", registration.Management{RotateClientSecret: true, RotateRegistrationAccessToken: true}, false, true,
			map[string]int{opSearch: 1, opModify: 1}, map[string]int{opSearch: 1, opModify: 1}},
		{"ok/presented secret", registration.Management{RotateClientSecret: true}, true, false,
			map[string]int{opModify: 1}, map[string]int{opModify: 1}},
		{"ok/no rotation", registration.Management{}, false, false,
			map[string]int{opModify: 1}, map[string]int{opModify: 1}},
		{"ok/no rotation, registered elsewhere", registration.Management{}, false, true,
			map[string]int{opSearch: 1, opModify: 1}, map[string]int{opSearch: 1, opModify: 1}},
	}
	for _, controls := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(map[bool]string{true: "controls/", false: "fallback/"}[controls]+tt.name, func(t *testing.T) {
				s, counter := countingStore(t, controls)
				p := newPutAPI(t, s, tt.m)
				_, reg := p.do(http.MethodPost, putPath, "", `{"redirect_uris":["https://app.example.com/cb"]}`)
				id := reg["client_id"].(string)
				if tt.elsewhere {
					s.known.forget(id)
				}
				body := fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb2"]}`, id)
				if tt.withSecret {
					body = fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"redirect_uris":["https://app.example.com/cb2"]}`, id, reg["client_secret"])
				}
				before := counter.counts()
				if code, res := p.do(http.MethodPut, putPath+"/"+id, reg["registration_access_token"].(string), body); code != http.StatusOK {
					t.Fatalf("PUT: %d %v", code, res)
				}
				got := map[string]int{}
				for op, n := range counter.counts() {
					if d := n - before[op]; d > 0 {
						got[op] = d
					}
				}
				want := map[bool]map[string]int{true: tt.want, false: tt.fallback}[controls]
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("LDAP requests %v, want %v", got, want)
				}
			})
		}
	}
}
