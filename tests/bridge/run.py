#!/usr/bin/env python3
"""Integration tests of tiktok2mqtt: a real mosquitto on a free loopback port, tiktok-live-sim
replaying the v3 oracle corpus (frames whose 1.x events are known), and the bridge.

Checks: every event of the replay arrives on <base>/<user>/<event> with the 1.x payload (our
comparator, tests/tools/compare_events.py); retained topics are there for a late subscriber and
events are not retained; --stdout prints the contract's lines; SIGKILL makes the broker publish
the last will `offline`; a broker restarted mid-stream at QoS 1 loses nothing the bridge
accepted; past max_buffered the oldest are dropped and counted; the birth is sent again on a
reconnect; user name and password from a file or the environment; a dropped socket is
reconnected without a duplicate event; state's totals go on over a reconnect and count its
backlog; a restart of the bridge or of a streamer does not publish a backlog again; 429 and
relive; streamers turned away together (429, a failed sign) come back spread out; SIGHUP; the runtime API (300 requests at once beside 2,000 streamers all answered); an
idle main thread sleeps; --probe; config
errors exit 78 with file:line, a hostile handle is refused; two shards split the streamers
between them exactly.

Environment: B (build dir, default build). Needs mosquitto and mosquitto_sub (make deps).
Every wait is bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import collections
import json
import re
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import itest  # noqa: E402
from itest import (B, CORPUS, ROOT, check, compare, free_port, json_lines, run_tests,  # noqa: E402
                   start, stop, wait_for, written_json_lines)

FAULTS = os.path.join(ROOT, "contrib", "sim", "scenarios", "faults.jsonl")

EVENT_NAMES = {"chat", "member", "gift", "roomUser", "like", "social", "follow", "share",
               "questionNew", "linkMicBattle", "linkMicArmies", "liveIntro", "emote",
               "envelope", "subscribe", "streamEnd"}

class Broker:
    def __init__(self, tmp, port=None, persist=False, passwords=None):
        self.port = port or free_port()
        self.conf = os.path.join(tmp, "mosquitto-%d.conf" % self.port)
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\n" % self.port)
            if passwords:  # {user: password}: nobody else gets in
                pw = os.path.join(tmp, "mosquitto-%d.passwd" % self.port)
                open(pw, "w").close()
                for user, word in passwords.items():
                    subprocess.run(["mosquitto_passwd", "-b", pw, user, word], check=True,
                                   capture_output=True)
                f.write("allow_anonymous false\npassword_file %s\n" % pw)
                if os.geteuid() == 0:  # mosquitto would drop to its own user: the file is ours
                    f.write("user root\n")
            else:
                f.write("allow_anonymous true\n")
            if persist:
                f.write("persistence true\npersistence_location %s/\n" % tmp)
            else:
                f.write("persistence false\n")
        self.p = None

    def up(self):
        self.p = start(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        ok = wait_for(lambda: self._listening(), 5)
        return ok

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def down(self):
        stop(self.p)


class Sub:
    """mosquitto_sub -v into a file; lines are 'topic payload'."""

    def __init__(self, tmp, port, topic, name, extra=(), creds=()):
        self.path = os.path.join(tmp, name)
        self.f = open(self.path, "w")
        self.creds = list(creds)  # ["-u", user, "-P", password] for a broker that asks
        self.p = start(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v", "-t", topic]
                       + self.creds + list(extra), stdout=self.f, stderr=subprocess.DEVNULL)
        self.ready(port, topic)

    def ready(self, port, topic):
        """mosquitto_sub has no readiness signal: publish a marker until it comes back, so
        nothing the test publishes next can be missed"""
        marker = topic.replace("#", "_sub_ready")
        def seen():
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", marker,
                            "-m", "x"] + self.creds, timeout=10)
            return any(l.startswith(marker + " ") for l in self.lines())
        if not wait_for(seen, 10, step=0.05):
            raise RuntimeError("mosquitto_sub on port %d never subscribed" % port)

    def lines(self):
        """complete lines only: one mosquitto_sub is still writing is not read half"""
        with open(self.path, encoding="utf-8", errors="replace") as f:
            data = f.read()
        return [l for l in data.split("\n")[:-1] if l.strip()]

    def close(self):
        stop(self.p)
        self.f.close()


def start_sim(tmp, rate=1000):
    p, url, _ = itest.sim(tmp, "sim-%d" % time.monotonic_ns(), ["--replay", CORPUS, "--rate", str(rate)])
    return p, url


def write_config(tmp, name, mqtt_port, sim_url, streamers, extra=""):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("[mqtt]\nuri = tcp://127.0.0.1:%d\nkeepalive = 5\n" % mqtt_port)
        f.write("[homeassistant]\nenabled = false\n")
        f.write("[tiktok]\nweb_base = %s\nwebcast_base = %s\nsign_api_url = %s\n"
                % (sim_url, sim_url, sim_url))
        # the signed flow these tests are about (the default, auto, is tests/bridge/direct.py's)
        f.write("sign_flow = euler\n")
        f.write("reconnect_min_s = 1\nreconnect_max_s = 2\nlive_check_interval = 60\n")
        f.write(extra)
        for s in streamers:
            f.write("[streamer:%s]\n" % s)
    os.chmod(path, 0o600)
    return path


def bridge(cfg, *args, **kw):
    return start([os.path.join(B, "tiktok2mqtt"), "-c", cfg] + list(args), **kw)


def events_of(lines, user):
    """MQTT lines of one streamer's 1.x events, as {"event","data"} objects in order."""
    out = []
    prefix = "tiktok/%s/" % user
    for l in lines:
        topic, _, payload = l.partition(" ")
        if topic.startswith(prefix) and topic[len(prefix):] in EVENT_NAMES:
            out.append({"event": topic[len(prefix):], "data": json.loads(payload)})
    return out


def expected_events():
    """the replay's events that the bridge publishes, as {"event","data"}, in order"""
    out = []
    for l in open(os.path.join(CORPUS, "expected.jsonl")):
        out += [e for e in json.loads(l)["events"] if e["event"] in EVENT_NAMES]
    return out


def events_of_expected():
    """the names of the replay's events that the bridge publishes, in order"""
    return [e["event"] for e in expected_events()]


def expected_count():
    return len(events_of_expected())


def test_events_and_retained(tmp):
    broker = Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sim, url = start_sim(tmp)
    check(url is not None, "the simulator starts")
    sub = Sub(tmp, broker.port, "tiktok/#", "all.txt")
    cfg = write_config(tmp, "ok.ini", broker.port, url, ["the_host"])
    br = bridge(cfg, stderr=open(os.path.join(tmp, "bridge.log"), "w"))
    want = expected_count()
    got = lambda: len(events_of(sub.lines(), "the_host"))
    check(wait_for(lambda: got() >= want, 30), "all %d events arrive (got %d)" % (want, got()))
    check(compare(tmp, events_of(sub.lines(), "the_host"), "events.jsonl"),
          "MQTT payloads are 1.2.3's events")
    check(wait_for(lambda: any(l.startswith("tiktok/the_host/status ") and '"waiting"' in l
                               for l in sub.lines()), 10), "after the stream: status waiting")
    late = Sub(tmp, broker.port, "tiktok/#", "late.txt")
    retained = ["tiktok/" + t for t in ("bridge/state", "bridge/info", "the_host/availability",
                                         "the_host/status", "the_host/room", "the_host/state")]
    wait_for(lambda: set(retained) <= {l.split(" ", 1)[0] for l in late.lines()}, 5)
    topics = {l.split(" ", 1)[0] for l in late.lines()}
    for t in (r[len("tiktok/"):] for r in retained):
        check("tiktok/" + t in topics, "retained for a late subscriber: " + t)
    check(not any(t.split("/")[-1] in EVENT_NAMES for t in topics), "events are not retained")
    late.close()
    stop(br, signal.SIGKILL)
    check(wait_for(lambda: sub.lines()[-1] == "tiktok/bridge/state offline", 10),
          "SIGKILL: the broker publishes the will 'offline'")
    sub.close()
    stop(sim)
    broker.down()


