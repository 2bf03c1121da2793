#!/usr/bin/env python3
"""tiktok2mqtt's MQTT session against a real mosquitto (as installed), on free loopback ports:
every way a connection ends leads to a reconnect, and a shutdown loses nothing.

- Takeover: a second client takes the bridge's client_id (MQTT 5 DISCONNECT 0x8E): the log
  names it, the bridge reconnects and goes on publishing, bridge/health and /healthz report
  the connection, the last PUBACK's age and the oldest queued message's age.
- Stall: a proxy that swallows the bridge's PUBLISH packets (a broker that answers pings and
  takes nothing): /healthz turns 503 with the reason after twice the keepalive.
- Packet limits: mosquitto's max_packet_size (announced in CONNACK over MQTT 5) and, over
  3.1.1, `max_payload_bytes`: larger messages are dropped and counted (tooLarge), every other
  one arrives, the broker never disconnects the bridge.
- Bad topics: a raw method name with `#` or `+` (raw = true) is dropped, counted (badTopic),
  logged once per topic, and the events behind it arrive.
- Fallback: a broker that closes the socket on an MQTT 5 CONNECT (RabbitMQ 3.10 does, a tiny
  proxy here) gets MQTT 3.1.1, and the log says why.
- Retained store: a broker restarted without persistence gets every retained topic again
  (bridge/info, each streamer's status, availability, room, state, Home Assistant discovery)
  without waiting for homeassistant/status; on a connection each is published once.
- Shutdown: with mosquitto's max_inflight_messages 1 (Receive Maximum 1) and 40 live
  streamers, SIGTERM delivers every `stopped` status and bridge/state ends `offline`; the
  DISCONNECT carries reason 0x04 (publish the will).
- Stalled stop: over MQTT 3.1.1, SIGTERM while a proxy swallows every PUBLISH (flush_timeout
  1 s): the bridge's own `offline` never arrives, so it closes without DISCONNECT and the broker
  publishes the will: bridge/state is retained `offline` (over MQTT 5: DISCONNECT 0x04, as
  before). With flush_timeout 0, on either protocol, no DISCONNECT either: the will says it.
- Order under a small window: mosquitto's max_inflight_messages 2 and 4 load rooms at 300
  events/s each: every event arrives once (as many msgIds as the simulator sent), and each
  streamer's in the order they were sent.

Environment: B (build dir, default build). Needs mosquitto, mosquitto_sub and mosquitto_pub.
Every wait is bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
from itest import B, check, free_port, run_tests, start, stop, wait_for  # noqa: E402
import run as bt  # noqa: E402
import transports as tp  # noqa: E402


def log_of(path):
    return tp.log_of(path)


def health(sub):
    """every bridge/health payload seen, parsed, in order"""
    out = []
    for l in sub.lines():
        t, _, p = l.partition(" ")
        if t == "tiktok/bridge/health" and p:
            out.append(json.loads(p))
    return out


def config(tmp, name, url, port, streamers=("the_host",), mqtt_extra="", extra=""):
    path = bt.write_config(tmp, name, port, url, list(streamers), extra)
    text = open(path).read().replace("keepalive = 5\n", "keepalive = 5\n" + mqtt_extra, 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def broker_with(tmp, lines):
    broker = bt.Broker(tmp)
    with open(broker.conf, "a") as f:
        f.write(lines)
    return broker


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


class Kicker:
    """a TCP proxy to the broker that can end every connection with an MQTT 5 DISCONNECT of
    the broker's, as ejabberd and newer mosquittos do (2.0.11 just closes the socket)"""

    def __init__(self, broker_port):
        self.clients = []

        def handle(c):
            tp.relay(c, broker_port, on_open=lambda c, up: self.clients.append((c, up)))

        self.srv = tp.Server(handle)
        self.port = self.srv.port

    def kick(self, reason):
        for c, up in self.clients:
            try:
                c.sendall(bytes([0xE0, 1, reason]))  # DISCONNECT, reason, no properties
            except OSError:
                pass
            tp.shut(up)
            tp.shut(c)
        self.clients = []


