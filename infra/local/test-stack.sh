#!/usr/bin/env bash
# Runs a command beside fresh emulators on free ports, then stops them, even when it fails:
#   infra/local/test-stack.sh -- cargo test --workspace
# Exports PORTAL_TEST_DYNAMODB_ENDPOINT (moto, single-threaded) and PORTAL_TEST_COGNITO_ENDPOINT
# (cognito-local, in a throw-away data folder). Free ports mean it runs beside `make dev`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d)
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=infra/local/lib.sh
. "$root/infra/local/lib.sh"

ddb_port=$(free_port)
"$root/.venv/bin/python" "$root/infra/local/moto_server.py" --port "$ddb_port" >"$work/moto.log" 2>&1 &
pids+=($!)
mkdir -p "$work/cognito/.cognito"
cognito_config >"$work/cognito/.cognito/config.json"
cognito_port=$(free_port)
(cd "$work/cognito" && PORT=$cognito_port HOST=127.0.0.1 exec node "$root/infra/local/node_modules/cognito-local/lib/bin/start.js") >"$work/cognito.log" 2>&1 &
pids+=($!)

wait_for_http "http://127.0.0.1:$ddb_port/" moto "$work/moto.log"
wait_for_http "http://127.0.0.1:$cognito_port/health" cognito-local "$work/cognito.log"

export PORTAL_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
export PORTAL_TEST_COGNITO_ENDPOINT="http://127.0.0.1:$cognito_port"
export PORTAL_TEST_NODE_MODULES="$root/infra/local/node_modules"
"$@"
