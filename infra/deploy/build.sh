#!/usr/bin/env bash
# `make build`: arm64 Lambda bootstraps for every function, stripped (the workspace's release
# profile), at target/lambda/<function>/bootstrap in the repository, whatever CARGO_TARGET_DIR
# says (the Makefile points it outside the clone to share compiled dependencies). Then checks
# each is an aarch64 ELF without a symbol table, and prints the sizes against their budgets.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source infra/deploy/lib.sh
use_venv_tools "$root"
ensure_arm64_target

lambda_dir="$root/target/lambda"
# The authorizer is built on its own, as `sam build` builds it (each function alone): built with
# the device functions, cargo would unify their dependency features into its graph, and the size
# checked here would not be the size deployed.
device_packages=()
for f in "${PORTAL_AUTH_FUNCTIONS[@]}"; do
  [ "$f" = authorizer ] || device_packages+=(--package "$f")
done

start=$(date +%s)
echo "==> cargo lambda build --release --arm64 (the device functions) -> target/lambda/" >&2
cargo lambda build --release --arm64 --lambda-dir "$lambda_dir" "${device_packages[@]}"
echo "==> cargo lambda build --release --arm64 (authorizer, alone) -> target/lambda/" >&2
cargo lambda build --release --arm64 --lambda-dir "$lambda_dir" --package authorizer
echo "==> built in $(( $(date +%s) - start )) s" >&2

# Budgets (bytes, 1 MB = 10^6 B; issue 16): the authorizer runs before every portal request that
# misses the authorizer cache, so its cold start matters most; it must not link the AWS SDK.
# A binary over its budget fails the build.
python3 - "$lambda_dir" "${PORTAL_AUTH_FUNCTIONS[@]}" <<'PY'
import re, struct, sys
from pathlib import Path

lambda_dir, functions = Path(sys.argv[1]), sys.argv[2:]
budgets = {f: (4 if f == "authorizer" else 8) * 1_000_000 for f in functions}
EM_AARCH64 = 183
# provided.al2023 ships glibc 2.34: a binary needing a newer symbol version fails at cold start.
RUNTIME_GLIBC = (2, 34)
failed = False
print(f"{'function':<16} {'bytes':>11} {'MB':>6} {'budget':>7}  checks")
for f in functions:
    path = lambda_dir / f / "bootstrap"
    if not path.is_file():
        print(f"{f:<16} {'-':>11} {'-':>6} {'-':>7}  MISSING {path}")
        failed = True
        continue
    data = path.read_bytes()
    problems = []
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        problems.append("not a 64-bit little-endian ELF")
    else:
        e_machine = struct.unpack_from("<H", data, 18)[0]
        if e_machine != EM_AARCH64:
            problems.append(f"e_machine {e_machine}, not aarch64")
        shoff, = struct.unpack_from("<Q", data, 40)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
        sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
        names_off = sections[shstrndx][4] if sections else 0
        names = {data[names_off + s[0]: data.index(b"\0", names_off + s[0])].decode() for s in sections}
        if ".symtab" in names:
            problems.append("not stripped (.symtab present)")
        # Version names a dynamic binary needs sit in .dynstr as GLIBC_2.<n> strings.
        needed = {tuple(map(int, m)) for m in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)}
        if needed and max(needed) > RUNTIME_GLIBC:
            problems.append(f"needs glibc {'.'.join(map(str, max(needed)))} > {'.'.join(map(str, RUNTIME_GLIBC))} (provided.al2023)")
    size = len(data)
    if size > budgets[f]:
        problems.append(f"over the {budgets[f] // 1_000_000} MB budget")
    failed |= bool(problems)
    print(f"{f:<16} {size:>11,} {size / 1e6:>6.2f} {budgets[f] // 1_000_000:>5} MB  {'; '.join(problems) or 'aarch64 ELF, stripped, glibc <= 2.34, within budget'}")
sys.exit(1 if failed else 0)
PY
