#!/usr/bin/env bash
# bench/h1-clients.sh — the measurement behind the native HTTP/1.1 lane (smi-perf-engine/src/h1.rs).
#
# Closed loop, HTTP/1.1, CONNS connections, SECS seconds, generator pinned to CPU 0 and the target
# (`smi-perf serve`, or TARGET_URL) to CPU 1. Alternates, REPEAT times:
#   wrk                              the C reference
#   smi-perf (builtin generator)     the native lane: request encoded once, httparse, no channels
#   smi-perf --generator hyper       the same engine with hyper's HTTP/1.1 client
# and prints, per tool, the median requests/s and the median requests per client CPU-second
# (requests / (user+sys CPU of the generator process)): the second figure is what a load
# generator's efficiency is, and it is fairly robust to other load on the machine.
# PROFILE=1 also records `perf` profiles of both smi-perf variants into bench/results/.
#
# Only 127.0.0.1 is targeted; every run is bounded by `timeout`; only PIDs started here are signalled.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SECS=${SECS:-5}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-3}
PORT=${PORT:-18290}
BIN=${BIN:-$ROOT/target/release/smi-perf}
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/h1-clients-$STAMP.txt

if [ "${BUILD:-1}" = 1 ]; then
  (cd "$ROOT" && timeout 1800 cargo build --release -q -p smi-perf-engine --bin smi-perf) || { echo "build failed" >&2; exit 2; }
fi
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 2; }

SERVE_PID=
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
trap cleanup EXIT
if [ -z "${TARGET_URL:-}" ]; then
  taskset -c 1 timeout $((REPEAT * SECS * 6 + 120)) "$BIN" serve --port "$PORT" --lifetime $((REPEAT * SECS * 6 + 100))s >/dev/null 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
  TARGET_URL=http://127.0.0.1:$PORT/
fi

# one NAME CMD... -> "NAME rps requests cpu_seconds"
one() {
  local name=$1; shift
  local out cpu n rps
  out=$( { /usr/bin/time -f "CPUSEC %U %S" timeout $((SECS + 30)) taskset -c 0 "$@"; } 2>&1 )
  cpu=$(echo "$out" | awk '/^CPUSEC/ {print $2 + $3}')
  if [ "$name" = wrk ]; then
    n=$(echo "$out" | awk '/requests in/ {print $1}'); rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  else
    n=$(echo "$out" | sed -n 's/^requests \([0-9]*\) .*/\1/p' | head -1); rps=$(echo "$out" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')
  fi
  # A row with transport errors or socket errors measured something else: keep it out of the medians.
  if echo "$out" | grep -qE 'errors=[1-9]|Socket errors|unable to connect' || [ -z "$n" ] || [ "${n:-0}" = 0 ]; then
    echo "# FAILED $name: $(echo "$out" | tail -2 | tr '\n' ' ')"
    return
  fi
  echo "$name $rps $n $cpu"
}

{
  echo "# h1-clients $STAMP SECS=$SECS CONNS=$CONNS REPEAT=$REPEAT target=$TARGET_URL ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# tool rps requests client_cpu_s"
  for r in $(seq "$REPEAT"); do
    one wrk wrk -t1 -c"$CONNS" -d"${SECS}s" "$TARGET_URL"
    one smi-perf "$BIN" run "$TARGET_URL" -c "$CONNS" -d "${SECS}s" --timeout 2s --peers-line
    one smi-perf-hyper "$BIN" run "$TARGET_URL" -g hyper -c "$CONNS" -d "${SECS}s" --timeout 2s --peers-line
  done
} | tee "$LOG"

python3 - "$LOG" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    if line.startswith('#') or not line.strip():
        continue
    name, rps, n, cpu = line.split()
    rows.setdefault(name, []).append((float(rps), int(n) / float(cpu)))
print("\n| tool | rps (median) | requests per client CPU-second (median) | ÷ wrk (rps) | ÷ wrk (per CPU-s) |")
print("|---|---|---|---|---|")
w = rows.get('wrk')
wr = st.median(r for r, _ in w) if w else None
we = st.median(e for _, e in w) if w else None
for name in ['wrk', 'smi-perf', 'smi-perf-hyper']:
    if name not in rows: continue
    r = st.median(x for x, _ in rows[name]); e = st.median(x for _, x in rows[name])
    print(f"| {name} | {r:,.0f} | {e:,.0f} | {r/wr:.2f} | {e/we:.2f} |")
PY
if [ "${PROFILE:-0}" = 1 ] && command -v perf >/dev/null; then
  for g in builtin hyper; do
    taskset -c 0 perf record -q -F 2000 -g -o "$OUT/perf-$g.data" "$BIN" run "$TARGET_URL" -g $g -c "$CONNS" -d "${SECS}s" -q --peers-line >/dev/null 2>&1
    perf report -i "$OUT/perf-$g.data" --no-children --sort dso,symbol -g none --percent-limit 0.3 2>/dev/null | grep -v '^$' | head -80 > "$OUT/profile-$STAMP-$g.txt"
    rm -f "$OUT/perf-$g.data"
  done
  echo "profiles: $OUT/profile-$STAMP-{builtin,hyper}.txt"
fi
