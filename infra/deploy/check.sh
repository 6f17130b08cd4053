#!/usr/bin/env bash
# Offline checks of the SAM template (run by `make test`): `sam validate --lint`, `cfn-lint` on
# template.yaml, cfn-lint on the template translated to plain CloudFormation, broken copies
# that must fail each of them, and the security properties of issue 5. See
# infra/deploy/check_template.py for what each check proves.
#
# Never touches the network: where the kernel allows an unprivileged network namespace the
# checks run inside one with no interfaces but loopback; in every case the AWS SDKs get fake
# credentials, no config files and a proxy that refuses connections. Exits non-zero on any
# failure; the last line is `template: N passed, M failed`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

python=.venv/bin/python
if [ ! -x "$python" ] || [ ! -x .venv/bin/sam ] || [ ! -x .venv/bin/cfn-lint ]; then
  echo "infra/deploy/check.sh: .venv/bin/{python,sam,cfn-lint} missing; run \`make install\`" >&2
  echo "template: 0 passed, 1 failed"
  exit 1
fi

offline_env=(
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u NO_PROXY -u no_proxy
  AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check
  AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
  http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9
  SAM_CLI_TELEMETRY=0 SAM_CLI_CONTEXT=offline-check
  PYTHONDONTWRITEBYTECODE=1
)

if unshare --user --map-root-user --net true 2>/dev/null; then
  echo "==> template checks (no network namespace: unshare --net; plus fake credentials, dead proxy)"
  exec unshare --user --map-root-user --net "${offline_env[@]}" "$python" infra/deploy/check_template.py "$@"
else
  echo "==> template checks (unshare unavailable here: offline by fake credentials and a dead proxy only)"
  exec "${offline_env[@]}" "$python" infra/deploy/check_template.py "$@"
fi