def test_broker_auth(tmp):
    """A broker that wants a user name and password: the password from password_file, then
    from the environment (TIKTOK2MQTT_MQTT_PASSWORD); a wrong one is refused with the
    broker's reason in the log, and never shows up in it."""
    broker = Broker(tmp, passwords={"tiktok2mqtt": "s3cret-pw", "watcher": "w"})
    check(broker.up(), "mosquitto with a password file starts")
    sim, url = start_sim(tmp)
    sub = Sub(tmp, broker.port, "tiktok/bridge/state", "auth.txt", creds=["-u", "watcher",
                                                                        "-P", "w"])
    pw = os.path.join(tmp, "mqtt.pass")
    for name, secret, env in (("file", "s3cret-pw", None), ("env", None, "s3cret-pw"),
                              ("wrong", "not-it", None)):
        cfg = write_config(tmp, "auth-%s.ini" % name, broker.port, url, [])
        lines = open(cfg).read().replace("[mqtt]\n", "[mqtt]\nusername = tiktok2mqtt\n", 1)
        if secret:
            with open(pw, "w") as f:
                f.write(secret + "\n")
            os.chmod(pw, 0o600)
            lines = lines.replace("[mqtt]\n", "[mqtt]\npassword_file = %s\n" % pw, 1)
        with open(cfg, "w") as f:
            f.write(lines)
        if env:
            os.environ["TIKTOK2MQTT_MQTT_PASSWORD"] = env
        log = os.path.join(tmp, "auth-%s.log" % name)
        n = len(sub.lines())
        try:
            br = bridge(cfg, stderr=open(log, "w"))
        finally:
            os.environ.pop("TIKTOK2MQTT_MQTT_PASSWORD", None)
        if name != "wrong":
            check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines()[n:], 15),
                  "auth: the password from the %s gets the bridge in" % name)
        else:
            refused = lambda: "refused" in open(log).read()
            check(wait_for(refused, 15) and br.poll() is None,
                  "auth: a wrong password is refused, with the reason, and the bridge retries: "
                  + open(log).read().strip()[-200:])
            check("tiktok/bridge/state online" not in sub.lines()[n:],
                  "auth: a wrong password does not get in")
            check("not-it" not in open(log).read(), "auth: the password is not logged")
        stop(br)
    sub.close()
    stop(sim)
    broker.down()


def test_stdout(tmp):
    sim, url = start_sim(tmp)
    cfg = write_config(tmp, "stdout.ini", 1, url, ["the_host"])
    out = os.path.join(tmp, "stdout.txt")
    br = bridge(cfg, "--stdout", stdout=open(out, "w"), stderr=subprocess.DEVNULL)
    want = expected_count()

    def lines():
        return written_json_lines(out)

    wait_for(lambda: sum(1 for l in lines() if l.get("event") in EVENT_NAMES) >= want, 30)
    ls = lines()
    events = [{"event": l["event"], "data": l["data"]} for l in ls if l.get("event") in EVENT_NAMES]
    check(len(events) == want, "--stdout: every event (%d of %d)" % (len(events), want))
    check(all(l.get("user") == "the_host" for l in ls), "--stdout: every line names its user")
    check(any("status" in l and "event" not in l for l in ls), "--stdout: status lines")
    check(any(l.get("event") == "giftEnd" and "totalDiamonds" in l["data"] for l in ls),
          "--stdout: giftEnd with totalDiamonds")
    check(compare(tmp, events, "stdout-events.jsonl"), "--stdout payloads are 1.2.3's events")
    stop(br)
    check(br.returncode == 0, "SIGTERM: exit 0")
    stop(sim)


def has_msgid(e):
    return str(e["data"].get("msgId", "0")) not in ("0", "")


def expected_with_msgid(tmp):
    """the replay's expected events with a msgId only, in expected.jsonl's layout"""
    path = os.path.join(tmp, "expected-with-msgid.jsonl")
    with open(path, "w") as f:
        for l in open(os.path.join(CORPUS, "expected.jsonl")):
            frame = json.loads(l)
            frame["events"] = [e for e in frame["events"] if has_msgid(e)]
            f.write(json.dumps(frame) + "\n")
    return path


def check_without_msgid(unique):
    """Events without a msgId across a broker restart: without an id they cannot be told from
    a redelivery, so they are counted by name. Of each name: every distinct event of the
    replay, none else (identical events in the replay are identical in our JSON too), and at
    least as many copies as the replay has."""
    def by_name(events):
        """(copies, distinct payloads) of each name, for the events without a msgId"""
        copies, distinct = collections.Counter(), collections.defaultdict(set)
        for e in events:
            if not has_msgid(e):
                copies[e["event"]] += 1
                distinct[e["event"]].add(json.dumps(e["data"], sort_keys=True))
        return copies, distinct

    want, want_distinct = by_name(expected_events())
    got, got_distinct = by_name(unique)
    names = set(want) | set(got)
    check(all(got[n] >= want[n] and len(got_distinct[n]) == len(want_distinct[n]) for n in names),
          "broker restart: every event without a msgId arrives, any extra one a repeat "
          "(%s of %s)" % (dict(got), dict(want)))


def test_broker_restart(tmp):
    broker = Broker(tmp, persist=True)
    broker.up()
    sim, url = start_sim(tmp, rate=100)  # 400 frames in ~4 s
    sub = Sub(tmp, broker.port, "tiktok/the_host/#", "restart.txt",
              ["-q", "1", "-c", "-i", "restart-test-sub"])
    cfg = write_config(tmp, "restart.ini", broker.port, url, ["the_host"])
    br = bridge(cfg, stderr=open(os.path.join(tmp, "bridge-restart.log"), "w"))
    time.sleep(1.5)
    broker.down()  # mid-stream: the bridge holds what the sim sends meanwhile
    time.sleep(2.0)
    broker.up()
    want = expected_count()

    def without_repeats(evs):
        """at-least-once: a message in flight when the broker died may come twice. Only a msgId
        identifies an event: one without (roomUser, liveIntro ...) can have identical twins in
        the replay, so its repeats are kept here and counted by check_without_msgid"""
        seen, unique = set(), []
        for e in evs:
            key = json.dumps(e, sort_keys=True)
            if key in seen and has_msgid(e):
                continue
            seen.add(key)
            unique.append(e)
        return unique

    # counting repeats would end the wait before the last events are in
    ok = wait_for(lambda: len(without_repeats(events_of(sub.lines(), "the_host"))) >= want, 30)
    evs = events_of(sub.lines(), "the_host")
    unique = without_repeats(evs)
    check(ok, "broker restart: every event arrives (%d of %d)" % (len(unique), want))
    check(len(evs) - want <= 512, "broker restart: at most the in-flight ones twice")
    check(compare(tmp, [e for e in unique if has_msgid(e)], "restart-events.jsonl",
                  expected_with_msgid(tmp)),
          "broker restart: no event with a msgId missing, repeated or out of order (%d repeats)"
          % (len(evs) - len(unique)))
    check_without_msgid(unique)
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def test_buffer_overflow(tmp):
    """The broker is away for a whole stream and max_buffered is small: once it is back, the
    newest messages arrive, in order, and the oldest were dropped and counted (bridge/health
    mqtt.dropped), never silently."""
    broker = Broker(tmp, persist=True)
    broker.up()
    sub = Sub(tmp, broker.port, "tiktok/#", "overflow.txt",
              ["-q", "1", "-c", "-i", "overflow-test-sub"])
    broker.down()  # the subscriber's session waits in the broker's persistence
    sim, url = start_sim(tmp)
    cfg = write_config(tmp, "overflow.ini", broker.port, url, ["the_host"])
    with open(cfg) as f:
        text = f.read().replace("[mqtt]\n", "[bridge]\nhealth_interval = 1\n[mqtt]\n"
                                "max_buffered = 100\n", 1)
    with open(cfg, "w") as f:
        f.write(text)
    log = os.path.join(tmp, "overflow.log")
    br = bridge(cfg, stderr=open(log, "w"))
    check(wait_for(lambda: "the_host: waiting" in open(log).read(), 30),
          "overflow: the stream ends while the broker is away")
    broker.up()
    health = lambda: [json.loads(l.split(" ", 1)[1]) for l in sub.lines()
                      if l.startswith("tiktok/bridge/health ")]
    check(wait_for(lambda: any(h["mqtt"]["connected"] for h in health()), 30),
          "overflow: the bridge is back on the broker")
    want = [e for f in map(json.loads, open(os.path.join(CORPUS, "expected.jsonl")))
            for e in f["events"] if e["event"] in EVENT_NAMES]
    got = events_of(sub.lines(), "the_host")
    key = lambda e: (e["event"], e["data"].get("msgId"))
    tail = [key(e) for e in want[len(want) - len(got):]] if got else None
    check(got and len(got) < 100 and [key(e) for e in got] == tail,
          "overflow: the newest events arrive, in order (%d, the last of %d)"
          % (len(got), len(want)))
    dropped = max((h["mqtt"]["dropped"] for h in health()), default=0)
    check(dropped >= len(want) - 100, "overflow: the dropped are counted: %d" % dropped)
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def test_birth_on_reconnect(tmp):
    """The birth "online" is sent again on every reconnect: a broker restarted without
    persistence has forgotten every retained message, so an "online" there is a new one."""
    broker = Broker(tmp)  # no persistence
    broker.up()
    cfg = write_config(tmp, "birth.ini", broker.port, "http://127.0.0.1:1", [])
    log = os.path.join(tmp, "birth.log")
    br = bridge(cfg, stderr=open(log, "w"))
    connected = lambda: open(log).read().count("mqtt: connected to")
    check(wait_for(lambda: connected() == 1, 15), "birth: the bridge connects")
    broker.down()
    broker.up()
    check(wait_for(lambda: connected() == 2, 30), "birth: the bridge reconnects")
    sub = Sub(tmp, broker.port, "tiktok/bridge/state", "birth.txt")
    check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines(), 10),
          "birth: 'online' is retained again after the reconnect")
    stop(br)
    sub.close()
    broker.down()


