// Package oauth holds the error values of RFC 6749, RFC 6750, RFC 7591 and
// RFC 7592 that dcrgate answers with. Every error a caller can cause is one of
// these values; the HTTP layer renders them and nothing else, so the wire
// format is decided in one place.
package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is an OAuth error response: a registered code, a human-readable
// description and the HTTP status it travels with. Values are shared, so the
// With* methods return copies and never mutate the receiver.
type Error struct {
	// Code is the "error" member of the JSON body.
	Code string
	// Description is the "error_description" member.
	Description string
	// Status is the HTTP status code.
	Status int
	// RetryAfter, when positive, is sent as the Retry-After header (429, 503).
	RetryAfter time.Duration
	// Allow, when set, is sent as the Allow header (405).
	Allow string
	// Challenge marks errors answered with a WWW-Authenticate Bearer challenge
	// (RFC 6750 §3). BareChallenge omits the error attribute from the
	// challenge, as RFC 6750 §3.1 asks when the request carried no token.
	Challenge     bool
	BareChallenge bool
	// Policy names the registration policy that refused the request, for
	// the audit trail and metrics; the description names it for people.
	Policy string

	cause error
}

// The errors dcrgate returns. Descriptions here are defaults; call sites add
// the specific reason with WithDescription.
var (
	ErrInvalidRequest = &Error{Code: "invalid_request", Status: http.StatusBadRequest,
		Description: "The request is malformed."}
	ErrInvalidRedirectURI = &Error{Code: "invalid_redirect_uri", Status: http.StatusBadRequest,
		Description: "The value of one or more redirection URIs is invalid."}
	ErrInvalidClientMetadata = &Error{Code: "invalid_client_metadata", Status: http.StatusBadRequest,
		Description: "The value of one of the client metadata fields is invalid."}
	ErrInvalidSoftwareStatement = &Error{Code: "invalid_software_statement", Status: http.StatusBadRequest,
		Description: "The software statement presented is invalid."}
	ErrUnapprovedSoftwareStatement = &Error{Code: "unapproved_software_statement", Status: http.StatusBadRequest,
		Description: "The software statement presented is not approved for use by this server."}
	ErrRequestTooLarge = &Error{Code: "invalid_request", Status: http.StatusRequestEntityTooLarge,
		Description: "The request body is too large."}
	ErrMissingToken = &Error{Code: "invalid_token", Status: http.StatusUnauthorized,
		Description: "A bearer token is required.", Challenge: true, BareChallenge: true}
	ErrInvalidToken = &Error{Code: "invalid_token", Status: http.StatusUnauthorized,
		Description: "The access token is invalid.", Challenge: true}
	ErrInsufficientScope = &Error{Code: "insufficient_scope", Status: http.StatusForbidden,
		Description: "The access token lacks the scope this request requires.", Challenge: true}
	ErrAccessDenied = &Error{Code: "access_denied", Status: http.StatusForbidden,
		Description: "The request is not allowed."}
	ErrNotFound = &Error{Code: "not_found", Status: http.StatusNotFound,
		Description: "No such resource."}
	ErrMethodNotAllowed = &Error{Code: "invalid_request", Status: http.StatusMethodNotAllowed,
		Description: "The method is not allowed on this resource."}
	ErrConflict = &Error{Code: "invalid_request", Status: http.StatusConflict,
		Description: "The client was changed concurrently; retry the request."}
	ErrTooManyRequests = &Error{Code: "slow_down", Status: http.StatusTooManyRequests,
		Description: "Too many requests.", RetryAfter: time.Second}
	ErrTemporarilyUnavailable = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable,
		Description: "The service is temporarily unavailable.", RetryAfter: 5 * time.Second}
	ErrServerError = &Error{Code: "server_error", Status: http.StatusInternalServerError,
		Description: "The server encountered an unexpected condition."}
)

// Error implements error.
func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.cause)
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns the internal cause, which is logged but never rendered.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code and status, so
// errors.Is(err, oauth.ErrInvalidToken) matches whatever the description.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && t.Status == e.Status
}

// WithDescription returns a copy with the description set from format.
func (e *Error) WithDescription(format string, args ...any) *Error {
	c := *e
	c.Description = fmt.Sprintf(format, args...)
	return &c
}

// WithCause returns a copy that wraps cause for logs and errors.Is/As; the
// cause never reaches the response body.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithPolicy returns a copy that names the policy that refused.
func (e *Error) WithPolicy(name string) *Error {
	c := *e
	c.Policy = name
	return &c
}

// WithRetryAfter returns a copy carrying a Retry-After delay (429, 503).
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// WithAllow returns a copy carrying an Allow header value (405 responses).
func (e *Error) WithAllow(methods string) *Error {
	c := *e
	c.Allow = methods
	return &c
}

// From returns err as an *Error, turning anything unknown into server_error.
// This is the one place an unexpected error becomes a 500.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrServerError.WithCause(err)
}
