#!/usr/bin/env python3
"""make bench-paho: paho.mqtt.c alone (build/bench-paho), the floor of the MQTT library the
bridge uses. N messages of SIZE bytes (about the median size of the bridge's event JSON under
the simulator's load) at QoS 1 to a local mosquitto, default and tuned (max_inflight_messages
0), through the async client as bridge/mqtt.c drives it (a window of WINDOW messages in flight,
or 20, a default mosquitto's Receive Maximum, and a command queue as large), the same with
paho's default command queue (100), and the synchronous client three ways: from one thread
waiting on each oldest message, with paho's receive thread, and from one thread polling the
broker's socket with no paho thread at all (tools/bench-paho.c says how each works). ROUNDS
rounds, the median and range of the CPU per message (every thread of the publishing process) and of the
rate. --write rewrites the bench-paho section of docs/PERFORMANCE.md.

Environment: B (build), N (50000; 3000 against the default broker, where a window above its
Receive Maximum of 20 crawls at 100-200 messages/s), SIZE (1000), ROUNDS (3), WINDOW (256,
the bridge's INFLIGHT_MAX); windows of 512 and 64 are measured too.

SPDX-License-Identifier: MIT
"""
import json
import os
import statistics
import sys
import tempfile

from benchlib import measure, mosquitto, now as bench_now, paho
from itest import stop

N = int(os.environ.get("N", "50000"))
SIZE = int(os.environ.get("SIZE", "1000"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
WINDOW = int(os.environ.get("WINDOW", "256"))
TMP = tempfile.mkdtemp(prefix="bench-paho-")
# (client, window, what): the bridge's way, then the windows that show where paho idles
MODES = [("async-buf", WINDOW, "MQTTAsync as the bridge drives it where the broker allows the window "
                                "(maxBufferedMessages = window + 1)"),
         ("async-buf", 20, "MQTTAsync as the bridge drives it against a Receive Maximum of 20"),
         ("async", 512, "MQTTAsync, paho's default maxBufferedMessages (100)"),
         ("async", 64, "MQTTAsync, paho's default maxBufferedMessages (100)"),
         ("sync", WINDOW, "MQTTClient (synchronous) from one thread, waitForCompletion on the oldest"),
         ("sync-cb", WINDOW, "MQTTClient with callbacks (paho's receive thread reads the acknowledgements)"),
         ("sync-cb", 20, "MQTTClient with callbacks, against a Receive Maximum of 20"),
         ("sync-poll", WINDOW, "MQTTClient with no thread: one thread publishes, polls the socket, "
                               "MQTTClient_receive reads the acknowledgements"),
         ("sync-poll", 20, "MQTTClient with no thread, against a Receive Maximum of 20")]


def rows(lines):
    for kind in ("tuned", "default"):
        bp, port = mosquitto(TMP, kind)
        n = N if kind == "tuned" else max(N * 3 // 50, 1000)
        for mode, window, what in MODES:
            rs = []
            for _ in range(ROUNDS):
                r = paho(port, n, SIZE, mode, window, timeout=600)
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    continue
                rs.append(json.loads(r.stdout))
                print(r.stdout.strip(), file=sys.stderr, flush=True)
            if not rs:
                lines.append("| %s | %s | %d | %d | failed | | |" % (kind, what, window, n))
                continue
            us = [x["cpu_us_per_msg"] for x in rs]
            rate = [x["msgs_per_s"] for x in rs]
            rej = statistics.median([x["rejected"] for x in rs])
            lines.append("| %s | %s | %d | %d | **%.1f** (%.1f to %.1f) | %s (%s to %s) | %s |"
                         % (kind, what, window, n, statistics.median(us), min(us), max(us),
                            "{:,.0f}".format(statistics.median(rate)), "{:,.0f}".format(min(rate)),
                            "{:,.0f}".format(max(rate)), "{:,.0f}".format(rej) if not mode.startswith("sync") else "-"))
        stop(bp)


def main():
    head = ["Measured %s by `make bench-paho` (SIZE=%d bytes, QoS 1, WINDOW=%d, %d rounds; "
            "median and range)." % (bench_now(), SIZE, WINDOW, ROUNDS), "",
            "| broker | client | in flight at most | messages | CPU µs per message | messages/s | refused by paho (async) |",
            "|---|---|---|---|---|---|---|"]
    return measure("bench-paho", head, rows)


if __name__ == "__main__":
    sys.exit(main())
