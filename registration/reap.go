package registration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
)

// Reason says why the reaper acted on a client.
type Reason string

// The reaper's reasons, as reported and counted.
const (
	// ReasonExpired: the client's lifetime ended (registration.client_lifetime).
	ReasonExpired Reason = "expired"
	// ReasonIdlePublic: a public client nobody read or updated for the
	// configured time.
	ReasonIdlePublic Reason = "idle_public"
	// ReasonIdleSecret: a client whose secret the directory has not seen
	// bind, and nobody read or updated, for the configured time.
	ReasonIdleSecret Reason = "idle_secret"
	// ReasonSecretsSettled: retained secrets, a previous registration
	// access token or a current secret past their time were removed; the
	// client stays.
	ReasonSecretsSettled Reason = "secrets_settled"
)

// Reasons lists every Reason, for reports and metrics.
var Reasons = []Reason{ReasonExpired, ReasonIdlePublic, ReasonIdleSecret, ReasonSecretsSettled}

// ReapOptions says what the reaper removes beyond what is always due:
// expired clients and credentials past their time.
type ReapOptions struct {
	// IdlePublic removes public clients neither read nor updated through
	// RFC 7592 for this long; 0 = never.
	IdlePublic time.Duration
	// IdleSecret removes clients with a secret that, for this long, the
	// directory has not seen bind (its lastbind record, OpenLDAP's
	// pwdLastSuccess) and nobody read or updated; 0 = never. Reap refuses
	// it on a directory where no client has a lastbind record: there every
	// client would look idle.
	IdleSecret time.Duration
	// DryRun reports what would be done and does nothing.
	DryRun bool
}

// Reaped is one client the reaper acted on, or with DryRun would have.
type Reaped struct {
	ClientID string
	Reason   Reason
}

// ErrNoBindRecords refuses ReapOptions.IdleSecret on a directory that
// records no binds.
var ErrNoBindRecords = errors.New("the directory records no client binds (OpenLDAP: load the lastbind overlay), so every client would look idle")

// errNotDue: the client changed since it was selected; it is left alone.
var errNotDue = errors.New("registration: no longer due")

// reapRule is one pass of the reaper: what it selects, and what it does
// to a client that is due.
type reapRule struct {
	reason Reason
	q      store.Query
	remove bool
}

// due reports whether the rule acts on r at now.
func (a *Admin) due(rule reapRule, r client.Record, now time.Time) bool {
	if rule.remove {
		return rule.q.Matches(r)
	}
	settled := r.Clone()
	a.s.settle(&settled, now, client.NoTokenMatch)
	return !slices.Equal(settled.Secrets, r.Secrets) || settled.PreviousToken != r.PreviousToken
}

// act does what the rule does to r, as long as r is due as stored.
func (a *Admin) act(ctx context.Context, rule reapRule, id string, now time.Time) error {
	if rule.remove {
		return a.s.store.Delete(ctx, id, func(cur client.Record) error {
			if !a.due(rule, cur, now) {
				return errNotDue
			}
			return nil
		})
	}
	_, err := a.s.store.Update(ctx, id, func(cur client.Record) (client.Record, error) {
		if !a.due(rule, cur, now) {
			return cur, errNotDue
		}
		a.s.settle(&cur, now, client.NoTokenMatch)
		return cur, nil
	})
	return err
}

// Reap removes what is due at this moment, a page of clients at a time,
// calling seen for each client it acted on. Every removal is a
// compare-and-swap write that checks again, on the entry as stored, that
// the client is still due: several reapers (one per replica) may run at
// once, and each client is removed by exactly one of them. It returns how
// many clients each reason accounted for.
func (a *Admin) Reap(ctx context.Context, opts ReapOptions, seen func(Reaped)) (map[Reason]int, error) {
	now := a.s.now()
	rules, err := a.reapRules(ctx, opts, now)
	if err != nil {
		return nil, err
	}
	done := map[Reason]int{}
	for _, rule := range rules {
		err := a.s.store.Walk(ctx, rule.q, func(r client.Record) error {
			if !a.due(rule, r, now) {
				return nil
			}
			if !opts.DryRun {
				switch err := a.act(ctx, rule, r.ID, now); {
				case errors.Is(err, errNotDue), errors.Is(err, store.ErrNotFound):
					return nil
				case err != nil:
					return fmt.Errorf("%s %s: %w", rule.reason, r.ID, err)
				}
			}
			done[rule.reason]++
			if !opts.DryRun {
				ev := audit.Event{Operation: "reap", ClientID: r.ID, Actor: a.actor, Reason: string(rule.reason)}
				owned(&ev, r)
				a.s.record(ctx, ev, nil)
			}
			if seen != nil {
				seen(Reaped{ClientID: r.ID, Reason: rule.reason})
			}
			return nil
		})
		if err != nil {
			return done, err
		}
	}
	if !opts.DryRun && len(done) > 0 {
		a.s.logger.InfoContext(ctx, "reaper done", "actor", a.actor, "expired", done[ReasonExpired],
			"idle_public", done[ReasonIdlePublic], "idle_secret", done[ReasonIdleSecret], "secrets_settled", done[ReasonSecretsSettled])
	}
	return done, nil
}

// reapRules are the passes opts asks for, in order.
func (a *Admin) reapRules(ctx context.Context, opts ReapOptions, now time.Time) ([]reapRule, error) {
	rules := []reapRule{
		{ReasonExpired, store.Query{ExpiredAt: now}, true},
		{ReasonSecretsSettled, store.Query{Lingering: true}, false},
		{ReasonSecretsSettled, store.Query{SecretExpiredAt: now}, false},
	}
	if opts.IdlePublic > 0 {
		since := now.Add(-opts.IdlePublic)
		rules = append(rules, reapRule{ReasonIdlePublic, store.Query{Kind: store.Public, UnusedSince: since}, true})
	}
	if opts.IdleSecret > 0 {
		n, err := a.s.store.Count(ctx, store.Query{Bound: true}, 1)
		switch {
		case err != nil:
			return nil, err
		case n == 0:
			return nil, ErrNoBindRecords
		}
		since := now.Add(-opts.IdleSecret)
		rules = append(rules, reapRule{ReasonIdleSecret,
			store.Query{Kind: store.SecretBased, UnusedSince: since, NotBoundSince: since}, true})
	}
	return rules, nil
}
