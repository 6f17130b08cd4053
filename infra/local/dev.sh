#!/usr/bin/env bash
# `make dev`: the whole local stack in the foreground.
#   moto (DynamoDB)        127.0.0.1:8000
#   cognito-local          127.0.0.1:9229   (data in .cognito/, reset every run)
#   cargo lambda watch     127.0.0.1:9000   (routes of design.md, from Cargo.toml's router)
# Writes .env.local with the ids it created; every function, the authorizer included, gets it
# (the authorizer reads the revocation records from moto: AUTHORIZER_REVOCATION_TABLE with the
# same AWS_* credentials, region and AWS_ENDPOINT_URL_DYNAMODB as the device functions).
# Ctrl-C stops every process it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=infra/local/lib.sh
. infra/local/lib.sh

DDB_PORT=${DDB_PORT:-8000}
COGNITO_PORT=${COGNITO_PORT:-9229}
LAMBDA_PORT=${LAMBDA_PORT:-9000}
DEMO_PASSWORD=${DEMO_PASSWORD:-PortalDemo-2026!}
mkdir -p .local
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo >&2
  echo "==> stopping the local stack" >&2
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$DDB_PORT" "$COGNITO_PORT" "$LAMBDA_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "port $port is already in use: is another 'make dev' running?" >&2
    exit 1
  fi
done

set -m  # each background job its own process group, so Ctrl-C cleanup reaches its children
echo "==> moto (DynamoDB) on 127.0.0.1:$DDB_PORT" >&2
.venv/bin/python infra/local/moto_server.py --port "$DDB_PORT" >.local/moto.log 2>&1 &
pids+=($!)
echo "==> cognito-local on 127.0.0.1:$COGNITO_PORT" >&2
rm -rf .cognito && mkdir -p .cognito
cognito_config >.cognito/config.json
PORT=$COGNITO_PORT HOST=127.0.0.1 node infra/local/node_modules/cognito-local/lib/bin/start.js >.local/cognito.log 2>&1 &
pids+=($!)
wait_for_http "http://127.0.0.1:$DDB_PORT/" moto .local/moto.log
wait_for_http "http://127.0.0.1:$COGNITO_PORT/health" cognito-local .local/cognito.log

echo "==> creating the table, user pool, app clients and demo user" >&2
.venv/bin/python infra/local/bootstrap.py \
  --dynamodb "http://127.0.0.1:$DDB_PORT" --cognito "http://127.0.0.1:$COGNITO_PORT" \
  --base-url "http://127.0.0.1:$LAMBDA_PORT" --password "$DEMO_PASSWORD" --out .env.local
# shellcheck disable=SC1091
. ./.env.local

echo "==> cargo lambda watch on 127.0.0.1:$LAMBDA_PORT (first build takes a few minutes)" >&2
PATH="$root/.venv/bin:$PATH" cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" \
  --env-file .env.local &
pids+=($!)

cat >&2 <<MSG

The local stack is starting. Configuration: .env.local. Logs: .local/*.log.
  demo user:        $PORTAL_LOCAL_DEMO_USERNAME / $DEMO_PASSWORD (group portal-users)
  public client:    $PORTAL_LOCAL_PUBLIC_CLIENT_ID ("Portal CLI")
  confidential:     $PORTAL_LOCAL_CONFIDENTIAL_CLIENT_ID ("Portal Device (confidential)")

Next, in another terminal (see the README's walk-through):
  source .env.local
  curl -s -d client_id=\$PORTAL_LOCAL_PUBLIC_CLIENT_ID http://127.0.0.1:$LAMBDA_PORT/device/code

Ctrl-C stops everything.
MSG
wait "${pids[@]}"
