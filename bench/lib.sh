# bench/lib.sh — what the round-by-round bench scripts share (sourced, not run):
# h1-clients.sh, grpc-udp.sh and open.sh.
#
#   bench_init NAME            HERE ROOT BIN OUT STAMP LOG TICK; the log is $OUT/NAME-$STAMP.txt
#   bench_build                release build of smi-perf (skipped with BUILD=0)
#   bench_serve PORT CMD...    starts the target on CPU 1 under `timeout $LIFE` (set LIFE first),
#                              waits for PORT, sets SERVE_PID (the timeout) and TARGET_PID (the
#                              target itself, whose CPU srv_cpu reads); stopped on exit
#   srv_cpu                    the target's user+sys CPU seconds so far
#   go_peer NAME MODULE@VER    `go install` of a peer tool into $PEERS_BIN when NAME is not there
#                              yet (INSTALL=0 skips it); exits 2 when the install fails
#   timed CMD...               runs CMD on CPU 0 under `timeout $((SECS + 30))`; sets RUN_OUT
#                              (stdout+stderr) and RUN_CPU (the generator's user+sys CPU seconds)
#                              and RUN_CSW (its voluntary context switches)
#   rotate REPEAT FN TOOL...   round r calls `FN r TOOL` for every tool, starting at tool
#                              (r-1) mod k and running every other round backwards, so no tool
#                              always runs first or last (this machine's speed drifts in minutes)
#   summarize LOG ORDER PAIRS  per-tool medians and, for each pair "a/b", the ratio of requests
#                              per client CPU-second within each round (median, interquartile
#                              range, rounds ≥ 1); LOG lines: "round tool rps requests cpu_s srv_s"
#
# Only 127.0.0.1 is ever targeted; every process is bounded by `timeout`; only PIDs started here
# are signalled.

bench_init() {
  HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
  ROOT=$(cd "$HERE/.." && pwd)
  BIN=${BIN:-$ROOT/target/release/smi-perf}
  OUT=${OUT:-$HERE/results}
  mkdir -p "$OUT"
  STAMP=$(date +%Y%m%d-%H%M%S)
  LOG=$OUT/$1-$STAMP.txt
  TICK=$(getconf CLK_TCK)
  SERVE_PID=
  TARGET_PID=${TARGET_PID:-}
  trap bench_stop EXIT
}

bench_build() {
  if [ "${BUILD:-1}" = 1 ]; then
    (cd "$ROOT" && timeout 1800 cargo build --release -q -p smi-perf) || { echo "build failed" >&2; exit 2; }
  fi
}

bench_stop() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
  [ -n "$SERVE_PID" ] && wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=
}

bench_serve() {
  local port=$1
  shift
  taskset -c 1 timeout "$LIFE" "$@" >/dev/null 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  # `timeout` forks the target: read the child's CPU.
  TARGET_PID=$(pgrep -P "$SERVE_PID" | head -1)
}

srv_cpu() {
  if [ -n "$TARGET_PID" ] && [ -r "/proc/$TARGET_PID/stat" ]; then
    awk -v t="$TICK" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$TARGET_PID/stat"
  else
    echo 0
  fi
}

PEERS_BIN=${PEERS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/smi-rs/peers/bin}

go_peer() {
  [ "${INSTALL:-1}" = 1 ] || return 0
  mkdir -p "$PEERS_BIN"
  [ -x "$PEERS_BIN/$1" ] || GOBIN=$PEERS_BIN timeout 1800 go install "$2" ||
    { echo "go install $2 failed" >&2; exit 2; }
}

timed() {
  RUN_OUT=$( { /usr/bin/time -f "CPUSEC %U %S %w" timeout $((SECS + 30)) taskset -c 0 "$@"; } 2>&1 )
  # oha's JSON ends without a newline, so CPUSEC may share its last line.
  RUN_CPU=$(echo "$RUN_OUT" | awk '{for (i = 1; i < NF - 1; i++) if ($i ~ /CPUSEC$/) print $(i + 1) + $(i + 2)}' | tail -1)
  # Voluntary context switches of the generator (each one a sleep and a wake-up).
  RUN_CSW=$(echo "$RUN_OUT" | awk '{for (i = 1; i < NF - 2; i++) if ($i ~ /CPUSEC$/) print $(i + 3)}' | tail -1)
}

rotate() {
  local repeat=$1 fn=$2 r i j k
  shift 2
  local tl=("$@")
  k=${#tl[@]}
  for r in $(seq "$repeat"); do
    for i in $(seq 0 $((k - 1))); do
      if [ $((r % 2)) = 1 ]; then j=$(((i + r - 1) % k)); else j=$(((k - 1 - i + r - 1) % k)); fi
      "$fn" "$r" "${tl[$j]}"
    done
  done
}

summarize() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys, statistics as st
log, order, pairs = sys.argv[1], sys.argv[2].split(), [p.split('/') for p in sys.argv[3].split()]
runs = {}
for line in open(log):
    if line.startswith('#') or not line.strip():
        continue
    rnd, name, rps, n, cpu, scpu = line.split()[:6]
    runs.setdefault(name, {})[int(rnd)] = dict(
        rps=float(rps), n=int(n), cpu=float(cpu), eff=int(n) / float(cpu),
        srv=float(scpu) * 1e6 / int(n) if float(scpu) > 0 else None)
def q(xs):
    xs = sorted(xs)
    if len(xs) < 4:
        return f"{min(xs):.2f}–{max(xs):.2f} (range)"
    qs = st.quantiles(xs, n=4)
    return f"{qs[0]:.2f}–{qs[2]:.2f}"
print("\n| tool | runs | rps (median) | requests per client CPU-second (median) | client CPU µs per request (median) | server CPU µs per request (median) |")
print("|---|---|---|---|---|---|")
for t in [t for t in order if t in runs]:
    v = list(runs[t].values())
    srv = [x['srv'] for x in v if x['srv']]
    print(f"| {t} | {len(v)} | {st.median(x['rps'] for x in v):,.0f} | {st.median(x['eff'] for x in v):,.0f} | "
          f"{st.median(1e6 / x['eff'] for x in v):.1f} | " + (f"{st.median(srv):.2f}" if srv else "–") + " |")
print("\nRatios within each round (both runs of a pair seconds apart):\n")
print("| ratio | pairs | per client CPU-s: median | interquartile range | rounds ≥ 1 | rps: median |")
print("|---|---|---|---|---|---|")
for a, b in pairs:
    if a not in runs or b not in runs:
        continue
    rs = [r for r in runs[a] if r in runs[b]]
    if not rs:
        continue
    er = [runs[a][r]['eff'] / runs[b][r]['eff'] for r in rs]
    rr = [runs[a][r]['rps'] / runs[b][r]['rps'] for r in rs]
    print(f"| {a} ÷ {b} | {len(rs)} | **{st.median(er):.2f}** | {q(er)} | {sum(x >= 1 for x in er)}/{len(er)} | {st.median(rr):.2f} |")
PY
}