def takeover_bridge(tmp, tag, port, mport):
    cfg = config(tmp, tag + ".ini", "http://127.0.0.1:1", port, (), "client_id = t2m-twin\n",
                 "[bridge]\nhealth_interval = 1\nmetrics = 127.0.0.1:%d\n" % mport)
    log = os.path.join(tmp, tag + ".log")
    return bt.bridge(cfg, stderr=open(log, "w")), log


def test_takeover(tmp):
    """finding 1: after the broker's DISCONNECT (here 0x8E, session taken over) the bridge
    published nothing, for good, and /healthz stayed ok"""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    kicker = Kicker(broker.port)
    sub = bt.Sub(tmp, broker.port, "tiktok/#", "takeover.txt")
    mport = free_port()
    br, log = takeover_bridge(tmp, "takeover", kicker.port, mport)
    check(wait_for(lambda: len(health(sub)) >= 2, 15), "takeover: bridge/health arrives")
    kicker.kick(0x8E)
    check(wait_for(lambda: "another client took over client_id t2m-twin" in log_of(log), 10),
          "takeover: the log names the takeover (%s)"
          % re.findall(r"lost the connection.*", log_of(log))[:1])
    n = len(health(sub))
    back = lambda: [h for h in health(sub)[n:] if h["mqtt"].get("reconnects", 0) >= 1]
    check(wait_for(lambda: len(back()) >= 2, 15),
          "takeover: the bridge reconnects and publishes again (%d health messages since)"
          % (len(health(sub)) - n))
    h = back()[-1]["mqtt"] if back() else {}
    check(h.get("connected") is True and h.get("stalled") is False,
          "takeover: bridge/health says connected, not stalled (%s)" % h)
    check(isinstance(h.get("lastPubackAge"), (int, float)) and 0 <= h["lastPubackAge"] < 5,
          "takeover: bridge/health has the last PUBACK's age (%s)" % h.get("lastPubackAge"))
    check(isinstance(h.get("oldestQueuedAge"), (int, float)) and h["oldestQueuedAge"] < 5,
          "takeover: bridge/health has the oldest queued message's age (%s)"
          % h.get("oldestQueuedAge"))
    check(http_get("http://127.0.0.1:%d/healthz" % mport)[0] == 200, "takeover: /healthz 200")
    metrics = http_get("http://127.0.0.1:%d/metrics" % mport)[1]
    check("tiktok2mqtt_mqtt_last_puback_age_seconds" in metrics and
          "tiktok2mqtt_mqtt_oldest_queued_age_seconds" in metrics,
          "takeover: /metrics has the PUBACK and queue ages")
    # another reason: packet too large (0x95), announced by no CONNACK
    kicker.kick(0x95)
    check(wait_for(lambda: "Packet too large (reason 0x95)" in log_of(log) and
                   log_of(log).count("mqtt: connected to") >= 3, 15),
          "DISCONNECT 0x95: logged with its reason, and the bridge reconnects")

    # mosquitto 2.0.11 itself closes the socket on a takeover, without a word: a twin bridge
    # with the same client_id; each says what is probably going on, and backs off
    twin, twin_log = takeover_bridge(tmp, "twin", broker.port, free_port())
    both = lambda: all("another client probably took over client_id t2m-twin" in log_of(p)
                       for p in (log, twin_log))
    check(wait_for(both, 30), "twins: both logs say another client probably took the client_id")
    stop(twin)
    stop(br)
    sub.close()
    kicker.srv.close()
    broker.down()


class Swallower:
    """a TCP proxy to the broker that passes everything but the bridge's PUBLISH packets: a
    broker that answers pings and takes no message. `unsubscribes`: (time, packet) of every
    UNSUBSCRIBE that went through (the bridge's nudges of paho, bridge/paho_nudge.c).
    `swallow` False: PUBLISH packets pass too, until it is set"""

    def __init__(self, broker_port, swallow=True):
        self.unsubscribes = []
        self.swallow = swallow

        def filtered(src, dst):
            buf = b""
            while True:
                d = src.recv(65536)
                if not d:
                    return
                pkts, buf = tp.mqtt_packets(buf + d)
                self.unsubscribes += [(time.time(), p) for p in pkts if p[0] >> 4 == 10]
                out = b"".join(p for p in pkts if p[0] >> 4 != 3 or not self.swallow)
                if out:
                    dst.sendall(out)

        def handle(c):
            tp.relay(c, broker_port, filtered)

        self.srv = tp.Server(handle)
        self.port = self.srv.port


