# portal-auth: the two commands are `make dev` (the whole local stack) and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
# One cargo target directory outside the clone, reused by every clone on this machine: the AWS
# SDK crates take minutes to build on two cores, and a fresh clone should not pay that twice.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/portal-auth/target

.PHONY: install dev test lint bench build deploy fuzz

## install: what the stack and the tests need, only what is missing (second run: seconds)
install:
	@infra/local/install.sh

## dev: moto + cognito-local + `cargo lambda watch` on 127.0.0.1:9000; Ctrl-C stops it all
dev: install
	@infra/local/dev.sh

## test: fmt, clippy, the template's offline checks and every test, beside fresh emulators
## (the binaries are built first: the end-to-end tests run them behind cargo lambda watch)
test: install lint
	infra/deploy/check.sh
	cargo build --workspace --bins
	infra/local/test-stack.sh -- cargo test --workspace --all-targets --no-fail-fast

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## bench: the authorizer's criterion benchmarks beside aws-jwt-verify; cold starts against a hello world
bench: install
	infra/bench/run.sh

## fuzz: every cargo-fuzz target (fuzz/) for FUZZ_SECONDS (default 60) each, one at a time,
## then a table of executions, coverage and crashes (installs the pinned cargo-fuzz if missing)
fuzz:
	infra/fuzz/run.sh

## build: arm64 Lambda bootstraps for every function under target/lambda/
build: install
	infra/deploy/build.sh

## deploy: sam build + sam deploy --guided
deploy: install
	infra/deploy/deploy.sh
