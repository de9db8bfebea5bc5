#!/usr/bin/env python3
"""Measures the pvbench agent: round-trip time over local stdio and CPU use while sampling.

Usage: bench/agent/agent_bench.py PVBENCH_BINARY [--samples-seconds 30] [--pings 2000]
                                   [--fake-cpus N]

With --fake-cpus N the agent reads a static /proc/stat of N CPUs under a temporary
--root (the size of a 90-core SMT8 LPAR is 720), to show the cost per sample at scale.

Round trip: the time from writing a `ping` request to reading its reply, over the agent's
stdin/stdout pipes, measured here in Python (so it includes this driver's own overhead:
an upper bound for the agent). CPU use: utime+stime of the agent process from
/proc/PID/stat over the sampling window, with `sample.start` at 1000 ms on every CPU,
as a percentage of one CPU. The agent runs against the real /proc (read only: no mode
is applied).
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time


def main():
    binary = sys.argv[1]
    seconds = 30.0
    pings = 2000
    args = sys.argv[2:]
    if "--samples-seconds" in args:
        seconds = float(args[args.index("--samples-seconds") + 1])
    if "--pings" in args:
        pings = int(args[args.index("--pings") + 1])
    extra = []
    if "--fake-cpus" in args:
        import tempfile
        count = int(args[args.index("--fake-cpus") + 1])
        root = tempfile.mkdtemp(prefix="pvbench-bench-")
        os.makedirs(f"{root}/proc")
        with open(f"{root}/proc/stat", "w") as f:
            f.write("cpu  1 2 3 4 5 6 7 8 0 0\n")
            for cpu in range(count):
                f.write(f"cpu{cpu} 123456 789 45678 9876543 1234 0 567 8901 0 0\n")
            f.write("intr 1\nctxt 2\n")
        extra = ["--root", root]
    agent = subprocess.Popen(
        [binary, "agent", "--stdio"] + extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
    )
    out = agent.stdout
    hello = json.loads(out.readline())
    assert hello["event"] == "hello", hello

    def call(ident, op, params=None):
        line = json.dumps({"id": ident, "op": op, "params": params or {}}) + "\n"
        agent.stdin.write(line.encode())
        while True:
            message = json.loads(out.readline())
            if message.get("id") == ident:
                return message

    assert call(1, "hello", {"protocol": "1.0"})["ok"]
    for i in range(100):  # warm up
        call(10 + i, "ping")
    rtts = []
    for i in range(pings):
        start = time.perf_counter_ns()
        reply = call(1000 + i, "ping")
        rtts.append(time.perf_counter_ns() - start)
        assert reply["ok"]
    rtts.sort()
    median_us = statistics.median(rtts) / 1000
    p99_us = rtts[int(len(rtts) * 0.99)] / 1000
    print(f"round trip over stdio: {pings} pings, median {median_us:.1f} us, p99 {p99_us:.1f} us")

    samples = []
    done = threading.Event()

    def reader():
        while not done.is_set():
            line = out.readline()
            if not line:
                return
            message = json.loads(line)
            if message.get("event") == "samples":
                samples.append(message)

    reply = call(5000, "sample.start", {"interval_ms": 1000})
    assert reply["ok"], reply
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu_seconds():
        with open(f"/proc/{agent.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    time.sleep(1.5)
    before, t0 = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    after, t1 = cpu_seconds(), time.monotonic()
    done.set()
    agent.stdin.close()
    agent.wait(timeout=30)
    cpus = len(samples[-1]["cpus"]) if samples else 0
    percent = 100 * (after - before) / (t1 - t0)
    print(
        f"sampling {cpus} CPUs every 1 s for {t1 - t0:.1f} s: {len(samples)} events, "
        f"agent CPU {after - before:.2f} s = {percent:.3f} % of one CPU "
        f"(tick {1000 / ticks:.0f} ms)"
    )


if __name__ == "__main__":
    main()
