# mxsurvey — build, test, demo, benchmark.
SWIFT ?= swift
BIN := .build/release

.PHONY: all build test leakcheck demo sample-report bench fuzz fuzz-smoke format lint deps clean

all: build

build: deps
	$(SWIFT) build -c release --product mxsurvey
	$(SWIFT) build -c release --product mxfarm
	$(SWIFT) build -c release --product maillog-gen

# System packages (Debian 12): libraries and the real peers the tests start. Installed
# only when something is missing, so `make demo` and `make test` work on a fresh machine.
deps:
	@pkg-config --exists libcares openssl sqlite3 && command -v unbound >/dev/null \
	  && command -v postfix >/dev/null && command -v dnsperf >/dev/null && command -v heaptrack >/dev/null && command -v ldns-signzone >/dev/null && command -v nginx >/dev/null \
	  || bash scripts/install-deps.sh

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The in-memory TLS suites under heaptrack: no OpenSSL object outlives its owner (CI runs it).
leakcheck: deps
	bash scripts/tls-leakcheck.sh

demo: build
	bash scripts/demo.sh

# Regenerates the committed reports/sample-report.* from a demo run (on purpose only).
sample-report: build
	SAMPLE=1 bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

# libFuzzer targets for the parsers (Tests/Fuzz/README.md): 1,000,000 runs each, or 20 s each.
fuzz: deps
	bash scripts/fuzz.sh run

fuzz-smoke: deps
	bash scripts/fuzz.sh smoke

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint -r Sources Tests

clean:
	rm -rf .build .build-fuzz demo
