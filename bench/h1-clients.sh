#!/usr/bin/env bash
# bench/h1-clients.sh — closed loop, HTTP/1.1: smi-perf next to wrk and oha, round by round.
#
# CONNS connections, SECS seconds per run, generator pinned to CPU 0 and the target to CPU 1.
# The target is the shared hyper target-server (TARGET=hyper, the default, built by
# the peers harness, peers.sh, into $PEERS_WORK), `smi-perf serve` (TARGET=serve), or any
# TARGET_URL (then TARGET_PID, if given, is the process whose CPU is read).
#
# Each round runs every tool once, back to back; the order rotates from round to round, so no
# tool always runs first or last (this machine's speed drifts within minutes). Tools (TOOLS):
#   wrk                         the C reference (-t1)
#   oha                         oha --no-tui, closed loop
#   smi-perf                    the builtin generator: the native HTTP/1.1 lane (src/h1.rs)
#   smi-perf-hyper              the same engine with hyper's HTTP/1.1 client (-g hyper)
# Per run it records the rate, the requests per client CPU-second (requests ÷ user+sys CPU of the
# generator process) and the server's CPU per request. The summary gives, per tool, medians, and
# for smi-perf the ratio to each peer **within each round**, as median and interquartile range:
# the machine's speed swings up to 2× between minutes, so a ratio of two runs a few seconds apart
# is the figure to trust, not a ratio of medians.
# PROFILE=1 also records `perf` profiles of both smi-perf generators into bench/results/.
#
# Only 127.0.0.1 is targeted; every run is bounded by `timeout`; only PIDs started here are signalled.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SECS=${SECS:-5}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-3}
PORT=${PORT:-18290}
TARGET=${TARGET:-hyper}
TOOLS=${TOOLS:-"wrk oha smi-perf smi-perf-hyper"}
BIN=${BIN:-$ROOT/target/release/smi-perf}
PEERS_WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/peers}
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/h1-clients-$STAMP.txt
LIFE=$((REPEAT * SECS * 8 + 120))

if [ "${BUILD:-1}" = 1 ]; then
  (cd "$ROOT" && timeout 1800 cargo build --release -q -p smi-perf) || { echo "build failed" >&2; exit 2; }
fi
for t in $TOOLS; do
  case $t in wrk|oha) command -v "$t" >/dev/null || { echo "$t not installed (INSTALL=1 \$PEERS_SH, the peers harness, installs it)" >&2; exit 2; } ;; esac
done

SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
trap cleanup EXIT
if [ -z "${TARGET_URL:-}" ]; then
  case $TARGET in
    hyper)
      SRV=$PEERS_WORK/target-server-build/release/target-server
      [ -x "$SRV" ] || { echo "no $SRV: run the peers harness (\$PEERS_SH) once (it builds the target-server)" >&2; exit 2; }
      taskset -c 1 timeout "$LIFE" "$SRV" "127.0.0.1:$PORT" --threads 1 --max-secs $((LIFE - 5)) >/dev/null 2>&1 & ;;
    serve)
      taskset -c 1 timeout "$LIFE" "$BIN" serve --port "$PORT" --lifetime $((LIFE - 5))s >/dev/null 2>&1 & ;;
    *) echo "TARGET must be hyper or serve (or set TARGET_URL)" >&2; exit 2 ;;
  esac
  SERVE_PID=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
  TARGET_URL=http://127.0.0.1:$PORT/
  # `timeout` forks the server: read the child's CPU.
  TARGET_PID=$(pgrep -P "$SERVE_PID" | head -1)
fi
TARGET_PID=${TARGET_PID:-}
TICK=$(getconf CLK_TCK)
srv_cpu() { if [ -n "$TARGET_PID" ] && [ -r "/proc/$TARGET_PID/stat" ]; then awk -v t="$TICK" '{print ($14 + $15) / t}' "/proc/$TARGET_PID/stat"; else echo 0; fi; }

# one ROUND NAME CMD... -> "ROUND NAME rps requests client_cpu_s server_cpu_s"
one() {
  local round=$1 name=$2; shift 2
  local out cpu n rps s0 s1
  s0=$(srv_cpu)
  out=$( { /usr/bin/time -f "CPUSEC %U %S" timeout $((SECS + 30)) taskset -c 0 "$@"; } 2>&1 )
  s1=$(srv_cpu)
  # oha's JSON ends without a newline, so CPUSEC may share its last line.
  cpu=$(echo "$out" | awk '{for (i = 1; i < NF - 1; i++) if ($i ~ /CPUSEC$/) print $(i + 1) + $(i + 2)}')
  case $name in
    wrk) n=$(echo "$out" | awk '/requests in/ {print $1}'); rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}') ;;
    oha) read -r n rps < <(echo "$out" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1]); s = j["summary"]