def test_config_errors(tmp):
    bad = os.path.join(tmp, "bad.ini")
    with open(bad, "w") as f:
        f.write("[mqtt]\nqos = 7\n[streamer:a/b]\n")
    r = subprocess.run([os.path.join(B, "tiktok2mqtt"), "-c", bad, "--check-config"],
                       capture_output=True, text=True)
    check(r.returncode == 78, "a bad config exits 78 (got %d)" % r.returncode)
    check("bad.ini:2:" in r.stderr, "the error names file:line: " + r.stderr.strip()[:200])
    check("bad.ini:3:" in r.stderr, "a hostile handle is refused with its line")
    with open(bad, "w") as f:  # errors on lines 2 and 5, warnings on 4 and 6
        f.write("[mqtt]\nqos = 7\nuri = mqtts://b:8883\ntls_insecure = true\nkeepalive = 0\n"
                "client_id = %s\n" % ("c" * 30))
    r = subprocess.run([os.path.join(B, "tiktok2mqtt"), "-c", bad, "--check-config"],
                       capture_output=True, text=True)
    lines = [int(l.split(":")[1]) for l in r.stderr.splitlines() if l.startswith(bad + ":")]
    check(lines == [2, 4, 5, 6], "errors and warnings together, sorted by line: %s" % lines)
    r = subprocess.run([os.path.join(B, "tiktok2mqtt")], capture_output=True, text=True)
    check(r.returncode == 64, "no -c: usage, exit 64")


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def test_shards(tmp):
    """Two instances, the same config, shard 1/2 and 2/2: each streamer runs in exactly one,
    the one docs/mqtt.md §8 names (FNV-1a-32(handle) mod n = i - 1)."""
    handles = ["streamer_%02d" % i for i in range(8)]
    seen = []
    for i in (1, 2):
        cfg = write_config(tmp, "shard%d.ini" % i, 1, "http://127.0.0.1:9", handles)
        with open(cfg) as f:
            text = f.read().replace("[mqtt]", "[bridge]\nshard = %d/2\n[mqtt]" % i, 1)
        with open(cfg, "w") as f:
            f.write(text)
        out = os.path.join(tmp, "shard%d.out" % i)
        br = bridge(cfg, "--stdout", stdout=open(out, "w"), stderr=subprocess.DEVNULL)
        users = lambda: {l["user"] for l in written_json_lines(out)}
        want = {h for h in handles if fnv1a32(h) % 2 == i - 1}
        wait_for(lambda: users() >= want, 10)
        stop(br)
        seen.append(users())
        check(seen[-1] == want, "shard %d/2 runs exactly its streamers: %s" % (i, sorted(seen[-1])))
    check(seen[0] | seen[1] == set(handles) and not seen[0] & seen[1],
          "the two shards cover every streamer exactly once")


def test_socket_dropped(tmp):
    """The simulator drops the socket after three frames: the bridge shows connecting, comes
    back live on its own, and no event arrives twice."""
    sim, url = faults_sim(tmp, "sim-faults")
    cfg = write_config(tmp, "drop.ini", 1, url, ["dropper"])
    lines_path = os.path.join(tmp, "drop.txt")
    br = bridge(cfg, "--stdout", stdout=open(lines_path, "w"), stderr=subprocess.DEVNULL)

    def states():
        return [l["status"]["state"] for l in written_json_lines(lines_path)
                if "status" in l and "event" not in l]

    ok = wait_for(lambda: states().count("live") >= 2, 15)
    chats = [l["data"]["comment"] for l in written_json_lines(lines_path)
             if l.get("event") == "chat"]
    check(ok and "connecting" in states()[states().index("live"):],
          "socket dropped: connecting, then live again on its own: %s" % states())
    check(chats == ["drop 1", "drop 2", "drop 3"], "socket dropped: no event twice: %s" % chats)
    stop(br)
    stop(sim)


TALLY = [
    {"kind": "streamer", "handle": "tally", "gzip": 0, "history": 64},
    {"t": 0.2, "type": "gift", "user": "fan", "gift": "Rose", "count": 3},
    {"t": 1.2, "type": "drop"},
    # pushed while the bridge waits to reconnect (reconnect_min_s 1): it comes in the backlog
    {"t": 1.4, "type": "gift", "user": "fan", "gift": "TikTok", "count": 1},
    {"t": 4.5, "type": "gift", "user": "fan", "gift": "Finger Heart", "count": 1},
    {"t": 4.8, "type": "chat", "user": "fan", "text": "after"},
]


