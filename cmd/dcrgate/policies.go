package main

import (
	"context"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// buildPolicies turns the configured policies into a chain, listing every
// bad policy at once. st counts clients for max_clients_per_owner; Build
// never calls it, so `config check` passes nil.
func buildPolicies(cfg []config.Policy, st store.Store) (policies.Chain, error) {
	specs := make([]policies.Spec, 0, len(cfg))
	for _, p := range cfg {
		specs = append(specs, policies.Spec{Name: p.Name, Kind: p.Kind, Values: p.Values, Max: p.Max,
			Expression: p.Expression, Message: p.Message, Error: p.Error, Issuers: p.Issuers, Scopes: p.Scopes,
			Metadata: p.Metadata, Anonymous: p.Anonymous})
	}
	return policies.Build(specs, policies.WithOwnerCounter(ownerCounter(st)))
}

// ownerCounter counts a caller's clients with the store's owner query.
func ownerCounter(st store.Store) policies.OwnerCounter {
	return func(ctx context.Context, issuer, subject string, limit int) (int, error) {
		return st.Count(ctx, store.Query{OwnerIssuer: issuer, OwnerSubject: subject}, limit)
	}
}
