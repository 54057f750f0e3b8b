#!/usr/bin/env bash
# bench/open.sh — the Open model (constant arrival rate): client CPU of smi-perf next to h2load's
# at the same rate, HTTP/1.1 and h2c, round by round.
#
# RATE requests per second over CONNS connections (h2c: STREAMS streams each), SECS seconds per
# run, generator pinned to CPU 0, the target (`smi-perf serve`, HTTP/1.1 + h2c on one port) to
# CPU 1. Tools (TOOLS):
#   smi-perf-h1    smi-perf run --model open (the native HTTP/1.1 lane), its default timer resolution
#   smi-perf-h1@R  the same with --timer-resolution R (e.g. smi-perf-h1@0s, smi-perf-h1@200us)
#   smi-perf-h1-tasks, smi-perf-h1-tasks@R   the same with --task-per-connection (a tokio task
#                  per connection instead of the event loop), for a side-by-side of the two drivers
#   smi-perf-h1-arrival, smi-perf-h1-arrival@R   the same with --read-on-arrival: every answer
#                  wakes the generator, instead of being read at the timer's wake-ups (the
#                  default since answers are timed by their kernel receive timestamp)
#   h2load-h1      h2load --h1 -t1 --rps RATE/CONNS (per connection)
#   smi-perf-h2c   smi-perf run -p http2 --model open --streams STREAMS (also smi-perf-h2c@R,
#                  smi-perf-h2c-arrival, smi-perf-h2c-arrival@R as for HTTP/1.1)
#   h2load-h2c     h2load -t1 -m STREAMS --rps RATE/CONNS
#   oha-h1         oha -q RATE --latency-correction (when oha is on the PATH)
#   vegeta-h1, vegeta-h2c   vegeta attack -rate RATE/s -max-connections CONNS (-h2c for HTTP/2
#                  without TLS: one connection, streams as needed): a constant arrival rate on
#                  Go timers, every request sent at its own time like smi-perf's default
#   fortio-h1      fortio load -qps RATE -c CONNS -uniform -nocatchup: each connection paced at
#                  RATE/CONNS on Go timers, a send waiting for the previous answer (not an open model)
#   before-h1, before-h2c   smi-perf-h1 and smi-perf-h2c run with BIN_BEFORE (another build of
#                  smi-perf, e.g. the commit before a change): a before/after pair side by side;
#                  before-h1@R, before-h2c@R with --timer-resolution R
#   smi-perf-h2c-closed, h2load-h2c-closed, before-h2c-closed   the same h2c clients in a
#                  closed loop (no rate: CONNS x STREAMS requests always in flight), the issue's
#                  "h2c closed" row; at full speed "requests per client CPU-second" is the figure
# Per run: answered requests, achieved rate, the generator's user+sys CPU (as requests per client
# CPU-second, and as % of a core: the log's 7th column), the target's CPU; smi-perf runs also
# log the rate achieved as % of RATE, the sends dropped (maxInFlight) and cut off at the end, the
# count check recorded + dropped + cut off = scheduled (RATE x SECS), and the corrected
# (from the intended send) p50 / p99.9 and uncorrected (service time) p99.9 in µs, summarised as
# medians per tool after the table. At a fixed rate a
# higher "requests per client CPU-second" is a lower CPU share; the summary gives smi-perf's ratio
# to each peer within each round (runs seconds apart), medians over the rounds.
# h2load is Debian's nghttp2-client (`apt-get install -y nghttp2-client`; INSTALL=1 does it);
# vegeta and fortio are `go install`ed (pinned: VEGETA_VERSION, FORTIO_VERSION) into PEERS_BIN
# (default ~/.cache/smi-rs/peers/bin) when in TOOLS and missing. k6 is not used: its Go module is
# AGPL-3.0, which this project's peer-tool rules leave out; vegeta is the arrival-rate Go peer.
# PROFILE=1 also records `perf` profiles of both smi-perf runs into bench/results/.
# LATENESS=1 also runs every per-connection-paced HTTP/1.1 tool of TOOLS (not vegeta, whose
# schedule is one for all connections) once more while `tcpdump` records the
# requests on loopback, and reports how late each tool's sends are against a fixed per-connection
# period (CONNS/RATE), measured the same way for every tool (bench/send_lateness.py): the price
# of grouping sends, next to h2load's (`apt-get install -y tcpdump`).
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
VEGETA_VERSION=${VEGETA_VERSION:-v12.13.0}
FORTIO_VERSION=${FORTIO_VERSION:-v1.66.0}
VEGETA_OUT=$OUT/.vegeta-$STAMP.bin