def test_totals_across_reconnect(tmp):
    """state's totals are the live's: a socket dropped mid-live does not set them back to 0,
    and a gift whose streak ended while the bridge was away (it comes in the reconnect's
    backlog) counts; the streak seen before the drop, repeated in that backlog, counts once."""
    broker = Broker(tmp)
    check(broker.up(), "totals: mosquitto starts")
    sim, url, _ = itest.sim(tmp, "tally", [], scenario=TALLY)
    cfg = write_config(tmp, "tally.ini", broker.port, url, ["tally"],
                       extra="[bridge]\nstate_interval = 1\n")
    sub = Sub(tmp, broker.port, "tiktok/tally/#", "tally.txt")
    br = bridge(cfg, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def last(topic):
        got = [l.partition(" ")[2] for l in sub.lines() if l.startswith(topic + " ")]
        return json.loads(got[-1]) if got else None

    def statuses():
        return [json.loads(l.partition(" ")[2])["state"] for l in sub.lines()
                if l.startswith("tiktok/tally/status ")]

    def chat_seen():
        return any(l.startswith("tiktok/tally/chat ") for l in sub.lines())

    wait_for(chat_seen, 20)
    # 3 Roses (1 diamond each), a TikTok (1) and a Finger Heart (5)
    want = {"live": True, "gifts": 3, "diamonds": 9, "chats": 1}
    ok = wait_for(lambda: {k: (last("tiktok/tally/state") or {}).get(k) for k in want} == want,
                  10)
    ends = [json.loads(l.partition(" ")[2])["giftName"] for l in sub.lines()
            if l.startswith("tiktok/tally/giftEnd ")]
    check(statuses().count("live") >= 2, "totals: the socket dropped and came back: %s"
          % statuses())
    check(sorted(ends) == ["Finger Heart", "Rose", "TikTok"],
          "totals: each completed gift once, the backlog's too: %s" % ends)
    check(ok, "totals: the live's totals over the reconnect: %s" % last("tiktok/tally/state"))
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


REPLAY = [
    {"kind": "streamer", "handle": "replay", "gzip": 0, "history": 64},
    {"t": 0.2, "type": "gift", "user": "fan", "gift": "Rose", "count": 2},
    {"t": 0.6, "type": "chat", "user": "fan", "text": "one"},
    {"t": 120, "type": "end"},
]


def test_restart_no_replay(tmp):
    """A new connection's first fetch repeats the live's last messages. After a restart of the
    bridge, or of the streamer (a changed section on SIGHUP), what was published already is not
    published again; without the file the bridge keeps at exit, it would be (the control)."""
    sim, url, _ = itest.sim(tmp, "replay", [], scenario=REPLAY)
    cfg = write_config(tmp, "replay.ini", 1, url, ["replay"])
    seen = os.path.join(tmp, "replay.ini.seen")

    def run(name, until, hup=None):
        path = os.path.join(tmp, name)
        br = bridge(cfg, "--stdout", stdout=open(path, "w"), stderr=subprocess.DEVNULL)
        lives = lambda: [l for l in stdout_lines(path) if l.get("status", {}).get("state") == "live"]
        ok = wait_for(lambda: until(stdout_lines(path)) and lives(), 15)
        if hup:
            hup()
            br.send_signal(signal.SIGHUP)
            ok = ok and wait_for(lambda: len(lives()) >= 2, 15)
        stop(br)
        return ok, path

    def events(path):
        return [(l["event"], l["data"].get("comment") or l["data"].get("repeatCount"))
                for l in stdout_lines(path) if "event" in l]

    ok, first = run("replay-1.txt", lambda ls: any(l.get("event") == "chat" for l in ls))
    want = [("gift", 1), ("gift", 2), ("giftEnd", 2), ("gift", 2), ("chat", "one")]
    check(ok and events(first) == want, "restart: the first run publishes the live: %s"
          % events(first))
    check(os.path.exists(seen), "restart: the bridge keeps what it published at exit")
    ok, second = run("replay-2.txt", lambda ls: True)
    check(ok and events(second) == [], "restart: the backlog is not published again after a "
          "restart: %s" % events(second))

    def change_section():
        with open(cfg, "a") as f:
            f.write("stale_timeout_s = 59\n")

    ok, third = run("replay-3.txt", lambda ls: True, hup=change_section)
    check(ok and events(third) == [], "restart: nor after the streamer restarts on a reload: %s"
          % events(third))
    if os.path.exists(seen):
        os.unlink(seen)
    ok, control = run("replay-4.txt", lambda ls: any(l.get("event") == "chat" for l in ls))
    check(ok and events(control) == want, "restart: without the file the backlog comes again "
          "(the control): %s" % events(control))
    stop(sim)


def faults_sim(tmp, name):
    p, url, _ = itest.sim(tmp, name, ["--scenario", FAULTS])
    return p, url


def stdout_lines(path):
    with open(path) as f:
        return json_lines(f)


def test_rate_limit_and_relive(tmp):
    """The sign server's 429 with Retry-After 42: status error rate_limited with retryAt 42 s
    ahead, plus its jitter (the next attempt waits that); a stream that ends and goes live
    again under a new room id: ended, waiting, live with the new room."""
    sim, url = faults_sim(tmp, "rl")
    cfg = write_config(tmp, "rl.ini", 1, url, ["rate_limited", "phoenix"])
    with open(cfg) as f:
        text = f.read().replace("live_check_interval = 60", "live_check_interval = 1")
    with open(cfg, "w") as f:
        f.write(text)
    path = os.path.join(tmp, "rl.txt")
    br = bridge(cfg, "--stdout", stdout=open(path, "w"), stderr=subprocess.DEVNULL)

    def status(user):
        return [l["status"] for l in stdout_lines(path) if l.get("user") == user and "status" in l]

    wait_for(lambda: any(s["state"] == "error" for s in status("rate_limited")), 10)
    err = [s for s in status("rate_limited") if s["state"] == "error"]
    check(err and err[0]["error"]["code"] == "rate_limited", "429: status error rate_limited")
    # since: when the error was shown, a moment after the wait was computed; retryAt: not
    # before Retry-After (42 s), at most its jitter (10 %: 4.2 s) later
    wait = err and err[0]["retryAt"] - err[0]["since"]
    check(err and 42000 - 20 <= wait <= 46200,
          "429: the retry waits Retry-After (42 s) plus at most 4.2 s: retryAt - since %s" % wait)
    def phoenix_chats():
        return [l["data"]["comment"] for l in stdout_lines(path)
                if l.get("user") == "phoenix" and l.get("event") == "chat"]

    ok = wait_for(lambda: [s["state"] for s in status("phoenix")].count("live") >= 2, 20)
    wait_for(lambda: len(phoenix_chats()) >= 2, 5)
    st = status("phoenix")
    lives = [s for s in st if s["state"] == "live"]
    check(ok and "ended" in [s["state"] for s in st] and "waiting" in [s["state"] for s in st],
          "relive: live, ended, waiting, live: %s" % [s["state"] for s in st])
    check(len(lives) >= 2 and lives[0]["roomId"] == "7390000000000000001" and
          lives[1]["roomId"] == "7390000000000000002", "relive: the new room id is reported")
    chats = phoenix_chats()
    check(chats == ["first life", "second life"], "relive: each life's events once: %s" % chats)
    stop(br)
    stop(sim)


def retries(lines, user):
    """(when the simulator turned `user`'s sign request away, the wall-clock ms of its log's
    fault line, written before the answer left; when the next request about `user` came), or
    None while that has not happened"""
    refused = next((l for l in lines if l.get("kind") == "fault" and l.get("room") == user), None)
    if not refused:
        return None
    answered = next((l for l in lines if l.get("kind") == "http" and l.get("room") == user and
                     l["n"] > refused["n"] and l.get("status") in (429, 500)), None)
    nxt = answered and next((l for l in lines if l.get("kind") == "http" and
                             l.get("room") == user and l["n"] > answered["n"]), None)
    return (refused["t"], nxt["t"]) if nxt else None


def test_retry_jitter(tmp):
    """Streamers the sign server turned away together do not all come back together: six get
    a 429 with Retry-After 2 s, six a 500 (the reconnect backoff, reconnect_min_s 1 s). Each
    waits at least its Retry-After (reconnect_min_s), measured from the simulator's answer to
    the streamer's next request, at most that plus its jitter (docs/bridge.md), the waits of
    a group spread over more than a few milliseconds, and status's retryAt is the time the
    next attempt really came."""
    groups = {"lim": (429, 2000, 3000), "err": (500, 1000, 2000)}
    scen = [{"kind": "streamer", "handle": "%s%d" % (g, i),
             "faults": {"sign_status": groups[g][0], "retry_after": 2, "sign_times": 1}}
            for g in groups for i in range(6)]
    users = [x["handle"] for x in scen]
    sim, url, log = itest.sim(tmp, "jit", [], scen)
    cfg = write_config(tmp, "jit.ini", 1, url, users)
    path = os.path.join(tmp, "jit.txt")
    br = bridge(cfg, "--stdout", stdout=open(path, "w"), stderr=subprocess.DEVNULL)
    check(wait_for(lambda: all(retries(itest.log_lines(log), u) for u in users), 20),
          "jitter: every streamer tried again")
    lines = itest.log_lines(log)
    stop(br)
    stop(sim)
    for g, (code, lo, hi) in groups.items():
        waits = {u: (lambda r: r and r[1] - r[0])(retries(lines, u)) for u in users
                 if u.startswith(g)}
        got = sorted(w for w in waits.values() if w is not None)
        check(len(got) == 6 and got[0] >= lo and got[-1] <= hi + 500,
              "%d: each waits %d ms at least, its jitter at most: %s" % (code, lo, got))
        check(len(got) == 6 and got[-1] - got[0] > 100,
              "%d: the retries do not come within the same few ms: %s" % (code, got))
        for u in waits:
            st = [l["status"] for l in stdout_lines(path) if l.get("user") == u and
                  "status" in l and l["status"]["state"] == "error"]
            r = retries(lines, u)
            check(st and r and st[0]["retryAt"] - 2 <= r[1] <= st[0]["retryAt"] + 300,
                  "%s: retryAt %s is when it tried again (%s)"
                  % (u, st and st[0]["retryAt"], r and r[1]))


def test_sighup(tmp):
    """SIGHUP: an added streamer starts, a removed one stops and its retained topics are
    cleared, the untouched one keeps running; a file with errors is refused. The API's reload
    answers with the file's first error, or ok once it is applied."""
    broker = Broker(tmp)
    broker.up()
    sim, url = faults_sim(tmp, "hup")
    cfg = write_config(tmp, "hup.ini", broker.port, url, ["sleepy", "ghost"])
    sub = Sub(tmp, broker.port, "tiktok/#", "hup.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "hup.log"), "w"))
    has = lambda needle: any(needle in l for l in sub.lines())
    check(wait_for(lambda: has("tiktok/ghost/status ") and has("tiktok/sleepy/status "), 10),
          "SIGHUP: both streamers run first")
    cfg2 = write_config(tmp, "hup.ini", broker.port, url, ["sleepy", "slowpoke"])
    br.send_signal(signal.SIGHUP)
    check(wait_for(lambda: has('"type":"streamer_added","user":"slowpoke"') and
                   has('"type":"streamer_removed","user":"ghost"'), 10),
          "SIGHUP: slowpoke added, ghost removed (bridge/event)")
    # mosquitto_sub -v shows an empty payload as "(null)"
    check(wait_for(lambda: "tiktok/ghost/status (null)" in sub.lines(), 10),
          "SIGHUP: the removed streamer's retained status is cleared")
    check(wait_for(lambda: has("tiktok/slowpoke/status "), 10), "SIGHUP: the added one runs")
    with open(cfg2, "a") as f:
        f.write("[mqtt]\nqos = 9\n")
    n = len(sub.lines())
    br.send_signal(signal.SIGHUP)
    time.sleep(1.0)  # nothing to wait for: a refused reload publishes nothing
    check(br.poll() is None and not any("streamer_removed" in l for l in sub.lines()[n:]),
          "SIGHUP with a broken file: refused, the bridge runs on unchanged")
    # the runtime API's reload used to answer "ok" before reading the file, whatever was in it
    reloads = lambda: sum('"type":"config_reloaded"' in l for l in sub.lines())
    before = reloads()
    pub(broker.port, "tiktok/bridge/request/reload", '{"transaction":"bad"}')
    check(wait_for(lambda: has('tiktok/bridge/response/reload {"status":"error","error":"the '
                               'configuration has errors, the running one is kept: %s:16: '
                               '[mqtt] appears twice (first at line 1) (and 1 more in the log)",'
                               '"transaction":"bad"}' % cfg2), 10) and reloads() == before,
          "API reload of a broken file: an error answer with file:line, nothing reloaded")
    write_config(tmp, "hup.ini", broker.port, url, ["sleepy"])
    pub(broker.port, "tiktok/bridge/request/reload", '{"transaction":"good"}')
    check(wait_for(lambda: has('tiktok/bridge/response/reload {"status":"ok","data":{},'
                               '"transaction":"good"}') and
                   has('"type":"streamer_removed","user":"slowpoke"') and
                   reloads() == before + 1, 10),
          "API reload of a good file: ok, applied")
    # requests that arrive together share one reload (a reload of a large file takes tens of
    # ms on the main thread), and each is answered with its own transaction
    lines = "".join('{"transaction":"m%d"}\n' % i for i in range(20))
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                    "tiktok/bridge/request/reload", "-l"], input=lines.encode(), timeout=10)
    check(wait_for(lambda: all(has('"status":"ok","data":{},"transaction":"m%d"}' % i)
                               for i in range(20)), 10),
          "API: 20 reload requests at once are each answered ok")
    # a key that needs a restart: each reload that changes it warns, and the running value
    # stays; a reload that puts the running value back warns of nothing
    log = os.path.join(tmp, "hup.log")
    warned = lambda: open(log).read().count("need a restart to take effect: mqtt.keepalive")

    def reload_with(keepalive, tx):
        path = write_config(tmp, "hup.ini", broker.port, url, ["sleepy"])
        with open(path) as f:
            text = f.read().replace("keepalive = 5", "keepalive = %d" % keepalive)
        with open(path, "w") as f:
            f.write(text)
        pub(broker.port, "tiktok/bridge/request/reload", '{"transaction":"%s"}' % tx)
        return wait_for(lambda: has('"status":"ok","data":{},"transaction":"%s"}' % tx), 10)

    ok = reload_with(6, "k1") and warned() == 1
    ok = reload_with(5, "k2") and warned() == 1 and ok
    check(ok, "SIGHUP: keepalive changed warns of a restart; put back, no warning (%d)" % warned())
    check(reload_with(6, "k3") and warned() == 2, "SIGHUP: changed again, it warns again")
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def feed_fifo(path, text):
    """write `text` to the FIFO `path` once a reader has it open (bounded wait); whether it did"""
    fd = []

    def reader_there():
        try:
            fd.append(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            return True
        except OSError:  # ENXIO: nobody reads it yet
            return False

    if not wait_for(reader_there, 10):
        return False
    os.set_blocking(fd[0], True)
    os.write(fd[0], text.encode())
    os.close(fd[0])
    return True


def blocked_on_fifo(pid):
    """whether process pid waits in open() for a FIFO's writer"""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read().strip() == "wait_for_partner"
    except OSError:
        return False


def test_early_sighup(tmp):
    """A SIGHUP while the file is still being read (a large one takes a while; here a FIFO holds
    the read up) is remembered and acted on once the bridge runs: its default action ended the
    process, which systemd counts as a clean exit and Restart=on-failure does not restart."""
    fifo = os.path.join(tmp, "early.ini")
    os.mkfifo(fifo)
    text = "[mqtt]\nuri = tcp://127.0.0.1:1\n[homeassistant]\nenabled = false\n"
    log = os.path.join(tmp, "early.log")
    br = bridge(fifo, "--stdout", stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    check(wait_for(lambda: blocked_on_fifo(br.pid), 10), "early SIGHUP: the bridge reads its file")
    br.send_signal(signal.SIGHUP)
    check(feed_fifo(fifo, text) and
          wait_for(lambda: "output on stdout" in open(log).read(), 10) and br.poll() is None,
          "early SIGHUP: the bridge survives it and starts")
    check(feed_fifo(fifo, text) and wait_for(lambda: "reloaded " + fifo in open(log).read(), 10),
          "early SIGHUP: the file is read again once the bridge runs")
    stop(br)
    check(br.returncode == 0, "early SIGHUP: a clean stop (%s)" % br.returncode)


def pub(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                    "-m", payload], timeout=10)


# The Maximum Packet Size the bridge's MQTT 5 CONNECT asks for (bridge/sink_mqtt.c INBOUND_MAX)
INBOUND_MAX = 64 * 1024


def pub_file(port, topic, body, tmp, name):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(body)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                    "-f", path], timeout=10)


