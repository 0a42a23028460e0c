package main

// BenchmarkGateway is for profiling, not for the numbers in the README: it
// drives dcrgate's gin engine in this process (no HTTP, no second process)
// over ldapstore on a throwaway slapd, so `go test -cpuprofile` sees the
// whole request path without adding any profiling endpoint to the product:
//
//	go test ./bench -run '^$' -bench Gateway -benchtime 3s -cpuprofile cpu.out
//	go tool pprof -top -nodecount 40 bench.test cpu.out

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
)

const benchPath = "/as/clients.oauth2"

// inProcess is one wired engine and the initial access token it accepts.
type inProcess struct {
	engine *gin.Engine
	iat    string
}

// newInProcess wires the engine as `dcrgate serve` does, with info-level
// logs into io.Discard so logging's CPU cost stays in the profile.
func newInProcess(b testing.TB, srv *slapdtest.Server, rotate bool) *inProcess {
	b.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ldapstore.New(b.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	issuer, err := devissuer.New("https://as.bench.test")
	if err != nil {
		b.Fatal(err)
	}
	jwks := httptest.NewServer(issuer.JWKSHandler())
	b.Cleanup(jwks.Close)
	tokens, err := iat.NewJWKSValidator(b.Context(), iat.JWKSConfig{Issuer: issuer.Issuer(), JWKSURI: jwks.URL}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tokens.Close() })
	hasher, err := credentials.NewHasher(st.SecretScheme())
	if err != nil {
		b.Fatal(err)
	}
	svc := registration.New(st, tokens, hasher, registration.Options{
		RequireInitialAccessToken: true, RequiredScopes: []string{"dcr"},
		Management: registration.Management{Enabled: true, RotateClientSecret: rotate,
			RotateRegistrationAccessToken: rotate, AllowClientDelete: true, RotationGracePeriod: config.DefaultRotationGracePeriod},
		Metadata:  client.Options{MaxRedirectURIs: 20, MaxValueLength: 2048},
		ClientURI: func(id string) string { return "http://127.0.0.1" + benchPath + "/" + id },
	}, registration.WithLogger(logger))
	engine := api.NewRouter(api.Config{Path: benchPath, RegistrationEnabled: true, ManagementEnabled: true,
		MaxBodyBytes: 64 << 10, Realm: "dcrgate"}, svc, metrics.New(prometheus.NewRegistry()), logger)
	token, err := issuer.Mint("bench", []string{"dcr"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return &inProcess{engine: engine, iat: token}
}

// do serves one request in process and returns the status and body.
func (p *inProcess) do(method, path, bearer string, body []byte) (int, []byte) {
	req := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(string(body)))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	rec := httptest.NewRecorder()
	p.engine.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func (p *inProcess) register() (fixture, error) {
	code, body := p.do(http.MethodPost, benchPath, p.iat, registerBody(credentials.NewClientID()))
	var r registered
	if code != http.StatusCreated || json.Unmarshal(body, &r) != nil {
		return fixture{}, fmt.Errorf("register: %d %s", code, body)
	}
	return fixture{id: r.ClientID, rat: r.RAT}, nil
}

// expect checks the status and keeps a rotated token. Benchmarks report its
// error with b.Error: RunParallel's goroutines may not call b.Fatal.
func expect(f *fixture, want, code int, body []byte) error {
	if code != want {
		return fmt.Errorf("status %d, want %d: %s", code, want, body)
	}
	if want == http.StatusOK {
		return f.takeToken(body)
	}
	return nil
}

// BenchmarkGateway runs each API operation with 8 goroutines per CPU, each
// on its own client so rotations never conflict.
func BenchmarkGateway(b *testing.B) {
	srv := slapdtest.Start(b)
	rotating, plain := newInProcess(b, srv, true), newInProcess(b, srv, false)
	each := func(name string, p *inProcess, op func(f *fixture) error) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				f, err := p.register()
				for err == nil && pb.Next() {
					err = op(&f)
				}
				if err != nil {
					b.Error(err)
				}
			})
		})
	}
	each("register", rotating, func(*fixture) error { _, err := rotating.register(); return err })
	each("get", plain, func(f *fixture) error {
		code, body := plain.do(http.MethodGet, benchPath+"/"+f.id, f.rat, nil)
		return expect(f, http.StatusOK, code, body)
	})
	each("get-rotate", rotating, func(f *fixture) error {
		code, body := rotating.do(http.MethodGet, benchPath+"/"+f.id, f.rat, nil)
		return expect(f, http.StatusOK, code, body)
	})
	each("put", rotating, func(f *fixture) error {
		code, body := rotating.do(http.MethodPut, benchPath+"/"+f.id, f.rat, updateBody(f.id, !f.renamed))
		f.renamed = !f.renamed
		return expect(f, http.StatusOK, code, body)
	})
	b.Run("delete", func(b *testing.B) { benchDelete(b, rotating) })
}

// benchDelete registers b.N clients untimed, then deletes them in parallel.
func benchDelete(b *testing.B, p *inProcess) {
	stock := make([]fixture, b.N)
	for i := range stock {
		var err error
		if stock[i], err = p.register(); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f := stock[next.Add(1)-1]
			code, body := p.do(http.MethodDelete, benchPath+"/"+f.id, f.rat, nil)
			if err := expect(&f, http.StatusNoContent, code, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
