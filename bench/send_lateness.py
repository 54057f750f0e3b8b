#!/usr/bin/env python3
"""bench/send_lateness.py — how late an Open-model generator's sends are, seen on the wire.

Reads a pcap of loopback traffic (`tcpdump -i lo -w FILE tcp dst port PORT`) and takes every
client-to-server TCP segment with a payload as one request send (HTTP/1.1, one request in flight
per connection). Each connection of a constant-rate run has a fixed send period P (connections ÷
rate: smi-perf's lane i owns sends i, i + L, i + 2L, …; h2load `--rps R` sends R per second per
client). For the connection's k-th send at t_k the intended time is a + k·P, with the phase a the
earliest that leaves no send early (a = min over k of t_k − k·P), so the lateness t_k − (a + k·P)
is ≥ 0 and measures the tool's pacing error the same way for every tool, without its
cooperation. The first SKIP seconds of each connection are ignored (connection set-up).

    send_lateness.py FILE PORT PERIOD_US [SKIP_S]

Prints sends, connections and the lateness percentiles in µs. Only reads FILE.
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        else:
            endian = ">"
            magic = struct.unpack(">I", head[:4])[0]
        nano = magic == 0xA1B23C4D
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            t = sec + frac / (1e9 if nano else 1e6)
            yield t, linktype, data


def tcp_payloads(path, port):
    for t, linktype, data in packets(path):
        if linktype == 1:  # Ethernet (Linux `lo`)
            if len(data) < 14 or data[12:14] != b"\x08\x00":
                continue
            ip = data[14:]
        elif linktype == 113:  # Linux cooked (`-i any`)
            if len(data) < 16 or data[14:16] != b"\x08\x00":
                continue
            ip = data[16:]
        elif linktype in (101, 228):  # raw IPv4
            ip = data
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        sport, dport = struct.unpack(">HH", tcp[:4])
        off = (tcp[12] >> 4) * 4
        if dport == port and len(tcp) > off:
            yield t, sport


def main():
    path, port, period_us = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    skip = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
    period = period_us / 1e6
    conns = {}
    for t, sport in tcp_payloads(path, port):
        conns.setdefault(sport, []).append(t)
    late = []
    for times in conns.values():
        t0 = times[0]
        times = [t for t in times if t >= t0 + skip]
        if len(times) < 2:
            continue
        a = min(t - k * period for k, t in enumerate(times))
        late.extend((t - (a + k * period)) * 1e6 for k, t in enumerate(times))
    if not late:
        print("no sends found")
        return 1
    late.sort()

    def q(p):
        return late[min(len(late) - 1, int(p * len(late)))]

    print(
        f"sends={len(late)} connections={len(conns)} lateness_us: "
        f"p50={q(0.5):.0f} p90={q(0.9):.0f} p99={q(0.99):.0f} p99.9={q(0.999):.0f} max={late[-1]:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
