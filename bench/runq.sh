#!/usr/bin/env bash
# bench/runq.sh — where a generator's wall time goes: on the CPU, waiting for the CPU, asleep.
#
#   bench/runq.sh CMD...      e.g. bench/runq.sh taskset -c 0 target/release/smi-perf run udp://127.0.0.1:18492 -c 50 -d 2s -q
#
# Runs CMD (a command that execs, like `taskset`, keeps the PID; `timeout` does not: bound CMD
# by its own duration) and samples /proc/PID/task/*/schedstat and status every 100 ms (the
# sampler forks a few small processes per sample: keep it off the CPU being measured, i.e. pin
# CMD, not this script; the last up-to-100 ms of CMD are not counted). When CMD exits it prints,
# summed over its threads, from the last sample:
#   on_cpu_s       time on the CPU
#   runq_wait_s    time runnable but waiting for the CPU (the scheduler's run-queue delay)
#   slices         times it was put on the CPU
#   voluntary      sleeps (voluntary context switches), involuntary (preemptions)
# A generator that is neither on the CPU nor waiting for it was asleep, waiting for the target.
# This is how the UDP answered-rate gap to fortio was traced (bench/README.md). Reads /proc only.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: bench/runq.sh CMD..." >&2; exit 2; }
"$@" &
P=$!
last=
while kill -0 "$P" 2>/dev/null; do
  s=$(cat /proc/"$P"/task/*/schedstat 2>/dev/null | awk '{r += $1; d += $2; n += $3} END {printf "%.3f %.3f %d", r / 1e9, d / 1e9, n}')
  v=$(cat /proc/"$P"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt/ {v += $2} /^nonvoluntary_ctxt/ {n += $2} END {print v + 0, n + 0}')
  [ -n "$s" ] && last="$s $v"
  sleep 0.1
done
wait "$P"
rc=$?
read -r on wait slices vol invol <<<"${last:-0 0 0 0 0}"
echo "runq: on_cpu_s=$on runq_wait_s=$wait slices=$slices voluntary=$vol involuntary=$invol"
exit $rc
