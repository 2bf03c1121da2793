#!/usr/bin/env python3
"""The direct path (sign_flow = direct), auto's fallback and the watchdog, through
examples/tt-connect against tiktok-live-sim on loopback (docs/protocol.md "The direct path"):

- the happy path over ws and over wss (a throwaway CA): every event of the timeline once, no
  sign server asked, no im/fetch;
- every parameter of api-live/user/room and of the WebSocket, in order, and every handshake
  header, checked against the tables of docs/protocol.md (read from the document itself);
- a ttwid withheld twice, then issued (ttwid_tries=3); withheld more often than ttwid_tries:
  TT_ERR_NO_TTWID, and auto then falls back to Euler;
- DEVICE_BLOCKED: the device is given up, the reconnect mints another (new ttwid, other
  User-Agent) and connects;
- ttwid_file: a second run reuses the device (no GET /), the file holds token, ua, minted,
  blocked; one that exists but cannot be read is reported and left as it was;
- auto: the edge refuses (not DEVICE_BLOCKED) -> Euler carries the connection; an offline
  streamer is no reason to fall back; after a fallback the reconnect goes to Euler until
  direct_retry_s; a direct socket silent from the start, and two fresh devices blocked in a
  row, fall back too;
- the watchdog: a socket gone silent is closed after stale_timeout_s and the reconnect is up
  within stale_timeout_s + 5 s; every event the simulator sent on an open socket arrives
  exactly once; the same on the Euler flow.
- a quiet room (no event for twice stale_timeout_s) is not silent: one socket to the end;
- api-live answering JSON without data.user: the live page decides (not "not live");

Environment: B (build dir). Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import itest  # noqa: E402
from itest import (ROOT, check, events, log_lines, run_tests,  # noqa: E402
                   stop, wait_for)

DOC = os.path.join(ROOT, "docs", "protocol.md")
CONTROL = ("connected", "disconnected", "websocketConnected", "error")


def start_sim(tmp, name, scenario, tls=None, listen="127.0.0.1:0"):
    return itest.sim(tmp, name, ["--tls", tls[0], tls[1]] if tls else [], scenario, listen)


def room_state(base, handle):
    try:
        with urllib.request.urlopen(base + "/sim/status", timeout=2) as r:
            rooms = json.load(r)["rooms"]
    except (OSError, ValueError, KeyError):
        return None
    return next((x.get("state") for x in rooms if x.get("handle") == handle), None)


def push_of(base):
    return base.replace("https://", "wss://").replace("http://", "ws://")


def tt_connect(handle, base, *opts, timeout=30):
    return itest.tt_connect(handle, base, opts, timeout)


def chats(evs):
    return [e["data"].get("comment") for e in evs if e["event"] == "chat"]


def streamer(handle, room_id, **kw):
    d = {"kind": "streamer", "handle": handle, "room_id": room_id}
    d.update(kw)
    return d


def timeline(n=5, t0=0.3, step=0.2, end=True, tag="c"):
    evs = [{"t": round(t0 + i * step, 2), "type": "chat", "text": "%s%d" % (tag, i)}
           for i in range(n)]
    if end:
        evs.append({"t": round(t0 + n * step + 0.3, 2), "type": "end"})
    return evs


def doc_table(after):
    """The rows (name, value) of the first parameter table after the line containing `after`
    in docs/protocol.md's direct-path section."""
    text = open(DOC).read()
    sec = text[text.index("## The direct path (sign_flow = direct)"):]
    sec = sec[sec.index(after):]
    rows = []
    for line in sec.splitlines()[1:]:
        m = re.match(r"\s*\| (\d+) \| `([^`]+)` \| `([^`]*)` \|", line)
        if m:
            rows.append((m.group(2), m.group(3)))
        elif rows and not line.strip().startswith("|"):
            break
    return rows


def doc_headers():
    text = open(DOC).read()
    sec = text[text.index("## The direct path (sign_flow = direct)"):]
    sec = sec[sec.index("| header | value |"):]
    out = {}
    for line in sec.splitlines()[2:]:
        m = re.match(r"\s*\| `([^`]+)` \| (.*) \|$", line)
        if not m:
            break
        out[m.group(1).lower()] = m.group(2)
    return out


