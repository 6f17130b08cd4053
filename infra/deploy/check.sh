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
# 1. and 2. also run on a copy of the template whose PortalBackendUrl defaults to an https URL
# (the front door on), so `sam validate --lint` and cfn-lint pass both ways. The front-door
# rules (E9201, E9203) judge every value of PortalBackendUrl and PortalApiKeyClients on either
# copy; the copy is for the checks that see only defaults.
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The front door on: the same template with PortalBackendUrl's default set.
front_door="$work/$(basename "$template" .yaml).portal-backend-url-set.yaml"
set +e
copy_out=$(.venv/bin/python - "$template" "$front_door" 2>&1 <<'PY'
import re, sys
source, target = sys.argv[1:3]
text, n = re.subn(
    r'(?m)^(  PortalBackendUrl:\n(?:    .*\n)*?    Default: )""$', r'\1"https://portal.example.com"',
    open(source).read(),
)
if n != 1:
    sys.exit(f"{source}: no Parameters.PortalBackendUrl with Default \"\" to set")
open(target, "w").write(text)
PY
)
copy_rc=$?
set -e
record "a copy of $template with PortalBackendUrl=https://portal.example.com" "$copy_rc" "$copy_out"
templates=("$template")
[ "$copy_rc" -ne 0 ] || templates+=("$front_door")

# 1. and 3. in the background while 2. (the longest) runs.
sam_pids=()
for i in "${!templates[@]}"; do
  .venv/bin/sam validate --lint --template-file "${templates[$i]}" >"$work/sam-$i.out" 2>&1 &
  sam_pids+=($!)
done

# 2. cfn-lint with the project's rules, on the template(s) and the fixtures.
rules_out="$work/rules.out"
set +e
.venv/bin/python infra/deploy/rules/_fixtures.py "${templates[@]}" | tee "$rules_out"
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

for i in "${!templates[@]}"; do
  set +e
  wait "${sam_pids[$i]}"
  sam_rc=$?
  set -e
  record "sam validate --lint ${templates[$i]#"$work"/}" "$sam_rc" "$(cat "$work/sam-$i.out")"
done

echo "template: $passed passed, ${#failed[@]} failed ($((SECONDS - start)) s)"
[ "${#failed[@]}" -eq 0 ]