def test_stall(tmp):
    """/healthz said ok as long as the socket was up, whatever became of the messages"""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    hole = Swallower(broker.port)
    mport = free_port()
    br, log = takeover_bridge(tmp, "stall", hole.port, mport)
    url = "http://127.0.0.1:%d" % mport
    check(wait_for(lambda: "mqtt: connected to" in log_of(log), 10), "stall: the bridge connects")
    # keepalive 5 s: stalled after 10 s without an acknowledgement
    status = lambda: http_get(url + "/healthz")
    check(wait_for(lambda: status()[0] == 503, 25, step=0.5),
          "stall: /healthz 503 (%s %r)" % status())
    check("connected but stalled" in status()[1] and "nothing acknowledged" in status()[1],
          "stall: /healthz says why (%r)" % status()[1])
    ages = re.findall(r"^tiktok2mqtt_mqtt_(last_puback|oldest_queued)_age_seconds (\S+)$",
                      http_get(url + "/metrics")[1], re.M)
    ages = {k: float(v) for k, v in ages}
    check(ages.get("last_puback") == -1 and ages.get("oldest_queued", 0) >= 10,
          "stall: /metrics shows no PUBACK yet and the oldest message's age (%s)" % ages)
    # paho's send thread nudged (an UNSUBSCRIBE from the bridge's own state topic), each one
    # answered by the broker, and backing off (20 ms doubling to 1 s, from each QoS 0 message
    # paho writes: about five a second here), not one every 20 ms (about 50 a second)
    nudges = list(hole.unsubscribes)
    span = nudges[-1][0] - nudges[0][0] if nudges else 0
    check(nudges and all(b"tiktok/bridge/state" in p for _, p in nudges),
          "stall: paho nudged with UNSUBSCRIBEs from the state topic (%d)" % len(nudges))
    check(3 <= len(nudges) <= 6 + span * 8 and span >= 5,
          "stall: the nudges back off (%d in %.1f s)" % (len(nudges), span))
    counted = re.findall(r"^tiktok2mqtt_mqtt_paho_nudges_total (\d+)$",
                         http_get(url + "/metrics")[1], re.M)
    check(counted and int(counted[0]) >= len(nudges),
          "stall: /metrics counts them (%s, seen %d)" % (counted, len(nudges)))
    stop(br)
    hole.srv.close()
    broker.down()


def stalled_stop(tmp, broker, protocol, flush=1, swallow=True):
    """the bridge over `protocol` through a proxy that passes its PUBLISH packets until it is
    up, then swallows them (unless not `swallow`); SIGTERM with flush_timeout `flush`: (log,
    the retained bridge/state a subscriber gets after the stop)"""
    tag = "stop%s-%d-%s" % (protocol, flush, swallow)
    hole = Swallower(broker.port, swallow=False)
    sub = bt.Sub(tmp, broker.port, "tiktok/bridge/#", tag + ".txt")
    n = len(sub.lines())  # an earlier run's retained bridge/state is not this one's birth
    cfg = config(tmp, tag + ".ini", "http://127.0.0.1:1", hole.port, (),
                 "protocol = %s\nflush_timeout = %d\n" % (protocol, flush))
    log = os.path.join(tmp, tag + ".log")
    br = bt.bridge(cfg, stderr=open(log, "w"))
    check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines()[n:], 15),
          "%s: bridge/state online" % tag)
    hole.swallow = swallow  # from now on the broker takes nothing, "offline" included
    stop(br, timeout=15)
    check(br.returncode == 0, "%s: a clean stop (rc %s)" % (tag, br.returncode))
    # the will comes once the broker reads the end of the connection, after the bridge exits
    wait_for(lambda: tp.retained(sub, "tiktok/bridge/state") == "offline", 10)
    late = bt.Sub(tmp, broker.port, "tiktok/bridge/#", tag + "-late.txt")
    state = tp.retained(late, "tiktok/bridge/state")  # the broker's retained copy
    late.close()
    sub.close()
    hole.srv.close()
    return log_of(log), state


