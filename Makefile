# mxsurvey — build, test, demo, benchmark.
SWIFT ?= swift
BIN := .build/release

.PHONY: all build test demo bench format lint deps clean

all: build

build:
	$(SWIFT) build -c release --product mxsurvey
	$(SWIFT) build -c release --product mxfarm

# System packages (Debian 12): libraries and the real peers the tests start.
deps:
	bash scripts/install-deps.sh

test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 2

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint -r Sources Tests

clean:
	rm -rf .build demo
