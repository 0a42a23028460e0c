# dcrgate — common tasks. `make test` runs the README's test command, as CI does.
GO ?= go

.PHONY: test build dev vet fmt bench

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
