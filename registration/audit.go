package registration

import (
	"context"
	"net/http"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/oauth"
)

// WithAudit sets where the audit events of every use case go; the default
// records none.
func WithAudit(r audit.Recorder) Option { return func(s *Service) { s.audit = r } }

// record writes the audit event of one use case, its outcome taken from
// err: a refusal is the caller's (4xx), a failure dcrgate's (5xx).
func (s *Service) record(ctx context.Context, ev audit.Event, err error) {
	ev.Outcome = audit.Success
	if err != nil {
		e := oauth.From(err)
		ev.Outcome, ev.Error, ev.Status = audit.Refused, e.Code, e.Status
		if e.Status >= http.StatusInternalServerError {
			ev.Outcome = audit.Failed
		}
		if ev.Policy == "" {
			ev.Policy = e.Policy
		}
		if ev.Reason == "" {
			ev.Reason = e.Description
		}
	}
	s.audit.Record(ctx, ev)
}

// managed starts the event of a management call on clientID: the ID only
// when it has the shape of one, so a hostile path never reaches the log.
func managed(op Operation, clientID string) audit.Event {
	ev := audit.Event{Operation: string(op)}
	if credentials.ValidClientID(clientID) {
		ev.ClientID = clientID
	}
	return ev
}

// owned notes in ev who owns r.
func owned(ev *audit.Event, r client.Record) {
	ev.OwnerIssuer, ev.OwnerSubject = r.Owner.Issuer, r.Owner.Subject
}

// issuedNames lists what out holds anew, by its member name.
func (out issued) names() []string {
	var names []string
	if out.secret != "" {
		names = append(names, "client_secret")
	}
	if out.token != "" {
		names = append(names, "registration_access_token")
	}
	return names
}