def request_body(size, transaction):
    """a JSON request of exactly `size` bytes"""
    head = '{"transaction":"%s","pad":"' % transaction
    return head + "x" * (size - len(head) - 2) + '"}'


def check_request_sizes(tmp, port, sub, br):
    """Over the API's 4 KiB a request is answered "too large" up to the bridge's Maximum Packet
    Size; above it the broker never hands it over: the bridge never reads nor copies it (a
    1 MB request used to reach it whole). Both commands have 9 letters: the same topic length,
    so a PUBLISH to the bridge is 40 bytes and the body: fixed header 1 + 3 (remaining length),
    topic 2 + 31, packet id 2, properties' length 1. mosquitto 2.0.11 leaves the first byte out
    of its count (a packet of the cap and 1 still goes out): 16 bytes over is over for both.
    Over MQTT 3.1.1 (no properties, and no such limit to ask the broker for) the bridge drops
    the larger ones itself, before it copies them: the same answers."""
    has = lambda needle: any(needle in l for l in sub.lines())
    too_large = '{"status":"error","error":"the request body is over 4096 bytes"}'
    fits = INBOUND_MAX - 40
    for size in (4097, fits):
        pub_file(port, "tiktok/bridge/request/under_cap", request_body(size, "u%d" % size), tmp,
                 "under.json")
        check(wait_for(lambda: sum(l == "tiktok/bridge/response/under_cap " + too_large
                                   for l in sub.lines()) == (1 if size == 4097 else 2), 10),
              "API: a %d-byte request is refused as too large, its transaction not echoed" % size)
    for size in (fits + 16, 1000000):
        pub_file(port, "tiktok/bridge/request/above_cap", request_body(size, "a%d" % size), tmp,
                 "above.json")
        pub(port, "tiktok/bridge/request/health_check", '{"transaction":"after-%d"}' % size)
        # the broker routes the two in order, and the bridge answers in order: the answer to
        # the second would come after the first's
        check(wait_for(lambda: has('"transaction":"after-%d"}' % size), 10) and
              not has("tiktok/bridge/response/above_cap ") and br.poll() is None,
              "API: a %d-byte request is not delivered (no answer), the next one is answered"
              % size)