bench_build
if [ "${INSTALL:-1}" = 1 ] && ! command -v h2load >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null 2>&1 ||
    { echo "apt-get install nghttp2-client failed" >&2; exit 2; }
fi
case " $TOOLS " in *" vegeta-"*) go_peer vegeta "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" ;; esac
case " $TOOLS " in *" fortio-"*) go_peer fortio "fortio.org/fortio@$FORTIO_VERSION" ;; esac
PATH=$PEERS_BIN:$PATH
case " $TOOLS " in *" h2load"*) command -v h2load >/dev/null || { echo "h2load not installed" >&2; exit 2; } ;; esac
bench_serve "$PORT" "$BIN" serve --port "$PORT" --lifetime $((LIFE - 5))s
URL=http://127.0.0.1:$PORT/
VEGETA_TARGETS=$OUT/.vegeta-targets-$STAMP
echo "GET $URL" >"$VEGETA_TARGETS"

# one ROUND NAME CMD... -> "ROUND NAME rps answered client_cpu_s server_cpu_s client_cpu_%"
one() {
  local round=$1 name=$2 n rps s0 s1
  shift 2
  s0=$(srv_cpu)
  timed "$@"
  s1=$(srv_cpu)
  case $name in
    smi-perf-*|before-*) read -r n rps extra < <(echo "$RUN_OUT" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
rate, secs = float(sys.argv[1]), float(sys.argv[2])
def pct(block, p):
    return next((x["valueMicros"] for x in j.get(block, {}).get("percentiles", []) if float(x["percentile"]) == p), "-")
total, drop, cut = j["requestsTotal"], j.get("droppedOrLate", 0), j.get("requestsCutOff", 0)
sched = round(rate * secs)
ach, p50, p999, sp999 = 100 * float(j["actualRps"]) / rate, pct("latency", 50.0), pct("latency", 99.9), pct("uncorrectedLatency", 99.9)
print(j["requestsSucceeded"], j["actualRps"],
      f"achieved%={ach:.2f} dropped={drop} cutoff={cut}",
      f"counted={total + drop + cut}/{sched} p50={p50} p999={p999}",
      f"svc_p999={sp999}")' "$RATE" "$SECS" 2>/dev/null) ;;
    h2load-*)
      n=$(echo "$RUN_OUT" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
      rps=$(echo "$RUN_OUT" | sed -n 's/^finished in [0-9.]*s, \([0-9.]*\) req\/s.*/\1/p') ;;
    vegeta-*) read -r n rps < <(vegeta report -type json "$VEGETA_OUT" 2>/dev/null | python3 -c '
import sys, json
j = json.load(sys.stdin)
print(j.get("status_codes", {}).get("200", 0), j["throughput"])' 2>/dev/null); rm -f "$VEGETA_OUT" ;;
    fortio-*)
      n=$(echo "$RUN_OUT" | sed -n 's/^Code 200 : \([0-9]*\) .*/\1/p')
      rps=$(echo "$RUN_OUT" | sed -n 's/^All done .* \([0-9.]*\) qps$/\1/p') ;;
    oha-*) read -r n rps < <(echo "$RUN_OUT" | python3 -c '
import sys, json
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(sum(j.get("statusCodeDistribution", {}).values()), j["summary"]["requestsPerSec"])' 2>/dev/null) ;;
  esac
  if [ -z "${n:-}" ] || [ "${n:-0}" = 0 ] || [ -z "${RUN_CPU:-}" ]; then
    echo "# FAILED $round $name: $(echo "$RUN_OUT" | tail -3 | tr '\n' ' ' | cut -c1-400)"
    return
  fi
  echo "$round $name $rps $n $RUN_CPU $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}') $(awk -v c="$RUN_CPU" -v s="$SECS" 'BEGIN {printf "%.1f", 100 * c / s}')${extra:+ $extra}${RUN_CSW:+ csw=$RUN_CSW}"
  extra=
}

