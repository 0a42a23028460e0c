package fetch

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// server is a real TLS server on loopback answering with h.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *Fetcher) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	f := New(Config{Timeout: 500 * time.Millisecond, MaxBytes: 64, RootCAs: pool,
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	return srv, f
}

func jsonAnswer(body, cacheControl string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		_, _ = w.Write([]byte(body))
	}
}

func TestJSONFetchesWithinBounds(t *testing.T) {
	srv, f := server(t, jsonAnswer(`{"a":1}`, "public, max-age=600"))
	doc, err := f.JSON(t.Context(), srv.URL+"/doc.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc.Body) != `{"a":1}` || !doc.HasMaxAge || doc.MaxAge != 10*time.Minute {
		t.Fatalf("got %+v", doc)
	}
}

func TestMaxAge(t *testing.T) {
	for _, tc := range []struct {
		values []string
		age    time.Duration
		found  bool
	}{
		{nil, 0, false},
		{[]string{"public"}, 0, false},
		{[]string{"max-age=60"}, time.Minute, true},
		{[]string{`max-age="60"`}, time.Minute, true},
		{[]string{"max-age=60, no-cache"}, 0, true},
		{[]string{"max-age=60", "no-store"}, 0, true},
		{[]string{"max-age=-1"}, 0, false},
		{[]string{"max-age=99999999999999"}, 365 * 24 * time.Hour, true},
	} {
		age, found := maxAge(tc.values)
		if age != tc.age || found != tc.found {
			t.Errorf("maxAge(%q) = %v, %v; want %v, %v", tc.values, age, found, tc.age, tc.found)
		}
	}
}

// TestJSONRefuses: every way a document can be refused, each with a reason
// that names no internal address.
func TestJSONRefuses(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/big", jsonAnswer(strings.Repeat("x", 65), ""))
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("{}"))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://169.254.169.254/latest/meta-data", http.StatusFound)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/ok", jsonAnswer("{}", ""))
	srv, f := server(t, mux.ServeHTTP)
	public := New(Config{Timeout: 500 * time.Millisecond})
	for _, tc := range []struct {
		name    string
		f       *Fetcher
		url     string
		message string
	}{
		{"too large", f, srv.URL + "/big", "larger than 64 bytes"},
		{"not JSON", f, srv.URL + "/html", "content type is not JSON"},
		{"redirect", f, srv.URL + "/redirect", "redirects are not followed"},
		{"not found", f, srv.URL + "/missing", "status 404"},
		{"slow", f, srv.URL + "/slow", "in time"},
		{"http", f, strings.Replace(srv.URL, "https", "http", 1) + "/ok", "only https"},
		{"user info", f, strings.Replace(srv.URL, "https://", "https://u:p@", 1) + "/ok", "no user information"},
		{"loopback", public, srv.URL + "/ok", "not one dcrgate may connect to"},
		{"localhost name", public, "https://localhost/ok", "not one dcrgate may connect to"},
		{"metadata service", public, "https://169.254.169.254/latest", "not one dcrgate may connect to"},
		{"private", public, "https://10.0.0.1/x", "not one dcrgate may connect to"},
		{"mapped loopback", public, "https://[::ffff:127.0.0.1]/x", "not one dcrgate may connect to"},
		{"not a URL", f, "https://[::1", "not a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.f.JSON(t.Context(), tc.url)
			if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want ErrFetch with %q", err, tc.message)
			}
			if strings.Contains(err.Error(), "127.0.0.1:") {
				t.Fatalf("the reason names an internal address: %v", err)
			}
		})
	}
}

// TestGuardPorts: a public address is reachable on 443 only; an allowed
// network on any port.
func TestGuardPorts(t *testing.T) {
	g := guard([]netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")})
	for addr, ok := range map[string]bool{
		"93.184.215.14:443": true, "93.184.215.14:8443": false, "10.1.2.3:8443": true,
		"10.2.0.1:443": false, "[2606:4700::1]:443": true, "[::1]:443": false,
	} {
		network := "tcp4"
		if strings.HasPrefix(addr, "[") {
			network = "tcp6"
		}
		if err := g(network, addr, nil); (err == nil) != ok {
			t.Errorf("guard(%s) = %v, want allowed %v", addr, err, ok)
		}
	}
}
