#!/usr/bin/env bash
# `make bench`: the authorizer's criterion benchmarks, then aws-jwt-verify's verifySync on the
# very same token and JWKS, then one table with the per-verification times and the ratios; then
# the cold starts of the five release binaries against lambda_runtime's hello world
# (infra/bench/coldstart.py; COLDSTART_RUNS fresh processes each, default 15).
#   infra/bench/run.sh            (what `make bench` runs)
# Needs node and the pinned aws-jwt-verify (installed here with `npm ci` when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

lock=infra/bench/package-lock.json
stamp=infra/bench/node_modules/.installed-$(sha256sum "$lock" | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing the pinned aws-jwt-verify with npm ci" >&2
  (cd infra/bench && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi

out="$CARGO_TARGET_DIR/authorizer-bench"
mkdir -p "$out"
rm -f "$out/input.json" "$out/aws-jwt-verify.json"

echo "==> cargo bench -p authorizer (criterion; release profile)" >&2
AUTHORIZER_BENCH_INPUT="$out/input.json" cargo bench -p authorizer --bench authorizer

echo "==> aws-jwt-verify verifySync on the same token" >&2
node infra/bench/aws-jwt-verify.mjs "$out/input.json" >"$out/aws-jwt-verify.json"

node infra/bench/report.mjs "$CARGO_TARGET_DIR/criterion" "$out/aws-jwt-verify.json"

echo "==> cold starts: cargo build --release of the five functions and the hello-world floor" >&2
cargo build --release -p authorizer -p device-code -p device-token -p device-verify \
  -p device-callback -p coldstart-floor
python3 infra/bench/coldstart.py "$CARGO_TARGET_DIR/release" --runs "${COLDSTART_RUNS:-15}"
