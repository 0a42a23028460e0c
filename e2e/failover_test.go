package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
)

// failoverGateway is the real gin engine over the real registration
// service over ldapstore with two directories in ldap.urls.
func failoverGateway(t *testing.T, urls []string, srv *slapdtest.Server) http.Handler {
	t.Helper()
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: urls, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN, PoolSize: 4, Timeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hasher, err := credentials.NewHasher(st.SecretScheme())
	if err != nil {
		t.Fatal(err)
	}
	svc := registration.New(st, nil, hasher, registration.Options{
		Management: registration.Management{Enabled: true, RotateClientSecret: true, RotateRegistrationAccessToken: true}})
	return api.NewRouter(api.Config{Path: "/register", RegistrationEnabled: true, ManagementEnabled: true,
		MaxBodyBytes: 64 << 10, Realm: "dcrgate"}, svc, metrics.New(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}

type registered struct{ id, token string }

func serveJSON(h http.Handler, method, path, bearer, body string) (int, map[string]any) {
	req := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	var out map[string]any
	_ = json.Unmarshal(rr.Body.Bytes(), &out)
	return rr.Code, out
}

const failoverClient = `{"redirect_uris":["https://app.example.com/cb"]}`

func registerOne(h http.Handler) (int, registered) {
	code, body := serveJSON(h, http.MethodPost, "/register", "", failoverClient)
	id, _ := body["client_id"].(string)
	token, _ := body["registration_access_token"].(string)
	return code, registered{id, token}
}

// TestFailover: two directories that do not replicate. Clients registered
// while the first is up live there; once it stops, registrations go to the
// second without a single 5xx, and management requests for clients the
// second never saw answer 401 as for any unknown client. Requests in
// flight while the first server stops may get 503, never 500.
func TestFailover(t *testing.T) {
	first := slapdtest.Start(t)
	second := slapdtest.StartWith(t, slapdtest.Options{BindPassword: first.BindPassword})
	h := failoverGateway(t, []string{first.URL, second.URL}, first)

	var before []registered
	for range 5 {
		code, r := registerOne(h)
		if code != http.StatusCreated {
			t.Fatalf("register with both servers up: %d", code)
		}
		before = append(before, r)
	}

	// Register concurrently while the first server stops.
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _ := registerOne(h)
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // let requests be in flight; not a timing assertion
	first.Stop()
	close(stop)
	wg.Wait()
	t.Logf("registrations in flight around the stop: %v", statuses)
	for code, n := range statuses {
		if code != http.StatusCreated && code != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d while the first server stopped", n, code)
		}
	}

	var after registered
	for i := range 10 {
		var code int
		if code, after = registerOne(h); code != http.StatusCreated {
			t.Fatalf("registration %d after the first server stopped: %d", i, code)
		}
	}
	if !(directory{t, second}).exists(after.id) {
		t.Fatalf("client %s registered after the stop is not on the second server", after.id)
	}
	for _, r := range before {
		code, body := serveJSON(h, http.MethodGet, "/register/"+r.id, r.token, "")
		if code != http.StatusUnauthorized || body["error"] != "invalid_token" {
			t.Fatalf("read of a client stored on the stopped server: %d %v, want 401 invalid_token", code, body)
		}
	}
}
