package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/fetch"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// documentServer is a real TLS server on loopback publishing documents
// (path → body, served as application/json with cacheControl) and counting
// the requests it gets.
type documentServer struct {
	*httptest.Server
	mu      sync.Mutex
	docs    map[string]string
	headers map[string]string // path → Content-Type, when not JSON
	hits    atomic.Int64
}

func newDocumentServer(t *testing.T) *documentServer {
	d := &documentServer{docs: map[string]string{}, headers: map[string]string{}}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		d.mu.Lock()
		body, ok := d.docs[r.URL.Path]
		ctype := d.headers[r.URL.Path]
		d.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if ctype == "" {
			ctype = "application/json"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(d.Close)
	return d
}

// publish serves body at path, with %s in body replaced by the URL itself.
func (d *documentServer) publish(path, body string) string {
	u := d.URL + path
	d.mu.Lock()
	defer d.mu.Unlock()
	if strings.Contains(body, "%s") {
		body = fmt.Sprintf(body, u)
	}
	d.docs[path] = body
	return u
}

// fetcher is a guarded fetcher that trusts d and may reach loopback.
func (d *documentServer) fetcher() *fetch.Fetcher {
	return fetch.New(fetch.Config{Timeout: time.Second, MaxBytes: 2048,
		RootCAs:         d.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

const documentPath = endpoint + "/metadata-document"

func withDocuments(d *documentServer, newStore func(t *testing.T) store.Store, t *testing.T) func(*setup) {
	return func(s *setup) {
		s.store = newStore(t)
		s.api.MetadataDocuments = true
		s.opts.Fetcher = d.fetcher()
		s.opts.MetadataDocuments = registration.MetadataDocuments{Enabled: true, MinCache: 5 * time.Minute, MaxCache: time.Hour}
	}
}

const mcpDocument = `{"client_id":"%s","client_name":"Assistant","redirect_uris":["http://127.0.0.1/callback"],"grant_types":["authorization_code"],"response_types":["code"]}`

func fetchBody(id string) string { return fmt.Sprintf(`{"client_id":%q}`, id) }

// TestMetadataDocument: dcrgate fetches a client's metadata document into
// the directory once, answers from the directory while the copy is fresh
// (its Cache-Control within the configured bounds), fetches it again once
// it expires, and never issues a secret or a registration access token.
func TestMetadataDocument(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		d := newDocumentServer(t)
		h := newHarness(t, withDocuments(d, newStore, t))
		id := d.publish("/clients/assistant.json", mcpDocument)
		tok := h.token("dcr")

		res := h.do(http.MethodPost, documentPath, tok, fetchBody(id))
		if res.Code != http.StatusCreated || res.str("client_id") != id || res.str("token_endpoint_auth_method") != "none" {
			t.Fatalf("first fetch: %d %s", res.Code, res.Body)
		}
		for _, member := range []string{"client_secret", "registration_access_token", "registration_client_uri"} {
			if _, ok := res.json[member]; ok {
				t.Errorf("a metadata document client was given %s", member)
			}
		}
		stored, err := h.store.Get(t.Context(), id)
		if err != nil || !stored.ExpiresAt.Equal(h.now.Add(10*time.Minute).Truncate(time.Second)) || len(stored.Secrets) != 0 {
			t.Fatalf("stored: expires %v (want max-age 600 s), %d secrets, %v", stored.ExpiresAt, len(stored.Secrets), err)
		}

		hits := d.hits.Load()
		if res := h.do(http.MethodPost, documentPath, tok, fetchBody(id)); res.Code != http.StatusOK || d.hits.Load() != hits {
			t.Fatalf("fresh copy: %d, fetched again: %v", res.Code, d.hits.Load() != hits)
		}

		d.publish("/clients/assistant.json", strings.Replace(mcpDocument, "Assistant", "Assistant 2", 1))
		h.now = h.now.Add(11 * time.Minute)
		res = h.do(http.MethodPost, documentPath, tok, fetchBody(id))
		if res.Code != http.StatusOK || res.str("client_name") != "Assistant 2" || d.hits.Load() != hits+1 {
			t.Fatalf("expired copy: %d %s (fetches %d)", res.Code, res.Body, d.hits.Load()-hits)
		}

		// Such a client is not managed through RFC 7592 (its document is):
		// its management path answers as one no client has.
		for _, other := range []string{id, d.URL + "/never-fetched.json"} {
			item := endpoint + "/" + url.PathEscape(other)
			if res := h.do(http.MethodGet, item, tok, ""); res.Code != http.StatusNotFound {
				t.Fatalf("GET %s = %d, want 404", item, res.Code)
			}
		}
	})
}

// TestMetadataDocumentAuthenticatesFirst: a caller without a valid initial
// access token learns nothing and makes dcrgate fetch nothing, even where
// the anonymous profile admits registrations without one.
func TestMetadataDocumentAuthenticatesFirst(t *testing.T) {
	d := newDocumentServer(t)
	h := newHarness(t, withDocuments(d, func(*testing.T) store.Store { return nil }, t), func(s *setup) {
		s.opts.Anonymous.Enabled = true // admits registrations without a token, never fetches
	})
	id := d.publish("/c.json", mcpDocument)
	for _, tc := range []struct {
		bearer string
		status int
	}{{"", 401}, {"not-a-token", 401}, {h.token("profile"), 403}} {
		res := h.do(http.MethodPost, documentPath, tc.bearer, fetchBody(id))
		if res.Code != tc.status {
			t.Errorf("bearer %.12q: %d, want %d", tc.bearer, res.Code, tc.status)
		}
	}
	if n := d.hits.Load(); n != 0 {
		t.Fatalf("unauthenticated calls fetched %d documents", n)
	}
}

// TestMetadataDocumentRefusals: hostile and broken documents and URLs get
// an RFC-shaped 400 and leave nothing in the directory.
func TestMetadataDocumentRefusals(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		d := newDocumentServer(t)
		chain, err := policies.Build([]policies.Spec{
			{Name: "local-only", Kind: policies.KindRedirectURIHosts, Values: []string{"127.0.0.1"}},
			{Name: "trusted-documents", Kind: policies.KindCEL, Expression: `!client_id.contains("/untrusted/")`, Message: "documents from there are not accepted"},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, withDocuments(d, newStore, t), func(s *setup) { s.policy = chain })
		d.headers["/html.json"] = "text/html"
		tok := h.token("dcr")
		for _, tc := range []struct {
			name, id, code, says string
		}{
			{"other client_id", d.publish("/other.json", `{"client_id":"https://evil.example/c.json","redirect_uris":["http://127.0.0.1/cb"]}`), "invalid_client_metadata", "exactly the URL"},
			{"secret", d.publish("/secret.json", `{"client_id":"%s","client_secret":"s","redirect_uris":["http://127.0.0.1/cb"]}`), "invalid_client_metadata", "client_secret"},
			{"server member", d.publish("/issued.json", `{"client_id":"%s","client_id_issued_at":1,"redirect_uris":["http://127.0.0.1/cb"]}`), "invalid_client_metadata", "server sets"},
			{"shared secret method", d.publish("/basic.json", `{"client_id":"%s","token_endpoint_auth_method":"client_secret_basic","redirect_uris":["http://127.0.0.1/cb"]}`), "invalid_client_metadata", "shared secret"},
			{"duplicate member", d.publish("/dup.json", `{"client_id":"%s","client_id":"x","redirect_uris":["http://127.0.0.1/cb"]}`), "invalid_client_metadata", "more than once"},
			{"policy", d.publish("/policy.json", `{"client_id":"%s","redirect_uris":["https://elsewhere.example/cb"]}`), "invalid_redirect_uri", "local-only"},
			{"cel on the URL", d.publish("/untrusted/c.json", mcpDocument), "invalid_client_metadata", "not accepted"},
			{"not JSON", d.publish("/html.json", `{"client_id":"%s"}`), "invalid_client_metadata", "content type"},
			{"too large", d.publish("/big.json", `{"client_id":"%s","client_name":"`+strings.Repeat("x", 3000)+`"}`), "invalid_client_metadata", "larger than"},
			{"missing", d.URL + "/missing.json", "invalid_client_metadata", "status 404"},
			{"not https", strings.Replace(d.URL, "https", "http", 1) + "/c.json", "invalid_request", "https URL"},
			{"fragment", d.URL + "/c.json#x", "invalid_request", "fragment"},
			{"no path", d.URL, "invalid_request", "a path"},
			{"dot segment", d.URL + "/a/../c.json", "invalid_request", "dot segments"},
			{"public only", "https://169.254.169.254/latest/meta-data/x", "invalid_client_metadata", "not one dcrgate may connect to"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := h.do(http.MethodPost, documentPath, tok, fetchBody(tc.id))
				if res.Code != http.StatusBadRequest || res.str("error") != tc.code || !strings.Contains(res.str("error_description"), tc.says) {
					t.Fatalf("%d %s, want 400 %s saying %q", res.Code, res.Body, tc.code, tc.says)
				}
				if _, err := h.store.Get(t.Context(), tc.id); err == nil {
					t.Fatal("a refused document was stored")
				}
			})
		}
		for _, body := range []string{`{"client_id":42}`, `[]`, `{}`} {
			if res := h.do(http.MethodPost, documentPath, tok, body); res.Code != http.StatusBadRequest {
				t.Errorf("body %s: %d, want 400", body, res.Code)
			}
		}
	})
}

