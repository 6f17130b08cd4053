#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS (default 60) each, one after
# the other, then one table of executions, coverage and crashes per target.
#   infra/fuzz/run.sh [target...]          (what `make fuzz` runs; no target: all of them)
#   FUZZ_SECONDS=600 infra/fuzz/run.sh form
#   infra/fuzz/run.sh cmin [target...]     (minimise fuzz/corpus/<target> in place)
# One libFuzzer process at a time, under `nice -n 10`: the machines have two cores, and the
# other one stays free. Installs the pinned cargo-fuzz (infra/fuzz/install.sh) when missing.
# Toolchain: nightly when rustup has one, else stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs
# nightly flags; rustup cannot download a toolchain here).
# Sanitizer: none by default (FUZZ_SANITIZER=address to change): the parsers are safe Rust, so
# what is looked for is panics and broken properties, and the build is much faster without it.
# New inputs land in fuzz/corpus/<target>/; a crash in fuzz/artifacts/<target>/ (copy it to
# fuzz/regressions/<target>/ once fixed); each run's libFuzzer log in fuzz/artifacts/logs/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

infra/fuzz/install.sh

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
# The fuzz build's flags differ from the workspace's: never share its target directory. Like the
# workspace's (Makefile), it lives outside the clone, so a fresh clone reuses the ~11-minute
# nightly build of the AWS SDK crates instead of paying it again.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${HOME}/.cache/portal-auth/fuzz-target}
seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-none}

mode=run
if [ "${1:-}" = cmin ]; then
  mode=cmin
  shift
fi
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz && "${fuzz[@]}" list)
fi

echo "==> building ${#targets[@]} fuzz targets (${fuzz[*]}, sanitizer $sanitizer)" >&2
(cd fuzz && nice -n 10 "${fuzz[@]}" build -s "$sanitizer" >&2)

if [ "$mode" = cmin ]; then
  # Edges only (no hit counts, no comparison operands), then at most FUZZ_CORPUS_MAX files
  # (default 300): the seeds, then the smallest. The committed corpora are a regression suite
  # replayed by `make test`, kept small; a longer run regrows the rest in minutes.
  max=${FUZZ_CORPUS_MAX:-300}
  for t in "${targets[@]}"; do
    echo "==> cmin $t: $(find "fuzz/corpus/$t" -type f | wc -l) inputs" >&2
    (cd fuzz && nice -n 10 "${fuzz[@]}" cmin -s "$sanitizer" "$t" "corpus/$t" -- \
      -use_counters=0 -use_cmp=0 >&2)
    { find "fuzz/corpus/$t" -type f -name 'seed-*' -printf '0 %p\n'
      find "fuzz/corpus/$t" -type f ! -name 'seed-*' -printf '%s %p\n'; } |
      sort -n -s -k1,1 | tail -n +"$((max + 1))" | cut -d' ' -f2- | xargs -r rm --
    echo "    kept $(find "fuzz/corpus/$t" -type f | wc -l)" >&2
  done
  exit 0
fi

logs=fuzz/artifacts/logs
mkdir -p "$logs"
rows=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  extra=()
  [ -d "fuzz/regressions/$t" ] && extra=("fuzz/regressions/$t")
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  echo "==> fuzzing $t for ${seconds}s" >&2
  status=ok
  nice -n 10 "${fuzz[@]}" run -s "$sanitizer" "$t" "fuzz/corpus/$t" "${extra[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    >"$logs/$t.log" 2>&1 || status=FAILED
  after=$(find "fuzz/artifacts/$t" -type f | wc -l)
  crashes=$((after - before))
  [ "$crashes" -gt 0 ] && status=CRASH
  [ "$status" != ok ] && failed=1
  # The last status line: "#123456 DONE cov: 1234 ft: 5678 corp: 90/1234b ...".
  last=$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -n 1 || true)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$logs/$t.log" | tail -n 1)
  [ -z "$execs" ] && execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  per_sec=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$logs/$t.log" | tail -n 1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  rows+=("$(printf '%-18s %7s %12s %8s %7s %7s %6s %7s  %s' "$t" "$seconds" "${execs:-?}" \
    "${per_sec:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$status")")
done

printf '\n%-18s %7s %12s %8s %7s %7s %6s %7s  %s\n' target seconds executions exec/s cov ft corpus crashes status
for r in "${rows[@]}"; do echo "$r"; done
echo "(libFuzzer logs: $logs/<target>.log; crashes: fuzz/artifacts/<target>/)"
exit "$failed"