def test_stalled_stop(tmp):
    """A clean stop over MQTT 3.1.1 whose flush ran out of time left the retained
    bridge/state `online` for good: the bridge's own `offline` never reached the broker (a
    broker that takes nothing, here), and paho's DISCONNECT made the broker discard the will.
    Over MQTT 5 the DISCONNECT 0x04 asks for the will: unchanged."""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    text, state = stalled_stop(tmp, broker, "3.1.1")
    check(state == "offline", "stalled stop, MQTT 3.1.1: bridge/state retained offline (%s)"
          % state)
    check("offline not acknowledged within flush_timeout (1 s): closing without DISCONNECT so "
          "the broker publishes the will" in text, "stalled stop, MQTT 3.1.1: the log says so")
    text, state = stalled_stop(tmp, broker, "5")
    check(state == "offline", "stalled stop, MQTT 5: bridge/state retained offline (%s)" % state)
    check("closing without DISCONNECT" not in text,
          "stalled stop, MQTT 5: the DISCONNECT 0x04 asks for the will, as before")
    broker.down()


def test_stop_without_flush(tmp):
    """flush_timeout 0 skipped the goodbye, and paho's DISCONNECT on destroy (reason 0 over
    MQTT 5) made the broker discard the will: bridge/state stayed `online` on either protocol"""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    for protocol in ("5", "3.1.1"):
        text, state = stalled_stop(tmp, broker, protocol, flush=0, swallow=False)
        check(state == "offline", "flush_timeout 0, MQTT %s: bridge/state retained offline (%s)"
              % (protocol, state))
        check("flush_timeout 0: closing without DISCONNECT so the broker publishes the will"
              in text, "flush_timeout 0, MQTT %s: the log says so" % protocol)
    broker.down()


def sizes_run(tmp, tag, broker, mqtt_extra):
    """the replay through a broker with a packet limit: (events arrived, bridge/health)"""
    sim, url = bt.start_sim(tmp)
    sub = bt.Sub(tmp, broker.port, "tiktok/#", tag + ".txt")
    log = os.path.join(tmp, tag + ".log")
    br = bt.bridge(config(tmp, tag + ".ini", url, broker.port, mqtt_extra=mqtt_extra,
                          extra="[bridge]\nhealth_interval = 1\n"), stderr=open(log, "w"))
    want = bt.expected_count()
    got = lambda: len(bt.events_of(sub.lines(), "the_host"))
    last = lambda: (health(sub) or [{}])[-1].get("mqtt", {})
    done = lambda: got() + last().get("tooLarge", 0) >= want and last().get("queued") == 0
    check(wait_for(done, 40), "%s: every event arrives or is counted too large (%d + %s of %d)"
          % (tag, got(), last().get("tooLarge"), want))
    check(last().get("tooLarge", 0) > 0 and got() > 0,
          "%s: some are too large (%s), the others arrive (%d)" % (tag, last().get("tooLarge"),
                                                                  got()))
    check(last().get("reconnects") == 0 and "lost the connection" not in log_of(log),
          "%s: the broker never disconnected the bridge (%s)" % (tag, last().get("reconnects")))
    check(len(re.findall(r"dropped a message of \d+ bytes: over", log_of(log))) >= 1,
          "%s: the drop is logged" % tag)
    stop(sim)
    stop(br)
    sub.close()


def test_packet_limits(tmp):
    """mosquitto disconnects a client sending a packet over max_packet_size: the bridge sent
    it again on every connection (or, after the DISCONNECT, stopped publishing)"""
    broker = broker_with(tmp, "max_packet_size 900\n")
    check(broker.up(), "mosquitto with max_packet_size starts")
    sizes_run(tmp, "maxpacket-v5", broker, "")
    sizes_run(tmp, "maxpayload-311", broker, "protocol = 3.1.1\nmax_payload_bytes = 700\n")
    broker.down()