def value_ok(expected, got, ctx):
    if expected == "<room id>":
        return got == ctx["room_id"]
    if expected == "<handle>":
        return got == ctx["handle"]
    if expected == "<country code>":
        return re.fullmatch(r"[A-Z]{2}", got or "") is not None
    if expected == "<IANA zone>":
        return re.fullmatch(r"[A-Za-z_]+/[A-Za-z_]+", got or "") is not None
    if expected == "<100.000..200.000>":
        return re.fullmatch(r"1\d\d\.\d{3}", got or "") is not None
    return got == expected


def check_params(line, rows, ctx, what):
    keys = line.get("keys", [])
    check(keys[:len(rows)] == [r[0] for r in rows],
          "%s: the parameters of docs/protocol.md, in order: %s" % (what, keys))
    for name, expected in rows:
        got = line["query"].get(name)
        check(value_ok(expected, got, ctx), "%s: %s=%r (docs/protocol.md: %s)"
              % (what, name, got, expected))


def test_happy(tmp):
    for tls in (False, True):
        tag = "wss" if tls else "ws"
        cert = None
        opts = ["sign_flow=direct"]
        if tls:
            key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                            key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1,DNS:localhost"], capture_output=True)
            cert = (crt, key)
            opts.append("ca_file=" + crt)
        room = "7100000000000000001"
        sim, base, log = start_sim(tmp, "happy-" + tag,
                                   [streamer("dana", room)] + timeline(6), tls=cert)
        check(base is not None, "%s: the simulator starts" % tag)
        check(base and push_of(base).startswith(tag + "://"), "%s: push_base %s" % (tag, base))
        rc, out, err, _ = tt_connect("dana", base, *opts)
        evs = events(out)
        names = [e["event"] for e in evs]
        check(rc == 0, "%s: tt-connect ends cleanly after the stream: rc=%s %s"
              % (tag, rc, err[-300:]))
        check(names[:2] == ["websocketConnected", "connected"],
              "%s: control events first: %s" % (tag, names[:3]))
        check(chats(evs) == ["c%d" % i for i in range(6)],
              "%s: every chat once, in order: %s" % (tag, chats(evs)))
        check("streamEnd" in names, "%s: the stream end arrives" % tag)
        check("flow direct: sign_flow = direct" in err, "%s: tt_client_flow says direct: %s"
              % (tag, err[-200:]))
        lines = log_lines(log)
        paths = [l.get("path", "") for l in lines if l.get("kind") == "http"]
        check("/" in paths and any(p.startswith("/api-live/user/room") for p in paths),
              "%s: GET / and api-live were asked: %s" % (tag, paths))
        check(not any("/connect" in p or "im/fetch" in p or "sign_url" in p for p in paths),
              "%s: no sign server, no im/fetch: %s" % (tag, paths))
        ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
        check(len(ups) == 1 and ups[0].get("direct") and "refused" not in ups[0],
              "%s: one direct upgrade, accepted" % tag)
        # what the client sent, logged as it arrived (the ws-close line may come after
        # tt-connect has exited)
        sent = [l.get("type") for l in lines if l.get("kind") == "ws-in"]
        check("im_enter_room" in sent and "hb" in sent,
              "%s: enter-room and a heartbeat at open: %s" % (tag, sent[:4]))
        if not tls:
            test_requests(lines, room)
        stop(sim)


