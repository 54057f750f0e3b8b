#!/usr/bin/env bash
# bench/grpc-udp.sh — gRPC unary and UDP echo, closed loop: smi-perf next to ghz, fortio and a
# tonic client, round by round, against the embedded target (`smi-perf serve`).
#
# gRPC: grpc.health.v1.Health/Check, CONNS connections × STREAMS streams (50 calls in flight by
# default). UDP: UDP_CONNS sockets, one datagram in flight each. SECS seconds per run; generator
# pinned to CPU 0, target to CPU 1 (both single-threaded there: Go's GOMAXPROCS and smi-perf's
# runtime follow the affinity). Tools (TOOLS):
#   smi-perf-grpc   smi-perf run grpc://… (src/grpc.rs: gRPC framed by hand on h2)
#   tonic           bench/grpc-tonic-client (tonic + tonic-health): the crate-choice reference
#   ghz             ghz (grpc-go), --proto bench/proto/health.proto
#   fortio-grpc     fortio load -grpc (grpc-go health client)
#   smi-perf-udp    smi-perf run udp://…
#   fortio-udp      fortio load udp://…
# Per run it records the calls answered OK, the rate and the **requests per client CPU-second**
# (answered requests ÷ user+sys CPU of the generator process). The summary gives smi-perf's ratio
# to each peer **within each round** (runs seconds apart), as median and interquartile range.
#
# Peers are installed here, never by a test: INSTALL=1 (default) runs `go install` of pinned
# versions into $PEERS_BIN (default ~/.cache/smi-rs/peers/bin) when missing. fortio is pinned to
# v1.66.0: later versions need grol.io modules that not every module proxy serves.
# Only 127.0.0.1 is targeted; every run is bounded by `timeout`; only PIDs started here are signalled.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SECS=${SECS:-5}
CONNS=${CONNS:-10}
STREAMS=${STREAMS:-5}
UDP_CONNS=${UDP_CONNS:-50}
REPEAT=${REPEAT:-5}
PORT=${PORT:-18390}
GRPC_PORT=${GRPC_PORT:-18391}
UDP_PORT=${UDP_PORT:-18392}
TOOLS=${TOOLS:-"smi-perf-grpc tonic ghz fortio-grpc smi-perf-udp fortio-udp"}
BIN=${BIN:-$ROOT/target/release/smi-perf}
PEERS_BIN=${PEERS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/smi-rs/peers/bin}
GHZ_VERSION=${GHZ_VERSION:-v0.120.0}
FORTIO_VERSION=${FORTIO_VERSION:-v1.66.0}
TONIC_TARGET=${TONIC_TARGET:-$ROOT/target/bench-tonic}
TONIC=$TONIC_TARGET/release/grpc-tonic-client
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT" "$PEERS_BIN"
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/grpc-udp-$STAMP.txt
LIFE=$((REPEAT * SECS * 12 + 120))

if [ "${BUILD:-1}" = 1 ]; then
  (cd "$ROOT" && timeout 1800 cargo build --release -q -p smi-perf) || { echo "build failed" >&2; exit 2; }
  case " $TOOLS " in *" tonic "*)
    (cd "$HERE/grpc-tonic-client" && CARGO_TARGET_DIR=$TONIC_TARGET timeout 1800 cargo build --release -q) ||
      { echo "tonic client build failed" >&2; exit 2; } ;;
  esac
fi
if [ "${INSTALL:-1}" = 1 ]; then
  [ -x "$PEERS_BIN/ghz" ] || GOBIN=$PEERS_BIN timeout 1800 go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" ||
    { echo "go install ghz failed" >&2; exit 2; }
  [ -x "$PEERS_BIN/fortio" ] || GOBIN=$PEERS_BIN timeout 1800 go install "fortio.org/fortio@$FORTIO_VERSION" ||
    { echo "go install fortio failed" >&2; exit 2; }
fi
GHZ=$PEERS_BIN/ghz
FORTIO=$PEERS_BIN/fortio

SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
trap cleanup EXIT
taskset -c 1 timeout "$LIFE" "$BIN" serve --port "$PORT" --grpc-port "$GRPC_PORT" --udp-port "$UDP_PORT" \
  --lifetime $((LIFE - 5))s >/dev/null 2>&1 &
SERVE_PID=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$GRPC_PORT") 2>/dev/null && break; sleep 0.1; done
TARGET_PID=$(pgrep -P "$SERVE_PID" | head -1)
TICK=$(getconf CLK_TCK)
srv_cpu() { if [ -n "$TARGET_PID" ] && [ -r "/proc/$TARGET_PID/stat" ]; then awk -v t="$TICK" '{print ($14 + $15) / t}' "/proc/$TARGET_PID/stat"; else echo 0; fi; }

