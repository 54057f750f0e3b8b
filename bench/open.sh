#!/usr/bin/env bash
# bench/open.sh — the Open model (constant arrival rate): client CPU of smi-perf next to h2load's
# at the same rate, HTTP/1.1 and h2c, round by round.
#
# RATE requests per second over CONNS connections (h2c: STREAMS streams each), SECS seconds per
# run, generator pinned to CPU 0, the target (`smi-perf serve`, HTTP/1.1 + h2c on one port) to
# CPU 1. Tools (TOOLS):
#   smi-perf-h1    smi-perf run --model open (the native HTTP/1.1 lane)
#   h2load-h1      h2load --h1 -t1 --rps RATE/CONNS (per connection)
#   smi-perf-h2c   smi-perf run -p http2 --model open --streams STREAMS
#   h2load-h2c     h2load -t1 -m STREAMS --rps RATE/CONNS
#   oha-h1         oha -q RATE --latency-correction (when oha is on the PATH)
#   before-h1, before-h2c   smi-perf-h1 and smi-perf-h2c run with BIN_BEFORE (another build of
#                  smi-perf, e.g. the commit before a change): a before/after pair side by side
#   smi-perf-h2c-closed, h2load-h2c-closed, before-h2c-closed   the same h2c clients in a
#                  closed loop (no rate: CONNS x STREAMS requests always in flight), the issue's
#                  "h2c closed" row; at full speed "requests per client CPU-second" is the figure
# Per run: answered requests, achieved rate, the generator's user+sys CPU (as requests per client
# CPU-second, and as % of a core: the log's last column), the target's CPU. At a fixed rate a
# higher "requests per client CPU-second" is a lower CPU share; the summary gives smi-perf's ratio
# to each peer within each round (runs seconds apart), medians over the rounds.
# h2load is Debian's nghttp2-client (`apt-get install -y nghttp2-client`; INSTALL=1 does it).
# PROFILE=1 also records `perf` profiles of both smi-perf runs into bench/results/.
#
# Only 127.0.0.1 is targeted; every run is bounded by `timeout`; only PIDs started here are signalled.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init open-cpu
SECS=${SECS:-5}
RATE=${RATE:-10000}
CONNS=${CONNS:-50}
STREAMS=${STREAMS:-10}
REPEAT=${REPEAT:-5}
PORT=${PORT:-18490}
TOOLS=${TOOLS:-"smi-perf-h1 h2load-h1 smi-perf-h2c h2load-h2c"}
LIFE=$((REPEAT * SECS * 12 + 120))
PER_CONN=$((RATE / CONNS))

bench_build
if [ "${INSTALL:-1}" = 1 ] && ! command -v h2load >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null 2>&1 ||
    { echo "apt-get install nghttp2-client failed" >&2; exit 2; }
fi
case " $TOOLS " in *" h2load"*) command -v h2load >/dev/null || { echo "h2load not installed" >&2; exit 2; } ;; esac
bench_serve "$PORT" "$BIN" serve --port "$PORT" --lifetime $((LIFE - 5))s
URL=http://127.0.0.1:$PORT/

# one ROUND NAME CMD... -> "ROUND NAME rps answered client_cpu_s server_cpu_s client_cpu_%"
one() {
  local round=$1 name=$2 n rps s0 s1
  shift 2
  s0=$(srv_cpu)
  timed "$@"
  s1=$(srv_cpu)
  case $name in
    smi-perf-*|before-*) read -r n rps < <(echo "$RUN_OUT" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(j["requestsSucceeded"], j["actualRps"])' 2>/dev/null) ;;
    h2load-*)
      n=$(echo "$RUN_OUT" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
      rps=$(echo "$RUN_OUT" | sed -n 's/^finished in [0-9.]*s, \([0-9.]*\) req\/s.*/\1/p') ;;
    oha-*) read -r n rps < <(echo "$RUN_OUT" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(sum(j.get("statusCodeDistribution", {}).values()), j["summary"]["requestsPerSec"])' 2>/dev/null) ;;
  esac
  if [ -z "${n:-}" ] || [ "${n:-0}" = 0 ] || [ -z "${RUN_CPU:-}" ]; then
    echo "# FAILED $round $name: $(echo "$RUN_OUT" | tail -3 | tr '\n' ' ' | cut -c1-400)"
    return
  fi
  echo "$round $name $rps $n $RUN_CPU $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}') $(awk -v c="$RUN_CPU" -v s="$SECS" 'BEGIN {printf "%.1f", 100 * c / s}')"
}

run_tool() {
  local round=$1 t=$2
  case $t in
    smi-perf-h1) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    h2load-h1) one "$round" "$t" h2load --h1 -t1 -c "$CONNS" -m 1 -D "$SECS" --rps="$PER_CONN" "$URL" ;;
    smi-perf-h2c) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    h2load-h2c) one "$round" "$t" h2load -t1 -c "$CONNS" -m "$STREAMS" -D "$SECS" --rps="$PER_CONN" "$URL" ;;
    before-h1) one "$round" "$t" "$BIN_BEFORE" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    before-h2c) one "$round" "$t" "$BIN_BEFORE" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    smi-perf-h2c-closed) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    before-h2c-closed) one "$round" "$t" "$BIN_BEFORE" run "$URL" -p http2 --streams "$STREAMS" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    h2load-h2c-closed) one "$round" "$t" h2load -t1 -c "$CONNS" -m "$STREAMS" -D "$SECS" "$URL" ;;
    oha-h1) one "$round" "$t" oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" -q "$RATE" --latency-correction "$URL" ;;
    *) echo "# unknown tool $t" ;;
  esac
}

read -ra TL <<<"$TOOLS"
{
  echo "# open-cpu $STAMP SECS=$SECS RATE=$RATE CONNS=$CONNS STREAMS=$STREAMS REPEAT=$REPEAT target=$URL (smi-perf serve) ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# round tool rps answered client_cpu_s server_cpu_s client_cpu_%"
  rotate "$REPEAT" run_tool "${TL[@]}"
} | tee "$LOG"
summarize "$LOG" "smi-perf-h1 before-h1 h2load-h1 oha-h1 smi-perf-h2c before-h2c h2load-h2c smi-perf-h2c-closed before-h2c-closed h2load-h2c-closed" \
  "smi-perf-h1/h2load-h1 smi-perf-h1/oha-h1 smi-perf-h2c/h2load-h2c smi-perf-h1/before-h1 smi-perf-h2c/before-h2c before-h1/h2load-h1 before-h2c/h2load-h2c smi-perf-h2c-closed/h2load-h2c-closed smi-perf-h2c-closed/before-h2c-closed before-h2c-closed/h2load-h2c-closed"
echo "raw: ${LOG#"$ROOT"/}"
if [ "${PROFILE:-0}" = 1 ] && command -v perf >/dev/null; then
  for p in http http2; do
    streams=()
    [ "$p" = http2 ] && streams=(--streams "$STREAMS")
    taskset -c 0 perf record -q -F 2000 -g -o "$OUT/perf-open-$p.data" "$BIN" run "$URL" -p "$p" "${streams[@]}" \
      --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" -q --peers-line >/dev/null 2>&1
    perf report -i "$OUT/perf-open-$p.data" --no-children --sort dso,symbol -g none --percent-limit 0.3 2>/dev/null |
      grep -v '^$' | head -80 >"$OUT/profile-$STAMP-open-$p.txt"
    rm -f "$OUT/perf-open-$p.data"
  done
  echo "profiles: ${OUT#"$ROOT"/}/profile-$STAMP-open-{http,http2}.txt"
fi
