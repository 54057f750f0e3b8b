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
#   smi-perf                    the builtin generator: the native HTTP/1.1 lane on the closed-loop
#                               event loop (src/transport/h1loop.rs)
#   smi-perf-tasks              the same lane run as a task per connection (--task-per-connection)
#   smi-perf-hyper              the same engine with hyper's HTTP/1.1 client (-g hyper)
# Per run it records the rate, the requests per client CPU-second (requests ÷ user+sys CPU of the
# generator process), the server's CPU per request and the generator's voluntary context switches
# (its sleeps). The summary gives, per tool, medians, and
# for smi-perf the ratio to each peer **within each round**, as median and interquartile range:
# the machine's speed swings up to 2× between minutes, so a ratio of two runs a few seconds apart
# is the figure to trust, not a ratio of medians.
# PROFILE=1 also records `perf` profiles of both smi-perf generators into bench/results/.
#
# Only 127.0.0.1 is targeted; every run is bounded by `timeout`; only PIDs started here are signalled.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init h1-clients
SECS=${SECS:-5}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-3}
PORT=${PORT:-18290}
TARGET=${TARGET:-hyper}
TOOLS=${TOOLS:-"wrk oha smi-perf smi-perf-hyper"}
PEERS_WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/peers}
LIFE=$((REPEAT * SECS * 8 + 120))

bench_build
# Peers are installed here, never by a test: INSTALL=1 (default) installs what is missing —
# wrk from Debian (`apt-get install wrk`), oha with `cargo install oha --locked` (pinned
# OHA_VERSION) into $PEERS_BIN's parent (a cache this script owns, not ~/.cargo/bin), and, when
# PEERS_SH names the peers harness, builds its hyper target-server into $PEERS_WORK.
OHA_VERSION=${OHA_VERSION:-1.16.0}
PATH=$PEERS_BIN:$PATH
if [ "${INSTALL:-1}" = 1 ]; then
  case " $TOOLS " in *" wrk "*)
    command -v wrk >/dev/null || { timeout 600 apt-get install -y -q wrk >/dev/null || { echo "apt-get install wrk failed" >&2; exit 2; }; } ;;
  esac
  case " $TOOLS " in *" oha "*)
    [ -x "$PEERS_BIN/oha" ] || CARGO_INSTALL_ROOT=$(dirname "$PEERS_BIN") CARGO_TARGET_DIR=$(dirname "$PEERS_BIN")/oha-build \
      timeout 3600 nice -n 10 cargo install oha --version "$OHA_VERSION" --locked -q ||
      { echo "cargo install oha failed" >&2; exit 2; } ;;
  esac
  if [ "$TARGET" = hyper ] && [ -z "${TARGET_URL:-}" ] && [ -n "${PEERS_SH:-}" ] &&
    [ ! -x "$PEERS_WORK/target-server-build/release/target-server" ]; then
    (cd "$(dirname "$PEERS_SH")/target-server" && CARGO_TARGET_DIR=$PEERS_WORK/target-server-build timeout 1800 nice -n 10 cargo build --release --locked -q) ||
      { echo "target-server build failed" >&2; exit 2; }
  fi
fi
for t in $TOOLS; do
  case $t in wrk|oha) command -v "$t" >/dev/null || { echo "$t not installed (INSTALL=1 installs it)" >&2; exit 2; } ;; esac
done

if [ -z "${TARGET_URL:-}" ]; then
  case $TARGET in
    hyper)
      SRV=$PEERS_WORK/target-server-build/release/target-server
      [ -x "$SRV" ] || { echo "no $SRV: INSTALL=1 PEERS_SH=/path/to/peers.sh builds it (or TARGET=serve)" >&2; exit 2; }
      bench_serve "$PORT" "$SRV" "127.0.0.1:$PORT" --threads 1 --max-secs $((LIFE - 5)) ;;
    serve)
      bench_serve "$PORT" "$BIN" serve --port "$PORT" --lifetime $((LIFE - 5))s ;;
    *) echo "TARGET must be hyper or serve (or set TARGET_URL)" >&2; exit 2 ;;
  esac
  TARGET_URL=http://127.0.0.1:$PORT/
fi