ok = sum(j.get("statusCodeDistribution", {}).values())
print(ok, s["requestsPerSec"])' 2>/dev/null) ;;
    *) n=$(echo "$out" | sed -n 's/^requests \([0-9]*\) .*/\1/p' | head -1); rps=$(echo "$out" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p') ;;
  esac
  # A run with transport or socket errors measured something else: keep it out of the medians.
  if echo "$out" | grep -qE 'errors=[1-9]|Socket errors|unable to connect|"errorDistribution": *\{ *"' || [ -z "${n:-}" ] || [ "${n:-0}" = 0 ]; then
    echo "# FAILED $round $name: $(echo "$out" | tail -2 | tr '\n' ' ')"
    return
  fi
  echo "$round $name $rps $n $cpu $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}')"
}

run_tool() {
  local round=$1 t=$2
  case $t in
    wrk) one "$round" wrk wrk -t1 -c"$CONNS" -d"${SECS}s" "$TARGET_URL" ;;
    oha) one "$round" oha oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" "$TARGET_URL" ;;
    smi-perf) one "$round" smi-perf "$BIN" run "$TARGET_URL" -c "$CONNS" -d "${SECS}s" --timeout 2s --peers-line ;;
    smi-perf-hyper) one "$round" smi-perf-hyper "$BIN" run "$TARGET_URL" -g hyper -c "$CONNS" -d "${SECS}s" --timeout 2s --peers-line ;;
    *) echo "# unknown tool $t" ;;
  esac
}

read -ra TL <<<"$TOOLS"
{
  echo "# h1-clients $STAMP SECS=$SECS CONNS=$CONNS REPEAT=$REPEAT target=$TARGET_URL ($TARGET) ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# round tool rps requests client_cpu_s server_cpu_s"
  for r in $(seq "$REPEAT"); do
    k=${#TL[@]}
    for i in $(seq 0 $((k - 1))); do
      # Round r starts at tool (r-1) mod k, and every other round runs the rotation backwards.
      if [ $((r % 2)) = 1 ]; then j=$(((i + r - 1) % k)); else j=$(((k - 1 - i + r - 1) % k)); fi
      run_tool "$r" "${TL[$j]}"
    done
  done
} | tee "$LOG"

python3 - "$LOG" <<'PY'
import sys, statistics as st
runs = {}
for line in open(sys.argv[1]):
    if line.startswith('#') or not line.strip():
        continue
    rnd, name, rps, n, cpu, scpu = line.split()
    runs.setdefault(name, {})[int(rnd)] = dict(rps=float(rps), n=int(n), eff=int(n) / float(cpu),
                                               srv=float(scpu) * 1e6 / int(n) if float(scpu) > 0 else None)
order = [t for t in ['wrk', 'oha', 'smi-perf', 'smi-perf-hyper'] if t in runs]
def q(xs):
    xs = sorted(xs)
    if len(xs) < 4:
        return f"{min(xs):.2f}–{max(xs):.2f} (range)"
    qs = st.quantiles(xs, n=4)
    return f"{qs[0]:.2f}–{qs[2]:.2f}"
print("\n| tool | runs | rps (median) | requests per client CPU-second (median) | server CPU µs per request (median) |")
print("|---|---|---|---|---|")
for t in order:
    v = list(runs[t].values())
    srv = [x['srv'] for x in v if x['srv']]
    print(f"| {t} | {len(v)} | {st.median(x['rps'] for x in v):,.0f} | {st.median(x['eff'] for x in v):,.0f} | "
          + (f"{st.median(srv):.2f}" if srv else "–") + " |")
print("\nRatios within each round (both runs of a pair a few seconds apart):\n")
print("| ratio | pairs | rps: median | rps: interquartile range | rounds ≥ 1 | per client CPU-s: median |")
print("|---|---|---|---|---|---|")
for a in ['smi-perf', 'smi-perf-hyper']:
    for b in ['wrk', 'oha']:
        if a not in runs or b not in runs:
            continue
        rs = [r for r in runs[a] if r in runs[b]]
        if not rs:
            continue
        rr = [runs[a][r]['rps'] / runs[b][r]['rps'] for r in rs]
        er = [runs[a][r]['eff'] / runs[b][r]['eff'] for r in rs]
        print(f"| {a} ÷ {b} | {len(rs)} | **{st.median(rr):.2f}** | {q(rr)} | {sum(x >= 1 for x in rr)}/{len(rr)} | {st.median(er):.2f} |")
PY
echo "raw: $LOG"
if [ "${PROFILE:-0}" = 1 ] && command -v perf >/dev/null; then
  for g in builtin hyper; do
    taskset -c 0 perf record -q -F 2000 -g -o "$OUT/perf-$g.data" "$BIN" run "$TARGET_URL" -g $g -c "$CONNS" -d "${SECS}s" -q --peers-line >/dev/null 2>&1
    perf report -i "$OUT/perf-$g.data" --no-children --sort dso,symbol -g none --percent-limit 0.3 2>/dev/null | grep -v '^$' | head -80 > "$OUT/profile-$STAMP-$g.txt"
    rm -f "$OUT/perf-$g.data"
  done
  echo "profiles: $OUT/profile-$STAMP-{builtin,hyper}.txt"
fi