run_tool() {
  local round=$1 t=$2
  case $t in
    smi-perf-h1) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    smi-perf-h1@*) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --timer-resolution "${t#*@}" ;;
    smi-perf-h1-tasks) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --task-per-connection ;;
    smi-perf-h1-tasks@*) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --task-per-connection --timer-resolution "${t#*@}" ;;
    smi-perf-h1-arrival) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --read-on-arrival ;;
    smi-perf-h1-arrival@*) one "$round" "$t" "$BIN" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --read-on-arrival --timer-resolution "${t#*@}" ;;
    h2load-h1) one "$round" "$t" h2load --h1 -t1 -c "$CONNS" -m 1 -D "$SECS" --rps="$PER_CONN" "$URL" ;;
    smi-perf-h2c) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    smi-perf-h2c@*) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --timer-resolution "${t#*@}" ;;
    smi-perf-h2c-arrival) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --read-on-arrival ;;
    smi-perf-h2c-arrival@*) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --read-on-arrival --timer-resolution "${t#*@}" ;;
    h2load-h2c) one "$round" "$t" h2load -t1 -c "$CONNS" -m "$STREAMS" -D "$SECS" --rps="$PER_CONN" "$URL" ;;
    before-h1) one "$round" "$t" "$BIN_BEFORE" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    before-h2c) one "$round" "$t" "$BIN_BEFORE" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    before-h1@*) one "$round" "$t" "$BIN_BEFORE" run "$URL" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --timer-resolution "${t#*@}" ;;
    before-h2c@*) one "$round" "$t" "$BIN_BEFORE" run "$URL" -p http2 --streams "$STREAMS" --model open --rate "$RATE" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json --timer-resolution "${t#*@}" ;;
    smi-perf-h2c-closed) one "$round" "$t" "$BIN" run "$URL" -p http2 --streams "$STREAMS" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    before-h2c-closed) one "$round" "$t" "$BIN_BEFORE" run "$URL" -p http2 --streams "$STREAMS" -c "$CONNS" -d "${SECS}s" --timeout 2s -q -o json ;;
    h2load-h2c-closed) one "$round" "$t" h2load -t1 -c "$CONNS" -m "$STREAMS" -D "$SECS" "$URL" ;;
    oha-h1) one "$round" "$t" oha --no-tui --output-format json -c "$CONNS" -z "${SECS}s" -q "$RATE" --latency-correction "$URL" ;;
    vegeta-h1) one "$round" "$t" vegeta attack -targets "$VEGETA_TARGETS" -rate "$RATE/s" -duration "${SECS}s" -max-connections "$CONNS" -timeout 2s -output "$VEGETA_OUT" ;;
    vegeta-h2c) one "$round" "$t" vegeta attack -targets "$VEGETA_TARGETS" -h2c -rate "$RATE/s" -duration "${SECS}s" -max-connections "$CONNS" -timeout 2s -output "$VEGETA_OUT" ;;
    fortio-h1) one "$round" "$t" fortio load -qps "$RATE" -c "$CONNS" -t "${SECS}s" -uniform -nocatchup -timeout 2s "$URL" ;;
    *) echo "# unknown tool $t" ;;
  esac
}

read -ra TL <<<"$TOOLS"
{
  echo "# open-cpu $STAMP SECS=$SECS RATE=$RATE CONNS=$CONNS STREAMS=$STREAMS REPEAT=$REPEAT target=$URL (smi-perf serve) ($(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "# round tool rps answered client_cpu_s server_cpu_s client_cpu_%"
  rotate "$REPEAT" run_tool "${TL[@]}"
} | tee "$LOG"
# Every tool in TOOLS, in the order given; ratios of each smi-perf HTTP/1.1 variant to h2load,
# oha and the before build, and of h2c to h2load.
PAIRS=""
for t in "${TL[@]}"; do
  case $t in
    smi-perf-h1-arrival*) PAIRS="$PAIRS $t/h2load-h1 $t/before-h1" ;;
    smi-perf-h1-tasks*) PAIRS="$PAIRS $t/h2load-h1" ;;
    smi-perf-h1*) PAIRS="$PAIRS $t/h2load-h1 $t/oha-h1 $t/vegeta-h1 $t/fortio-h1 $t/${t/smi-perf-h1/before-h1} $t/${t/smi-perf-h1/smi-perf-h1-arrival} $t/${t/smi-perf-h1/smi-perf-h1-tasks}" ;;
    before-h1*) PAIRS="$PAIRS $t/h2load-h1" ;;
    smi-perf-h2c-arrival*) PAIRS="$PAIRS $t/h2load-h2c" ;;
    smi-perf-h2c@*) PAIRS="$PAIRS $t/h2load-h2c $t/vegeta-h2c $t/${t/smi-perf-h2c/before-h2c} $t/${t/smi-perf-h2c/smi-perf-h2c-arrival}" ;;
    before-h2c@*) PAIRS="$PAIRS $t/h2load-h2c" ;;
    smi-perf-h2c) PAIRS="$PAIRS smi-perf-h2c/smi-perf-h2c-arrival smi-perf-h2c/vegeta-h2c" ;;
  esac
