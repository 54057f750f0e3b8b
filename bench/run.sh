#!/usr/bin/env bash
# bench/run.sh — smi-perf next to wrk and oha on loopback, plus the Open-model checks.
#
#   1. peers: the peers harness ($PEERS_SH, a peers.sh kept outside this repository) with our
#      engine joined via ENGINE_CMD (closed loop,
#      50 connections, generator on CPU 0, target on CPU 1; and a constant-rate row).
#   2. open-rate: smi-perf Open model at RATE against `smi-perf serve` (target on CPU 1):
#      achieved rate vs requested.
#   3. stall: same, with the target stalling for 1 s mid-run: corrected p99.9 vs uncorrected p99.9.
#
# Only 127.0.0.1 is targeted; every run is bounded by `timeout`; only PIDs started here are signalled.
#   4. h1-clients (H1=1): bench/h1-clients.sh — wrk, oha, smi-perf (native HTTP/1.1 lane) and
#      smi-perf --generator hyper against the shared hyper target-server, REPEAT rounds in rotating
#      order: requests/s, requests per client CPU-second, server CPU per request, and smi-perf's
#      ratio to each peer within each round.
# Knobs: PEERS_SH=/path/to/peers.sh (part 1 runs only when it is set) SECS=5 RATE=10000 CONNS=50 REPEAT=1 PEERS=1 OPEN=1 STALL=1 H1=1 TARGETS="hyper nginx" BUILD=1 (0 = use the existing release binary)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SECS=${SECS:-5}
RATE=${RATE:-10000}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-1}
PEERS_SH=${PEERS_SH:-}
PEERS=${PEERS:-$([ -n "$PEERS_SH" ] && echo 1 || echo 0)}
OPEN=${OPEN:-1}
STALL=${STALL:-1}
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/run-$STAMP.txt
BIN=${BIN:-$ROOT/target/release/smi-perf}

log() { printf '[bench] %s\n' "$*" | tee -a "$LOG" >&2; }

if [ "${BUILD:-1}" = 1 ]; then
  log "building smi-perf (release)"
  (cd "$ROOT" && timeout 1800 cargo build --release -q -p smi-perf) || { log "build failed"; exit 2; }
fi
[ -x "$BIN" ] || { log "no $BIN (run with BUILD=1)"; exit 2; }

# ------------------------------------------------------------------ 1. peers
if [ "$PEERS" = 1 ]; then
  [ -f "$PEERS_SH" ] || { log "PEERS=1 needs PEERS_SH=<path to peers.sh> (got '$PEERS_SH')"; exit 2; }
  log "peers.sh: SECS=$SECS CONNS=$CONNS RATE=$RATE TOOLS='wrk oha oha-rate' + smi-perf"
  ENGINE_NAME=smi-perf \
  ENGINE_CMD="$BIN run {url} -c {conns} -d {secs}s --rate {rate} --model auto --timeout 2s -q --peers-line" \
  INSTALL_REWRK=0 INSTALL_NODE=0 TOOLS="${TOOLS:-wrk oha oha-rate}" TARGETS="${TARGETS:-hyper nginx}" \
  SECS=$SECS CONNS=$CONNS RATE=$RATE REPEAT=$REPEAT \
    bash "$PEERS_SH" 2>&1 | tee -a "$LOG"
fi

# ------------------------------------------------------------------ helpers for 2 and 3
SERVE_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
trap stop_serve EXIT
start_serve() { # port extra-args...
  local port=$1; shift
  taskset -c 1 timeout $((SECS * 4 + 60)) "$BIN" serve --port "$port" --lifetime $((SECS * 4 + 30))s "$@" >>"$LOG" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0; sleep 0.1; done
  log "serve did not come up"; return 1
}
field() { # json-file jq-less path: key under latency or uncorrectedLatency percentiles
  python3 - "$@" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
block = r[sys.argv[2]]
for p in block["percentiles"]:
    if p["percentile"] == sys.argv[3]:
        print(p["valueMicros"] / 1000.0)
EOF
}

# ------------------------------------------------------------------ 2. open-model rate accuracy
if [ "$OPEN" = 1 ]; then
  PORT=18191
  start_serve $PORT
  J=$OUT/open-$STAMP.json
  taskset -c 0 timeout $((SECS + 30)) "$BIN" run "http://127.0.0.1:$PORT/" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" \
    --warmup 1s --timeout 2s -q -o json --save "$J" --peers-line >/dev/null 2>>"$LOG"
  stop_serve
  python3 - "$J" "$RATE" <<'EOF' | tee -a "$LOG"
import json, sys
r = json.load(open(sys.argv[1])); want = float(sys.argv[2])
got = float(r["actualRps"])
print(f"open-rate: requested {want:.0f} rps, achieved {got:.1f} rps ({100*(got-want)/want:+.2f}%), "
      f"dropped {r.get('droppedOrLate',0)}, failed {r['requestsFailed']}, "
      f"p50 {r['latency']['percentiles'][0]['valueMicros']/1000:.3f} ms")
EOF
fi

# ------------------------------------------------------------------ 3. stall: corrected vs uncorrected
if [ "$STALL" = 1 ]; then
  PORT=18192
  STALL_SECS=$((SECS * 2))
  start_serve $PORT --stall-after $((STALL_SECS / 2))s --stall-for 1s
  J=$OUT/stall-$STAMP.json
  taskset -c 0 timeout $((STALL_SECS + 30)) "$BIN" run "http://127.0.0.1:$PORT/" --model open --rate "$RATE" -c "$CONNS" -d "${STALL_SECS}s" \
    --timeout 3s -q -o json --save "$J" --html "$OUT/stall-$STAMP.html" --hgrm "$OUT/stall-$STAMP.hgrm" >/dev/null 2>>"$LOG"
  stop_serve
  python3 - "$J" <<'EOF' | tee -a "$LOG"
import json, sys
r = json.load(open(sys.argv[1]))
def pct(block, p):
    for x in r[block]["percentiles"]:
        if x["percentile"] == p: return x["valueMicros"] / 1000.0
print(f"stall: {r['requestsTotal']} recorded, dropped {r.get('droppedOrLate',0)}, achieved {r['actualRps']} rps")
for p in ["50", "99", "99.9"]:
    print(f"  p{p:<5} corrected {pct('latency', p):10.3f} ms   uncorrected {pct('uncorrectedLatency', p):10.3f} ms")
print(f"  max    corrected {r['latency']['maxMicros']/1000:10.3f} ms   uncorrected {r['uncorrectedLatency']['maxMicros']/1000:10.3f} ms")
EOF
fi

# ------------------------------------------------------------------ 4. h1-clients
if [ "${H1:-1}" = 1 ]; then
  log "h1-clients: wrk, oha, smi-perf (native lane), smi-perf --generator hyper; REPEAT=$REPEAT rotating rounds"
  BUILD=0 BIN="$BIN" SECS=$SECS CONNS=$CONNS REPEAT=$REPEAT OUT="$OUT" bash "$HERE/h1-clients.sh" 2>&1 | tee -a "$LOG"
fi
log "done: ${LOG#"$ROOT"/}"