def test_requests(lines, room):
    """Every parameter and header of the direct path against docs/protocol.md."""
    ctx = {"room_id": room, "handle": "dana"}
    home = [l for l in lines if l.get("kind") == "http" and l.get("path") == "/"]
    api = [l for l in lines if l.get("kind") == "http" and
           l.get("path", "").startswith("/api-live/user/room")]
    up = [l for l in lines if l.get("kind") == "ws-upgrade"]
    if not (home and api and up):
        check(False, "requests: GET /, api-live and the upgrade are in the log")
        return
    ttwid = home[0].get("ttwid")
    ua = home[0]["headers"].get("user-agent", "")
    check(ttwid and ua.startswith("Mozilla/5.0 ("), "GET /: a browser User-Agent, a ttwid issued")
    rows = doc_table("**Room id**")
    check(len(rows) == 10, "docs/protocol.md lists the 10 api-live parameters (%d)" % len(rows))
    check_params(api[0], rows, ctx, "api-live")
    check(api[0]["headers"].get("referer") == "https://www.tiktok.com/",
          "api-live: Referer https://www.tiktok.com/")
    check(api[0]["headers"].get("user-agent") == ua, "api-live: the device's User-Agent")
    info = [l for l in lines if l.get("kind") == "http" and
            l.get("path", "").startswith("/webcast/room/info")]
    check(info and info[0]["headers"].get("user-agent") == ua,
          "room/info: the device's User-Agent too")
    rows = doc_table("**WebSocket** straight to the push edge")
    check(len(rows) == 28, "docs/protocol.md lists the 28 WebSocket parameters (%d)" % len(rows))
    u = up[0]
    check(u["path"] == "/webcast/im/ws_proxy/ws_reuse_supplement/",
          "ws: the path /webcast/im/ws_proxy/ws_reuse_supplement/: %s" % u["path"])
    check_params(u, rows, ctx, "ws")
    check(len(u["keys"]) == len(rows) and "cursor" not in u["query"] and
          "internal_ext" not in u["query"], "ws: nothing more, no cursor, no internal_ext")
    hdr = u["headers"]
    doc = doc_headers()
    check(set(doc) == {"user-agent", "cookie", "origin", "referer", "accept-language",
                       "cache-control"}, "docs/protocol.md lists the six headers: %s" % doc)
    check(hdr.get("user-agent") == ua, "ws: User-Agent is the device's")
    check(hdr.get("cookie") == "ttwid=" + ttwid, "ws: Cookie ttwid=<token>: %s" % hdr.get("cookie"))
    for name in ("origin", "referer", "accept-language", "cache-control"):
        want = re.sub(r"`", "", doc.get(name, ""))
        check(hdr.get(name) == want, "ws: %s %r (docs/protocol.md: %r)"
              % (name, hdr.get(name), want))


def test_ttwid_withheld(tmp):
    scen = [{"kind": "sim", "ttwid_withhold": 2}, streamer("erin", "7100000000000000002")]
    sim, base, log = start_sim(tmp, "withheld", scen + timeline(3))
    rc, out, err, _ = tt_connect("erin", base, "sign_flow=direct", "ttwid_tries=3")
    homes = [l for l in log_lines(log) if l.get("kind") == "http" and l.get("path") == "/"]
    check(rc == 0 and chats(events(out)) == ["c0", "c1", "c2"],
          "withheld twice, then issued: connects, every chat (rc=%s %s)" % (rc, err[-200:]))
    check(len(homes) == 3 and [bool(h.get("ttwid")) for h in homes] == [False, False, True],
          "GET / three times, the third one set the ttwid: %s"
          % [bool(h.get("ttwid")) for h in homes])
    stop(sim)
    scen = [{"kind": "sim", "ttwid_withhold": 10}, streamer("erin", "7100000000000000002")]
    sim, base, log = start_sim(tmp, "withheld2", scen + timeline(3))
    rc, out, err, _ = tt_connect("erin", base, "sign_flow=direct", "ttwid_tries=2")
    homes = [l for l in log_lines(log) if l.get("kind") == "http" and l.get("path") == "/"]
    check(rc not in (0, None) and "TikTok issued no ttwid" in err and len(homes) == 2,
          "withheld past ttwid_tries=2: TT_ERR_NO_TTWID after 2 tries: %s" % err.strip()[-200:])
    check(not any(l.get("kind") == "ws-upgrade" for l in log_lines(log)),
          "no ttwid: no WebSocket tried")
    rc, out, err, _ = tt_connect("erin", base, "sign_flow=auto", "ttwid_tries=1")
    lines = log_lines(log)
    check(rc == 0 and chats(events(out)) == ["c0", "c1", "c2"] and
          any("/webcast/rooms/" in l.get("path", "") for l in lines),
          "auto with no ttwid: Euler carries it (rc=%s %s)" % (rc, err[-200:]))
    check("flow euler: auto: fell back to euler (no ttwid" in err,
          "auto says why it fell back: %s" % err.strip()[-240:])
    stop(sim)