RAW_SCENARIO = """{"kind":"sim","seed":3}
{"kind":"viewer","handle":"fan","nickname":"Fan"}
{"kind":"streamer","handle":"rawer"}
{"t":0.1,"type":"chat","user":"fan","text":"before"}
{"t":0.2,"type":"raw","method":"Webcast#Hash","b64":"CAE="}
{"t":0.3,"type":"raw","method":"Webcast+Plus","b64":"CAE="}
{"t":0.4,"type":"raw","method":"Webcast#Hash","b64":"CAE="}
{"t":0.5,"type":"raw","method":"WebcastFineMessage","b64":"CAE="}
{"t":0.6,"type":"chat","user":"fan","text":"after"}
{"t":0.7,"type":"raw","method":"Webcast#Hash","b64":"CAE="}
{"t":0.8,"type":"chat","user":"fan","text":"last"}
"""


def scenario_sim(tmp, name, text, *args):
    scen = os.path.join(tmp, name + ".jsonl")
    with open(scen, "w") as f:
        f.write(text)
    out = os.path.join(tmp, name + ".out")
    sim = start([os.path.join(B, "tiktok-live-sim"), "--listen", "127.0.0.1:0", "--scenario", scen,
                 "--log", os.path.join(tmp, name + "-sim.log")] + list(args),
                stdout=open(out, "w"), stderr=subprocess.STDOUT)
    wait_for(lambda: '"listening"' in open(out).read(), 5)
    return sim, json.loads(open(out).readline())["listening"]


def test_bad_topic(tmp):
    """finding 4: a topic with a wildcard (from a raw method name) made mosquitto disconnect
    the bridge, which sent it again on every connection: nothing behind it ever arrived"""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sim, url = scenario_sim(tmp, "raw", RAW_SCENARIO)
    sub = bt.Sub(tmp, broker.port, "tiktok/#", "raw.txt")
    log = os.path.join(tmp, "raw.log")
    br = bt.bridge(config(tmp, "raw.ini", url, broker.port, ("rawer",),
                          extra="[bridge]\nraw = true\nhealth_interval = 1\n"),
                   stderr=open(log, "w"))
    chats = lambda: [json.loads(l.split(" ", 1)[1]).get("comment") for l in sub.lines()
                     if l.startswith("tiktok/rawer/chat ")]
    check(wait_for(lambda: chats() == ["before", "after", "last"], 20),
          "bad topic: the chats behind it arrive (%s)" % chats())
    check(any(l.startswith("tiktok/rawer/rawData/WebcastFineMessage ") for l in sub.lines()),
          "bad topic: a raw message with a good name arrives")
    last = lambda: (health(sub) or [{}])[-1].get("mqtt", {})
    check(wait_for(lambda: last().get("badTopic") == 4, 10),
          "bad topic: bridge/health counts 4 (%s)" % last().get("badTopic"))
    lines = re.findall(r"dropped a message .*", log_of(log))
    check(len(lines) == 2 and all("wildcard" in l for l in lines),
          "bad topic: logged once per topic (%d lines: %s)" % (len(lines), lines[:3]))
    check(last().get("reconnects") == 0, "bad topic: the broker never disconnected the bridge")
    stop(sim)
    stop(br)
    sub.close()
    broker.down()


