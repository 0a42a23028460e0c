package api_test

import (
	"net/http"
	"testing"

	"github.com/dcrgate/dcrgate/ratelimit"
)

// TestCallerAddressThroughProxies: the per-address rate limit counts the
// caller a trusted proxy names — in Forwarded (RFC 7239), X-Forwarded-For
// or X-Real-IP, skipping trusted proxies from the right — and the peer
// itself when the peer is not trusted, whatever it claims.
func TestCallerAddressThroughProxies(t *testing.T) {
	type req struct {
		peer    string
		headers []string
		status  int
	}
	tests := []struct {
		name string
		reqs []req
	}{
		{"untrusted peer's claims are ignored", []req{
			{"203.0.113.9:1000", []string{"X-Forwarded-For", "198.51.100.1"}, 201},
			{"203.0.113.9:1001", []string{"X-Forwarded-For", "198.51.100.2"}, 429},
			{"203.0.113.9:1002", []string{"Forwarded", "for=198.51.100.3"}, 429},
			{"203.0.113.9:1003", []string{"X-Dcrgate-Forwarded-For", "198.51.100.4"}, 429},
		}},
		{"X-Forwarded-For from a trusted proxy", []req{
			{"10.0.0.1:1000", []string{"X-Forwarded-For", "198.51.100.1"}, 201},
			{"10.0.0.1:1001", []string{"X-Forwarded-For", "198.51.100.2"}, 201},
			{"10.0.0.1:1002", []string{"X-Forwarded-For", "198.51.100.1"}, 429},
		}},
		{"a chain of trusted proxies", []req{
			{"10.0.0.1:1000", []string{"X-Forwarded-For", "198.51.100.1, 10.0.0.2"}, 201},
			{"10.0.0.1:1001", []string{"X-Forwarded-For", "198.51.100.1"}, 429},
			{"10.0.0.1:1002", []string{"X-Forwarded-For", "198.51.100.9, 198.51.100.1"}, 429},
		}},
		{"Forwarded from a trusted proxy", []req{
			{"10.0.0.1:1000", []string{"Forwarded", "for=198.51.100.3"}, 201},
			{"10.0.0.1:1001", []string{"Forwarded", `for="[2001:db8:cafe::17]:4711";proto=https`}, 201},
			{"10.0.0.1:1002", []string{"Forwarded", `For="198.51.100.3:8443";by=10.0.0.1`}, 429},
			{"10.0.0.1:1003", []string{"Forwarded", "for=198.51.100.5, for=10.0.0.2"}, 201},
			{"10.0.0.1:1004", []string{"Forwarded", "for=2001:db8:cafe::17"}, 429},
		}},
		{"an unknown node is not believed past", []req{
			{"10.0.0.1:1000", []string{"Forwarded", "for=unknown"}, 201},
			{"10.0.0.1:1001", []string{"Forwarded", "for=_hidden"}, 429},
		}},
		{"Forwarded before X-Forwarded-For", []req{
			{"10.0.0.1:1000", []string{"Forwarded", "for=198.51.100.7", "X-Forwarded-For", "198.51.100.8"}, 201},
			{"10.0.0.1:1001", []string{"X-Forwarded-For", "198.51.100.8"}, 201},
			{"10.0.0.1:1002", []string{"X-Forwarded-For", "198.51.100.7"}, 429},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) {
				s.api.TrustedProxies = []string{"10.0.0.0/8"}
				s.opts.RateLimits.RegistrationPerIP = ratelimit.Limit{PerMinute: 1, Burst: 1}
			})
			tok := h.token("dcr")
			for i, r := range tt.reqs {
				httpReq := newRequest(http.MethodPost, endpoint, tok, webClient, r.headers...)
				httpReq.RemoteAddr = r.peer
				if res := h.serve(httpReq); res.Code != r.status {
					t.Fatalf("request %d (%s %v): %d %s, want %d", i, r.peer, r.headers, res.Code, res.Body, r.status)
				}
			}
		})
	}
}
