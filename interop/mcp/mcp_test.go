// Package mcp registers clients with dcrgate the way MCP clients do: with
// the official Go MCP SDK's dynamic client registration
// (oauthex.RegisterClient, which its authorization code handler calls),
// without an initial access token, against dcrgate's gin engine with the
// anonymous profile on. It is a module of its own so the SDK never becomes
// a dependency of dcrgate.
package mcp

import (
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store/memstore"
)

const path = "/as/clients.oauth2"

// gateway serves dcrgate's API with the anonymous profile, as an MCP
// deployment configures it (registration.anonymous.enabled).
func gateway(t *testing.T) string {
	t.Helper()
	hasher, err := credentials.NewHasher(credentials.SchemeSSHA512)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var base string
	svc := registration.New(memstore.New(), nil, hasher, registration.Options{
		RequireInitialAccessToken: true,
		Anonymous:                 registration.Anonymous{Enabled: true, ClientLifetime: 7 * 24 * time.Hour},
		Management: registration.Management{Enabled: true, RotateClientSecret: true, RotateRegistrationAccessToken: true,
			AllowClientDelete: true},
		ClientURI: func(id string) string { return base + path + "/" + id },
	}, registration.WithLogger(logger))
	t.Cleanup(svc.Close)
	engine := api.NewRouter(api.Config{Path: path, RegistrationEnabled: true, ManagementEnabled: true,
		MaxBodyBytes: 64 << 10, Realm: "dcrgate", AnonymousRegistration: true}, svc, metrics.New(prometheus.NewRegistry()), logger)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	base = srv.URL
	return srv.URL + path
}

// TestRegisterClient: what an MCP client sends — a public client with a
// loopback callback — registers without a token; what it must not get —
// a client with a secret — is refused with an RFC 7591 error the SDK reads.
func TestRegisterClient(t *testing.T) {
	endpoint := gateway(t)
	res, err := oauthex.RegisterClient(t.Context(), endpoint, &oauthex.ClientRegistrationMetadata{
		ClientName:              "Example MCP client",
		RedirectURIs:            []string{"http://127.0.0.1:49152/callback"},
		TokenEndpointAuthMethod: "none",
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
	}, nil)
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	if res.ClientID == "" || res.ClientSecret != "" || res.TokenEndpointAuthMethod != "none" || res.ClientIDIssuedAt.IsZero() {
		t.Fatalf("registered %+v, want a public client", res)
	}

	_, err = oauthex.RegisterClient(t.Context(), endpoint, &oauthex.ClientRegistrationMetadata{
		RedirectURIs: []string{"http://127.0.0.1:49152/callback"},
	}, nil)
	var refused *oauthex.ClientRegistrationError
	if !errors.As(err, &refused) || refused.ErrorCode != "invalid_client_metadata" {
		t.Fatalf("a client with a secret, without a token: %v, want invalid_client_metadata", err)
	}
}