def test_fallback_on_close(tmp):
    """finding 3: RabbitMQ 3.10 closes the socket on an MQTT 5 CONNECT; the bridge retried 5
    forever and said nothing useful"""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    proxy = tp.v311_only_proxy(broker.port, refusal=b"")  # level 5: closed without a word
    sim, url = bt.start_sim(tmp)
    sub = bt.Sub(tmp, broker.port, "tiktok/#", "close5.txt")
    log = os.path.join(tmp, "close5.log")
    br = bt.bridge(config(tmp, "close5.ini", url, proxy.port), stderr=open(log, "w"))
    got = lambda: len(bt.events_of(sub.lines(), "the_host"))
    check(wait_for(lambda: got() >= bt.expected_count(), 40),
          "close on 5: every event arrives over 3.1.1 (%d)" % got())
    check(wait_for(lambda: tp.info_protocol(sub) == "3.1.1", 5),
          "close on 5: bridge/info says 3.1.1 (%s)" % tp.info_protocol(sub))
    check(re.search(r"falling back to MQTT 3\.1\.1 \(the broker closed the connection on an "
                    r"MQTT 5 CONNECT", log_of(log)) is not None,
          "close on 5: the log says it falls back, and why")
    check(re.search(r"connected to \S+ \(MQTT 3\.1\.1, because the broker closed", log_of(log))
          is not None, "close on 5: the log says which protocol is in use and why")
    check(proxy.levels[:1] == [5] and 4 in proxy.levels, "close on 5: tried 5, then 4 (%s)"
          % proxy.levels[:4])
    stop(sim)
    stop(br)
    sub.close()
    proxy.close()
    broker.down()


def retained_topics(lines):
    """{topic: count} of the non-empty messages on retained topics"""
    out = {}
    for l in lines:
        t, _, p = l.partition(" ")
        if p and ((t.startswith("homeassistant/") and t.endswith("/config")) or
                  t.startswith("tiktok/") and t.split("/")[-1] in
                  ("info", "status", "availability", "room", "state")):
            out[t] = out.get(t, 0) + 1
    return out


def test_retained_replay(tmp):
    """issue 13 item 10: a broker restarted without persistence forgot every retained topic;
    only bridge/state came back (the birth), the rest waited for homeassistant/status"""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    # Home Assistant's birth, retained (a common setup): it comes with the bridge's subscription
    # on every connection and is no restart of Home Assistant's
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-r", "-q", "1",
                    "-t", "homeassistant/status", "-m", "online"], timeout=10)
    sim, url = bt.start_sim(tmp)
    first = bt.Sub(tmp, broker.port, "#", "replay-first.txt")
    log = os.path.join(tmp, "replay.log")
    cfg = config(tmp, "replay.ini", url, broker.port)
    text = open(cfg).read().replace("[homeassistant]\nenabled = false\n",
                                    "[homeassistant]\nenabled = true\n")
    with open(cfg, "w") as f:
        f.write(text)
    br = bt.bridge(cfg, stderr=open(log, "w"))
    want = ["tiktok/bridge/info", "tiktok/bridge/state", "tiktok/the_host/status",
            "tiktok/the_host/availability", "tiktok/the_host/room", "tiktok/the_host/state"]
    have = lambda s: retained_topics(s.lines())
    check(wait_for(lambda: set(want) <= set(have(first)) and
                   any(t.startswith("homeassistant/") for t in have(first)), 20),
          "replay: the retained topics and the discovery arrive (%s)" % sorted(have(first))[:8])
    wait_for(lambda: len(bt.events_of(first.lines(), "the_host")) >= bt.expected_count(), 30)
    disc = [t for t in have(first) if t.startswith("homeassistant/")]
    once = [t for t in disc if have(first)[t] == 1]
    check(disc and once == disc, "replay: on the first connection each discovery config once "
          "(%d of %d)" % (len(once), len(disc)))
    stop(sim)
    first.close()
    expect = set(have(first))
    broker.down()
    broker.up()  # persistence false: it forgot everything
    check(wait_for(lambda: log_of(log).count("mqtt: connected to") >= 2, 30),
          "replay: the bridge reconnects")
    late = bt.Sub(tmp, broker.port, "#", "replay-late.txt")
    ok = wait_for(lambda: expect <= set(have(late)), 10)
    check(ok, "replay: every retained topic is back without homeassistant/status (missing %s)"
          % sorted(expect - set(have(late)))[:5])
    stop(br)
    late.close()
    broker.down()


def many_streamers(n):
    lines = ['{"kind":"sim","seed":9}', '{"kind":"viewer","handle":"fan","nickname":"Fan"}']
    for i in range(n):
        lines.append('{"kind":"streamer","handle":"s%02d","loop":true}' % i)
        lines.append('{"t":0.05,"type":"chat","user":"fan","text":"tick"}')
        lines.append('{"t":0.1,"type":"like","user":"fan","count":3}')
    return "\n".join(lines) + "\n"


