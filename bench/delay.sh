#!/usr/bin/env bash
# bench/delay.sh — accuracy of `smi-perf serve --delay`: how far the answer's service time lands
# from the requested delay.
#
# For each DELAYS entry the target (CPU 1) runs with `--delay D` and smi-perf (CPU 0) sends an
# Open-model load of RATE rps over CONNS connections for SECS seconds. The service time (from the
# actual send to the whole answer: `uncorrectedLatency`) p50 minus D is the error, which also
# holds the client's and loopback's own cost; the `0s` row measures that cost alone, so
# "excess" = p50(D) − D − p50(0s) is the target's timer error. Medians over REPEAT rounds.
# Only 127.0.0.1 is targeted; every process is bounded by `timeout`; only PIDs started here are
# signalled.
# SERVE_BINS="before=/path/to/old/smi-perf after=target/release/smi-perf" runs the target of each
# labelled binary in every round, one after the other (the client is always BIN), for a
# before/after comparison measured side by side.
# HOG=1 keeps a busy loop on the target's CPU during the runs (what a shared machine does: the
# 5 ms delay was late only when something else ran on that CPU).
# The `target CPU s` column is the target's user+sys CPU over the whole run (median), what its
# wait for each deadline costs.
# Knobs: SECS=3 RATE=1000 CONNS=4 REPEAT=5 DELAYS="0s 100us 500us 1ms 5ms" BIN=target/release/smi-perf
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SECS=${SECS:-3}
RATE=${RATE:-1000}
CONNS=${CONNS:-4}
REPEAT=${REPEAT:-5}
DELAYS=${DELAYS:-"0s 100us 500us 1ms 5ms"}
BIN=${BIN:-$ROOT/target/release/smi-perf}
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/delay-$STAMP.txt
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release -p smi-perf" >&2; exit 2; }
SERVE_BINS=${SERVE_BINS:-"this=$BIN"}
PORT=${PORT:-18195}
SERVE_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
HOG_PID=
stop_all() { stop_serve; [ -n "$HOG_PID" ] && kill "$HOG_PID" 2>/dev/null; wait "$HOG_PID" 2>/dev/null; }
trap stop_all EXIT
TMP=$(mktemp -d)
if [ "${HOG:-0}" = 1 ]; then
  taskset -c 1 timeout $((REPEAT * 60 * SECS + 120)) bash -c 'while :; do :; done' &
  HOG_PID=$!
fi
echo "# delay $STAMP HOG=${HOG:-0} SECS=$SECS RATE=$RATE CONNS=$CONNS REPEAT=$REPEAT SERVE_BINS=$SERVE_BINS ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$LOG"
for round in $(seq "$REPEAT"); do
  for sb in $SERVE_BINS; do
    label=${sb%%=*} sbin=${sb#*=}
    for d in $DELAYS; do
      taskset -c 1 timeout $((SECS + 30)) "$sbin" serve --port "$PORT" --delay "$d" --lifetime $((SECS + 20))s 2>>"$LOG" &
      SERVE_PID=$!
      for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
      taskset -c 0 timeout $((SECS + 30)) "$BIN" run "http://127.0.0.1:$PORT/" --model open --rate "$RATE" -c "$CONNS" \
        -d "${SECS}s" --warmup 500ms --timeout 1s -q -o json --save "$TMP/$label-$d-$round.json" >/dev/null 2>>"$LOG"
      # The target's CPU for the whole run (what the spin before each deadline costs); `timeout`
      # forks the target, so read its child.
      tp=$(pgrep -P "$SERVE_PID" | head -1)
      [ -n "$tp" ] && awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$tp/stat" >"$TMP/$label-$d-$round.cpu" 2>/dev/null
      stop_serve
    done
  done
done
python3 - "$TMP" "$REPEAT" "$SERVE_BINS" $DELAYS <<'PY' | tee -a "$LOG"
import json, os, re, statistics, sys
tmp, rounds, bins, delays = sys.argv[1], int(sys.argv[2]), [b.split("=")[0] for b in sys.argv[3].split()], sys.argv[4:]
def us(d):
    return sum(int(n) * {"h": 3.6e9, "m": 6e7, "s": 1e6, "ms": 1e3, "us": 1}[u] for n, u in re.findall(r"(\d+)(h|ms|m|s|us)", d))
def p50(f):
    r = json.load(open(f))
    for p in r["uncorrectedLatency"]["percentiles"]:
        if p["percentile"] == "50":
            return p["valueMicros"]
for label in bins:
    rows = {d: [p50(os.path.join(tmp, f"{label}-{d}-{i}.json")) for i in range(1, rounds + 1)
                if os.path.exists(os.path.join(tmp, f"{label}-{d}-{i}.json"))] for d in delays}
    base = statistics.median(rows[delays[0]]) if rows[delays[0]] else 0
    print(f"\n[{label}] service-time p50 (µs), median of {rounds} rounds; base = p50 at {delays[0]} = {base:.0f} µs")
    print(f"{'delay':>8} {'p50':>8} {'p50-delay':>10} {'excess':>8} {'target CPU s':>12}  rounds")
    for d in delays:
        if not rows[d]:
            print(f"{d:>8} no result"); continue
        m = statistics.median(rows[d])
        cpu = [float(open(f).read()) for f in (os.path.join(tmp, f"{label}-{d}-{i}.cpu") for i in range(1, rounds + 1))
               if os.path.exists(f) and open(f).read().strip()]
        c = f"{statistics.median(cpu):.2f}" if cpu else "-"
        print(f"{d:>8} {m:>8.0f} {m - us(d):>10.0f} {m - us(d) - base:>8.0f} {c:>12}  {rows[d]}")
PY
rm -rf "$TMP"
echo "log: ${LOG#"$ROOT"/}"