# one ROUND NAME CMD... -> "ROUND NAME rps answered_ok client_cpu_s server_cpu_s"
one() {
  local round=$1 name=$2; shift 2
  local out cpu n s0 s1
  s0=$(srv_cpu)
  out=$( { /usr/bin/time -f "CPUSEC %U %S" timeout $((SECS + 30)) taskset -c 0 "$@"; } 2>&1 )
  s1=$(srv_cpu)
  cpu=$(echo "$out" | awk '{for (i = 1; i < NF - 1; i++) if ($i ~ /CPUSEC$/) print $(i + 1) + $(i + 2)}' | tail -1)
  case $name in
    smi-perf-*) n=$(echo "$out" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(j["requestsSucceeded"])' 2>/dev/null) ;;
    tonic) n=$(echo "$out" | sed -n 's/^requests [0-9]* ok \([0-9]*\)$/\1/p') ;;
    ghz) n=$(echo "$out" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(j.get("statusCodeDistribution", {}).get("OK", 0))' 2>/dev/null) ;;
    fortio-grpc) n=$(echo "$out" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(j.get("RetCodes", {}).get("SERVING", 0))' 2>/dev/null) ;;
    fortio-udp) n=$(echo "$out" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(sum(v for k, v in j.get("RetCodes", {}).items() if k in ("OK", "200", "1")))' 2>/dev/null) ;;
  esac
  if [ -z "${n:-}" ] || [ "${n:-0}" = 0 ] || [ -z "${cpu:-}" ]; then
    echo "# FAILED $round $name: $(echo "$out" | tail -3 | tr '\n' ' ' | cut -c1-400)"
    return
  fi
  echo "$round $name $(awk -v n="$n" -v s="$SECS" 'BEGIN {printf "%.0f", n / s}') $n $cpu $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}')"
}

G=127.0.0.1:$GRPC_PORT
U=127.0.0.1:$UDP_PORT
run_tool() {
  local round=$1 t=$2
  case $t in
    smi-perf-grpc) one "$round" "$t" "$BIN" run "grpc://$G" -c "$CONNS" --streams "$STREAMS" -d "${SECS}s" --timeout 2s -q -o json ;;
    tonic) one "$round" "$t" "$TONIC" "$G" "$CONNS" "$STREAMS" "$SECS" ;;
    ghz) one "$round" "$t" "$GHZ" --insecure --proto "$HERE/proto/health.proto" --call grpc.health.v1.Health.Check \
           -d '{}' -c $((CONNS * STREAMS)) --connections "$CONNS" -z "${SECS}s" --timeout 2s --format json "$G" ;;
    fortio-grpc) one "$round" "$t" "$FORTIO" load -quiet -grpc -c "$CONNS" -s "$STREAMS" -qps 0 -t "${SECS}s" -json - "$G" ;;
    smi-perf-udp) one "$round" "$t" "$BIN" run "udp://$U" -c "$UDP_CONNS" -d "${SECS}s" --timeout 1s -q -o json ;;
    fortio-udp) one "$round" "$t" "$FORTIO" load -quiet -c "$UDP_CONNS" -qps 0 -t "${SECS}s" -json - "udp://$U/" ;;
    *) echo "# unknown tool $t" ;;
  esac
}

read -ra TL <<<"$TOOLS"
{
  echo "# grpc-udp $STAMP SECS=$SECS CONNS=$CONNS STREAMS=$STREAMS UDP_CONNS=$UDP_CONNS REPEAT=$REPEAT ghz $GHZ_VERSION fortio $FORTIO_VERSION ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# round tool rps answered_ok client_cpu_s server_cpu_s"
  for r in $(seq "$REPEAT"); do
    k=${#TL[@]}
    for i in $(seq 0 $((k - 1))); do
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
order = [t for t in ['smi-perf-grpc', 'tonic', 'ghz', 'fortio-grpc', 'smi-perf-udp', 'fortio-udp'] if t in runs]
def q(xs):
    xs = sorted(xs)
    if len(xs) < 4:
        return f"{min(xs):.2f}–{max(xs):.2f} (range)"
    qs = st.quantiles(xs, n=4)
    return f"{qs[0]:.2f}–{qs[2]:.2f}"
print("\n| tool | runs | answered/s (median) | requests per client CPU-second (median) | server CPU µs per request (median) |")
print("|---|---|---|---|---|")
for t in order:
    v = list(runs[t].values())
    srv = [x['srv'] for x in v if x['srv']]
    print(f"| {t} | {len(v)} | {st.median(x['rps'] for x in v):,.0f} | {st.median(x['eff'] for x in v):,.0f} | "
          + (f"{st.median(srv):.2f}" if srv else "–") + " |")
print("\nRatios within each round (both runs of a pair seconds apart):\n")
print("| ratio | pairs | per client CPU-s: median | interquartile range | rounds ≥ 1 | answered/s: median |")
print("|---|---|---|---|---|---|")
for a, b in [('smi-perf-grpc', 'tonic'), ('smi-perf-grpc', 'ghz'), ('smi-perf-grpc', 'fortio-grpc'),
             ('smi-perf-udp', 'fortio-udp')]:
    if a not in runs or b not in runs:
        continue
    rs = [r for r in runs[a] if r in runs[b]]
    if not rs:
        continue
    er = [runs[a][r]['eff'] / runs[b][r]['eff'] for r in rs]
    rr = [runs[a][r]['rps'] / runs[b][r]['rps'] for r in rs]
    print(f"| {a} ÷ {b} | {len(rs)} | **{st.median(er):.2f}** | {q(er)} | {sum(x >= 1 for x in er)}/{len(er)} | {st.median(rr):.2f} |")
PY
echo "raw: $LOG"
