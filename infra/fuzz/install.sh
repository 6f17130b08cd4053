#!/usr/bin/env bash
# Installs the pinned cargo-fuzz (infra/fuzz/CARGO_FUZZ_VERSION) when it is missing or at
# another version; a second run costs one `cargo fuzz --version`.
#   infra/fuzz/install.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=$(tr -d '[:space:]' <"$here/CARGO_FUZZ_VERSION")
have=$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "==> installing cargo-fuzz $want (found: ${have:-none})" >&2
  # Its own target dir: never the workspace's, whose flags differ.
  CARGO_TARGET_DIR="${HOME}/.cache/portal-auth/cargo-fuzz-install" \
    cargo install cargo-fuzz --version "$want" --locked
fi
