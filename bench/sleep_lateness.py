#!/usr/bin/env python3
"""bench/sleep_lateness.py — how late a thread runs after a sleep, by sleep length.

The experiment behind the precise timer's 1 ms cap (smi-perf-engine/src/pacer.rs): on a CPU
that something else keeps busy, a single long sleep (5 ms) is often run milliseconds after it
expires, while the same wait cut into 1 ms sleeps is not. Run it pinned next to a load:
`taskset -c 1 python3 bench/sleep_lateness.py` (ROUNDS=100). Prints p50/p90 lateness in µs.
"""
import os
import statistics
import time

ROUNDS = int(os.environ.get("ROUNDS", "100"))


def one(d):
    t = time.perf_counter_ns()
    time.sleep(d)
    return (time.perf_counter_ns() - t) / 1000 - d * 1e6


def chunked(d, c):
    t = time.perf_counter_ns()
    end = t + d * 1e9
    while True:
        now = time.perf_counter_ns()
        if now >= end:
            break
        time.sleep(min(c, (end - now) / 1e9))
    return (time.perf_counter_ns() - t) / 1000 - d * 1e6


for name, f in [
    ("one 1ms sleep", lambda: one(0.001)),
    ("one 5ms sleep", lambda: one(0.005)),
    ("5ms as 1ms sleeps", lambda: chunked(0.005, 0.001)),
    ("one 20ms sleep", lambda: one(0.02)),
    ("20ms as 1ms sleeps", lambda: chunked(0.02, 0.001)),
]:
    xs = sorted(f() for _ in range(ROUNDS))
    print(f"{name:>20}: late p50 {statistics.median(xs):7.0f} µs  p90 {xs[int(len(xs) * 0.9)]:7.0f} µs")
