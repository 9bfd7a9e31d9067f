# wso2sync — build, test and try it out. Needs only Go.
GO        ?= go
BIN       ?= bin/wso2sync
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
FUZZTIME  ?= 10s

.PHONY: all build test soak fuzz lint bench demo e2e clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/wso2sync

# The command the README and .ci/run give: unit, CLI (testscript) and race
# tests, the model-based convergence test at full length (300 steps; under
# -race it runs 40), then short bounded fuzz runs of the manifest loader
# (secret references and includes among its inputs) and of the webhook.
# The tests include one smoke run of the scale bench at size S
# (internal/bench TestSmokeS: every scenario and its checks, no figures
# written).
test:
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestModel$$' ./internal/audit -steps $(MODEL_STEPS)
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

# The model-based convergence test (internal/audit) at soak length: random
# manifest edits over every kind, each applied to the simulator, audited
# and re-planned. SEED=N replays a run (its seed is printed).
MODEL_STEPS ?= 300
SOAK_STEPS  ?= 10000
soak:
	$(GO) test -count=1 -timeout 0 -run '^TestModel$$' ./internal/audit -v -steps $(SOAK_STEPS) $(if $(SEED),-seed $(SEED))

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/spec
	$(GO) test -run '^$$' -fuzz '^FuzzWebhook$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/daemon

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Scale benchmarks against the simulator (BENCHMARKS.md): writes
# bench-results.json and the table in BENCHMARKS.md. BENCH_SIZES=S,M,L,XL;
# BENCH_LATENCY, BENCH_SERVER_CONCURRENCY tune the simulator.
BENCH_SIZES ?= S,M
bench:
	BENCH_SIZES=$(BENCH_SIZES) $(GO) run ./internal/bench

# The README's first command: the embedded simulator, plan (changes), apply
# in enforce mode, plan again (no changes). See scripts/demo.sh.
demo: build
	BIN=$(BIN) ./scripts/demo.sh

# Real WSO2 (APIM 4.5.0 + IS 7.1.0 in Docker): start deploy/compose, wait
# healthy, e2e-tagged tests + plan → apply → plan → export, tear down.
# Needs Docker; see deploy/compose/README.md. make test runs the same steps
# against the simulator.
e2e:
	./deploy/compose/run-e2e.sh

clean:
	rm -rf bin
