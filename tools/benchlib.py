"""What the benchmark drivers (bench_e2e.py, bench_paho.py, bench_bridge.py, bench_decode.py)
share: a local mosquitto as shipped or tuned, the bridge's configuration for N load rooms of
the simulator, a process's CPU time and /proc/PID/status figures, and the rewrite of one
section of docs/PERFORMANCE.md. Processes come from tests/tools/itest.py's start(), so its
kill_all() ends them.

SPDX-License-Identifier: MIT
"""
import datetime
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from itest import B, ROOT, free_port, kill_all, start, wait_for  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def now():
    """the time of a measurement, as the reports print it"""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def port_open(port):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def mosquitto(tmp, kind):
    """mosquitto on a free loopback port, `default` (as Debian ships it: max_inflight_messages
    20, Nagle's algorithm on towards subscribers) or `tuned` (no in-flight or queue limit,
    set_tcp_nodelay true): (process, port)"""
    port = free_port()
    conf = os.path.join(tmp, "m-%s-%d.conf" % (kind, port))
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
        if kind == "tuned":
            f.write("max_inflight_messages 0\nmax_queued_messages 0\nset_tcp_nodelay true\n")
    p = start(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: port_open(port), 5)
    return p, port


def bridge_config(path, url, port, rooms, extra="", gifts=False):
    """tiktok2mqtt's configuration for the simulator's load rooms load00001.. at `url` and the
    broker at `port`: the signed flow (the default, auto, would first try the direct path,
    whose default push_base is TikTok's own edge, not the simulator), no discovery, and
    extended gift info (the gift list, fetched and kept by each streamer) only with `gifts`"""
    with open(path, "w") as f:
        f.write("[bridge]\nhealth_interval = 3600\n[mqtt]\nuri = tcp://127.0.0.1:%d\n%s" % (port, extra))
        f.write("[homeassistant]\nenabled = false\n")
        f.write("[tiktok]\nweb_base = %s\nwebcast_base = %s\nsign_api_url = %s\n" % (url, url, url))
        f.write("sign_flow = euler\nenable_extended_gift_info = %s\n"
                % ("true" if gifts else "false"))
        for i in range(1, rooms + 1):
            f.write("[streamer:load%05d]\n" % i)
    return path


def paho(port, n, size, mode, window=None, timeout=60):
    """build/bench-paho (bench-paho-sync for the modes `sync...`): n messages of `size` bytes to
    the broker at `port`; the finished process, its figures a JSON line on stdout"""
    exe = os.path.join(B, "bench-paho-sync" if mode.startswith("sync") else "bench-paho")
    args = [exe, "tcp://127.0.0.1:%d" % port, str(n), str(size), mode]
    args += [str(window)] if window is not None else []
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def cpu_s(pid):
    """user + system CPU seconds of every thread of `pid`"""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK


def status(pid, key):
    """a figure of /proc/PID/status (VmRSS in KiB, Threads, ...); 0 when absent"""
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def measure(name, lines, body):
    """A benchmark's run: body(lines) appends its rows to `lines`, whatever it started is
    ended (SIGTERM too), then the lines are reported as section NAME; the exit status."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that kill_all() runs
    try:
        body(lines)
    finally:
        kill_all()
    report(name, "\n".join(lines))
    return 0


def report(name, text):
    """`text` to stdout and, with --write, into docs/PERFORMANCE.md between
    <!-- NAME:begin --> and <!-- NAME:end -->"""
    print(text)
    if "--write" not in sys.argv:
        return
    path = os.path.join(ROOT, "docs", "PERFORMANCE.md")
    with open(path) as f:
        doc = f.read()
    a, b = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    doc = doc[:doc.index(a) + len(a)] + "\n" + text + "\n" + doc[doc.index(b):]
    with open(path, "w") as f:
        f.write(doc)
