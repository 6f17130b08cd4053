#!/usr/bin/env bash
# `make deploy`: sam build (cargo-lambda, arm64, with the beta flag from samconfig.toml) and
# sam deploy --guided. Arguments, when given, go to `sam deploy` instead of --guided, e.g.
#   infra/deploy/deploy.sh --no-confirm-changeset --parameter-overrides StageName=v1
# Needs AWS credentials for the target account (the usual AWS_PROFILE / environment).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source infra/deploy/lib.sh
use_venv_tools "$root"
ensure_arm64_target
export SAM_CLI_TELEMETRY=${SAM_CLI_TELEMETRY:-0}

echo "==> sam validate --lint" >&2
sam validate --lint --template-file template.yaml
echo "==> sam build --beta-features (cargo lambda build --release --arm64, per function)" >&2
sam build --beta-features --template-file template.yaml
if [ $# -gt 0 ]; then
  echo "==> sam deploy $*" >&2
  sam deploy "$@"
else
  echo "==> sam deploy --guided" >&2
  sam deploy --guided
fi