// TestMetadataDocumentConcurrentFirstFetch: callers racing for a client
// new to the directory all get it; exactly one creates it.
func TestMetadataDocumentConcurrentFirstFetch(t *testing.T) {
	d := newDocumentServer(t)
	h := newHarness(t, withDocuments(d, func(*testing.T) store.Store { return nil }, t))
	id := d.publish("/race.json", mcpDocument)
	tok := h.token("dcr")
	var created, ok atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			rr := httptest.NewRecorder()
			h.handler.ServeHTTP(rr, newRequest(http.MethodPost, documentPath, tok, fetchBody(id)))
			switch rr.Code {
			case http.StatusCreated:
				created.Add(1)
			case http.StatusOK:
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 || ok.Load() != 7 {
		t.Fatalf("%d created, %d ok; want 1 and 7", created.Load(), ok.Load())
	}
}

// TestMetadataDocumentsOff: without the setting the endpoint does not
// exist: a POST there is refused as on any client's path, and nothing is
// fetched.
func TestMetadataDocumentsOff(t *testing.T) {
	d := newDocumentServer(t)
	h := newHarness(t, func(s *setup) { s.opts.Fetcher = d.fetcher() })
	if res := h.do(http.MethodPost, documentPath, h.token("dcr"), fetchBody(d.publish("/c.json", mcpDocument))); res.Code != http.StatusMethodNotAllowed || d.hits.Load() != 0 {
		t.Fatalf("%d (fetches %d), want 405", res.Code, d.hits.Load())
	}
}

// TestSectorIdentifierURI: the redirect URIs of a client naming a
// sector_identifier_uri must all be listed in the array it serves.
func TestSectorIdentifierURI(t *testing.T) {
	d := newDocumentServer(t)
	h := newHarness(t, func(s *setup) { s.opts.Fetcher = d.fetcher() })
	sector := d.publish("/sector.json", `["https://app.example.com/cb","https://app.example.com/cb2"]`)
	notArray := d.publish("/object.json", `{"redirect_uris":["https://app.example.com/cb"]}`)
	tok := h.token("dcr")
	for _, tc := range []struct {
		name, sector, redirects string
		status                  int
		code                    string
	}{
		{"listed", sector, `["https://app.example.com/cb"]`, 201, ""},
		{"not listed", sector, `["https://app.example.com/cb","https://app.example.com/other"]`, 400, "invalid_redirect_uri"},
		{"not an array", notArray, `["https://app.example.com/cb"]`, 400, "invalid_client_metadata"},
		{"unreachable", d.URL + "/missing.json", `["https://app.example.com/cb"]`, 400, "invalid_client_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"redirect_uris":%s,"sector_identifier_uri":%q,"tenant":"acme"}`, tc.redirects, tc.sector)
			res := h.do(http.MethodPost, endpoint, tok, body)
			if res.Code != tc.status || res.str("error") != tc.code {
				t.Fatalf("%d %s, want %d %s", res.Code, res.Body, tc.status, tc.code)
			}
		})
	}
}

