package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/logging"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/oauth"
)

const requestIDHeader = "X-Request-Id"

// requestID takes a sane incoming X-Request-Id (from a proxy) or makes one,
// echoes it and puts it in the context for every log line of the request.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Header(requestIDHeader, id)
		c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
		c.Next()
	}
}

// callerIP puts the caller's address in the context for the audit trail:
// the peer's, or what a trusted proxy says (gin's ClientIP, which believes
// Forwarded (see forwarded), X-Forwarded-For and X-Real-IP only from the
// configured proxies).
func callerIP() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request = c.Request.WithContext(audit.WithCallerIP(c.Request.Context(), c.ClientIP()))
		c.Next()
	}
}

// saneRequestID accepts short IDs of visible ASCII, so a caller cannot
// inject log lines or oversized values.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// accessLog writes one line per request: route, status and latency. The
// Authorization header and bodies are never logged; they carry credentials.
func accessLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		logger.InfoContext(c.Request.Context(), "request",
			"method", c.Request.Method, "route", route(c), "status", c.Writer.Status(),
			"duration", time.Since(start))
	}
}

// observe records request metrics labelled by route pattern.
func observe(m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.ObserveRequest(route(c), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}

// route is the matched route pattern, or "none": never the raw path, whose
// client IDs would blow up log and metric cardinality.
func route(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "none"
}

// recovery turns a panic into a 500 server_error without internals; the
// panic value is logged.
func recovery(h *handlers) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.logger.ErrorContext(c.Request.Context(), "panic serving request", "panic", v)
				h.renderError(c, oauth.ErrServerError)
			}
		}()
		c.Next()
	}
}

// safeHeaders marks every response uncacheable, since they carry
// credentials (RFC 7591 §3.2.1, RFC 6749 §5.1), and never to be sniffed
// into another content type by a browser.
func safeHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.Header("Pragma", "no-cache")
		c.Header("X-Content-Type-Options", "nosniff")
		c.Next()
	}
}