done
summarize "$LOG" "${TL[*]}" "$PAIRS smi-perf-h2c/h2load-h2c smi-perf-h2c/before-h2c before-h2c/h2load-h2c smi-perf-h2c-closed/h2load-h2c-closed smi-perf-h2c-closed/before-h2c-closed before-h2c-closed/h2load-h2c-closed"
python3 - "$LOG" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    if line.startswith('#') or '=' not in line:
        continue
    f = line.split()
    kv = dict(x.split('=', 1) for x in f[7:] if '=' in x)
    kv['requests'] = f[3]
    rows.setdefault(f[1], []).append(kv)
csw = {t: [int(x['csw']) / int(x['requests']) for x in v if 'csw' in x and int(x['requests']) > 0] for t, v in rows.items()}
if any(csw.values()):
    print("\n| tool | voluntary context switches per request (median) |")
    print("|---|---|")
    for t, v in csw.items():
        if v:
            print(f"| {t} | {st.median(v):.3f} |")
rows = {t: v for t, v in rows.items() if all('achieved%' in x for x in v)}
if rows:
    print("\n| tool | runs | achieved % of RATE (median, min) | dropped (max) | cut off (max) | recorded+dropped+cut off = scheduled | p50 µs | p99.9 µs (from intended send) | service-time p99.9 µs |")
    print("|---|---|---|---|---|---|---|---|---|")
for t, v in rows.items():
    num = lambda k: [float(x[k]) for x in v if x.get(k, '-') not in ('-', '')]
    ach = num('achieved%')
    ok = sum(1 for x in v if x['counted'].split('/')[0] == x['counted'].split('/')[1])
    med = lambda k: f"{st.median(num(k)):,.0f}" if num(k) else "-"
    print(f"| {t} | {len(v)} | {st.median(ach):.2f} ({min(ach):.2f}) | {max(num('dropped')):.0f} | {max(num('cutoff')):.0f} | "
          f"{ok}/{len(v)} runs | {med('p50')} | {med('p999')} | {med('svc_p999')} |")
PY
rm -f "$VEGETA_TARGETS"
echo "raw: ${LOG#"$ROOT"/}"
if [ "${LATENESS:-0}" = 1 ] && command -v tcpdump >/dev/null; then
  PERIOD_US=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN {print 1e6 * c / r}')
  {
    echo "# send lateness on the wire ($STAMP, RATE=$RATE CONNS=$CONNS SECS=$SECS, period ${PERIOD_US} µs per connection)"
    for t in "${TL[@]}"; do
      case $t in *-h2c*|vegeta-*) continue ;; esac
      pcap=$OUT/lateness-$STAMP-${t//[^a-z0-9-]/_}.pcap
      timeout $((SECS + 40)) tcpdump -i lo -s 96 -B 16384 -w "$pcap" "tcp dst port $PORT" >/dev/null 2>&1 &
      tcpd=$!
      sleep 1
      run_tool 0 "$t" >/dev/null
      sleep 0.5
      kill -INT "$tcpd" 2>/dev/null
      wait "$tcpd" 2>/dev/null
      echo "$t $(python3 "$HERE/send_lateness.py" "$pcap" "$PORT" "$PERIOD_US" 0.2)"
      rm -f "$pcap"
    done
  } | tee -a "$LOG"
fi
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