// TestOpenAPIMetadataDocuments holds the metadata document exchanges to
// the committed document: created, answered from the directory, refused.
func TestOpenAPIMetadataDocuments(t *testing.T) {
	doc := contract(t)
	d := newDocumentServer(t)
	h := newHarness(t, withDocuments(d, func(*testing.T) store.Store { return nil }, t))
	id := d.publish("/openapi-client.json", mcpDocument)
	other := d.publish("/other-client.json", `{"client_id":"https://elsewhere.example/c.json","redirect_uris":["http://127.0.0.1/cb"]}`)
	tok := h.token("dcr")
	for _, tc := range []struct {
		bearer, body string
		status       int
	}{
		{tok, fetchBody(id), 201},
		{tok, fetchBody(id), 200},
		{tok, fetchBody(other), 400},
		{tok, fetchBody("http://a.example/c.json"), 400},
		{"forged", fetchBody(id), 401},
		{h.token("openid"), fetchBody(id), 403},
	} {
		res := exchange(t, doc, h, newRequest(http.MethodPost, documentPath, tc.bearer, tc.body), true)
		if res.Code != tc.status {
			t.Fatalf("%s: %d %s, want %d", tc.body, res.Code, res.Body, tc.status)
		}
	}
}

// TestMetadataDocumentHosts: the allow and deny lists are applied before
// any request leaves dcrgate.
func TestMetadataDocumentHosts(t *testing.T) {
	for _, tc := range []struct {
		name            string
		allowed, denied []string
		status          int
	}{
		{"allowed", []string{"127.0.0.1"}, nil, 201},
		{"not on the allow list", []string{"*.example.com"}, nil, 400},
		{"denied", nil, []string{"127.0.0.1"}, 400},
		{"denied wins", []string{"127.0.0.1"}, []string{"127.0.0.1"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDocumentServer(t)
			h := newHarness(t, withDocuments(d, func(*testing.T) store.Store { return nil }, t), func(s *setup) {
				s.opts.MetadataDocuments.AllowedHosts, s.opts.MetadataDocuments.DeniedHosts = tc.allowed, tc.denied
			})
			res := h.do(http.MethodPost, documentPath, h.token("dcr"), fetchBody(d.publish("/c.json", mcpDocument)))
			if res.Code != tc.status {
				t.Fatalf("%d %s, want %d", res.Code, res.Body, tc.status)
			}
			if tc.status == 400 && (d.hits.Load() != 0 || !strings.Contains(res.str("error_description"), "not accepted")) {
				t.Fatalf("refused after %d fetches: %s", d.hits.Load(), res.Body)
			}
		})
	}
}
