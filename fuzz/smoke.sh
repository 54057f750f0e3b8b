#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target and runs each for FUZZ_SECONDS (default 20)
# on its seeds and corpus; exits non-zero if any target crashes, times out or runs out of memory.
#
#   ./fuzz/smoke.sh                      # all targets, 20 s each
#   FUZZ_SECONDS=600 ./fuzz/smoke.sh convert   # one target, 10 minutes
#   FUZZ_SKIP_BUILD=1 ./fuzz/smoke.sh           # reuse the binaries already built
#
# Needs only the Rust toolchain: installs cargo-fuzz if missing. Builds with
# `--sanitizer none` (works on stable) and `--debug-assertions` (overflow checks and
# debug_assert! on: an overflow on hostile input is a finding). Corpora grow in the untracked
# fuzz/corpus/<target>/ (seeded from fuzz/seeds/, the crates' fixtures and testdata/);
# crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
# per-input time limit and memory limit: a hang or a big allocation is a failure too
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-2048}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

build_flags=(--sanitizer none --debug-assertions)
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  echo "==> building ${targets[*]}"
  cargo fuzz build "${build_flags[@]}"
fi
# Run the built binaries directly: `cargo fuzz run` would rebuild whenever the workspace
# changes under a long run.
bin="target/$(rustc -vV | sed -n 's/^host: //p')/release"

./seed.sh "${targets[@]}"

status=0
for t in "${targets[@]}"; do
  echo "==> $t for ${FUZZ_SECONDS}s ($(date -u +%H:%M:%S))"
  mkdir -p "artifacts/$t"
  if ! "$bin/$t" "corpus/$t" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" \
      -rss_limit_mb="$FUZZ_RSS_MB" -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
      2>"corpus/$t.log"; then
    status=1
    echo "!! $t failed; last lines of its log:"
    tail -n 40 "corpus/$t.log"
    ls -1 "artifacts/$t" 2>/dev/null | sed 's/^/   artifact: fuzz\/artifacts\/'"$t"'\//'
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "corpus/$t.log" | tr -s ' ' | tr '\n' ' '
    echo
  fi
done
exit $status
