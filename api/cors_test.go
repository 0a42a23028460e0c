package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// preflight is a browser's CORS preflight of a registration from origin.
func (h *harness) preflight(origin string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodOptions, endpoint, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	rr := httptest.NewRecorder()
	h.handler.ServeHTTP(rr, req)
	return rr
}

// TestCORS: browser-based hosts on an allowed origin may register — the
// preflight is answered with the methods and headers the API takes, the
// response names the origin — and no other origin is let in; with no
// origin configured nothing is opened.
func TestCORS(t *testing.T) {
	const allowed, foreign = "https://mcp.example.org", "https://evil.example.net"
	h := newHarness(t, func(s *setup) { s.api.AllowedOrigins = []string{allowed} })

	ok := h.preflight(allowed)
	if ok.Code != http.StatusNoContent || ok.Header().Get("Access-Control-Allow-Origin") != allowed ||
		ok.Header().Get("Access-Control-Allow-Methods") != http.MethodPost ||
		ok.Header().Get("Access-Control-Allow-Headers") == "" ||
		ok.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight from an allowed origin: %d %v", ok.Code, ok.Header())
	}
	if vary := ok.Header().Values("Vary"); len(vary) == 0 {
		t.Fatal("a preflight answer must vary on Origin")
	}
	if bad := h.preflight(foreign); bad.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from a foreign origin was allowed: %v", bad.Header())
	}

	res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient, "Origin", allowed)
	if res.Code != http.StatusCreated || res.Header().Get("Access-Control-Allow-Origin") != allowed ||
		res.Header().Get("Access-Control-Expose-Headers") == "" {
		t.Fatalf("a registration from an allowed origin: %d %v", res.Code, res.Header())
	}
	if res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient, "Origin", foreign); res.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("a response named a foreign origin")
	}

	closed := newHarness(t)
	if rr := closed.preflight(allowed); rr.Code != http.StatusMethodNotAllowed || rr.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("with no origin configured a preflight must find nothing opened: %d %v", rr.Code, rr.Header())
	}
}
