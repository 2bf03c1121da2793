#!/usr/bin/env python3
"""Options of docs/config.md that promise a behaviour on the broker, held to it.

Checks: `room_info_interval = 1` publishes `<base>/<user>/room` again about every second while
the streamer is live (a scripted simulator room, live for a few seconds), each a valid room
object, and holds no HTTP connection between refreshes; `room_info_interval = 0` publishes it
once, on connect. Over MQTT 5 (docs/mqtt.md), as
an MQTT 5 subscriber (mosquitto_sub -V 5) receives them with `event_expiry = 60`: every event
carries the content type application/json, the user property msgId equal to its payload's
msgId, and a message expiry of at most 60 s; the room object carries the content type alone.
And a streamer's gzip bombs leave no memory behind in the daemon (docs/libtiktok.md, Caps).
The runtime API's `reconnect` (docs/mqtt.md §5) drops a live streamer's connection and makes
it again at once (reconnect_min_s = 30 here), its status `connecting` without an error, and
makes a waiting streamer check again at once, but does not cut short the sign server's
Retry-After. And the payload examples of docs/mqtt.md (status, room, state, bridge/info, bridge/health) have
the fields, nesting and JSON types of what the bridge publishes for the scripted stream, no
more and no fewer.

Environment: B (build dir). Needs mosquitto and mosquitto_sub (make deps). Every wait is
bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import itest  # noqa: E402
from itest import check, run_tests, stop, wait_for  # noqa: E402
from run import Broker, Sub, bridge, write_config  # noqa: E402

LIVE_S = 5


def scenario_sim(tmp, name):
    """A simulator whose room `roomy` is live for LIVE_S seconds after the first WebSocket."""
    path = os.path.join(tmp, name + ".jsonl")
    with open(path, "w") as f:
        f.write('{"kind":"sim","seed":3}\n{"kind":"viewer","handle":"fan","nickname":"Fan"}\n')
        f.write('{"kind":"streamer","handle":"roomy"}\n')
        for i in range(LIVE_S * 2):
            f.write('{"t":%.1f,"type":"chat","user":"fan","text":"tick %d"}\n' % (i * 0.5, i))
        f.write('{"t":%d,"type":"end"}\n' % LIVE_S)
    return itest.sim(tmp, name, ["--scenario", path])[:2]


def scripted_run(tmp, name, mqtt_extra="", extra="", sub_extra=()):
    """The scripted stream through the bridge for "roomy", to its end: (whether it ended, the
    lines a subscriber of tiktok/roomy/# got, with `sub_extra` passed to mosquitto_sub)."""
    broker = Broker(tmp)
    broker.up()
    sim, url = scenario_sim(tmp, name)
    cfg = write_config(tmp, name + ".ini", broker.port, url, ["roomy"], extra=extra)
    if mqtt_extra:
        with open(cfg) as f:
            text = f.read().replace("[mqtt]\n", "[mqtt]\n" + mqtt_extra, 1)
        with open(cfg, "w") as f:
            f.write(text)
    sub = Sub(tmp, broker.port, "tiktok/roomy/#", name + ".txt", extra=sub_extra)
    br = bridge(cfg, stderr=open(os.path.join(tmp, name + ".log"), "w"))
    ended = lambda: any(l.startswith("tiktok/roomy/streamEnd ") for l in sub.lines())
    wait_for(ended, LIVE_S + 15)
    stop(br)
    sub.close()
    stop(sim)
    broker.down()
    return ended(), sub.lines()


def rooms_published(tmp, interval):
    ended, lines = scripted_run(tmp, "room%d" % interval,
                                extra="room_info_interval = %d\n" % interval)
    return ended, [l.partition(" ")[2] for l in lines if l.startswith("tiktok/roomy/room ")]


def test_room_refresh(tmp):
    ended, rooms = rooms_published(tmp, 1)
    check(ended, "the scripted stream ran to its end")
    check(len(rooms) >= LIVE_S - 2,
          "room_info_interval = 1: room published again while live (%d times in %d s)"
          % (len(rooms), LIVE_S))
    ok = True
    for r in rooms:
        try:
            ok = ok and json.loads(r).get("roomId", "") != ""
        except ValueError:
            ok = False
    check(ok and rooms, "every refresh is a room object with its roomId")


def test_room_once(tmp):
    ended, rooms = rooms_published(tmp, 0)
    check(ended and len(rooms) == 1,
          "room_info_interval = 0: room published once, on connect (%d times)" % len(rooms))


def test_refresh_holds_no_http(tmp):
    """room_info_interval = 1: each refresh makes its request and lets curl's handle go again,
    so between refreshes the bridge holds its WebSocket and its broker connection, no idle HTTP
    connection (before 2026-12-06 every streamer kept one from its first refresh on)."""
    broker = Broker(tmp)
    broker.up()
    sim, url = scenario_sim(tmp, "idle")
    cfg = write_config(tmp, "idle.ini", broker.port, url, ["roomy"],
                       extra="room_info_interval = 1\n")
    sub = Sub(tmp, broker.port, "tiktok/roomy/#", "idle.txt")
    rooms = lambda: sum(1 for l in sub.lines() if l.startswith("tiktok/roomy/room {"))
    br = bridge(cfg, stderr=open(os.path.join(tmp, "idle.log"), "w"))
    # the room is published after its request returned: the third is a refresh's, and its
    # handle was let go before it was published
    refreshed = wait_for(lambda: rooms() >= 3, LIVE_S + 10)
    held = itest.established(br.pid)
    stop(br)
    sub.close()
    stop(sim)
    broker.down()
    check(refreshed, "the room was refreshed twice while live (%d)" % rooms())
    check(held == 2, "between refreshes: 2 TCP connections held, the WebSocket and the broker's "
          "(%d)" % held)


def test_bombs_leave_no_memory(tmp):
    """A streamer's gzip bombs, each filling the library's 8 MiB inflate cap: the library gives
    the buffer back after the frame, and the daemon keeps glibc from holding it in an arena
    (bridge/main.c: a fixed mmap threshold). The daemon's RSS between the chat before four bombs
    and the one after (sanitizer builds keep freed memory in quarantine: there, only the
    events)."""
    path = os.path.join(tmp, "bombs.jsonl")
    with open(path, "w") as f:
        f.write('{"kind":"sim","seed":4}\n{"kind":"viewer","handle":"fan","nickname":"Fan"}\n'
                '{"kind":"streamer","handle":"roomy"}\n'
                '{"t":0.5,"type":"chat","user":"fan","text":"before"}\n')
        for i in range(4):
            f.write('{"t":%.1f,"type":"gzip_bomb","inflated":16777216}\n' % (1.0 + i * 0.4))
        f.write('{"t":3.0,"type":"chat","user":"fan","text":"after"}\n{"t":6,"type":"end"}\n')
    broker = Broker(tmp)
    broker.up()
    sim, url = itest.sim(tmp, "bombs", ["--scenario", path])[:2]
    cfg = write_config(tmp, "bombs.ini", broker.port, url, ["roomy"])
    sub = Sub(tmp, broker.port, "tiktok/roomy/chat", "bombs.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "bombs.log"), "w"))
    said = lambda text: any('"comment":"%s"' % text in l for l in sub.lines())
    rss = {}
    for text in ("before", "after"):  # the bridge publishes a chat after its frame is done
        if wait_for(lambda: said(text), 20, step=0.02):
            rss[text] = itest.rss_kb(br.pid)
    stop(br)
    sub.close()
    stop(sim)
    broker.down()
    check(len(rss) == 2, "both chats came through the bombs (%s)" % sorted(rss))
    if itest.sanitized() or len(rss) < 2:
        return
    grew = rss["after"] - rss["before"]
    check(grew < 4096, "four bombs left no memory behind: RSS grew %d KiB (8 MiB or more when an "
          "arena kept a bomb's buffer)" % grew)


def v5_messages(tmp):
    """(topic, content type, expiry, user properties, payload) of everything a v5 subscriber got
    from a scripted stream, with [mqtt] event_expiry = 60"""
    # mosquitto_sub's -F fields, '|' apart; the topic first and a space after it, as Sub reads
    _, lines = scripted_run(tmp, "v5", mqtt_extra="event_expiry = 60\n",
                            sub_extra=("-V", "5", "-F", "%t %C|%E|%P|%p"))
    out = []
    for l in lines:
        topic, _, rest = l.partition(" ")
        fields = rest.split("|", 3)
        if len(fields) == 4:
            out.append((topic, fields[0], fields[1], fields[2], fields[3]))
    return out


def test_v5_properties(tmp):
    got = v5_messages(tmp)
    chats = [m for m in got if m[0] == "tiktok/roomy/chat"]
    check(len(chats) == LIVE_S * 2,
          "every scripted chat arrived (%d of %d)" % (len(chats), LIVE_S * 2))
    bad = []
    for topic, ctype, expiry, props, payload in chats:
        msg_id = str(json.loads(payload).get("msgId", ""))
        if (ctype != "application/json" or props != "msgId:" + msg_id or not msg_id or
                not expiry.isdigit() or not 0 < int(expiry) <= 60):
            bad.append((ctype, expiry, props, msg_id))
    check(chats and not bad,
          "each chat: content type application/json, user property msgId = its payload's msgId, "
          "expiry 1-60 s (wrong: %s)" % bad[:3])
    rooms = [m for m in got if m[0] == "tiktok/roomy/room"]
    check(rooms and all(m[1:4] == ("application/json", "", "") for m in rooms),
          "the room object: content type application/json, no msgId, no expiry (%s)"
          % [m[1:4] for m in rooms[:2]])


def mqtt_md_examples():
    """{section title: the first ```json example under it} of docs/mqtt.md's ### sections;
    the room example's `"https://…"|null` (a string or null) is read as null"""
    out, title, block = {}, None, None
    with open(os.path.join(itest.ROOT, "docs", "mqtt.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                title = line[4:].strip() if line.startswith("### ") else None
            elif line.startswith("```json") and title and title not in out:
                block = []
            elif line.startswith("```") and block is not None:
                out[title] = json.loads("".join(block).replace('"https://…"|null', "null"))
                block = None
            elif block is not None:
                block.append(line)
    return out


def kind(v):
    return ("null" if v is None else "bool" if isinstance(v, bool) else
            "number" if isinstance(v, (int, float)) else type(v).__name__)


def shape_diff(doc, real, path, by_name=("streamers",)):
    """where the documented value and the published one differ in fields or JSON types (null
    matches anything: the examples show null where a value may be absent); a dict under a key
    of `by_name` maps names to alike objects: each is held to the example's first"""
    if doc is None or real is None:
        return []
    if kind(doc) != kind(real):
        return ["%s: %s documented, %s published" % (path, kind(doc), kind(real))]
    if isinstance(doc, list):
        return shape_diff(doc[0], real[0], path + "[0]") if doc and real else []
    if not isinstance(doc, dict):
        return []
    if path.rsplit(".", 1)[-1] in by_name and doc:
        first = next(iter(doc.values()))
        return [d for k, v in real.items() for d in shape_diff(first, v, "%s.%s" % (path, k), ())]
    out = ["%s.%s: documented, not published" % (path, k) for k in doc if k not in real]
    out += ["%s.%s: published, not documented" % (path, k) for k in real if k not in doc]
    for k in doc:
        if k in real:
            out += shape_diff(doc[k], real[k], "%s.%s" % (path, k))
    return out


def test_mqtt_md_payloads(tmp):
    examples = mqtt_md_examples()
    wanted = {"3.1 `status`": "tiktok/roomy/status", "3.2 `room`": "tiktok/roomy/room",
              "3.3 `state`": "tiktok/roomy/state", "4.1 `bridge/info`": "tiktok/bridge/info",
              "4.2 `bridge/health`": "tiktok/bridge/health"}
    check(set(wanted) <= set(examples), "docs/mqtt.md has an example for each of %s (found %s)"
          % (sorted(wanted), sorted(examples)))
    broker = Broker(tmp)
    broker.up()
    sim, url = scenario_sim(tmp, "payloads")
    cfg = write_config(tmp, "payloads.ini", broker.port, url, ["roomy"])
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write("[bridge]\nhealth_interval = 1\n" + text)
    sub = Sub(tmp, broker.port, "tiktok/#", "payloads.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "payloads.log"), "w"))
    last = {}

    def seen():  # the latest of each topic, once the stream is live and counted
        for line in sub.lines():
            topic, _, payload = line.partition(" ")
            if topic in wanted.values():
                last[topic] = json.loads(payload)
        return (len(last) == len(wanted) and last["tiktok/roomy/status"].get("state") == "live"
                and last["tiktok/bridge/health"]["streamers"].get("roomy", {}).get("events"))
    check(wait_for(seen, LIVE_S + 10), "every documented payload was published while live (%s)"
          % sorted(last))
    stop(br)
    sub.close()
    stop(sim)
    broker.down()
    for title, topic in sorted(wanted.items()):
        if title in examples and topic in last:
            diff = shape_diff(examples[title], last[topic], topic)
            check(not diff, "docs/mqtt.md §%s is what %s carries: %s"
                  % (title.split()[0], topic, "; ".join(diff) or "same fields and types"))


def test_api_reconnect(tmp):
    broker = Broker(tmp)
    broker.up()
    scen = [{"kind": "streamer", "handle": "kicked", "loop": True}]
    scen += [{"t": 0.5 * i, "type": "chat", "text": "tick %d" % i} for i in range(1, 5)]
    scen += [{"kind": "streamer", "handle": "sleeper", "status": "offline"},
             {"kind": "streamer", "handle": "limited",
              "faults": {"sign_status": 429, "retry_after": 42}}]
    sim, url, log = itest.sim(tmp, "kick", [], scen)
    cfg = write_config(tmp, "kick.ini", broker.port, url, ["kicked", "sleeper", "limited"])
    with open(cfg) as f:
        text = f.read().replace("reconnect_min_s = 1\nreconnect_max_s = 2\n",
                                "reconnect_min_s = 30\nreconnect_max_s = 60\n")
    with open(cfg, "w") as f:
        f.write(text)
    sub = Sub(tmp, broker.port, "tiktok/#", "kick.txt")
    br = bridge(cfg, stderr=open(os.path.join(tmp, "kick.err"), "w"))

    def statuses(user):
        return [json.loads(l.partition(" ")[2]) for l in sub.lines()
                if l.startswith("tiktok/%s/status {" % user)]

    def asked_about(user):  # the simulator's HTTP requests about that streamer
        return sum(1 for l in itest.log_lines(log) if l.get("kind") == "http" and
                   l.get("room") == user)
    check(wait_for(lambda: [st["state"] for st in statuses("kicked")][-1:] == ["live"] and
                   [st["state"] for st in statuses("sleeper")][-1:] == ["waiting"], 15),
          "kicked is live, sleeper waiting")
    before, checks = len(statuses("kicked")), asked_about("sleeper")
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                    "tiktok/bridge/request/reconnect", "-m", '{"user":"kicked"}'], timeout=10)
    live_again = wait_for(lambda: [st["state"] for st in statuses("kicked")[before:]][-1:] ==
                          ["live"], 10)
    after = statuses("kicked")[before:]
    check(any(l.startswith('tiktok/bridge/response/reconnect {"status":"ok"')
              for l in sub.lines()), "reconnect answers ok")
    check(live_again, "reconnect: live again at once, not after reconnect_min_s (30 s): %s"
          % [(st["state"], st["error"]) for st in after])
    check(after and after[0]["state"] == "connecting" and
          all(st["error"] is None for st in after),
          "reconnect: connecting, then live, without an error: %s"
          % [(st["state"], st["error"]) for st in after])
    ups = [l for l in itest.log_lines(log) if l.get("kind") == "ws-upgrade"
           and l.get("room") == "kicked"]
    check(len(ups) == 2, "reconnect: a second WebSocket (%d upgrades)" % len(ups))
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                    "tiktok/bridge/request/reconnect", "-m", '{"user":"sleeper"}'], timeout=10)
    check(wait_for(lambda: asked_about("sleeper") > checks, 10),
          "reconnect of a waiting streamer: it checks again at once, not after "
          "live_check_interval (60 s)")
    check(wait_for(lambda: statuses("sleeper")[-1]["state"] == "waiting", 5) and
          all(st["error"] is None for st in statuses("sleeper")),
          "the waiting streamer stays waiting, without an error")
    limited = lambda: (statuses("limited") or [{}])[-1].get("error") or {}
    check(wait_for(lambda: limited().get("code") == "rate_limited", 10),
          "limited waits out the sign server's 429")
    signs = asked_about("limited")
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                    "tiktok/bridge/request/reconnect", "-m", '{"user":"limited"}'], timeout=10)
    check(not wait_for(lambda: asked_about("limited") > signs, 3),
          "reconnect does not cut short a Retry-After of 42 s: no request within 3 s")
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def main():
    return run_tests((test_room_refresh, test_room_once, test_refresh_holds_no_http,
                      test_bombs_leave_no_memory, test_v5_properties, test_mqtt_md_payloads,
                      test_api_reconnect),
                     ("mosquitto", "mosquitto_sub"), "bridge-contract-")


if __name__ == "__main__":
    sys.exit(main())