def test_device_blocked(tmp):
    scen = [streamer("fay", "7100000000000000003", faults={"device_blocked": 1})]
    sim, base, log = start_sim(tmp, "blocked", scen + timeline(4, t0=1.0))
    rc, out, err, _ = tt_connect("fay", base, "sign_flow=direct", "reconnect=2")
    lines = log_lines(log)
    ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
    homes = [l for l in lines if l.get("kind") == "http" and l.get("path") == "/"]
    check(rc == 0 and chats(events(out)) == ["c0", "c1", "c2", "c3"],
          "DEVICE_BLOCKED, then a reconnect with a new device: every chat (rc=%s %s)"
          % (rc, err[-300:]))
    check("DEVICE_BLOCKED" in err and "reconnecting" in err,
          "tt-connect saw TT_ERR_DEVICE_BLOCKED and reconnected: %s" % err.strip()[-300:])
    check(len(ups) == 2 and ups[0].get("refused") == 415 and "refused" not in ups[1],
          "the first upgrade refused 415, the second accepted: %s"
          % [(u.get("refused"), u.get("refused_why")) for u in ups])
    check(len(homes) == 2 and homes[0].get("ttwid") != homes[1].get("ttwid"),
          "a second ttwid was minted")
    if len(ups) == 2 and len(homes) == 2:
        ua = [h["headers"].get("user-agent") for h in homes]
        check(ua[0] != ua[1], "the new device has another User-Agent: %s" % ua)
        check(ups[1].get("ttwid") == homes[1].get("ttwid") and
              ups[1]["headers"].get("user-agent") == ua[1],
              "the reconnect uses the new ttwid with its own User-Agent")
    stop(sim)


def test_persistence(tmp):
    path = os.path.join(tmp, "devices.jsonl")
    scen = [streamer("gus", "7100000000000000004"),
            {"t": 0.3, "type": "chat", "text": "x"}, {"t": 0.8, "type": "end"}]
    sim, base, log = start_sim(tmp, "persist", scen)
    rc1, out1, err1, _ = tt_connect("gus", base, "sign_flow=direct", "ttwid_file=" + path)
    stop(sim)
    try:
        rows = [json.loads(l) for l in open(path)]
    except (OSError, ValueError):
        rows = []
    check(rc1 == 0 and len(rows) == 1 and set(rows[0]) == {"token", "ua", "minted", "blocked"},
          "ttwid_file: one line with token, ua, minted, blocked: %s %s" % (rows, err1[-200:]))
    homes1 = [l for l in log_lines(log) if l.get("kind") == "http" and l.get("path") == "/"]
    check(rows and homes1 and rows[0]["token"] == homes1[0].get("ttwid") and
          rows[0]["blocked"] is False and abs(rows[0]["minted"] - time.time()) < 60,
          "the file holds the token GET / issued, minted now, not blocked")
    # a restart of the "process" (a new tt-connect) against the same edge: no new device
    sim, base2, log2 = start_sim(tmp, "persist2", scen, listen=base.split("//")[1])
    check(base2 == base, "the simulator restarts on the same address")
    # the simulator restarted too and forgot its tokens: the edge refuses the old one,
    # which is what TikTok would do with a token it no longer honours -> a new device
    rc2, out2, err2, _ = tt_connect("gus", base, "sign_flow=direct", "ttwid_file=" + path,
                                    "reconnect=1")
    lines = log_lines(log2)
    ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
    check(ups and rows and ups[0].get("ttwid") == rows[0]["token"],
          "restart: the first upgrade reuses the saved ttwid without asking GET / first")
    check(ups and ups[0].get("refused_why") == "unknown ttwid" and rc2 == 0,
          "an edge that does not know it refuses it; the reconnect mints anew and connects")
    try:
        rows2 = [json.loads(l) for l in open(path)]
    except (OSError, ValueError):
        rows2 = []
    check(len(rows2) == 2 and rows2[0]["blocked"] is True and rows2[1]["blocked"] is False,
          "the refused device is kept as blocked, the new one beside it: %s"
          % [r.get("blocked") for r in rows2])
    stop(sim)
    # and against an edge that still knows the token (same simulator): GET / is not asked
    scen = [streamer("gus", "7100000000000000004"), {"t": 0.3, "type": "chat", "text": "y"},
            {"t": 0.8, "type": "end", "relive_after": 0.2},
            {"t": 0.3, "type": "chat", "text": "z"}, {"t": 0.8, "type": "end"}]
    sim, base, log3 = start_sim(tmp, "persist3", scen)
    rc3, _, err3, _ = tt_connect("gus", base, "sign_flow=direct", "ttwid_file=" + path + ".3")
    check(rc3 == 0 and wait_for(lambda: room_state(base, "gus") == "live", 5),
          "the streamer is live again for the second run (%s)" % err3[-200:])
    rc4, out4, err4, _ = tt_connect("gus", base, "sign_flow=direct", "ttwid_file=" + path + ".3")
    lines = log_lines(log3)
    homes = [l for l in lines if l.get("kind") == "http" and l.get("path") == "/"]
    ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
    check(len(homes) == 1 and len(ups) == 2 and ups[0].get("ttwid") == ups[1].get("ttwid"),
          "the second run reuses the saved device: one GET / for two connections (%d, %d)"
          % (len(homes), len(ups)))
    stop(sim)