class Recorder:
    """a TCP proxy to the broker that keeps every byte the bridge sent"""

    def __init__(self, broker_port):
        self.sent = []  # one bytearray per connection

        def keep(src, dst):
            buf = bytearray()
            self.sent.append(buf)
            while True:
                d = src.recv(65536)
                if not d:
                    return
                buf += d
                dst.sendall(d)

        def handle(c):
            tp.relay(c, broker_port, keep)

        self.srv = tp.Server(handle)
        self.port = self.srv.port

    def packets(self):
        """(first byte, body) of every whole packet the bridge sent, in order"""
        out = []
        for buf in self.sent:
            for p in tp.mqtt_packets(bytes(buf))[0]:
                h = 2
                while p[h - 1] & 0x80:
                    h += 1
                out.append((p[0], p[h:]))
        return out


def test_shutdown(tmp):
    """finding 5: with Receive Maximum 1 the flush timed out: some stopped statuses never
    arrived and bridge/state stayed online"""
    n = 40
    broker = broker_with(tmp, "max_inflight_messages 1\n")
    check(broker.up(), "mosquitto with max_inflight_messages 1 starts")
    rec = Recorder(broker.port)
    sim, url = scenario_sim(tmp, "many", many_streamers(n))
    sub = bt.Sub(tmp, broker.port, "tiktok/#", "shutdown.txt")
    names = ["s%02d" % i for i in range(n)]
    log = os.path.join(tmp, "shutdown.log")
    br = bt.bridge(config(tmp, "shutdown.ini", url, rec.port, names), stderr=open(log, "w"))

    def last_state(user):
        st = None
        for l in sub.lines():
            if l.startswith("tiktok/%s/status " % user):
                st = json.loads(l.split(" ", 1)[1]).get("state")
        return st

    check(wait_for(lambda: all(last_state(u) == "live" for u in names), 60),
          "shutdown: %d streamers live (%d)" % (n, sum(last_state(u) == "live" for u in names)))
    # events flow (a backlog behind the window of 1) when the stop comes
    chats = lambda: sum(1 for l in sub.lines() if re.match(r"tiktok/s\d+/chat ", l))
    check(wait_for(lambda: chats() >= n, 30), "shutdown: events flow (%d chats)" % chats())
    t0 = time.monotonic()
    stop(br, timeout=30)
    took = time.monotonic() - t0
    check(br.returncode == 0, "shutdown: exit 0 (%s)" % br.returncode)
    stopped = lambda: [u for u in names if last_state(u) == "stopped"]
    wait_for(lambda: len(stopped()) == n, 5)
    check(len(stopped()) == n, "shutdown: all %d stopped statuses arrive (%d, in %.1f s)"
          % (n, len(stopped()), took))
    check(wait_for(lambda: tp.retained(sub, "tiktok/bridge/state") == "offline", 5),
          "shutdown: bridge/state ends offline")
    disc = [p for p in rec.packets() if p[0] >> 4 == 14]
    check(disc and disc[-1][1][:1] == b"\x04",
          "shutdown: the DISCONNECT carries reason 0x04, publish the will (%s)"
          % [d[1][:1] for d in disc])
    stop(sim)
    sub.close()
    rec.srv.close()
    broker.down()


