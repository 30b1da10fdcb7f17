# Vigía — the real-time operations hub of the SENAPRED Valparaíso
# early-warning centre. `make run` and `make test` are all a newcomer needs.

export PATH := /usr/local/go/bin:$(PATH)
GO      ?= go
BIN     ?= bin/hub
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run test test-short build lint bench clean

## run: the hub on the embedded default (SQLite under ./data, in-memory read models) with demo data, at http://localhost:8080
run: build
	HUB_DEMO=1 ./$(BIN) serve

## build: the one binary, bin/hub
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hub

## test: vet, then every test with the race detector (integration tests need Postgres and Redis on 127.0.0.1; see README)
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...

## test-short: the fast unit tests only
test-short:
	$(GO) test -short -count=1 ./...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the go test benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