def test_ttwid_file_unreadable(tmp):
    """a ttwid_file that exists but cannot be read (a directory: even root fails) is reported
    through the log callback and left as it was; the connection goes on with a device minted
    into memory (another user's file, which the old pool replaced: test_connector)"""
    path = os.path.join(tmp, "unreadable-ttwid")
    os.mkdir(path)
    with open(os.path.join(path, "kept"), "w") as f:
        f.write("precious\n")
    sim, base, log = start_sim(tmp, "unread", [streamer("uma", "7100000000000000009")] +
                               timeline(2, tag="u"))
    rc, out, err, _ = tt_connect("uma", base, "sign_flow=direct", "ttwid_file=" + path)
    stop(sim)
    check(rc == 0 and chats(events(out)) == ["u0", "u1"],
          "an unreadable ttwid_file: connected on a device kept in memory (%s)" % err[-300:])
    want = "cannot read ttwid_file %s (Is a directory), so it is not replaced" % path
    check(want in err, "the log callback says so: %s" % err[-300:])
    check(os.listdir(path) == ["kept"] and
          open(os.path.join(path, "kept")).read() == "precious\n" and
          not [f for f in os.listdir(tmp) if f.startswith("unreadable-ttwid.")],
          "the path is left as it was, no temporary file beside it")


def test_auto_fallback(tmp):
    scen = [streamer("hal", "7100000000000000005",
                     faults={"direct_handshake": "417 illegal app_id"}),
            streamer("ivy", "7100000000000000006", status="offline"),
            streamer("jay", "7100000000000000007",
                     faults={"direct_handshake": "417 illegal app_id"})]
    sim, base, log = start_sim(tmp, "auto", scen + [
        {"t": 0.3, "type": "chat", "text": "a", "room": "hal"},
        {"t": 0.6, "type": "chat", "text": "b", "room": "hal"},
        {"t": 1.0, "type": "end", "room": "hal"},
        {"t": 0.3, "type": "chat", "text": "c", "room": "jay"},
        {"t": 1.0, "type": "end", "room": "jay"}])
    rc, out, err, _ = tt_connect("hal", base)  # the default flow: auto
    lines = log_lines(log)
    ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
    check(rc == 0 and chats(events(out)) == ["a", "b"],
          "auto: the edge refuses, Euler carries the connection (rc=%s %s)" % (rc, err[-300:]))
    check(len(ups) == 2 and ups[0].get("direct") and ups[0].get("refused") == 417 and
          not ups[1].get("direct") and "refused" not in ups[1],
          "a refused direct upgrade, then a signed one: %s"
          % [(u.get("direct"), u.get("refused")) for u in ups])
    check(any(re.match(r"/webcast/rooms/\d+/connect", l.get("path", "")) for l in lines),
          "the sign server's connect was asked")
    check("flow euler: auto: fell back to euler (TikTok refused the WebSocket: illegal app_id)"
          in err and "direct again in" in err, "tt_client_flow says why: %s" % err[-300:])
    # with a session id, auto falls back to the session (an unsigned im/fetch with the
    # sessionid cookie), not to the sign server
    before = len(log_lines(log))
    rc, out, err, _ = tt_connect("jay", base, "session_id=abc123sessionid")
    lines = log_lines(log)[before:]
    fetches = [l for l in lines if l.get("path", "").endswith("/im/fetch/")]
    check(rc == 0 and chats(events(out)) == ["c"] and "fell back to session" in err and fetches and
          "sessionid=abc123sessionid" in fetches[0].get("headers", {}).get("cookie", "") and
          not any(re.match(r"/webcast/rooms/\d+/connect", l.get("path", "")) for l in lines),
          "auto with a session id falls back to the session, not the sign server (rc=%s %s)"
          % (rc, err[-200:]))
    before = len(log_lines(log))
    rc, out, err, _ = tt_connect("ivy", base, "sign_flow=auto")
    lines = log_lines(log)[before:]
    check(rc not in (0, None) and "not live" in err, "auto, offline streamer: offline: %s"
          % err.strip()[-160:])
    check(not any("/webcast/rooms/" in l.get("path", "") for l in lines) and
          "fell back" not in err, "offline is no reason to fall back")
    stop(sim)


