# xoneharness: common tasks. `make help` lists them.
GO        ?= go
PKGS      := ./...
ADDR      ?= 127.0.0.1:18080
BIN       := bin/xoneharness

.PHONY: help test test-short build lint sandbox run bench shards-demo fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: ## run every test with the race detector (what CI runs)
	@# Build first: deploy's tests build the CLI, and doing that while the
	@# timing-sensitive tests run on 2 cores starves them.
	$(GO) build $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short: ## quick test run without the race detector
	$(GO) test -count=1 $(PKGS)

build: ## build bin/xoneharness
	$(GO) build -o $(BIN) ./cmd/xoneharness

lint: ## gofmt check + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

sandbox: ## serve the embedded sandbox on $(ADDR)
	$(GO) run ./cmd/xoneharness sandbox --addr $(ADDR)

run: ## the main job against the embedded sandbox
	$(GO) run ./cmd/xoneharness run

bench: ## performance table of BENCHMARKS.md (about 10 min; go run ./bench -quick for 1.5 min)
	$(GO) run ./bench

shards-demo: ## 3 load shards + merge against one local sandbox (deploy/shards-demo.sh)
	bash deploy/shards-demo.sh

fuzz: ## run each fuzz target for FUZZTIME (default 30s); not part of CI
	@FUZZTIME=$${FUZZTIME:-30s}; \
	for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $$FUZZTIME $$pkg || exit 1; \
	  done; \
	done

clean: ## remove build output and local reports
	rm -rf bin
