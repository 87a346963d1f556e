# Glimpse: `make run` sets up and runs the server; `make test` sets up and runs the tests.
.PHONY: setup build release run test lint format clean

SWIFT ?= swift

setup:
	scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

run:
	scripts/run

test: setup
	scripts/test

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests Fuzz/Sources
	scripts/check-function-length
	scripts/check-target-deps

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests Fuzz/Sources

clean:
	rm -rf .build models/test
