#!/usr/bin/env bash
# Installs what the local stack and the tests need, only what is missing, so a second run is
# quick: Rust components, the pinned Python tools in ./.venv, the pinned Node tools in
# infra/local/node_modules. Safe to run again at any time.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    log "rustup component add $component"
    rustup component add "$component"
  fi
done

stamp=.venv/.installed-$(sha256sum infra/local/requirements.lock | cut -c1-16)
if [ ! -f "$stamp" ]; then
  log "installing pinned Python tools into .venv (moto, cargo-lambda, zig, SAM CLI, cfn-lint)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r infra/local/requirements.lock
  touch "$stamp"
fi

lock=infra/local/package-lock.json
nstamp=infra/local/node_modules/.installed-$(sha256sum "$lock" | cut -c1-16)
if [ ! -f "$nstamp" ]; then
  log "installing pinned Node tools (cognito-local) with npm ci"
  (cd infra/local && npm ci --no-audit --no-fund --loglevel=error)
  touch "$nstamp"
fi

# Debian's Chromium and ChromeDriver for the browser end-to-end tests (no browser downloads).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  log "installing Debian's chromium and chromium-driver"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver
fi
