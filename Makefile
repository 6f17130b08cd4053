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

# clippy-driver is rustc plus clippy's lints. As the workspace's rustc wrapper it lints our
# crates while compiling them for real, so `make test` compiles every crate once: `cargo clippy`
# would compile every dependency a second time, in check mode. CLIPPY_ARGS is how cargo-clippy
# hands clippy-driver its arguments (here `-D warnings`).
LINTED_BUILD = RUSTC_WORKSPACE_WRAPPER="$$(rustup which clippy-driver)" \
	CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

## test: fmt, the template's offline checks, one build of every target with clippy's lints
## (-D warnings), then every test beside fresh emulators. The build is `--all-targets`, so the
## binaries the end-to-end tests run behind cargo lambda watch have the tests' features and the
## test run compiles nothing again.
test: install
	cargo fmt --all -- --check
	infra/deploy/check.sh
	@rustup which clippy-driver >/dev/null || { echo "no clippy-driver: rustup component add clippy" >&2; exit 1; }
	$(LINTED_BUILD) cargo build --workspace --all-targets
	$(LINTED_BUILD) infra/local/test-stack.sh -- cargo test --workspace --all-targets --no-fail-fast

## lint: fmt and clippy alone (make test lints during its build)
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
