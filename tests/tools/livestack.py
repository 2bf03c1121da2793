"""What the user-side integration tests (tests/node-red, tests/overlay) share: a mosquitto with
a subscription log (and, when asked, a WebSocket listener), tiktok-live-sim playing a scenario,
and the bridge between them. Built on tests/bridge/run.py's Broker, Sub and write_config.

SPDX-License-Identifier: MIT
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
import itest  # noqa: E402
from itest import ROOT, free_port  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py)

NPM = os.path.join(ROOT, "build", "npm", "node_modules")  # tools/deps.sh installs there


class Broker(bt.Broker):
    """mosquitto on a free loopback port that logs every subscription to a file (so a test
    can wait until a client has subscribed), plus a MQTT-over-WebSockets listener on `ws`
    when asked: Debian's 2.0.11 has websockets, next to a TCP listener."""

    def __init__(self, tmp, websockets=False):
        super().__init__(tmp)
        self.log = os.path.join(tmp, "mosquitto-%d.log" % self.port)
        self.ws = free_port() if websockets else None
        with open(self.conf, "a") as f:
            if os.geteuid() == 0:  # mosquitto would drop to its own user: the log dir is ours
                f.write("user root\n")
            f.write("log_dest file %s\nlog_type subscribe\nlog_type error\n" % self.log)
            f.write("log_type warning\nlog_type notice\n")
            if self.ws:
                f.write("listener %d 127.0.0.1\nprotocol websockets\n" % self.ws)

    def subscribed(self, topics):
        """every topic in `topics` has been subscribed to by some client (log lines
        `<time>: <client> <qos> <topic>`)"""
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                seen = {line.rstrip("\n").rsplit(" ", 1)[-1] for line in f}
        except OSError:
            return False
        return set(topics) <= seen


def start_sim(tmp, scenario, args=()):
    """tiktok-live-sim playing `scenario` on a free loopback port, its request log in
    tmp/sim.log, more options in `args`: (process, base URL)"""
    p, url, _ = itest.sim(tmp, "sim", ["--scenario", scenario] + list(args), timeout=10)
    return p, url


def start_bridge(tmp, broker, sim_url, streamers):
    """the daemon from B between the simulator and the broker, its log in tmp/bridge.log"""
    cfg = bt.write_config(tmp, "bridge.ini", broker.port, sim_url, streamers)
    return bt.bridge(cfg, stderr=open(os.path.join(tmp, "bridge.log"), "w"))


def scenario_lines(path):
    """the JSON objects of a scenario file, comments and blank lines left out"""
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(json.loads(line))
    return out
