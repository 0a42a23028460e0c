package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrgate/dcrgate/oauth"
)

// bearerToken returns the RFC 6750 §2.1 bearer token of the request, or ""
// when there is none. The scheme is case-insensitive; other schemes count as
// no token, which is answered with a bare challenge.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// limitBody caps the body so an oversized request fails while being read.
func (h *handlers) limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.MaxBodyBytes)
}

// readJSONBody returns the body of a request that declares a JSON media type
// (RFC 7591 §3.1: "application/json"); anything else is refused with
// invalid_client_metadata, the error RFC 7591 §3.2.2 has for a bad request body.
func readJSONBody(c *gin.Context) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, oauth.ErrInvalidClientMetadata.WithDescription("the request body must be application/json")
	}
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, oauth.ErrRequestTooLarge.WithDescription("the request body exceeds %d bytes", tooLarge.Limit)
	case err != nil:
		return nil, oauth.ErrInvalidRequest.WithDescription("the request body could not be read").WithCause(err)
	}
	return body, nil
}
