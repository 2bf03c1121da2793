#!/usr/bin/env python3
"""record_dir: the bridge records every raw frame, and tiktok-live-sim --replay plays the
recording back to a fresh bridge, which must publish the same events.

1. record and replay: mosquitto, the simulator on contrib/sim/scenarios/every-event.jsonl
   (every event type, a backlog served by the initial fetch, gzipped and plain frames) and the
   bridge with [bridge] record_dir. The recording is one directory per room, 0750, with
   NNNNNNNN.bin (0640) numbered 1..N without a gap and frames.jsonl naming each once with
   non-decreasing times. Then `tiktok-live-sim --replay DIR --fast` and a second bridge without
   record_dir: the events on MQTT are the same multiset (event, payload) as the first run's,
   the backlog included.
2. relive and the per-streamer key: a [streamer:H] record_dir wins over [bridge]'s, and a new
   room id (the stream went live again) starts a new directory.
3. request polling (no WebSocket): the initial fetch and the polling answers are recorded
   as push frames, and their replay over the simulator's WebSocket gives the same events.
4. a record_dir that cannot be made (under a regular file, which fails for root too): one
   clear log line, and every event of the v3 oracle corpus still arrives on MQTT.

Environment: B (build dir, default build). Needs mosquitto and mosquitto_sub (make deps).
Every wait is bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import collections
import json
import os
import re
import signal
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import itest  # noqa: E402
from itest import B, CORPUS, ROOT, check, compare, json_lines, run_tests, start, stop, wait_for  # noqa: E402
from run import Broker, Sub, events_of, expected_count  # noqa: E402

SCENARIOS = os.path.join(ROOT, "contrib", "sim", "scenarios")
# retained per-streamer topics; everything else under <base>/<user>/ is an event
NOT_EVENTS = {"availability", "status", "room", "state"}


def sim(tmp, name, *args):
    """a simulator on a free port; returns (process, base URL or None)"""
    return itest.sim(tmp, name, args)[:2]


def config(tmp, name, url, streamers, mqtt_port=1, base="tiktok", bridge="", sections=None):
    """an INI for the bridge against the simulator at `url`; sections: {handle: extra lines}"""
    path = os.path.join(tmp, name)
    sections = sections or {}
    with open(path, "w") as f:
        f.write("[bridge]\n%s" % bridge)
        f.write("[mqtt]\nuri = tcp://127.0.0.1:%d\nkeepalive = 5\nbase_topic = %s\n"
                % (mqtt_port, base))
        f.write("[homeassistant]\nenabled = false\n")
        f.write("[tiktok]\nweb_base = %s\nwebcast_base = %s\nsign_api_url = %s\n" % (url, url, url))
        f.write("sign_flow = euler\n")  # recordings of the signed flow (with its backlog)
        f.write("reconnect_min_s = 1\nreconnect_max_s = 2\nlive_check_interval = 1\n")
        for s in streamers:
            f.write("[streamer:%s]\n%s" % (s, sections.get(s, "")))
    os.chmod(path, 0o600)
    return path


def bridge(cfg, log, *args, **kw):
    return start([os.path.join(B, "tiktok2mqtt"), "-c", cfg] + list(args),
                 stderr=open(log, "w"), **kw)


def mqtt_events(lines, base, user):
    """(event, payload) of every event topic of one streamer, the simulator's host:port made
    neutral: extendedGiftInfo's image URLs come from the gift list of the simulator the
    bridge asked, not from the frames"""
    out = []
    prefix = "%s/%s/" % (base, user)
    for l in lines:
        topic, _, payload = l.partition(" ")
        ev = topic[len(prefix):]
        if topic.startswith(prefix) and ev not in NOT_EVENTS and "/" not in ev:
            out.append((ev, re.sub(r"127\.0\.0\.1:\d+", "SIM", payload)))
    return out


def statuses(lines, base, user):
    pre = "%s/%s/status " % (base, user)
    return [json.loads(l[len(pre):]) for l in lines if l.startswith(pre) and l[len(pre):] != "(null)"]


def check_layout(room_dir, what):
    """the replay layout: NNNNNNNN.bin 1..N, frames.jsonl naming each once in order with
    non-decreasing times; 0750 directories, 0640 files; returns N"""
    names = sorted(os.listdir(room_dir))
    bins = [n for n in names if n.endswith(".bin")]
    check(set(names) == set(bins) | {"frames.jsonl"}, what + ": only frames and frames.jsonl: %s"
          % [n for n in names if not n.endswith(".bin")])
    check(bins == ["%08d.bin" % i for i in range(1, len(bins) + 1)],
          what + ": %d frames numbered 00000001.bin.. without a gap" % len(bins))
    lines = [json.loads(l) for l in open(os.path.join(room_dir, "frames.jsonl"))]
    check([l["frame"] for l in lines] == bins,
          what + ": frames.jsonl names every frame once, in order (%d lines, %d frames)"
          % (len(lines), len(bins)))
    ms = [l["ms"] for l in lines]
    check(all(isinstance(t, int) for t in ms) and ms == sorted(ms),
          what + ": frames.jsonl times are integers, non-decreasing")
    check(stat.S_IMODE(os.stat(room_dir).st_mode) == 0o750, what + ": the room directory is 0750")
    modes = {stat.S_IMODE(os.stat(os.path.join(room_dir, n)).st_mode) for n in names}
    check(modes == {0o640}, what + ": files are 0640: %s" % sorted(oct(m) for m in modes))
    return len(bins)


def test_record_and_replay(tmp):
    broker = Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sim1, url = sim(tmp, "sim-live", "--scenario", os.path.join(SCENARIOS, "every-event.jsonl"))
    check(url is not None, "the simulator starts")
    rec = os.path.join(tmp, "rec")
    sub = Sub(tmp, broker.port, "tiktok/#", "live.txt")
    cfg = config(tmp, "record.ini", url, ["conf_host"], broker.port,
                 bridge="record_dir = %s\n" % rec)
    br = bridge(cfg, os.path.join(tmp, "record.log"))
    # the stream lasts 11.5 s; after its end the bridge waits for the next live
    ended = lambda: "ended" in [s["state"] for s in statuses(sub.lines(), "tiktok", "conf_host")]
    check(wait_for(ended, 30), "the recorded stream ends")
    stop(br)
    check(br.returncode == 0, "the recording bridge exits 0 on SIGTERM")
    stop(sim1)
    live = mqtt_events(sub.lines(), "tiktok", "conf_host")
    lives = [s for s in statuses(sub.lines(), "tiktok", "conf_host") if s["state"] == "live"]
    sub.close()
    room = lives[0]["roomId"] if lives else "?"
    user_dir = os.path.join(rec, "conf_host")
    rooms = sorted(os.listdir(user_dir)) if os.path.isdir(user_dir) else []
    check(rooms == [room], "one directory per room: <record_dir>/conf_host/%s: %s" % (room, rooms))
    if rooms != [room]:
        broker.down()
        return
    room_dir = os.path.join(user_dir, room)
    n = check_layout(room_dir, "recording")
    check(stat.S_IMODE(os.stat(user_dir).st_mode) == 0o750, "the handle's directory is 0750")

    sim2, url2 = sim(tmp, "sim-replay", "--replay", room_dir, "--user", "conf_host",
                     "--room-id", room, "--fast")
    check(url2 is not None, "the simulator replays the recording")
    sub2 = Sub(tmp, broker.port, "replay/#", "replay.txt")
    cfg2 = config(tmp, "replay.ini", url2, ["conf_host"], broker.port, base="replay")
    br2 = bridge(cfg2, os.path.join(tmp, "replay.log"))
    count = lambda: len(mqtt_events(sub2.lines(), "replay", "conf_host"))
    wait_for(lambda: count() >= len(live), 20)
    # nothing more may come: the stream end is in the recording, and the room is over
    check(wait_for(lambda: "ended" in [s["state"] for s in
                                       statuses(sub2.lines(), "replay", "conf_host")], 10),
          "the replayed stream ends too")
    replayed = mqtt_events(sub2.lines(), "replay", "conf_host")
    stop(br2)
    stop(sim2)
    sub2.close()
    broker.down()
    a, b = collections.Counter(live), collections.Counter(replayed)
    check(len(live) >= 40, "the live run published the scenario's events (%d, %d frames)"
          % (len(live), n))
    check(a == b, "the replay publishes the same events as the live run (%d and %d; only live: "
          "%s; only replayed: %s)" % (len(live), len(replayed), sorted({e for e, _ in a - b}),
                                      sorted({e for e, _ in b - a})))
    backlog = lambda evs: any(e == "chat" and "from the backlog" in p for e, p in evs)
    check(backlog(live) and backlog(replayed),
          "the initial fetch's backlog is recorded (wrapped as a push frame) and replayed")
    kinds = {e for e, _ in live}
    check({"chat", "gift", "giftEnd", "like", "member", "streamEnd"} <= kinds,
          "the events cover the scenario's kinds: %s" % sorted(kinds))


def test_relive_and_streamer_key(tmp):
    sim1, url = sim(tmp, "sim-faults", "--scenario", os.path.join(SCENARIOS, "faults.jsonl"))
    mine, glob = os.path.join(tmp, "rec-phoenix"), os.path.join(tmp, "rec-global")
    cfg = config(tmp, "relive.ini", url, ["phoenix"], bridge="record_dir = %s\n" % glob,
                 sections={"phoenix": "record_dir = %s\n" % mine})
    out = os.path.join(tmp, "relive.jsonl")
    br = bridge(cfg, os.path.join(tmp, "relive.log"), "--stdout", stdout=open(out, "w"))

    def lines():
        with open(out) as f:
            return json_lines(f)

    chats = lambda: [l["data"]["comment"] for l in lines() if l.get("event") == "chat"]
    check(wait_for(lambda: len(chats()) >= 2, 20), "relive: both lives' chats: %s" % chats())
    stop(br)
    stop(sim1)
    rooms = sorted(os.listdir(os.path.join(mine, "phoenix"))) \
        if os.path.isdir(os.path.join(mine, "phoenix")) else []
    check(rooms == ["7390000000000000001", "7390000000000000002"],
          "relive: a new room id starts a new directory: %s" % rooms)
    check(not os.path.exists(os.path.join(glob, "phoenix")),
          "the streamer's record_dir wins over [bridge]'s")
    for r in rooms:
        n = check_layout(os.path.join(mine, "phoenix", r), "relive room " + r)
        check(n >= 1, "relive room %s has frames (%d)" % (r, n))


def stdout_events(path):
    """(event, payload) of --stdout's event lines, the simulator's host:port made neutral"""
    out = []
    for l in open(path):
        try:
            o = json.loads(l)
        except ValueError:
            continue
        if "event" in o:
            out.append((o["event"], re.sub(r"127\.0\.0\.1:\d+", "SIM",
                                           json.dumps(o["data"], sort_keys=True))))
    return out


def test_polling_recorded(tmp):
    """Without a WebSocket (session, request polling), the initial fetch and every polling
    answer with messages are recorded wrapped as push frames: replayed over the simulator's
    WebSocket they give the same events."""
    # every event type, the stream cut short at 3.6 s (the full one waits for heartbeats)
    scen = os.path.join(tmp, "every-event-short.jsonl")
    with open(os.path.join(SCENARIOS, "every-event.jsonl")) as f:
        text = f.read()
    with open(scen, "w") as f:
        f.write(text.replace('{"t":11.5,"type":"end"}', '{"t":3.6,"type":"end"}'))
    sim1, url = sim(tmp, "sim-poll", "--scenario", scen)
    rec = os.path.join(tmp, "rec-poll")
    secret = os.path.join(tmp, "session")
    with open(secret, "w") as f:
        f.write("s3cr3t-session\n")
    os.chmod(secret, 0o600)
    cfg = config(tmp, "poll.ini", url, ["conf_host"], bridge="record_dir = %s\n" % rec,
                 sections={"conf_host": "sign_flow = session\nsession_id_file = %s\n"
                           "enable_websocket_upgrade = false\nrequest_polling_interval_ms = 100\n"
                           % secret})
    out = os.path.join(tmp, "poll.jsonl")
    br = bridge(cfg, os.path.join(tmp, "poll.log"), "--stdout", stdout=open(out, "w"))
    ended = lambda: any('"state":"ended"' in l for l in open(out))
    check(wait_for(ended, 30), "polling: the recorded stream ends")
    stop(br)
    stop(sim1)
    polled = stdout_events(out)
    rooms = os.listdir(os.path.join(rec, "conf_host")) if os.path.isdir(
        os.path.join(rec, "conf_host")) else []
    check(len(rooms) == 1, "polling: one room recorded: %s" % rooms)
    if len(rooms) != 1:
        return
    room_dir = os.path.join(rec, "conf_host", rooms[0])
    n = check_layout(room_dir, "polling recording")
    # fewer frames than polls: empty answers (most of them, at 10 a second) are not recorded
    check(0 < n < 60, "polling: only answers with messages are recorded (%d frames)" % n)
    sim2, url2 = sim(tmp, "sim-poll-replay", "--replay", room_dir, "--user", "conf_host",
                     "--room-id", rooms[0], "--fast")
    cfg2 = config(tmp, "poll-replay.ini", url2, ["conf_host"])
    out2 = os.path.join(tmp, "poll-replay.jsonl")
    br2 = bridge(cfg2, os.path.join(tmp, "poll-replay.log"), "--stdout", stdout=open(out2, "w"))
    check(wait_for(lambda: any('"state":"ended"' in l for l in open(out2)), 20),
          "polling: the replayed stream ends")
    stop(br2)
    stop(sim2)
    replayed = stdout_events(out2)
    a, b = collections.Counter(polled), collections.Counter(replayed)
    check(len(polled) >= 40 and a == b,
          "polling: the replay over the WebSocket gives the polled events (%d and %d; only "
          "polled: %s; only replayed: %s)" % (len(polled), len(replayed),
                                              sorted({e for e, _ in a - b}),
                                              sorted({e for e, _ in b - a})))


def test_record_error(tmp):
    broker = Broker(tmp)
    broker.up()
    sim1, url = sim(tmp, "sim-corpus", "--replay", CORPUS, "--rate", "1000")
    blocker = os.path.join(tmp, "a-file")
    open(blocker, "w").close()
    bad = os.path.join(blocker, "rec")  # ENOTDIR, for root too
    sub = Sub(tmp, broker.port, "tiktok/#", "err.txt")
    log = os.path.join(tmp, "err.log")
    cfg = config(tmp, "err.ini", url, ["the_host"], broker.port, bridge="record_dir = %s\n" % bad)
    br = bridge(cfg, log)
    want = expected_count()
    got = lambda: len(events_of(sub.lines(), "the_host"))
    check(wait_for(lambda: got() >= want, 30),
          "record_dir not writable: all %d events still arrive on MQTT (got %d)" % (want, got()))
    check(compare(tmp, events_of(sub.lines(), "the_host"), "err-events.jsonl"),
          "record_dir not writable: the payloads are 1.2.3's events")
    stop(br)
    stop(sim1)
    sub.close()
    broker.down()
    text = open(log).read()
    stopped = [l for l in text.splitlines() if "recording stopped" in l]
    check(len(stopped) == 1, "one log line for the failed recording (%d): %s"
          % (len(stopped), stopped[:2]))
    check(stopped and "[error] the_host:" in stopped[0] and bad in stopped[0]
          and "Not a directory" in stopped[0],
          "it names the level, the streamer, the path and the reason: %s" % stopped[:1])
    check(not os.path.exists(bad), "nothing was created")


def main():
    return run_tests((test_record_and_replay, test_relive_and_streamer_key,
                      test_polling_recorded, test_record_error),
                     ("mosquitto", "mosquitto_sub"), "record-test-")


if __name__ == "__main__":
    sys.exit(main())
