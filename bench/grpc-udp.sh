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
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init grpc-udp
SECS=${SECS:-5}
CONNS=${CONNS:-10}
STREAMS=${STREAMS:-5}
UDP_CONNS=${UDP_CONNS:-50}
REPEAT=${REPEAT:-5}
PORT=${PORT:-18390}
GRPC_PORT=${GRPC_PORT:-18391}
UDP_PORT=${UDP_PORT:-18392}
TOOLS=${TOOLS:-"smi-perf-grpc tonic ghz fortio-grpc smi-perf-udp fortio-udp"}
GHZ_VERSION=${GHZ_VERSION:-v0.120.0}
FORTIO_VERSION=${FORTIO_VERSION:-v1.66.0}
TONIC_TARGET=${TONIC_TARGET:-$ROOT/target/bench-tonic}
TONIC=$TONIC_TARGET/release/grpc-tonic-client
LIFE=$((REPEAT * SECS * 12 + 120))

bench_build
if [ "${BUILD:-1}" = 1 ]; then
  case " $TOOLS " in *" tonic "*)
    (cd "$HERE/grpc-tonic-client" && CARGO_TARGET_DIR=$TONIC_TARGET timeout 1800 cargo build --release -q) ||
      { echo "tonic client build failed" >&2; exit 2; } ;;
  esac
fi
go_peer ghz "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
go_peer fortio "fortio.org/fortio@$FORTIO_VERSION"
GHZ=$PEERS_BIN/ghz
FORTIO=$PEERS_BIN/fortio

bench_serve "$GRPC_PORT" "$BIN" serve --port "$PORT" --grpc-port "$GRPC_PORT" --udp-port "$UDP_PORT" \
  --lifetime $((LIFE - 5))s

# one ROUND NAME CMD... -> "ROUND NAME rps answered_ok client_cpu_s server_cpu_s"
one() {
  local round=$1 name=$2 n s0 s1 out cpu
  shift 2
  s0=$(srv_cpu)
  timed "$@"
  s1=$(srv_cpu)
  out=$RUN_OUT cpu=$RUN_CPU
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
  rotate "$REPEAT" run_tool "${TL[@]}"
} | tee "$LOG"
summarize "$LOG" "smi-perf-grpc tonic ghz fortio-grpc smi-perf-udp fortio-udp" \
  "smi-perf-grpc/tonic smi-perf-grpc/ghz smi-perf-grpc/fortio-grpc smi-perf-udp/fortio-udp"
echo "raw: $LOG"
