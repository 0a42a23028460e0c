package registration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/store"
)

// ErrNoSuchClient is the administrator's answer for an ID no client has.
var ErrNoSuchClient = errors.New("no such client")

// Admin is the administrator's side of the service, for the CLI and the
// reaper: the same store, the same credential rules and the same
// compare-and-swap writes as the API, without a registration access
// token — the directory's own access control decides who may run it. Every
// action that writes is logged with its actor.
type Admin struct {
	s     *Service
	actor string
}

// Admin returns the administrator's use cases, logged as done by actor.
func (s *Service) Admin(actor string) *Admin { return &Admin{s: s, actor: actor} }

// Walk calls fn with every client q selects, a page at a time.
func (a *Admin) Walk(ctx context.Context, q store.Query, fn func(client.Record) error) error {
	return a.s.store.Walk(ctx, q, fn)
}

// Get returns one client.
func (a *Admin) Get(ctx context.Context, id string) (client.Record, error) {
	r, err := a.s.store.Get(ctx, id)
	return r, a.err(id, err)
}

// Disable makes a client unusable until enabled: dcrgate answers for it as
// for an unknown client and the directory refuses its binds. reason is
// kept for people; empty, it names the actor.
func (a *Admin) Disable(ctx context.Context, id, reason string) (client.Record, error) {
	if reason == "" {
		reason = "disabled by " + a.actor
	}
	return a.update(ctx, "disable", id, func(r *client.Record, _ time.Time) error {
		r.Disabled, r.DisabledReason = true, reason
		return nil
	})
}

// Enable makes a disabled client usable again — approving one an approval
// policy held — from now on: its use and lifetime count from the moment
// it is enabled.
func (a *Admin) Enable(ctx context.Context, id string) (client.Record, error) {
	return a.update(ctx, "enable", id, func(r *client.Record, now time.Time) error {
		r.Disabled, r.DisabledReason = false, ""
		r.LastUsedAt = time.Time{}
		a.s.touch(r, now)
		return nil
	})
}

// Delete removes a client.
func (a *Admin) Delete(ctx context.Context, id string) error {
	deleted := client.Record{ID: id}
	err := a.err(id, a.s.store.Delete(ctx, id, func(r client.Record) error { deleted = r; return nil }))
	a.log(ctx, "delete", deleted, nil, err)
	return err
}

// ResetToken issues a new registration access token for a client whose
// developer lost it (or whose token leaked) and, with newSecret, a new
// secret for a confidential client. What was issued before stops working
// at once, with no grace period: a reset is for credentials nobody should
// hold any more. The clear credentials are in the returned Registration
// only.
func (a *Admin) ResetToken(ctx context.Context, id string, newSecret bool) (Registration, error) {
	if !a.s.opts.Management.Enabled {
		return Registration{}, errors.New("client management is not enabled: clients have no registration access token")
	}
	if client.IsMetadataDocumentID(id) {
		return Registration{}, errors.New("a metadata document's client has no registration access token or secret: its document manages it")
	}
	var out issued
	r, err := a.update(ctx, "reset_token", id, func(r *client.Record, now time.Time) error {
		a.s.settle(r, now, client.NoTokenMatch)
		r.PreviousToken = client.PreviousToken{}
		out = issued{token: a.s.newToken(r, now, client.NoTokenMatch)}
		if newSecret && r.Metadata.IsConfidential() {
			var err error
			if out.secret, err = a.s.newSecret(r, now, false); err != nil {
				return err
			}
			r.Secrets = r.Secrets[:1]
		}
		return nil
	})
	if err != nil {
		return Registration{}, err
	}
	return a.s.present(r, out), nil
}

// update changes one client by compare-and-swap and records the action.
func (a *Admin) update(ctx context.Context, action, id string, edit func(*client.Record, time.Time) error) (client.Record, error) {
	before := client.Record{ID: id}
	r, err := a.s.store.Update(ctx, id, func(r client.Record) (client.Record, error) {
		before = r.Clone()
		return r, edit(&r, a.s.now())
	})
	err = a.err(id, err)
	a.log(ctx, action, before, &r, err)
	return r, err
}

// log records an administrator's action on the client that was before
// and, for an update, is after: the same audit event as the API's, with
// the actor, and what changed in state or credentials.
func (a *Admin) log(ctx context.Context, action string, before client.Record, after *client.Record, err error) {
	ev := audit.Event{Operation: "admin." + action, ClientID: before.ID, Actor: a.actor}
	owned(&ev, before)
	if after != nil && err == nil {
		ev.Reason = after.DisabledReason
		if after.RegistrationTokenHash != before.RegistrationTokenHash {
			ev.Issued = append(ev.Issued, "registration_access_token")
		}
		if after.CurrentSecret() != before.CurrentSecret() {
			ev.Issued = append([]string{"client_secret"}, ev.Issued...)
		}
	}
	if errors.Is(err, ErrNoSuchClient) {
		err = oauth.ErrNotFound.WithDescription("%v", err)
	}
	a.s.record(ctx, ev, err)
}

// err names the client in a store error; unknown is ErrNoSuchClient.
func (a *Admin) err(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %q", ErrNoSuchClient, id)
	}
	return fmt.Errorf("client %q: %w", id, err)
}