def upgrades(log, since=0):
    return [("direct" if u.get("direct") else "signed", u.get("refused"))
            for u in log_lines(log)[since:] if u.get("kind") == "ws-upgrade"]


def test_auto_more(tmp):
    """direct_retry_s; a direct socket silent from the start; fresh devices blocked twice."""
    scen = [streamer("kim", "7100000000000000008",
                     faults={"direct_handshake": "417 illegal app_id", "drop_after": 2})]
    scen += timeline(8, t0=0.3, step=0.3)
    sim, base, log = start_sim(tmp, "retry", scen)
    rc, out, err, _ = tt_connect("kim", base, "reconnect=1")
    check(upgrades(log) == [("direct", 417), ("signed", None), ("signed", None)],
          "auto after a fallback: the reconnect goes to Euler at once (direct_retry_s 3600): %s"
          % upgrades(log))
    stop(sim)
    sim, base, log = start_sim(tmp, "retry0", scen)
    rc, out, err, _ = tt_connect("kim", base, "reconnect=1", "direct_retry_s=0")
    check(upgrades(log) == [("direct", 417), ("signed", None), ("direct", 417), ("signed", None)],
          "direct_retry_s=0: the reconnect tries direct again first: %s" % upgrades(log))
    stop(sim)
    scen = [streamer("lou", "7100000000000000009", faults={"silent": True})]
    sim, base, log = start_sim(tmp, "silent", scen)
    rc, out, err, _ = tt_connect("lou", base, "stale_timeout_s=1", "reconnect=1")
    check(upgrades(log) == [("direct", None), ("signed", None)],
          "auto: a direct socket silent from the start -> the reconnect uses Euler: %s"
          % upgrades(log))
    check("fell back to euler (WebSocket: no frame for 1 s" in err,
          "... and says so: %s" % err.strip()[-300:])
    stop(sim)
    scen = [streamer("max", "7100000000000000010", faults={"device_blocked": 5})]
    sim, base, log = start_sim(tmp, "fresh", scen + timeline(3, t0=0.5))
    rc, out, err, _ = tt_connect("max", base, "reconnect=2")
    check(upgrades(log) == [("direct", 415), ("direct", 415), ("signed", None)],
          "auto: two fresh devices blocked in a row -> Euler: %s" % upgrades(log))
    check(rc == 0 and chats(events(out)) == ["c0", "c1", "c2"],
          "... which carries the stream (rc=%s %s)" % (rc, err[-200:]))
    stop(sim)


def test_quiet_room(tmp):
    """A live room with nothing to say for longer than stale_timeout_s: the heartbeats (10 s by
    default) go at least twice per window, their answers keep the socket, and the watchdog
    does not close it (it did every stale_timeout_s, each reconnect a new signature)."""
    scen = [streamer("zen", "7100000000000000011"),
            {"t": 0.3, "type": "chat", "text": "hello"},
            {"t": 9.0, "type": "chat", "text": "still here"}, {"t": 9.5, "type": "end"}]
    for flow in ("euler", "direct"):
        sim, base, log = start_sim(tmp, "quiet-" + flow, scen)
        rc, out, err, dt = tt_connect("zen", base, "sign_flow=" + flow, "stale_timeout_s=4",
                                      "reconnect=3", timeout=40)
        evs = events(out)
        opens = [l for l in log_lines(log) if l.get("kind") == "ws-open"]
        check(rc == 0 and chats(evs) == ["hello", "still here"] and len(opens) == 1 and
              "no frame for" not in err,
              "%s: a quiet room for 8.7 s, stale_timeout_s=4: one socket to the end (%d "
              "opened, rc=%s, %s)" % (flow, len(opens), rc, err.strip()[-160:]))
        stop(sim)


