# Helpers shared by infra/deploy/build.sh and deploy.sh (sourced, not run).

# The five Lambda functions; each is a workspace package with one binary of the same name.
PORTAL_AUTH_FUNCTIONS=(device-code device-token device-verify device-callback authorizer)
ARM64_TARGET=aarch64-unknown-linux-gnu

# cargo-lambda and zig (the cross-linker) come from the pinned tools in .venv.
use_venv_tools() {
  local root=$1
  if [ ! -x "$root/.venv/bin/cargo-lambda" ] || [ ! -x "$root/.venv/bin/python-zig" ]; then
    echo "cargo-lambda or zig missing from .venv; run \`make install\` (infra/local/install.sh)" >&2
    return 1
  fi
  export PATH="$root/.venv/bin:$PATH"
}

# cargo-lambda cross-compiles with zig as the linker, but rustc still needs the Rust standard
# library built for the target. Without it, say what to do instead of failing obscurely.
ensure_arm64_target() {
  if ! command -v rustup >/dev/null 2>&1; then
    if rustc --print target-libdir --target "$ARM64_TARGET" 2>/dev/null | xargs -r test -d; then
      return 0
    fi
    cat >&2 <<MSG
The Rust standard library for $ARM64_TARGET is not installed and rustup is not available.
Install it with your Rust distribution (e.g. the rust-std-$ARM64_TARGET component), or see
docs/operations.md, "Building without the arm64 target".
MSG
    return 1
  fi
  if rustup target list --installed 2>/dev/null | grep -qx "$ARM64_TARGET"; then
    return 0
  fi
  echo "==> rustup target add $ARM64_TARGET (the Rust standard library for arm64 Lambda)" >&2
  if ! rustup target add "$ARM64_TARGET"; then
    cat >&2 <<MSG
rustup could not install $ARM64_TARGET (no access to its distribution server?). Options:
  - on a machine with access: rustup target add $ARM64_TARGET
  - offline: point RUSTUP_DIST_SERVER at a mirror, or install the rust-std component for
    $ARM64_TARGET from the same toolchain release's tarball (rust-std-<version>-$ARM64_TARGET.tar.xz,
    ./install.sh --prefix=\$(rustc --print sysroot))
  - see docs/operations.md, "Building without the arm64 target"
MSG
    return 1
  fi
}
