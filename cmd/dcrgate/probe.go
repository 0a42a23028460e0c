package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/ldapstore"
)

// probeTimeout bounds each probe of config check --probe: an operator is
// waiting, and serve itself starts without these servers.
const probeTimeout = 3 * time.Second

// probe is one server to try; a failure is a warning about key.
type probe struct {
	key string
	try func(context.Context) error
}

// probeRule is config check --probe: it tries, all at once, what cannot be
// known offline, and warns about what fails. serve starts without any of
// these servers answering, so a failure never makes the check fail.
func probeRule(ctx context.Context) config.Rule {
	return func(c config.Config) []config.Problem {
		return runProbes(ctx, append(ldapProbes(c.LDAP), issuerProbes(c)...))
	}
}

func runProbes(ctx context.Context, probes []probe) []config.Problem {
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			errs[i] = p.try(ctx)
		})
	}
	wg.Wait()
	var out []config.Problem
	for i, err := range errs {
		if err != nil {
			out = append(out, config.Problem{Key: probes[i].key, Message: err.Error(), Warning: true})
		}
	}
	return out
}

// ldapProbes open serve's store on each URL alone, which connects, binds
// and reads the base DN and the root DSE, as serve does at start.
func ldapProbes(l config.LDAP) []probe {
	base, err := ldapStoreConfig(l)
	if err != nil {
		return nil // a problem already
	}
	var out []probe
	for i, u := range l.URLs {
		cfg := base
		cfg.URLs, cfg.PoolSize, cfg.Timeout = []string{u}, 1, probeTimeout
		out = append(out, probe{fmt.Sprintf("ldap.urls[%d]", i), func(ctx context.Context) error {
			st, err := ldapstore.New(ctx, cfg, nil)
			if err != nil {
				return err
			}
			return st.Close()
		}})
	}
	return out
}

// issuerProbes fetch the keys of every token issuer (directly, or through
// its discovery document) and of every software statement issuer with a
// jwks_uri.
func issuerProbes(c config.Config) []probe {
	client := &http.Client{Timeout: probeTimeout}
	var out []probe
	for i, is := range c.InitialAccessTokens.Issuers {
		key := fmt.Sprintf("initial_access_tokens.issuers[%d]", i)
		switch {
		case is.JWKSURI != "":
			out = append(out, probe{key + ".jwks_uri", func(ctx context.Context) error { return fetchKeys(ctx, client, is.JWKSURI) }})
		case is.Discovery:
			out = append(out, probe{key + ".discovery", func(ctx context.Context) error { return discoverKeys(ctx, client, is.Issuer) }})
		}
	}
	for i, is := range c.SoftwareStatements.TrustedIssuers {
		if is.JWKSURI != "" {
			key := fmt.Sprintf("software_statements.trusted_issuers[%d].jwks_uri", i)
			out = append(out, probe{key, func(ctx context.Context) error { return fetchKeys(ctx, client, is.JWKSURI) }})
		}
	}
	return out
}

// fetchKeys fetches a JWK Set and wants a key in it.
func fetchKeys(ctx context.Context, client *http.Client, uri string) error {
	set, err := jwk.Fetch(ctx, uri, jwk.WithHTTPClient(client))
	if err != nil {
		return err
	}
	if set.Len() == 0 {
		return fmt.Errorf("%s holds no keys", uri)
	}
	return nil
}

// discoverKeys reads the issuer's metadata as serve's validator does, then
// fetches the keys it names.
func discoverKeys(ctx context.Context, client *http.Client, issuer string) error {
	md, err := iat.Discover(ctx, client, issuer)
	if err != nil {
		return err
	}
	return fetchKeys(ctx, client, md.JWKSURI)
}
