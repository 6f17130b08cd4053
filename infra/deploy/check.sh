#!/usr/bin/env bash
# Offline checks of the SAM template (run by `make test`), all with standard tools:
#
# 1. `sam validate --lint` on template.yaml (the SAM translator's validation, then cfn-lint).
# 2. cfn-lint with this project's rules (infra/deploy/rules/*.py, `--append-rules`) on
#    template.yaml, and on the fixtures under infra/deploy/rules/fixtures/, each of which says
#    which rule it must fail or pass (infra/deploy/rules/_fixtures.py runs them). E9000 lints
#    the template SAM translates to; E91xx-E96xx are the security and operations properties.
# 3. `cargo tree`: the authorizer does not link the DynamoDB SDK or the device library.
#
# The IAM actions each function's code needs are declared beside its code (`IAM_ACTIONS` in
# functions/<name>/src/lib.rs) and compared with the roles here by a Rust test
# (tests/tests/deploy_config.rs, in `cargo test`); the integration tests' DynamoDB client fails
# any request whose action the function under test did not declare (tests/src/dynamodb.rs).
#
# Never touches the network: where the kernel allows an unprivileged network namespace the
# checks run inside one with no interfaces but loopback; in every case the AWS SDKs get fake
# credentials, no config files and a proxy that refuses connections. Exits non-zero on any
# failure; the last line is `template: N passed, M failed`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/sam ] || [ ! -x .venv/bin/cfn-lint ]; then
  echo "infra/deploy/check.sh: .venv/bin/{python,sam,cfn-lint} missing; run \`make install\`" >&2
  echo "template: 0 passed, 1 failed"
  exit 1
fi

if [ -z "${PORTAL_AUTH_CHECK_OFFLINE:-}" ]; then
  offline_env=(
    env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u NO_PROXY -u no_proxy
    AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check
    AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9
    SAM_CLI_TELEMETRY=0 SAM_CLI_CONTEXT=offline-check
    PYTHONDONTWRITEBYTECODE=1 CARGO_NET_OFFLINE=true
  )
  if unshare --user --map-root-user --net true 2>/dev/null; then
    echo "==> template checks (no network namespace: unshare --net; plus fake credentials, dead proxy)"
    exec unshare --user --map-root-user --net "${offline_env[@]}" PORTAL_AUTH_CHECK_OFFLINE=netns "$0" "$@"
  fi
  echo "==> template checks (unshare unavailable here: offline by fake credentials and a dead proxy only)"
  exec "${offline_env[@]}" PORTAL_AUTH_CHECK_OFFLINE=env "$0" "$@"
fi

# An argument checks another copy of the template (the fixtures stay the same).
template=${1:-template.yaml}
start=$SECONDS
passed=0
failed=()
record() { # name status output
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok    $1"
  else
    failed+=("$1")
    echo "FAIL  $1"
    sed 's/^/        /' <<<"$3" | head -40
  fi
}

# 1. and 3. in the background while 2. (the longest) runs.
sam_out=$(mktemp)
.venv/bin/sam validate --lint --template-file "$template" >"$sam_out" 2>&1 &
sam_pid=$!

# 2. cfn-lint with the project's rules, on template.yaml and the fixtures.
rules_out=$(mktemp)
set +e
.venv/bin/python infra/deploy/rules/_fixtures.py "$template" | tee "$rules_out"
rules_rc=${PIPESTATUS[0]}
set -e
summary=$(tail -n 1 "$rules_out")
if [[ $summary =~ ^rules:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1]))
  for ((i = 0; i < BASH_REMATCH[2]; i++)); do failed+=("a rule or fixture (see FAIL above)"); done
  [ "$rules_rc" -eq 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || failed+=("infra/deploy/rules/_fixtures.py exited $rules_rc")
else
  failed+=("infra/deploy/rules/_fixtures.py exited $rules_rc without a summary")
fi

# 3. design.md: the authorizer must not link the DynamoDB SDK (nor the device library that does).
set +e
tree=$(cargo tree --offline --locked -p authorizer -e normal,build --prefix none --format '{p}' 2>&1)
tree_rc=$?
set -e
linked=$(grep -E '^(aws-sdk-dynamodb|portal-auth-device) ' <<<"$tree" | sort -u || true)
if [ "$tree_rc" -ne 0 ]; then
  record "cargo tree -p authorizer: no aws-sdk-dynamodb, no portal-auth-device" 1 "$tree"
else
  record "cargo tree -p authorizer: no aws-sdk-dynamodb, no portal-auth-device" "$([ -z "$linked" ] && echo 0 || echo 1)" "links: $linked"
fi

set +e
wait "$sam_pid"
sam_rc=$?
set -e
record "sam validate --lint $template" "$sam_rc" "$(cat "$sam_out")"
rm -f "$sam_out" "$rules_out"

echo "template: $passed passed, ${#failed[@]} failed ($((SECONDS - start)) s)"
[ "${#failed[@]}" -eq 0 ]
