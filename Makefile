# xoneharness: common tasks. `make help` lists them.
GO        ?= go
PKGS      := ./...
ADDR      ?= 127.0.0.1:18080
BIN       := bin/xoneharness
# deploy/ is a module of its own, so that the Kubernetes API modules its
# manifest tests need stay out of the tool's module; ./... from here does not
# reach it, so test and lint run there too.
DEPLOY    := deploy
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help test test-short build lint sandbox run bench shards-demo fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: ## run every test with the race detector, deploy/ included (what CI runs)
	@# Build first: compiling while the timing-sensitive tests run on 2 cores
	@# starves them, and deploy's tests, which build the CLI, find its
	@# packages in the build cache.
	$(GO) build $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	cd $(DEPLOY) && $(GO) test -race -count=1 -timeout 15m ./...

test-short: ## quick test run without the race detector, deploy/ included
	$(GO) test -count=1 $(PKGS)
	cd $(DEPLOY) && $(GO) test -count=1 ./...

build: ## build bin/xoneharness
	$(GO) build -o $(BIN) ./cmd/xoneharness

lint: ## gofmt check, go vet and staticcheck, deploy/ included
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd $(DEPLOY) && $(GO) vet ./...
	$(STATICCHECK) $(PKGS)
	cd $(DEPLOY) && $(STATICCHECK) ./...

sandbox: ## serve the embedded sandbox on $(ADDR)
	$(GO) run ./cmd/xoneharness sandbox --addr $(ADDR)

run: ## the main job against the embedded sandbox
	$(GO) run ./cmd/xoneharness run

bench: ## performance table of BENCHMARKS.md (about 8 min; go run ./bench -quick for 2 min)
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