def test_runtime_api(tmp):
    """The runtime API adds and removes streamers, answers with the transaction, and the
    changes persist in state_file across a restart."""
    broker = Broker(tmp)
    broker.up()
    sim, url = faults_sim(tmp, "api")
    state = os.path.join(tmp, "api.state")
    cfg = write_config(tmp, "api.ini", broker.port, url, ["sleepy"],
                       extra="")
    with open(cfg) as f:
        text = f.read().replace("[mqtt]", "[bridge]\nstate_file = %s\n[mqtt]" % state, 1)
    with open(cfg, "w") as f:
        f.write(text)
    sub = Sub(tmp, broker.port, "tiktok/#", "api.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "api.log"), "w"))

    def has(needle, lines=None):  # lines=[] means none yet, not all of them
        return any(needle in l for l in (sub.lines() if lines is None else lines))

    wait_for(lambda: has("tiktok/sleepy/status "), 10)
    pub(broker.port, "tiktok/bridge/request/add_streamer",
        '{"user":"@SlowPoke","transaction":"t1"}')
    check(wait_for(lambda: has('tiktok/bridge/response/add_streamer {"status":"ok"') and
                   has('"transaction":"t1"'), 10), "API: add_streamer answers ok with its transaction")
    check(wait_for(lambda: has("tiktok/slowpoke/status "), 10), "API: the added streamer runs")
    pub(broker.port, "tiktok/bridge/request/add_streamer", '{"user":"slowpoke"}')
    check(wait_for(lambda: has('"status":"error","error":"already followed"'), 10),
          "API: adding it twice is an error")
    pub(broker.port, "tiktok/bridge/request/remove_streamer", '{"user":"sleepy"}')
    check(wait_for(lambda: "tiktok/sleepy/status (null)" in sub.lines(), 10),
          "API: remove_streamer clears its retained status")
    pub(broker.port, "tiktok/bridge/request/add_streamer", '{"user":"a/b"}')
    check(wait_for(lambda: has('tiktok/bridge/response/add_streamer {"status":"error"'), 10),
          "API: a hostile handle is refused")
    # "bridge" is a valid handle, but as a topic it is the bridge's own level: following it
    # would publish under tiktok/bridge/ and removing it would clear tiktok/bridge/state
    pub(broker.port, "tiktok/bridge/request/add_streamer", '{"user":"bridge","transaction":"rb"}')
    check(wait_for(lambda: has("the bridge's own level") and has('"transaction":"rb"}'), 10) and
          not has("tiktok/bridge/status "),
          "API: the handle 'bridge' is refused (its topic is the bridge's own)")
    # cJSON ends a string at a NUL: "ab\u0000/#" used to follow "ab", a streamer nobody asked for
    pub(broker.port, "tiktok/bridge/request/add_streamer",
        '{"user":"ab\\u0000/#","transaction":"n1"}')
    raw_nul = os.path.join(tmp, "nul-request.json")
    with open(raw_nul, "wb") as f:
        f.write(b'{"user":"cd\x00/#","transaction":"n2"}')
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                    "tiktok/bridge/request/add_streamer", "-f", raw_nul], timeout=10)
    nul_error = '{"status":"error","error":"the request body holds a NUL character (\\\\u0000)"'
    check(wait_for(lambda: has(nul_error + ',"transaction":"n1"}') and
                   has(nul_error + ',"transaction":"n2"}'), 10) and
          not has('"streamer_added","user":"ab"') and not has('"streamer_added","user":"cd"'),
          "API: a handle with a NUL (escaped or raw) is refused, not cut short and followed")
    check_request_sizes(tmp, broker.port, sub, br)
    # a command name of 'a' and 200 two-byte characters: its answer's topic would be cut mid-character,
    # a message the broker client refuses and that used to block everything behind it
    pub(broker.port, "tiktok/bridge/request/a" + "\u00e9" * 200, "{}")
    pub(broker.port, "tiktok/bridge/request/health_check", '{"transaction":"after-long"}')
    check(wait_for(lambda: has('"transaction":"after-long"}') and
                   has("tiktok/bridge/response/health_check {\"status\":\"ok\""), 10),
          "API: a request on an overlong command topic is ignored, the next one answered")
    pub(broker.port, "tiktok/bridge/request/remove_streamer", '{"user":"bridge","transaction":"rr"}')
    check(wait_for(lambda: has('"error":"not followed","transaction":"rr"'), 10) and
          "tiktok/bridge/state (null)" not in sub.lines(),
          "API: remove_streamer bridge leaves tiktok/bridge/state alone")
    # a request published with retain runs once; the broker hands it over again with every
    # subscription, where it used to run again: a streamer removed since came back each restart
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-r",
                    "-t", "tiktok/bridge/request/add_streamer", "-m",
                    '{"user":"zombie","transaction":"z1"}'], timeout=10)
    check(wait_for(lambda: has('"status":"ok","data":{},"transaction":"z1"'), 10),
          "API: a request published with retain runs")
    pub(broker.port, "tiktok/bridge/request/remove_streamer", '{"user":"zombie"}')
    check(wait_for(lambda: has('"type":"streamer_removed","user":"zombie"'), 10),
          "API: the streamer added by the retained request is removed")
    stop(br)
    try:
        saved = json.load(open(state))
    except (OSError, ValueError):
        saved = {}
    check(saved == {"added": ["slowpoke"], "removed": ["sleepy"]},
          "API: the changes are in state_file: %s" % saved)
    n = len(sub.lines())
    br = bridge(cfg, stderr=open(os.path.join(tmp, "api2.log"), "w"))
    check(wait_for(lambda: has("tiktok/slowpoke/status ", sub.lines()[n:]), 10),
          "API: after a restart the added streamer runs again")
    time.sleep(1.0)  # nothing to wait for: the removed one must stay silent
    check(not has("tiktok/sleepy/status {", sub.lines()[n:]),
          "API: after a restart the removed streamer stays removed")
    ignored = "a retained request on tiktok/bridge/request/add_streamer is ignored"
    check(wait_for(lambda: ignored in open(os.path.join(tmp, "api2.log")).read(), 10) and
          not has("zombie", sub.lines()[n:]),
          "API: after a restart the retained request is not run again, and the log says so")
    stop(br)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-r", "-n",
                    "-t", "tiktok/bridge/request/add_streamer"], timeout=10)
    with open(state, "w") as f:
        f.write('{"added": ["slowpoke"')  # cut short, as by a full disk
    n = len(sub.lines())
    log3 = os.path.join(tmp, "api3.log")
    br = bridge(cfg, stderr=open(log3, "w"))
    check(wait_for(lambda: has("tiktok/sleepy/status {", sub.lines()[n:]), 10),
          "API: with a corrupt state file the configured streamers run")
    check("not valid JSON" in open(log3).read() and
          open(state + ".bad").read() == '{"added": ["slowpoke"',
          "API: a corrupt state file is reported and kept as .bad")
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def test_api_burst(tmp):
    """300 add_streamer requests at once beside 2,000 configured streamers (a bridge/info of
    224 KB): every one is answered. Each used to queue its own copy of bridge/info; 300 of them
    passed max_buffered_bytes (32 MiB) within one turn of the main loop, and the queue dropped
    the answers, notices being dropped before stale retained values."""
    broker = Broker(tmp)
    broker.up()
    state = os.path.join(tmp, "burst.state")
    cfg = write_config(tmp, "burst.ini", broker.port, "http://127.0.0.1:1",
                       ["s%05d" % i for i in range(2000)],
                       extra="[bridge]\nstate_file = %s\n" % state)
    with open(cfg) as f:  # configured but not followed; the added ones fail once, then wait
        text = f.read().replace("reconnect_min_s = 1\nreconnect_max_s = 2",
                                "reconnect_min_s = 600\nreconnect_max_s = 600")
    with open(cfg, "w") as f:
        f.write(text.replace("]\n[streamer:", "]\nenabled = false\n[streamer:") +
                "enabled = false\n")
    sub = Sub(tmp, broker.port, "tiktok/bridge/#", "burst.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "burst.log"), "w"))
    check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines(), 20), "burst: bridge up")
    lines = "".join('{"user":"x%04d","transaction":"b%d"}\n' % (i, i) for i in range(300))
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                    "tiktok/bridge/request/add_streamer", "-l"], input=lines.encode(), timeout=30)
    answers = lambda: [l for l in sub.lines()
                       if l.startswith('tiktok/bridge/response/add_streamer {"status":"ok"')]
    check(wait_for(lambda: len(answers()) == 300, 30),
          "burst: 300 add_streamer requests, %d answered ok" % len(answers()))
    info = lambda: [json.loads(l.split(" ", 1)[1]) for l in sub.lines()
                    if l.startswith("tiktok/bridge/info ")]
    check(wait_for(lambda: info() and len(info()[-1]["streamers"]) == 2300, 10),
          "burst: the last bridge/info lists all 2,300 streamers")
    stop(br)
    sub.close()
    broker.down()


def voluntary_switches(pid):
    """how often the process's main thread has gone to sleep (it wakes as often)"""
    st = open("/proc/%d/task/%d/status" % (pid, pid)).read()
    return int(st.split("voluntary_ctxt_switches:")[1].split()[0])