def test_api_live_unknown(tmp):
    """api-live answers JSON that says nothing about the user ({}: a block in JSON, a changed
    shape): the live page decides, as after an HTTP error. It said "not live", so auto left a
    live streamer waiting for good (offline is no reason to fall back)."""
    sim_base = [None]

    def answer(path, hdrs):  # api-live answers {}; the rest (the ttwid, the page) is the sim's
        if path.startswith("/api-live/"):
            return 200, [], b"{}"
        req = urllib.request.Request(sim_base[0] + path, headers={
            k: v for k, v in hdrs.items() if k.lower() in ("cookie", "user-agent")})
        with urllib.request.urlopen(req, timeout=5) as r:
            return (r.status, [(k, v) for k, v in r.getheaders() if k.lower() == "set-cookie"],
                    r.read())

    srv, web = itest.start_http(answer)
    for flow in ("direct", "auto"):  # a room per run: its timeline ends with the first
        sim, sim_base[0], log = start_sim(tmp, "api-live-unknown-" + flow,
                                          [streamer("ivy", "7100000000000000012")] + timeline(2))
        rc, out, err, _ = tt_connect("ivy", sim_base[0], "web_base=" + web, "sign_flow=" + flow)
        check(rc == 0 and chats(events(out)) == ["c0", "c1"] and "not live" not in err,
              "%s: api-live answers {}: the live page finds the room (rc=%s %s)"
              % (flow, rc, err.strip()[-200:]))
        stop(sim)
    srv.shutdown()
    srv.server_close()


def watchdog_run(tmp, name, flow):
    """chats before a silence of 3 s and after it; stale_timeout_s=2: the watchdog closes the
    first socket about 2 s into the silence, the second one opens while it lasts and sees the
    chats after it."""
    scen = [streamer("jo", "7100000000000000007")]
    scen += [{"t": 0.3 + 0.2 * i, "type": "chat", "text": "b%d" % i} for i in range(3)]
    scen += [{"t": 1.2, "type": "silence", "seconds": 3}]
    scen += [{"t": 4.5 + 0.2 * i, "type": "chat", "text": "a%d" % i} for i in range(3)]
    scen += [{"t": 5.5, "type": "end"}]
    sim, base, log = start_sim(tmp, name, scen)
    rc, out, err, dt = tt_connect("jo", base, "sign_flow=" + flow, "stale_timeout_s=2",
                                  "reconnect=3", timeout=40)
    lines = log_lines(log)
    evs = events(out)
    names = [e["event"] for e in evs]
    disc = [e for e in evs if e["event"] == "disconnected"]
    check(disc and "no frame for 2 s" in disc[0]["data"].get("message", ""),
          "%s: the silent socket is closed by the watchdog: %s" % (flow, disc[:1]))
    check("no frame for 2 s" in err and "reconnecting" in err,
          "%s: TT_ERR_STALE, and tt-connect reconnects: %s" % (flow, err.strip()[-200:]))
    silence = [l["t"] for l in lines if l.get("kind") == "fault" and l.get("fault") == "silence"]
    opens = [l["t"] for l in lines if l.get("kind") == "ws-open"]
    closes = [l for l in lines if l.get("kind") == "ws-close"]
    ok = silence and len(opens) >= 2 and (opens[1] - silence[0]) / 1000.0 <= 2 + 5
    check(ok, "%s: reconnected within stale_timeout_s + 5 s of the silence: %s"
          % (flow, [(o - silence[0]) / 1000.0 for o in opens[1:]] if silence else "no silence"))
    check(closes and closes[0]["answers"] >= 1 and closes[0]["ms"] >= 2000,
          "%s: the first socket had answers before the silence and lived >= 2 s: %s"
          % (flow, closes[:1]))
    want = ["b0", "b1", "b2", "a0", "a1", "a2"]
    check(chats(evs) == want, "%s: every chat sent on an open socket exactly once: %s"
          % (flow, chats(evs)))
    check(rc == 0 and names.count("connected") == 2,
          "%s: two connections, a clean end (rc=%s)" % (flow, rc))
    stop(sim)


def test_watchdog(tmp):
    watchdog_run(tmp, "watchdog-direct", "direct")
    watchdog_run(tmp, "watchdog-euler", "euler")


def main():
    return run_tests([test_happy, test_ttwid_withheld, test_device_blocked, test_persistence,
                      test_ttwid_file_unreadable, test_auto_fallback, test_auto_more, test_watchdog, test_quiet_room,
                      test_api_live_unknown], tools=("openssl",),
                     keep_prefix="direct-")


if __name__ == "__main__":
    sys.exit(main())
