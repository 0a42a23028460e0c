package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/registration"
)

const contentTypeJSON = "application/json"

// ClientStatusMember is the extension member of a client information
// response that says a registration is held for approval, with the value
// StatusAwaitingApproval.
const (
	ClientStatusMember     = "client_status"
	StatusAwaitingApproval = "awaiting_approval"
)

// renderRegistration writes the client information response (RFC 7591
// §3.2.1), or err when it is set.
func (h *handlers) renderRegistration(c *gin.Context, status int, reg registration.Registration, err error) {
	if err != nil {
		h.renderError(c, err)
		return
	}
	body, err := registrationJSON(reg)
	if err != nil {
		h.renderError(c, err)
		return
	}
	c.Data(status, contentTypeJSON, body)
}

// registrationJSON renders the response object: the server-set members
// first, then the canonical metadata members. The metadata is marshalled
// once and spliced in, not decoded into a map and re-encoded.
func registrationJSON(reg registration.Registration) ([]byte, error) {
	md, err := reg.Metadata.MarshalJSON() // canonical already: json.Marshal would only scan it again
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(md) + 512)
	b.WriteString(`{"client_id":`)
	writeString(&b, reg.ClientID)
	writeMember(&b, "client_id_issued_at", strconv.FormatInt(reg.ClientIDIssuedAt.Unix(), 10))
	if reg.ClientSecret != "" {
		writeStringMember(&b, "client_secret", reg.ClientSecret)
	}
	if reg.Confidential {
		writeMember(&b, "client_secret_expires_at", strconv.FormatInt(unixOrZero(reg.ClientSecretExpiresAt), 10))
	}
	if reg.RegistrationAccessToken != "" {
		writeStringMember(&b, "registration_access_token", reg.RegistrationAccessToken)
	}
	if reg.RegistrationClientURI != "" {
		writeStringMember(&b, "registration_client_uri", reg.RegistrationClientURI)
	}
	if reg.AwaitingApproval {
		// An extension member (RFC 7591 §2): the client exists, but no token
		// is issued to it, and its management answers as for an unknown
		// client, until an administrator enables it.
		writeStringMember(&b, ClientStatusMember, StatusAwaitingApproval)
	}
	if len(md) > 2 { // md is "{...}": splice its members after ours
		b.WriteByte(',')
		b.Write(md[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}

// unixOrZero renders "never" as 0 (RFC 7591 §3.2.1 client_secret_expires_at).
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func writeMember(b *bytes.Buffer, name, rawValue string) {
	b.WriteString(`,"`)
	b.WriteString(name)
	b.WriteString(`":`)
	b.WriteString(rawValue)
}

func writeStringMember(b *bytes.Buffer, name, value string) {
	writeMember(b, name, "")
	writeString(b, value)
}

func writeString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // marshalling a string cannot fail
	b.Write(q)
}

// errorBody is the RFC 6749 §5.2 / RFC 7591 §3.2.2 error response.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// renderError is the one place errors become responses. Unknown errors are
// 500 server_error with no internals; their cause is logged, never sent. A
// 503 is an outage of the directory or the token issuer, which is logged
// once per change of state where it is seen, not once per request: its
// cause goes to the debug log only.
func (h *handlers) renderError(c *gin.Context, err error) {
	e := oauth.From(err)
	switch {
	case e.Status == http.StatusServiceUnavailable:
		h.logger.DebugContext(c.Request.Context(), "request failed", "status", e.Status, "error", err)
	case e.Status >= http.StatusInternalServerError:
		h.logger.ErrorContext(c.Request.Context(), "request failed", "status", e.Status, "error", err)
	}
	hdr := c.Writer.Header()
	if e.Challenge {
		hdr.Set("WWW-Authenticate", h.challenge(e))
	}
	if e.RetryAfter > 0 {
		// Whole seconds, rounded up: a caller who waits that long must not
		// be refused again (RFC 9110 §10.2.3).
		hdr.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	if e.Allow != "" {
		hdr.Set("Allow", e.Allow)
	}
	body, _ := json.Marshal(errorBody{Error: e.Code, ErrorDescription: e.Description})
	c.Data(e.Status, contentTypeJSON, body)
	c.Abort()
}

// challenge builds the RFC 6750 §3 WWW-Authenticate value. Without a token
// only the realm is sent (§3.1); descriptions stay in the body, which avoids
// quoting problems in the header.
func (h *handlers) challenge(e *oauth.Error) string {
	if e.BareChallenge {
		return fmt.Sprintf("Bearer realm=%q", h.cfg.Realm)
	}
	return fmt.Sprintf("Bearer realm=%q, error=%q", h.cfg.Realm, e.Code)
}