def test_main_thread_sleeps(tmp):
    """The main thread sleeps until it has work: idle, it barely wakes (it used to poll 20
    times a second); woken, it answers at once (a request gets its response well before the
    next periodic state publish, 5 s away)."""
    broker = Broker(tmp)
    broker.up()
    sim, url = start_sim(tmp)
    sub = Sub(tmp, broker.port, "tiktok/#", "sleep.txt")
    cfg = write_config(tmp, "sleep.ini", broker.port, url, ["the_host"],
                       extra="allow_insecure = true\n")
    log = os.path.join(tmp, "sleep.log")
    br = bridge(cfg, stderr=open(log, "w"))
    has = lambda needle: any(needle in l for l in sub.lines())
    # the replay's last event too: statuses go before events, so "waiting" can arrive while
    # the backlog of the replay is still being published (a slow build, e.g. under TSan)
    check(wait_for(lambda: has("tiktok/the_host/status ") and has('"waiting"') and
                   has("tiktok/the_host/streamEnd "), 60),
          "idle: the replay is over and published, the streamer waits")
    n0, t0 = voluntary_switches(br.pid), time.monotonic()
    time.sleep(3)  # a measurement window, not a wait for anything
    per_s = (voluntary_switches(br.pid) - n0) / (time.monotonic() - t0)
    check(per_s < 3, "idle: the main thread wakes %.1f times a second (at most 3)" % per_s)
    lib = [l for l in open(log) if "allow_insecure is set" in l]
    check(lib and "warn" in lib[0] and "the_host" in lib[0],
          "libtiktok's warnings reach the log, with the streamer: %s" % lib[:1])
    t0 = time.monotonic()
    pub(broker.port, "tiktok/bridge/request/health_check", '{"transaction":"z"}')
    ok = wait_for(lambda: has("tiktok/bridge/response/health_check "), 10, step=0.02)
    took = time.monotonic() - t0
    check(ok and took < 2, "a request wakes it: answered in %.2f s (under 2)" % took)
    t0 = time.monotonic()
    br.send_signal(signal.SIGTERM)
    try:
        rc = br.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0 and time.monotonic() - t0 < 5, "SIGTERM wakes it: exit 0 in %.1f s (rc %s)"
          % (time.monotonic() - t0, rc))
    sub.close()
    stop(sim)
    broker.down()