def test_reload_then_reconnect(tmp):
    """A reload frees the old configuration while the MQTT connection lives on: a reconnect
    after a SIGHUP must still log in with the same user name and password (they were read
    from freed memory: 'Not authorized' or 'Invalid UTF8 string' forever on a plain build; under
    ASan the read aborts the bridge, so it never logs in either)."""
    broker = bt.Broker(tmp, passwords={"tiktok2mqtt": "s3cret-pw", "watcher": "w"})
    check(broker.up(), "mosquitto with a password file starts")
    sim, url = bt.start_sim(tmp)
    pw = os.path.join(tmp, "reload.pass")
    with open(pw, "w") as f:
        f.write("s3cret-pw\n")
    os.chmod(pw, 0o600)
    cfg = bt.write_config(tmp, "reload.ini", broker.port, url, ["the_host"])
    text = open(cfg).read().replace(
        "[mqtt]\n", "[mqtt]\nusername = tiktok2mqtt\npassword_file = %s\n" % pw, 1)
    with open(cfg, "w") as f:
        f.write(text)
    creds = ["-u", "watcher", "-P", "w"]
    sub = bt.Sub(tmp, broker.port, "tiktok/bridge/state", "reload.txt", creds=creds)
    log = os.path.join(tmp, "reload.log")
    br = bt.bridge(cfg, stderr=open(log, "w"))
    check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines(), 15), "reload: in")
    br.send_signal(signal.SIGHUP)
    check(wait_for(lambda: "reload" in open(log).read().lower(), 10), "reload: SIGHUP taken")
    sub.close()
    broker.down()
    check(broker.up(), "reload: the broker is back")
    sub = bt.Sub(tmp, broker.port, "tiktok/bridge/state", "reload2.txt", creds=creds)
    check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines(), 20),
          "reload: after a broker restart the bridge logs in again: "
          + open(log).read().strip()[-160:])
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def test_order_small_window(tmp):
    """acknowledgements refill the window from paho's receive thread while the streamers wake
    the main thread to send: with a window of 2 under load, one sender at a time, so each
    streamer's events arrive once and in the order the simulator sent them"""
    broker = broker_with(tmp, "max_inflight_messages 2\n")
    check(broker.up(), "mosquitto with max_inflight_messages 2 starts")
    rooms = 4
    load = {"kind": "load", "rooms": rooms, "rate": 300, "seconds": 4, "msgid_only": 1,
            "batch_ms": 20, "frame_events": 1000}
    sim, url = scenario_sim(tmp, "order", json.dumps(load) + "\n", "--end-grace-ms", "1000")
    sub = bt.Sub(tmp, broker.port, "tiktok/#", "order.txt", extra=["-q", "1"])
    names = ["load%05d" % i for i in range(1, rooms + 1)]
    cfg = config(tmp, "order.ini", url, broker.port, names, mqtt_extra="qos = 1\n",
                 extra="enable_extended_gift_info = false\n")
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, "order.log"), "w"))

    def ids():
        """each streamer's msgIds in arrival order"""
        out = {u: [] for u in names}
        for l in sub.lines():
            m = re.match(r"tiktok/(load\d+)/(\w+) .*?\"msgId\":\"?(\d+)", l)
            if m and m.group(1) in out and m.group(2) != "status":
                out[m.group(1)].append(int(m.group(3)))
        return out

    def ended():
        text = "\n".join(sub.lines())
        return all(re.search(r"tiktok/%s/streamEnd " % u, text) for u in names)

    check(wait_for(ended, 60), "small window: every room's streamEnd arrives")
    got = ids()
    sent = json.load(urllib.request.urlopen(url + "/sim/status", timeout=10))["events"]
    unique = sum(len(set(v)) for v in got.values())
    check(unique == sent, "small window: every event once (%d unique msgIds of %d sent, %d "
          "messages)" % (unique, sent, sum(len(v) for v in got.values())))
    bad = {u: next((i for i in range(1, len(v)) if v[i] < v[i - 1]), None) for u, v in got.items()}
    check(all(i is None for i in bad.values()),
          "small window: each streamer's events in the simulator's order (first out of order: %s)"
          % {u: (i, got[u][i - 1:i + 1]) for u, i in bad.items() if i is not None})
    stop(br)
    stop(sim)
    sub.close()
    broker.down()


def main():
    return run_tests((test_takeover, test_stall, test_stalled_stop, test_stop_without_flush,
                      test_packet_limits, test_bad_topic, test_fallback_on_close,
                      test_retained_replay, test_shutdown, test_reload_then_reconnect,
                      test_order_small_window),
                     ("mosquitto", "mosquitto_sub", "mosquitto_pub"), "session-test-")


if __name__ == "__main__":
    sys.exit(main())
