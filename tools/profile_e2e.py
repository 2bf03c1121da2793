#!/usr/bin/env python3
"""The profile behind docs/PERFORMANCE.md "Where the time goes": tiktok2mqtt under bench-e2e's
load (RATE events/s over STREAMERS streamers, QoS QOS, BROKER default or tuned), sampled by
`perf record -g` for PERF_S seconds once every streamer is live. Prints perf's report (the top
of it by thread and by symbol, children included) and writes perf.data to OUT (default
build/profile-e2e), then the top symbols of each group of threads (our main thread, the
streamer threads, paho's send and receive threads), then STACKS (3) stack samples of every
thread (gdb), to see where the threads wait. Needs perf (Debian: linux-perf) and the right to
use it, and gdb.

Environment: B, STREAMERS (50), RATE (5000), QOS (1), BROKER (tuned), SECONDS (25), PERF_S (10),
FREQ (samples a second, 999).

SPDX-License-Identifier: MIT
"""
import collections
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_e2e as E  # noqa: E402

RATE, QOS = int(os.environ.get("RATE", "5000")), int(os.environ.get("QOS", "1"))
BROKER, SECONDS = os.environ.get("BROKER", "tuned"), int(os.environ.get("SECONDS", "25"))
PERF_S = int(os.environ.get("PERF_S", "10"))
FREQ = os.environ.get("FREQ", "999")
OUT = os.environ.get("OUT", os.path.join(E.B, "profile-e2e"))


def by_group(data, top=25):
    """Each thread group's samples by symbol, the groups of bench_e2e's per-thread figures"""
    r = subprocess.run(["perf", "script", "-i", data, "-G", "-F", "comm,pid,tid,ip,sym,dso"],
                       capture_output=True, text=True)
    groups = collections.defaultdict(collections.Counter)
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+(\d+)/(\d+)\s+\S+\s+(.*)", line)
        if m:
            comm, pid, tid, sym = m.groups()
            groups[E.thread_group(pid, tid, comm)][sym.strip()] += 1
    sizes = {g: sum(c.values()) for g, c in groups.items()}
    total = sum(sizes.values()) or 1
    for name, c in sorted(groups.items(), key=lambda kv: -sizes[kv[0]]):
        n = sizes[name]
        print("== %s: %.1f %% of the samples" % (name, 100.0 * n / total))
        for sym, k in c.most_common(top):
            print("%6.1f %%  %s" % (100.0 * k / n, sym))


def main():
    os.makedirs(OUT, exist_ok=True)
    data = os.path.join(OUT, "perf-%s-qos%d.data" % (BROKER, QOS))
    try:
        bp, port = E.broker(BROKER)
        sp, url = E.simulator(E.STREAMERS, RATE, SECONDS)
        sub, sub_out = E.subscriber(port, QOS)
        br, ok = E.bridge(url, E.STREAMERS, port, QOS)
        time.sleep(2)
        subprocess.run(["perf", "record", "-g", "-F", FREQ, "-o", data, "-p", str(br.pid), "--",
                        "sleep", str(PERF_S)], capture_output=True)
        for sort in ("comm", "sym"):
            r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                "--sort", sort, "--percent-limit", "1.5", "-g", "none"],
                               capture_output=True, text=True)
            print("\n".join(l for l in r.stdout.splitlines() if l and not l.startswith("#")))
        by_group(data)
        # where the threads wait: a few stack samples of every thread (gdb, if installed)
        for _ in range(int(os.environ.get("STACKS", "3"))):
            r = subprocess.run(["gdb", "-p", str(br.pid), "-batch", "-ex", "thread apply all bt 8"],
                               capture_output=True, text=True)
            print("\n".join(l for l in r.stdout.splitlines() if l.startswith(("Thread", "#"))))
            time.sleep(0.7)
        E.wait_for(lambda: sub.poll() is not None, SECONDS + 30, step=0.5)
        E.stop(sub)
        print(open(sub_out).read())
    finally:
        E.kill_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
