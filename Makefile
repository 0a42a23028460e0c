# dcrgate — common tasks. `make test` runs the README's test command, as CI does.
GO ?= go

.PHONY: test build dev vet fmt bench interop-hydra replication

test:
	$(GO) test -count=1 ./...

build:
	$(GO) build -o bin/dcrgate ./cmd/dcrgate

dev:
	$(GO) run ./cmd/dcrgate dev

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench compares dcrgate with raw LDAP on a throwaway slapd; README "Performance".
bench:
	$(GO) run ./bench --concurrency 1,4,16,64 --duration 1s --rounds 6 --preload 1000

# Two gateways over two replicating slapd providers, with the figures of
# docs/scaling.md (go test ./... runs the same tests, quietly).
replication:
	$(GO) test -count=1 -v -run 'TestReplicated|TestMultiProvider' ./ldapstore/... ./e2e/

# dcrgate serve against ORY Hydra v2.3.0 (JWT and opaque tokens); see interop/hydra.
interop-hydra:
	cd interop/hydra && $(GO) test -count=1 -v .
