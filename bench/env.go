package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// env is everything a run needs, started by setup and stopped by close in
// reverse order.
type env struct {
	opts    options
	log     *slog.Logger
	workDir string
	dir     directory
	slapd   *slapdtest.Server
	issuer  *devissuer.Issuer
	jwks    *httptest.Server
	bin     string
	iat     string
	// rotating is dcrgate with PingFederate's defaults (GET and PUT rotate
	// the secret and the token); plain has rotation off.
	rotating, plain       *gateway
	apiRotating, apiPlain *apiClient
	// floor is the floor process (--floor), nil without it.
	floor    *gateway
	apiFloor *apiClient
	raw      *connPool
	tpl      *template
	hasher   credentials.Hasher
	closers  []func()
}

// setup starts (or takes) slapd, the JWKS issuer and two dcrgate processes,
// and learns the entry template from one real registration.
func setup(ctx context.Context, opts options, log *slog.Logger) (*env, error) {
	e := &env{opts: opts, log: log}
	steps := []func(context.Context) error{e.makeWorkDir, e.startDirectory, e.startIssuer, e.findBinary,
		e.startGateways, e.dialRaw, e.learnTemplate, e.startFloor}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			e.close()
			return nil, err
		}
	}
	return e, nil
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *env) makeWorkDir(context.Context) error {
	dir, err := os.MkdirTemp("", "dcrgate-bench-")
	if err != nil {
		return err
	}
	e.workDir = dir
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })
	return nil
}

// startDirectory takes the directory named by the flags or launches a
// throwaway slapd with the shipped schema.
func (e *env) startDirectory(ctx context.Context) error {
	if e.opts.ldapURL != "" {
		e.dir = directory{URL: e.opts.ldapURL, BindDN: e.opts.ldapBindDN, BaseDN: e.opts.ldapBaseDN,
			BindPassword: os.Getenv(bindPasswordEnv)}
		return nil
	}
	srv, err := slapdtest.Launch(ctx, filepath.Join(e.workDir, "slapd"))
	if err != nil {
		return err
	}
	e.slapd = srv
	e.closers = append(e.closers, srv.Stop)
	e.dir = directory{URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword, BaseDN: srv.BaseDN}
	e.log.Info("slapd started", "url", srv.URL, "dir", srv.Dir)
	return nil
}

// startIssuer serves a development issuer's JWKS from this process and
// mints the one initial access token every registration presents.
func (e *env) startIssuer(context.Context) error {
	issuer, err := devissuer.New("https://as.bench.test")
	if err != nil {
		return err
	}
	e.issuer = issuer
	e.jwks = httptest.NewServer(issuer.JWKSHandler())
	e.closers = append(e.closers, e.jwks.Close)
	e.iat, err = issuer.Mint("bench", []string{"dcr"}, e.opts.maxTime+time.Hour)
	return err
}

func (e *env) findBinary(ctx context.Context) error {
	if e.opts.dcrgateBin != "" {
		e.bin = e.opts.dcrgateBin
		return nil
	}
	bin, err := buildGateway(ctx, e.workDir)
	e.bin = bin
	return err
}

func (e *env) startGateways(ctx context.Context) error {
	var err error
	if e.rotating, e.apiRotating, err = e.startGateway(ctx, "rotating", e.dir.URL, true); err != nil {
		return err
	}
	e.plain, e.apiPlain, err = e.startGateway(ctx, "plain", e.dir.URL, false)
	return err
}

// startGateway starts one dcrgate process against ldapURL and a client for it.
func (e *env) startGateway(ctx context.Context, name, ldapURL string, rotate bool) (*gateway, *apiClient, error) {
	spec := gatewaySpec{name: name, ldapURL: ldapURL, rotate: rotate, poolSize: e.opts.poolSize}
	g, err := startGateway(ctx, e.bin, e.workDir, spec, e.dir, e.issuer.Issuer(), e.jwks.URL)
	if err != nil {
		return nil, nil, err
	}
	e.closers = append(e.closers, g.stop)
	return g, newAPIClient(g.endpoint, e.iat, maxConcurrency(e.opts.concurrency)), nil
}

// benchSecretScheme is how raw modifies and the floor hash a new secret:
// dcrgate's default.
const benchSecretScheme = "{SSHA512}"

func (e *env) dialRaw(context.Context) error {
	pool, err := newConnPool(e.dir, e.opts.poolSize)
	if err != nil {
		return err
	}
	e.raw = pool
	e.closers = append(e.closers, pool.close)
	e.hasher, err = credentials.NewHasher(benchSecretScheme)
	return err
}

// learnTemplate registers one client through dcrgate and reads its entry
// back with every user attribute: the shape all raw writes clone.
func (e *env) learnTemplate(ctx context.Context) error {
	marker := credentials.NewClientID()
	f, err := e.apiRotating.register(ctx, marker)
	if err != nil {
		return fmt.Errorf("registering the template client: %w", err)
	}
	tpl := &template{baseDN: e.dir.BaseDN}
	req := ldap.NewSearchRequest(tpl.dn(f.id), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"*"}, nil)
	var res *ldap.SearchResult
	err = e.raw.do(func(c *ldap.Conn) (err error) { res, err = c.Search(req); return err })
	if err != nil {
		return fmt.Errorf("reading the template entry: %w", err)
	}
	if len(res.Entries) != 1 {
		return errors.New("the template entry was not found")
	}
	e.tpl = newTemplate(res.Entries[0], f.id, marker, e.dir.BaseDN)
	e.log.Info("entry template learned from a real registration", "shape", e.tpl.describe())
	return nil
}

// startFloor starts this binary as the floor (see floorCommand) on the
// learned template, unless --floor=false.
func (e *env) startFloor(ctx context.Context) error {
	if !e.opts.floor {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tplPath := filepath.Join(e.workDir, "template.json")
	if err := e.tpl.write(tplPath); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, floorCommand, "--listen", addr, "--template", tplPath,
		"--ldap-url", e.dir.URL, "--ldap-bind-dn", e.dir.BindDN, "--pool-size", strconv.Itoa(e.opts.poolSize))
	cmd.Env = append(os.Environ(), bindPasswordEnv+"="+e.dir.BindPassword)
	g, err := startProcess(ctx, "floor", e.workDir, cmd, "http://"+addr+registrationPath, "http://"+addr)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, g.stop)
	e.floor, e.apiFloor = g, newAPIClient(g.endpoint, e.iat, maxConcurrency(e.opts.concurrency))
	return nil
}

func maxConcurrency(cs []int) int {
	m := 1
	for _, c := range cs {
		m = max(m, c)
	}
	return m
}