def with_sign_flow(cfg, flow):
    """a copy of write_config's `cfg` beside it whose sign_flow is `flow`: its path"""
    with open(cfg) as f:
        text = f.read().replace("sign_flow = euler\n", "sign_flow = %s\n" % flow)
    path = cfg[:-len(".ini")] + "-" + flow + ".ini"
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def test_probe(tmp):
    """--probe: each step with its outcome, the fix for the failing one, exit 0 only when
    events flowed."""
    sim, url = faults_sim(tmp, "probe")
    cfg = write_config(tmp, "probe.ini", 1, url, [])
    exe = os.path.join(B, "tiktok2mqtt")
    r = subprocess.run([exe, "-c", cfg, "--probe", "rate_limited"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 1 and "sign server   FAIL" in r.stdout and "retry after 42s" in r.stdout
          and "try: " in r.stdout, "--probe names the failing step and the fix:\n" + r.stdout)
    check("get an API key (sign_api_key_file)" in r.stdout,
          "--probe: the sign server's 429, an API key raises its limits:\n" + r.stdout)
    # TikTok's own 429 on im/fetch (the legacy flow): the sign server did its part, and an API
    # key does not help
    legacy = with_sign_flow(cfg, "legacy")
    r = subprocess.run([exe, "-c", legacy, "--probe", "fetch_limited"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 1 and "sign server   ok" in r.stdout and "im/fetch      FAIL" in
          r.stdout and "retry after 17s" in r.stdout and "an API key does not help" in r.stdout
          and "sign_api_key_file" not in r.stdout,
          "--probe: TikTok's own 429 is im/fetch's, no API key advised:\n" + r.stdout)
    r = subprocess.run([exe, "-c", cfg, "--probe", "ghost"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 1 and "room          FAIL" in r.stdout, "--probe: a missing user")
    # a silent socket (not even heartbeat answers) is not "a quiet room"; and when the watchdog
    # closes it within the probe's seconds, the probe says so
    r = subprocess.run([exe, "-c", cfg, "--probe", "quiet"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 1 and "websocket     ok" in r.stdout and "events        FAIL" in
          r.stdout and "not even a heartbeat answer" in r.stdout and "went silent" in r.stdout,
          "--probe: a silent socket is named as such:\n" + r.stdout)
    with open(cfg) as f:
        text = f.read().replace("sign_flow = euler\n", "sign_flow = euler\nstale_timeout_s = 2\n")
    with open(cfg, "w") as f:
        f.write(text)
    r = subprocess.run([exe, "-c", cfg, "--probe", "quiet"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 1 and re.search(r"events        FAIL 0 in [23] s: WebSocket: no frame "
                                          r"for 2 s", r.stdout),
          "--probe: the watchdog's close within the probe is reported:\n" + r.stdout)
    stop(sim)
    sim, url = start_sim(tmp)
    cfg = write_config(tmp, "probe2.ini", 1, url, [])
    r = subprocess.run([exe, "-c", cfg, "--probe", "the_host"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0 and "websocket     ok" in r.stdout and "events        ok" in r.stdout,
          "--probe: a live room, every step ok:\n" + r.stdout)
    # the sim counts the signatures it served in the current minute, hour and day: the
    # probe's own connect is one (a minute may have turned over in between)
    check(re.search(r"rate limit    ok   minute (59|60) of 60 left, hour 999 of 1000 left, "
                    r"day 9999 of 10000 left", r.stdout),
          "--probe: the sign server's rate-limit headroom, after its signature:\n" + r.stdout)
    # the session flow asks no sign server: its step is the session's, with no sign server
    # advice and no rate limit of Euler's (a new replay: the probe above played it to its end)
    stop(sim)
    sim, url = start_sim(tmp)
    cfg = write_config(tmp, "probe3.ini", 1, url, [])
    session = with_sign_flow(cfg, "session")
    env = dict(os.environ, TIKTOK2MQTT_SESSION_ID="probe-session")
    r = subprocess.run([exe, "-c", session, "--probe", "the_host"], capture_output=True,
                       text=True, timeout=60, env=env)
    check(r.returncode == 0 and "flow          ok   session" in r.stdout and
          "session       ok   im/fetch answered the session's cookie" in r.stdout and
          "sign server   " not in r.stdout and "rate limit" not in r.stdout and
          "events        ok" in r.stdout,
          "--probe: the session flow's step is the session, not a sign server:\n" + r.stdout)
    stop(sim)


CHURN_SCENARIO = """{"kind":"sim","seed":5}
{"kind":"viewer","handle":"fan","nickname":"Fan"}
{"kind":"streamer","handle":"steady","loop":true}
{"t":0.2,"type":"chat","user":"fan","text":"tick"}
{"t":0.6,"type":"chat","user":"fan","text":"tock"}
{"kind":"streamer","handle":"racer","loop":true}
{"t":0.1,"type":"chat","user":"fan","text":"hi"}
{"t":0.5,"type":"chat","user":"fan","text":"again"}
{"kind":"streamer","handle":"slowroom","faults":{"slow_ms":20000}}
{"t":1.0,"type":"chat","user":"fan","text":"late"}
"""


def churn_sim(tmp):
    scen = os.path.join(tmp, "churn.jsonl")
    with open(scen, "w") as f:
        f.write(CHURN_SCENARIO)
    p, url, _ = itest.sim(tmp, "churn-sim", ["--scenario", scen])
    return p, url


def stops_within(br, seconds):
    t0 = time.monotonic()
    br.send_signal(signal.SIGTERM)
    try:
        br.wait(seconds)
    except subprocess.TimeoutExpired:
        return False, seconds
    return True, time.monotonic() - t0


def test_stop_races(tmp):
    """A stop is never lost: adding and removing the same live handle back to back leaves a
    daemon that answers every request and stops on SIGTERM (it used to hang: connect cleared
    a stop that had just arrived); removing a streamer whose room answers slowly answers at
    once (the request in flight is cut) instead of after the room's 20 s."""
    broker = Broker(tmp)
    broker.up()
    sim, url = churn_sim(tmp)
    cfg = write_config(tmp, "churn.ini", broker.port, url, ["steady"])
    sub = Sub(tmp, broker.port, "tiktok/#", "churn.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "churn.log"), "w"))
    has = lambda needle: any(needle in l for l in sub.lines())
    check(wait_for(lambda: has("tiktok/steady/chat "), 15), "churn: the steady streamer is live")
    pairs = 12
    for i in range(pairs):
        pub(broker.port, "tiktok/bridge/request/add_streamer",
            '{"user":"racer","transaction":"a%d"}' % i)
        pub(broker.port, "tiktok/bridge/request/remove_streamer",
            '{"user":"racer","transaction":"r%d"}' % i)
    answered = lambda: sum(1 for i in range(pairs) for t in ("a", "r")
                           if has('"transaction":"%s%d"' % (t, i)))
    check(wait_for(lambda: answered() == 2 * pairs, 30),
          "churn: all %d add/remove requests answered (%d)" % (2 * pairs, answered()))
    n = len(sub.lines())
    check(wait_for(lambda: any(l.startswith("tiktok/steady/chat ") for l in sub.lines()[n:]), 10),
          "churn: the other streamer's events go on")
    ok, took = stops_within(br, 10)
    check(ok and br.returncode == 0,
          "churn: SIGTERM after the churn stops the bridge (%.1f s, rc %s)" % (took, br.returncode))

    n = len(sub.lines())
    br = bridge(cfg, stderr=open(os.path.join(tmp, "churn2.log"), "w"))
    check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines()[n:], 10),
          "slow room: bridge up")
    pub(broker.port, "tiktok/bridge/request/add_streamer", '{"user":"slowroom","transaction":"s1"}')
    check(wait_for(lambda: any(l.startswith("tiktok/slowroom/status ") and '"connecting"' in l
                               for l in sub.lines()[n:]), 10), "slow room: it is connecting")
    t0 = time.monotonic()
    pub(broker.port, "tiktok/bridge/request/remove_streamer",
        '{"user":"slowroom","transaction":"s2"}')
    check(wait_for(lambda: has('"transaction":"s2"'), 15) and time.monotonic() - t0 < 3,
          "slow room: remove_streamer answers within 3 s (%.1f s)" % (time.monotonic() - t0))
    pub(broker.port, "tiktok/bridge/request/add_streamer", '{"user":"slowroom","transaction":"s3"}')
    check(wait_for(lambda: has('"transaction":"s3"'), 10), "slow room: added again")
    ok, took = stops_within(br, 3)
    check(ok and br.returncode == 0,
          "slow room: SIGTERM while it connects stops within 3 s (%.1f s)" % took)
    sub.close()
    stop(sim)
    broker.down()


def clean_stop_offline_once(tmp, protocol):
    """One clean stop over `protocol`: bridge/state and the live streamer's availability each
    end `offline`, said once, and bridge/state stays retained `offline`."""
    tag = "offline once (MQTT %s)" % protocol
    broker = Broker(tmp)
    broker.up()
    sim, url = churn_sim(tmp)
    cfg = write_config(tmp, "once%s.ini" % protocol, broker.port, url, ["steady"])
    with open(cfg) as f:
        text = f.read().replace("[mqtt]\n", "[mqtt]\nprotocol = %s\n" % protocol, 1)
    with open(cfg, "w") as f:
        f.write(text)
    sub = Sub(tmp, broker.port, "tiktok/#", "once%s.txt" % protocol)
    br = bridge(cfg, stderr=open(os.path.join(tmp, "once%s.log" % protocol), "w"))
    check(wait_for(lambda: "tiktok/steady/availability online" in sub.lines(), 15),
          tag + ": the streamer is live")
    if protocol == "3.1.1":  # no Maximum Packet Size to ask for: the bridge drops larger itself
        check_request_sizes(tmp, broker.port, sub, br)
    ok, took = stops_within(br, 15)
    check(ok and br.returncode == 0, "%s: a clean stop (%.1f s, rc %s)"
          % (tag, took, br.returncode))
    if protocol == "3.1.1":
        with open(os.path.join(tmp, "once%s.log" % protocol)) as f:
            log = f.read()
        check("dropped an incoming message of %d bytes" % (INBOUND_MAX - 24) in log and
              "1000000 bytes" not in log, tag + ": the drop is logged, once a minute at most")
    # a will would be published as the broker reads the DISCONNECT, before this marker
    pub(broker.port, "tiktok/_after_stop", "x")
    check(wait_for(lambda: "tiktok/_after_stop x" in sub.lines(), 10),
          tag + ": the marker published after the stop arrives")
    lines = sub.lines()
    for topic in ("tiktok/bridge/state", "tiktok/steady/availability"):
        said = [l.split(" ", 1)[1] for l in lines if l.startswith(topic + " ")]
        check(said[-1:] == ["offline"] and said.count("offline") == 1,
              "%s: %s ends offline, said once (%s)" % (tag, topic, said))
    late = Sub(tmp, broker.port, "tiktok/#", "once%s-late.txt" % protocol)
    retained = lambda t: [l for l in late.lines() if l.startswith(t + " ")]
    check(wait_for(lambda: retained("tiktok/steady/availability"), 5) and
          retained("tiktok/bridge/state") == ["tiktok/bridge/state offline"],
          tag + ": bridge/state offline stays retained")
    late.close()
    sub.close()
    stop(sim)
    broker.down()


def test_clean_stop_offline_once(tmp):
    """A clean stop says `offline` once on bridge/state and on a live streamer's availability.
    Over MQTT 5 the bridge published bridge/state `offline` itself and then asked the broker
    (DISCONNECT 0x04) to publish the will, the same `offline` again; a live streamer's
    disconnection and then its thread's end each published availability `offline`."""
    clean_stop_offline_once(tmp, "5")
    clean_stop_offline_once(tmp, "3.1.1")


def test_state_file_safety(tmp):
    """state_file is replaced through a fresh temporary name: a symlink planted at the old fixed
    name (<state_file>.tmp) is never followed, so its target survives; a state_file that cannot
    be written turns the API's answer into an error that says the change will not last."""
    broker = Broker(tmp)
    broker.up()
    sim, url = faults_sim(tmp, "statefile")
    victim = os.path.join(tmp, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    state = os.path.join(tmp, "sf.state")
    os.symlink(victim, state + ".tmp")
    # a state_file that exists but cannot be read (another user's, here a directory): what it
    # holds is unknown, so it must be neither renamed away nor replaced by the next change
    unreadable = os.path.join(tmp, "sf-dir.state")
    os.mkdir(unreadable)
    runs = ((state, "sf-ok"), (os.path.join(tmp, "no-such-dir", "sf.state"), "sf-bad"),
            (unreadable, "sf-dir"))
    sub = Sub(tmp, broker.port, "tiktok/bridge/#", "sf.txt")
    for path, tag in runs:
        cfg = write_config(tmp, tag + ".ini", broker.port, url, ["sleepy"])
        with open(cfg) as f:
            text = f.read().replace("[mqtt]", "[bridge]\nstate_file = %s\n[mqtt]" % path, 1)
        with open(cfg, "w") as f:
            f.write(text)
        n = len(sub.lines())
        br = bridge(cfg, stderr=open(os.path.join(tmp, tag + ".log"), "w"))
        check(wait_for(lambda: "tiktok/bridge/state online" in sub.lines()[n:], 10),
              "%s: bridge up" % tag)
        pub(broker.port, "tiktok/bridge/request/add_streamer",
            '{"user":"ghost","transaction":"%s"}' % tag)
        answer = lambda: [l for l in sub.lines()[n:] if '"transaction":"%s"' % tag in l
                          and l.startswith("tiktok/bridge/response/")]
        check(wait_for(lambda: answer(), 10), "%s: add_streamer answered" % tag)
        got = answer()[0] if answer() else ""
        if tag == "sf-ok":
            check('"status":"ok"' in got, "state_file writable: the answer is ok (%s)" % got)
            check(open(victim).read() == "precious\n",
                  "a symlink planted at <state_file>.tmp is not followed")
            try:
                saved = json.load(open(state))
            except (OSError, ValueError):
                saved = None
            check(saved is not None and saved.get("added") == ["ghost"] and
                  not saved.get("removed") and not os.path.islink(state),
                  "state_file holds the change (%s)" % saved)
            check(oct(os.stat(state).st_mode & 0o777) == "0o600", "state_file is mode 0600")
        else:
            check('"status":"error"' in got and "state_file cannot be written" in got,
                  "state_file unwritable: the answer is an error that says so (%s)" % got)
        if tag == "sf-dir":
            log = open(os.path.join(tmp, tag + ".log")).read()
            check("cannot read %s (Is a directory)" % unreadable in log and
                  "it could not be read at the start (Is a directory), so it is not replaced"
                  in log and os.path.isdir(unreadable) and not os.path.exists(unreadable + ".bad"),
                  "state_file unreadable: said so at the start, kept in place, not replaced")
        stop(br)
    leftovers = [f for f in os.listdir(tmp) if f.startswith("sf.state.")]
    check(leftovers == ["sf.state.tmp"], "no temporary file left behind (%s)" % leftovers)
    sub.close()
    stop(sim)
    broker.down()


def main():
    return run_tests((test_events_and_retained, test_stdout, test_broker_restart,
                      test_buffer_overflow, test_birth_on_reconnect, test_broker_auth,
                      test_socket_dropped, test_totals_across_reconnect, test_restart_no_replay,
                      test_rate_limit_and_relive, test_retry_jitter, test_sighup, test_early_sighup,
                      test_runtime_api, test_api_burst,
                      test_main_thread_sleeps, test_probe,
                      test_config_errors, test_shards, test_stop_races,
                      test_state_file_safety, test_clean_stop_offline_once),
                     ("mosquitto", "mosquitto_sub"), "bridge-test-")


if __name__ == "__main__":
    sys.exit(main())
