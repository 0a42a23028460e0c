// Package audit records what happens to clients: one event per
// registration, read, update, delete, refusal and administrator's action,
// written as one JSON object per line for an operator's log pipeline or
// SIEM. The format is stable: fields are only ever added, and the "event"
// field names its version. An event never holds a secret, a token or a
// hash of either: the use cases fill it from what they know about the
// client, never from the credentials they handle.
package audit

import (
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/dcrgate/dcrgate/logging"
)

// Version is the value of every event's "event" field.
const Version = "dcrgate.audit.v1"

// Outcomes of an event.
const (
	// Success: the operation did what was asked.
	Success = "success"
	// Refused: the caller was refused (a 4xx): a bad token, metadata a
	// policy or the rules refuse, a rate limit.
	Refused = "refused"
	// Failed: dcrgate could not do it (a 5xx): the directory or the token
	// issuer unreachable, a bug.
	Failed = "failed"
)

// Event is one audit record.
type Event struct {
	// Event is Version.
	Event string    `json:"event"`
	Time  time.Time `json:"time"`
	// Operation is register, read, update or delete (RFC 7591/7592), or an
	// administrator's admin.disable, admin.enable, admin.delete,
	// admin.reset_token, or reap.
	Operation string `json:"operation"`
	// Outcome is Success, Refused or Failed.
	Outcome string `json:"outcome"`
	// Error is the OAuth error code of a refusal or failure, Status its
	// HTTP status.
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
	// ClientID is the client acted on, when known.
	ClientID string `json:"client_id,omitempty"`
	// OwnerIssuer and OwnerSubject are who registered the client: the
	// initial access token's issuer and subject.
	OwnerIssuer  string `json:"owner_issuer,omitempty"`
	OwnerSubject string `json:"owner_subject,omitempty"`
	// CallerIP is the caller's address, as seen through the trusted
	// proxies; RequestID the X-Request-Id of the request.
	CallerIP  string `json:"caller_ip,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Actor is the administrator of an admin action or the reaper.
	Actor string `json:"actor,omitempty"`
	// Policy is the registration policy that decided a refusal, or that
	// held a new client for approval.
	Policy string `json:"policy,omitempty"`
	// Changed lists the metadata members an update changed.
	Changed []string `json:"changed,omitempty"`
	// Issued lists the credentials the operation issued (a registration, a
	// rotation, a reset): client_secret, registration_access_token — their
	// names, never their values.
	Issued []string `json:"issued,omitempty"`
	// Reason says why, for people: the reaper's reason, a disabled
	// client's reason, a refusal's description.
	Reason string `json:"reason,omitempty"`
}

// Recorder takes events. Record must not block for long: it runs on the
// request's path.
type Recorder interface {
	Record(ctx context.Context, ev Event)
}

// Discard records nothing.
var Discard Recorder = discard{}

type discard struct{}

func (discard) Record(context.Context, Event) {}

// Recorders records every event with each of them.
type Recorders []Recorder

// Record implements Recorder.
func (rs Recorders) Record(ctx context.Context, ev Event) {
	for _, r := range rs {
		r.Record(ctx, ev)
	}
}

// Writer writes events as JSON lines to w, one at a time.
type Writer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewWriter returns a Recorder writing JSON lines to w.
func NewWriter(w io.Writer) *Writer { return &Writer{enc: json.NewEncoder(w)} }

// Record implements Recorder: the event completed with its version, time
// and the request's ID and caller address.
func (w *Writer) Record(ctx context.Context, ev Event) {
	ev = Complete(ctx, ev)
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.enc.Encode(ev) // an audit line that cannot be written cannot be reported anywhere better
}

// Complete fills in what every event carries: its version, its time, and
// the request's ID and caller address from ctx.
func Complete(ctx context.Context, ev Event) Event {
	ev.Event = Version
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.RequestID == "" {
		ev.RequestID = logging.RequestID(ctx)
	}
	if ev.CallerIP == "" {
		ev.CallerIP = CallerIP(ctx)
	}
	return ev
}

type callerKey struct{}

// WithCallerIP returns ctx carrying the caller's address, which the HTTP
// layer knows and the use cases do not.
func WithCallerIP(ctx context.Context, ip string) context.Context {
	if _, err := netip.ParseAddr(ip); err != nil {
		return ctx
	}
	return context.WithValue(ctx, callerKey{}, ip)
}

// CallerIP returns the caller's address carried by ctx, or "".
func CallerIP(ctx context.Context) string {
	ip, _ := ctx.Value(callerKey{}).(string)
	return ip
}
