# Vigía — the real-time operations hub of the SENAPRED Valparaíso
# early-warning centre. `make run` and `make test` are all a newcomer needs.

export PATH := /usr/local/go/bin:$(PATH)
GO      ?= go
BIN     ?= bin/hub
# make run and run-cluster create this first admin (demo only; set your own).
export HUB_ADMIN_USER     ?= admin
export HUB_ADMIN_PASSWORD ?= vigia-admin-demo
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run run-cluster test test-short build lint bench screenshots clean

## run: the hub on the embedded default (SQLite under ./data, in-memory read models) with demo data, at http://localhost:8080
run: build
	HUB_DEMO=1 ./$(BIN) serve

## run-cluster: two hub instances (http://localhost:8081 and :8082) sharing local Postgres (schema vigia_cluster) and Redis
CLUSTER_PG := postgres://postgres@127.0.0.1:5432/test?sslmode=disable&options=-csearch_path%3Dvigia_cluster
run-cluster: build
	psql -q -h 127.0.0.1 -U postgres -d test -c 'CREATE SCHEMA IF NOT EXISTS vigia_cluster'
	@echo "hub A: http://localhost:8081   hub B: http://localhost:8082   (admin / $(HUB_ADMIN_PASSWORD))"
	@trap 'kill 0' INT TERM EXIT; \
	export HUB_EVENTSTORE='$(CLUSTER_PG)' HUB_READMODEL='$(CLUSTER_PG)' HUB_BROKER=redis://127.0.0.1:6379/0 HUB_REDIS_PREFIX=vigia-cluster:; \
	HUB_ADDR=:8081 HUB_DATA_DIR=data/cluster-a HUB_DEMO=1 ./$(BIN) serve & \
	sleep 2; HUB_ADDR=:8082 HUB_DATA_DIR=data/cluster-b ./$(BIN) serve & \
	wait

## build: the hub, bin/hub, and its load generator, bin/hub-bench (not part of a deployment)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hub
	$(GO) build -trimpath -o $(dir $(BIN))hub-bench ./cmd/hub-bench

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

## bench-hub: bin/hub-bench at its defaults, against a bin/hub serve of its own (about 2-3 minutes; docs/benchmarks.md)
bench-hub: build
	./$(dir $(BIN))hub-bench --hub ./$(BIN)

## screenshots: refresh docs/screenshots from a demo hub in headless Chromium
screenshots:
	HUB_SCREENSHOTS=1 $(GO) test -count=1 -run TestBrowserScreenshots ./cmd/hub/

clean:
	rm -rf bin
