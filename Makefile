# provisiond — every command a developer or CI needs. Go is the only prerequisite, plus
# Node.js/npm for the spec linters of `make lint`, the TypeScript types of `make generate`,
# `make contract` (Prism) and `make sdk-ts`; the /docs browser test of `make test` uses Debian's
# chromium when it is installed.
GO          ?= go
BIN         ?= bin/provisiond
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCH       ?= .
BENCHCOUNT  ?= 6

.PHONY: all generate generate-go generate-ts build run demo test test-all contract sdk-ts lint lint-go lint-spec bench load perf

all: build

## generate: regenerate gen/ from openapi/: the Go server, models and clients (go generate runs
## go tool oapi-codegen) and the TypeScript types gen/<api>/<api>.d.ts (openapi-typescript)
generate: generate-go generate-ts

generate-go:
	$(GO) generate ./gen/...

generate-ts:
	.ci/typescript/generate.sh

## build: build the server into bin/provisiond (static, no cgo), stamped with VERSION (the git tag,
## "(devel)" without one), COMMIT and BUILD_DATE for `provisiond version` and provisiond_build_info
VERSION     ?= $(shell git describe --tags --dirty 2>/dev/null)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE  ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := github.com/provisiond/provisiond/internal/version
LDFLAGS     := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).date=$(BUILD_DATE)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/provisiond

## run: serve on :8080 with the SQLite database ./data/provisiond.db
run:
	PROVISIOND_LOG_FORMAT=$${PROVISIOND_LOG_FORMAT:-text} $(GO) run ./cmd/provisiond serve

## demo: serve on 127.0.0.1:8080 (DEMO_ADDR) over a fresh temporary SQLite database with the
## example fixtures, printing each API's credential and a first curl call
demo: build
	@PROVISIOND_BIN=$(BIN) .ci/demo.sh

## test: every test on SQLite, and on PostgreSQL too when PROVISIOND_TEST_DATABASE_URL is set; then
## a NOTICE line for each part of the suite that could not run here (no PostgreSQL, no chromium)
test:
	@GO=$(GO) .ci/test.sh

## test-all: make test, where any such gap is a failure (what CI runs)
test-all:
	@GO=$(GO) .ci/test.sh --strict

## contract: the end-to-end suite again, each API behind its own Stoplight Prism proxy
## (`prism proxy openapi/<api>.yaml`); any request or response violation Prism reports fails it
contract:
	PROVISIOND_E2E_PRISM=$(CURDIR)/.ci/prism/start.sh $(GO) test -count=1 ./internal/e2e/

## sdk-ts: type-check (tsc --strict) the TypeScript programs of .ci/typescript, built on the
## generated types and openapi-fetch, and run them with node against a fresh server
sdk-ts: build
	PROVISIOND_BIN=$(CURDIR)/$(BIN) .ci/typescript/check.sh

## lint: Go (gofmt, go vet, staticcheck) and specs (Spectral, Redocly)
lint: lint-go lint-spec

lint-go:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## lint-spec: Spectral (spectral:oas) and Redocly (recommended) on openapi/*.yaml; a warning fails too
SPECLINT     := .ci/lint
SPECLINT_BIN := $(SPECLINT)/node_modules/.bin
SPECS        := $(wildcard openapi/*.yaml)

lint-spec: $(SPECLINT)/node_modules/.installed
	$(SPECLINT_BIN)/spectral lint --ruleset $(SPECLINT)/.spectral.yaml --fail-severity=warn $(SPECS)
	REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(SPECLINT_BIN)/redocly lint --config $(SPECLINT)/redocly.yaml --lint-config=error $(SPECS)

# The pinned linters of .ci/lint, installed again only when its package files are newer than the last install.
$(SPECLINT)/node_modules/.installed: $(SPECLINT)/package.json $(SPECLINT)/package-lock.json
	npm ci --prefix $(SPECLINT) --no-audit --no-fund
	@touch $@

## bench: benchmarks of the write path
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCHCOUNT) ./...

## load: load test: the server on a fresh temporary SQLite database (or on LOAD_DATABASE_URL, a
## fresh PostgreSQL database) at LOAD_ADDR, driven by bin/loadgen with LOAD_ARGS (see .ci/load.sh)
LOADGEN           ?= bin/loadgen
LOAD_ADDR         ?= 127.0.0.1:18181
LOAD_ARGS         ?= -c 32 -d 10s
LOAD_DATABASE_URL ?=

load: build
	CGO_ENABLED=0 $(GO) build -trimpath -o $(LOADGEN) ./cmd/loadgen
	@PROVISIOND_BIN='$(BIN)' LOADGEN_BIN='$(LOADGEN)' LOAD_ADDR='$(LOAD_ADDR)' \
		LOAD_DATABASE_URL='$(LOAD_DATABASE_URL)' .ci/load.sh $(LOAD_ARGS)

## perf: the performance report: every performance goal's ratio, measured side by side on this
## machine (load runs on SQLite and PostgreSQL against peers and bounds, benchmarks, peak RSS,
## lists at up to a million rows), as one table (see .ci/perf.sh; about a quarter of an hour)
perf: build
	CGO_ENABLED=0 $(GO) build -trimpath -o $(LOADGEN) ./cmd/loadgen
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/rsspeak ./cmd/rsspeak
	@PROVISIOND_BIN='$(BIN)' LOADGEN_BIN='$(LOADGEN)' .ci/perf.sh
