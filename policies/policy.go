// Package policies holds the client registration policies: an ordered chain
// of checks that every registration and update passes after the metadata is
// valid and before anything is stored. A policy may refuse a request or
// adjust the metadata (for example to narrow the scope it asks for).
package policies

import (
	"context"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat"
)

// Request is what a policy judges.
type Request struct {
	// Operation is "register" or "update".
	Operation string
	// ClientID is empty on register, except for a metadata document's client, whose
	// ID (its URL) is known before it is written.
	ClientID string
	// Principal is the caller whose initial access token registered the
	// client: on register the token presented, on update the owner kept on
	// the client, so that an update is judged as its registration was and
	// cannot obtain what that caller would have been refused. nil for open
	// registration.
	Principal *iat.Principal
	// Anonymous marks a request the anonymous profile judges: a
	// registration without an initial access token, or an update of a
	// client registered so. Only policies with Anonymous set judge it.
	Anonymous bool
	// Statement is the verified software statement (RFC 7591 §2.3) of the
	// request, or on update the one the client keeps; nil when none.
	Statement *client.Statement
	// Metadata is the validated metadata; policies may change it.
	Metadata *client.Metadata
}

// Policy checks a request. It returns an *oauth.Error (usually
// invalid_client_metadata, invalid_redirect_uri or access_denied) to refuse.
type Policy interface {
	Check(ctx context.Context, r Request) error
}

// Chain runs policies in order and stops at the first refusal, so the order
// in the configuration is the order of evaluation.
type Chain []Policy

// Check implements Policy.
func (c Chain) Check(ctx context.Context, r Request) error {
	for _, p := range c {
		if err := p.Check(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