# one ROUND NAME CMD... -> "ROUND NAME rps requests client_cpu_s server_cpu_s"
one() {
  local round=$1 name=$2 n rps s0 s1
  shift 2
  s0=$(srv_cpu)
  timed "$@"
  s1=$(srv_cpu)
  case $name in
    wrk) n=$(echo "$RUN_OUT" | awk '/requests in/ {print $1}'); rps=$(echo "$RUN_OUT" | awk '/Requests\/sec/ {print $2}') ;;
    oha) read -r n rps < <(echo "$RUN_OUT" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1]); s = j["summary"]
ok = sum(j.get("statusCodeDistribution", {}).values())
print(ok, s["requestsPerSec"])' 2>/dev/null) ;;
    *) n=$(echo "$RUN_OUT" | sed -n 's/^requests \([0-9]*\) .*/\1/p' | head -1); rps=$(echo "$RUN_OUT" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p') ;;
  esac
  # A run with transport or socket errors measured something else: keep it out of the medians.
  if echo "$RUN_OUT" | grep -qE 'errors=[1-9]|Socket errors|unable to connect|"errorDistribution": *\{ *"' || [ -z "${n:-}" ] || [ "${n:-0}" = 0 ]; then
    echo "# FAILED $round $name: $(echo "$RUN_OUT" | tail -2 | tr '\n' ' ')"
    return
  fi
  echo "$round $name $rps $n $RUN_CPU $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}') csw=${RUN_CSW:-}"
}

run_tool() {
  local round=$1 t=$2
  case $t in
    wrk) one "$round" wrk wrk -t1 -c"$CONNS" -d"${SECS}s" "$TARGET_URL" ;;
    oha) one "$round" oha oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" "$TARGET_URL" ;;
    smi-perf) one "$round" smi-perf "$BIN" run "$TARGET_URL" -c "$CONNS" -d "${SECS}s" --timeout 2s --peers-line ;;
    smi-perf-tasks) one "$round" smi-perf-tasks "$BIN" run "$TARGET_URL" -c "$CONNS" -d "${SECS}s" --timeout 2s --task-per-connection --peers-line ;;
    smi-perf-hyper) one "$round" smi-perf-hyper "$BIN" run "$TARGET_URL" -g hyper -c "$CONNS" -d "${SECS}s" --timeout 2s --peers-line ;;
    *) echo "# unknown tool $t" ;;
  esac
}

read -ra TL <<<"$TOOLS"
{
  echo "# h1-clients $STAMP SECS=$SECS CONNS=$CONNS REPEAT=$REPEAT target=$TARGET_URL ($TARGET) ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# round tool rps requests client_cpu_s server_cpu_s csw=voluntary_context_switches"
  rotate "$REPEAT" run_tool "${TL[@]}"
} | tee "$LOG"
summarize "$LOG" "wrk oha smi-perf smi-perf-tasks smi-perf-hyper" \
  "smi-perf/wrk smi-perf/oha smi-perf/smi-perf-tasks smi-perf-tasks/wrk smi-perf-tasks/oha smi-perf-hyper/wrk smi-perf-hyper/oha"
# The closed loop settles in one of two regimes, run by run: the generator either finds many
# answers waiting at each wake-up (few sleeps, cheap requests) or wakes for one or two at a time
# (a sleep and a wake-up every few requests, each costing more than an exchange in a VM). The
# voluntary context switches per request show which, and the rank correlation with the requests
# per client CPU-second over a tool's runs how far its spread follows them (bench/README.md).
python3 - "$LOG" <<'PY'
import sys, statistics as st
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if line.startswith('#') or len(f) < 7 or not f[6].startswith('csw=') or f[6] == 'csw=':
        continue
    n, cpu, csw = int(f[3]), float(f[4]), int(f[6][4:])
    if n > 0 and cpu > 0:
        runs.setdefault(f[1], []).append((csw / n, n / cpu))
def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    for k, i in enumerate(order):
        r[i] = float(k)
    return r
def spearman(a, b):
    # Python 3.12's correlation(method='ranked'), on 3.10+: Pearson's of the ranks.
    try:
        return st.correlation(ranks(a), ranks(b))
    except st.StatisticsError:
        return float('nan')
if runs:
    print("\n| tool | voluntary context switches per request: median (min–max) | rank correlation with requests per client CPU-second |")
    print("|---|---|---|")
    for t, v in runs.items():
        c = [x for x, _ in v]
        rho = spearman(c, [e for _, e in v]) if len(v) >= 3 else float('nan')
        print(f"| {t} | {st.median(c):.3f} ({min(c):.3f}–{max(c):.3f}) | {rho:+.2f} |")
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
