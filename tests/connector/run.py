#!/usr/bin/env python3
"""libtiktok's connection against tiktok-live-sim on loopback, through examples/tt-connect.

- happy path: the v3 oracle corpus replayed, every event equal to what 1.2.3 emits for those
  frames (our comparator), over plain http/ws and over https/wss with a throwaway CA;
- the three sign flows (euler, legacy, session) and request polling, checked in the
  simulator's request log: every parameter and header of every request against
  docs/protocol.md (live page, api-live, room/info, gift/list, the Euler connect with its
  key, 1.x's sign_url and the signed im/fetch, the WebSocket URL and handshake), cookies
  (session, tt-target-idc, the signer's), client_params / request_headers /
  websocket_headers over the defaults, enter-room, heartbeats, acks;
- the heartbeat interval from the server's Handshake-Options ping-interval, else 10 s;
- a dropped socket and a reconnect by the caller on the same client: the new connection's
  backlog repeats recent msgIds, and every event still arrives exactly once;
- once the WebSocket is open the client holds no HTTP connection;
- every fault of contrib/sim/scenarios/faults.jsonl gives its documented error;
- the sign server's Retry-After as seconds, as a date, and as neither (none, never a wrap);
- TikTok's 429 on a poll: the next poll waits its Retry-After, no reconnect;
- a captcha live page and a failing api-live: the page's error, with its own message;
- the sign server's X-Room-Id is taken only when it is a room id;
- garbage frames cost themselves: the connection goes on;
- through an http:// proxy (CONNECT tunnels), and SOCKS5 refused for the WebSocket;
- the happy path under valgrind shows no leak.

Environment: B (build dir). Bounded waits, everything started is stopped; ends with
`N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import itest  # noqa: E402
from itest import (B, CORPUS, ROOT, check, clean_env, compare, events, finish,  # noqa: E402
                   kill_all, log_lines, stop)

FAULTS = os.path.join(ROOT, "contrib", "sim", "scenarios", "faults.jsonl")
EVERY = os.path.join(ROOT, "contrib", "sim", "scenarios", "every-event.jsonl")


def start_sim(tmp, name, args):
    return itest.sim(tmp, name, args)


def tt_connect(handle, base, *opts, timeout=20):
    # sign_flow=euler: these are the signed flows' tests (the default, auto, goes direct first:
    # tests/connector/direct.py); a later sign_flow= in opts wins
    return itest.tt_connect(handle, base, ["sign_flow=euler"] + list(opts), timeout)[:3]


def test_happy_path(tmp, tls=False):
    args = ["--replay", CORPUS]
    opts = []
    if tls:
        key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"], capture_output=True)
        args += ["--tls", crt, key]
        opts = ["ca_file=" + crt]
    sim, base, log = start_sim(tmp, "happy-tls" if tls else "happy", args)
    check(base is not None, "simulator starts" + (" with TLS" if tls else ""))
    if tls:  # verification is on: the sim's certificate is no CA's (the replay is not touched)
        rc, out, err = tt_connect("the_host", base)
        check(rc not in (0, None) and "certificate" in err and "not OK" in err and
              "connected" not in [e["event"] for e in events(out)],
              "TLS: an unknown certificate is refused without ca_file: %s" % err.strip()[-160:])
    rc, out, err = tt_connect("the_host", base, *opts)
    evs = events(out)
    names = [e["event"] for e in evs]
    tag = " (TLS)" if tls else ""
    check(rc == 0, "tt-connect ends cleanly after the stream%s: rc=%s %s" % (tag, rc, err[-200:]))
    check(names[:2] == ["websocketConnected", "connected"], "control events first%s: %s" % (tag, names[:4]))
    check(names[-1] == "disconnected", "disconnected last%s" % tag)
    check(compare(tmp, evs, "happy%s.jsonl" % ("-tls" if tls else "")),
          "events equal 1.2.3's for the same frames%s" % tag)
    if tls:  # the replay is over: the room is offline, but TLS no longer stands in the way
        rc, out, err = tt_connect("the_host", base, "allow_insecure=true")
        check("allow_insecure is set" in err and "not OK" not in err and
              "not live" in err, "TLS: allow_insecure skips verification, with a "
              "warning: %s" % err.strip()[-200:])
    sim.terminate()
    sim.wait(5)
    return log


def test_request_log(log):
    lines = log_lines(log)
    kinds = [l.get("kind") or l.get("type") for l in lines]
    text = json.dumps(lines)
    check(any("connect" in json.dumps(l) and "/webcast/rooms/" in json.dumps(l) for l in lines),
          "euler: the sign server's /webcast/rooms/{id}/connect was asked")
    check("im_enter_room" in text, "the client sent im_enter_room")
    check('"hb"' in text or "heartbeat" in text, "the client sent a heartbeat")
    check('"ack"' in text, "the client acked frames that asked for it")
    check("user-agent" in text.lower() or "User-Agent" in text, "requests carry a User-Agent")
    check(len(kinds) > 3, "the request log has the client's requests")


def test_flows(tmp):
    for flow, extra in (("legacy", []), ("session", ["session_id=s3cr3t-session"])):
        sim, base, log = start_sim(tmp, "flow-" + flow, ["--replay", CORPUS,
                                                         "--no-signature-check"])
        rc, out, err = tt_connect("the_host", base, "sign_flow=" + flow, *extra)
        evs = events(out)
        check(rc == 0 and compare(tmp, evs, "flow-%s.jsonl" % flow),
              "sign_flow=%s: every event (rc=%s %s)" % (flow, rc, err[-200:]))
        text = json.dumps(log_lines(log))
        if flow == "legacy":
            check("sign_url" in text, "legacy: the sign_url endpoint was asked")
        else:
            check("sessionid=s3cr3t-session" in text, "session: the sessionid cookie was sent")
            check("sign_url" not in text and "/connect" not in text,
                  "session: no sign server at all")
        sim.terminate()
        sim.wait(5)


def test_polling(tmp):
    """No WebSocket: im/fetch every request_polling_interval_ms (1.x needs a session for it).
    The every-event room once over the WebSocket and once polling, each on a simulator of its
    own (a fresh timeline), side by side: the same events, msgIds and order, each once."""
    import threading
    control = ("connected", "disconnected", "websocketConnected", "error")
    runs = {}

    def run(name, *opts):
        sim, base, log = start_sim(tmp, name, ["--scenario", EVERY])
        rc, out, err = (None, "", "no simulator") if base is None else tt_connect(
            "conf_host", base, "sign_flow=session", "session_id=x", *opts, timeout=30)
        sim.terminate()
        sim.wait(5)
        runs[name] = (rc, events(out), err, log)

    threads = [threading.Thread(target=run, args=("poll-ws",)),
               threading.Thread(target=run, args=("poll", "enable_websocket_upgrade=false",
                                                  "request_polling_interval_ms=100"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seqs = {}
    for name, (rc, evs, err, log) in runs.items():
        check(rc == 0, "%s: tt-connect ends with the stream (rc=%s %s)" % (name, rc, err[-200:]))
        seqs[name] = [(e["event"], e["data"].get("comment"), e["data"].get("giftId"),
                       e["data"].get("msgId")) for e in evs if e["event"] not in control]
    rc, evs, err, log = runs["poll"]
    connected = [e for e in evs if e["event"] == "connected"]
    check(connected and connected[0]["data"]["upgradedToWebsocket"] is False,
          "polling: connected without the WebSocket")
    ws, po = seqs["poll-ws"], seqs["poll"]
    check(len(ws) > 30 and ws[-1][0] == "streamEnd",
          "websocket: the whole timeline up to streamEnd (%d events)" % len(ws))
    check(po == ws, "polling: the same events, msgIds and order as the WebSocket (%d vs %d)%s"
          % (len(po), len(ws), "" if po == ws else ": first difference %r" % (
              next(((a, b) for a, b in zip(po + [None] * len(ws), ws + [None] * len(po))
                    if a != b), None),)))
    ids = [(k[0], k[3]) for k in po if k[3] not in (None, "0")]  # follow: social + follow
    check(len(ids) == len(set(ids)), "polling: no event with a msgId twice")
    check([k[1] for k in po if k[1] == "from the backlog"] == ["from the backlog"],
          "polling: the backlog once")
    fetches = [l for l in log_lines(log) if "/webcast/im/fetch/" in json.dumps(l)]
    check(len(fetches) >= 5, "polling: im/fetch asked again and again (%d)" % len(fetches))
    check(all((l.get("query") or {}).get("cursor") for l in fetches[1:]),
          "polling: every poll carries the cursor")
    for l in fetches[1:3]:  # and 1.x's client parameters, like the first fetch (§3.5)
        params_ok(l["query"], HTTP_PARAMS, HTTP_PARAMS_2X, DEFAULT_UA,
                  {"room_id": lambda v: v.isdigit(), "cursor": lambda v: v != "",
                   "internal_ext": lambda v: v != ""}, {}, "polling im/fetch")


def test_polling_rate_limited(tmp):
    """TikTok's 429 on a poll: the next poll waits its Retry-After (the simulator's request
    log, not a sleep, says when each came), each is an error event rate_limited with the wait,
    five in a row do not reconnect (they are no failures), and polling resumes at its interval
    with every event."""
    limited, wait_s = 5, 1
    scen = [{"kind": "sim", "seed": 3}, {"kind": "viewer", "handle": "tester"},
            {"kind": "streamer", "handle": "slowdown",
             "faults": {"poll_limited": limited, "retry_after": wait_s}}]
    scen += [{"t": 0.2 + 0.1 * i, "type": "chat", "user": "tester", "text": "chat %d" % i}
             for i in range(3)] + [{"t": 0.8, "type": "end"}]
    sim, base, log = itest.sim(tmp, "poll429", [], scen)
    rc, out, err = tt_connect("slowdown", base, "sign_flow=session", "session_id=x",
                              "enable_websocket_upgrade=false", "request_polling_interval_ms=100",
                              timeout=40)
    sim.terminate()
    sim.wait(5)
    evs = events(out)
    names = [e["event"] for e in evs]
    check(rc == 0 and names.count("connected") == 1 and "streamEnd" in names,
          "poll 429: one connection to the stream's end, no reconnect (rc=%s %s)"
          % (rc, err.strip()[-200:]))
    check([e["data"]["comment"] for e in evs if e["event"] == "chat"] ==
          ["chat %d" % i for i in range(3)], "poll 429: every chat once, after the wait")
    errs = [e["data"] for e in evs if e["event"] == "error"]
    want = "polling im/fetch: rate limited, retry after %ds" % wait_s
    check(len(errs) == limited and all(
          e["code"] == "rate limited (sign server or im/fetch)" and want in e["exception"]
          for e in errs), "poll 429: an error event rate_limited with the wait for each: %s"
          % errs[:2])
    polls = [l for l in log_lines(log) if l.get("path") == "/webcast/im/fetch/" and
             (l.get("query") or {}).get("cursor")]
    statuses = [l["status"] for l in polls]
    check(statuses[:limited] == [429] * limited and statuses[limited:limited + 3] == [200] * 3,
          "poll 429: %d polls refused, then polling resumes (%s)" % (limited, statuses[:10]))
    gaps = [b["t"] - a["t"] for a, b in zip(polls, polls[1:])]
    check(all(g >= wait_s * 1000 - 1 for g in gaps[:limited]),  # 1 ms: clocks truncate to ms
          "poll 429: no poll before Retry-After %d s (gaps %s ms)" % (wait_s, gaps[:limited]))
    # each wait adds 0 to 100 ms of its own: all five within 5 ms of the second has a chance
    # of (6/101)^5, under one in a million
    check(max(gaps[:limited] or [0]) > wait_s * 1000 + 5,
          "poll 429: the waits are jittered, not all exactly Retry-After (gaps %s ms)"
          % gaps[:limited])
    check(gaps[limited:limited + 2] and all(g < 900 for g in gaps[limited:limited + 2]),
          "poll 429: then back at request_polling_interval_ms (gaps %s ms)"
          % gaps[limited:limited + 2])


# ---- the requests, parameter by parameter (§ numbers: docs/protocol.md) ----------------------

DEFAULT_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/129.0.0.0 Safari/537.36")
SIGN_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")  # what the simulator's 1.x signer hands out

# The headers of every request to TikTok: 1.x's set plus 2.x's Sec-Fetch ones (§3.1).
TIKTOK_HEADERS = {
    "connection": "keep-alive", "cache-control": "max-age=0",
    "accept": "text/html,application/json,application/protobuf",
    "referer": "https://www.tiktok.com/", "origin": "https://www.tiktok.com",
    "accept-language": "en-US,en;q=0.9", "accept-encoding": "gzip, deflate",
    "sec-fetch-site": "same-site", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty",
    "sec-fetch-ua-mobile": "?0",
}

# The client parameters (§3.1, 1.x: every one required) with the values either generation
# sends (2.x's where they differ); browser_version is checked against the UA.
HTTP_PARAMS = {
    "aid": {"1988"}, "app_language": {"en-US", "en"}, "app_name": {"tiktok_web"},
    "browser_language": {"en", "en-DE"}, "browser_name": {"Mozilla"},
    "browser_online": {"true"}, "browser_platform": {"Win32"}, "cookie_enabled": {"true"},
    "device_platform": {"web", "web_pc"}, "focus_state": {"true"}, "from_page": {"user"},
    "history_len": {str(i) for i in range(15)}, "is_fullscreen": {"false"},
    "is_page_visible": {"true"}, "did_rule": {"3"}, "fetch_rule": {"1"}, "last_rtt": {"0"},
    "live_id": {"12"}, "resp_content_type": {"protobuf"}, "screen_height": {"1152", "1080"},
    "screen_width": {"2048", "1920"}, "tz_name": {"Europe/Berlin"},
    "referer": {"https://www.tiktok.com/"}, "root_referer": {"https://www.tiktok.com/"},
    "host": {"https://webcast.tiktok.com"}, "webcast_sdk_version": {"1.3.0"},
    "update_version_code": {"1.3.0"}, "browser_version": None,
}
# 2.x's additions (§3.1): optional, but with one of its values when sent.
HTTP_PARAMS_2X = {
    "channel": {"tiktok_web"}, "data_collection_enabled": {"true"}, "os": {"windows"},
    "priority_region": {"DE"}, "region": {"DE"}, "user_is_login": {"true", "false"},
    "webcast_language": {"en"},
}
# The WebSocket's (§5.1, as both 2.x-era clients send them; all required) and the dynamic ones.
WS_PARAMS = {
    "version_code": {"180800"}, "aid": {"1988"}, "app_name": {"tiktok_web"},
    "app_language": {"en", "en-US"}, "browser_language": {"en", "en-US", "en-DE"},
    "browser_name": {"Mozilla"}, "browser_version": None, "browser_platform": {"Win32"},
    "browser_online": {"true"}, "cookie_enabled": {"true"}, "tz_name": {"Europe/Berlin"},
    "webcast_language": {"en"}, "screen_width": {"1920", "2048"},
    "screen_height": {"1080", "1152"}, "device_platform": {"web"}, "identity": {"audience"},
    "live_id": {"12"}, "ws_direct": {"0", "1"}, "sup_ws_ds_opt": {"1"},
    "update_version_code": {"2.0.0"}, "did_rule": {"3"}, "heartbeat_duration": {"0", "10000"},
    "resp_content_type": {"protobuf"}, "history_comment_count": {"6"}, "client_enter": {"1"},
    "last_rtt": {str(i) for i in range(100, 201)}, "compress": {"gzip"},
}


def params_ok(got, spec, optional, ua, extra, overrides, what):
    """got (a logged query) has every key of spec, nothing outside spec/optional/extra, each
    value the spec allows (extra: exact values; overrides: client_params, which win)."""
    bad = []
    for k, allowed in spec.items():
        v = got.get(k)
        if k in overrides:
            ok = v == overrides[k]
        elif allowed is None:  # browser_version: the user agent after its first '/'
            ok = v == ua.split("/", 1)[1]
        else:
            ok = v in allowed
        if not ok:
            bad.append("%s=%r" % (k, v))
    for k, v in got.items():
        if k in spec:
            continue
        if k in extra:
            ok = extra[k](v) if callable(extra[k]) else v == extra[k]
        elif k in overrides:
            ok = v == overrides[k]
        else:
            ok = k in optional and v in optional[k]
        if not ok:
            bad.append("unexpected %s=%r" % (k, v))
    missing = [k for k in list(extra) + list(overrides) if k not in got]
    bad += ["missing %s" % k for k in missing]
    check(not bad, "%s: parameters as §3.1 says%s" % (what, ": " + ", ".join(bad[:6])
                                                              if bad else ""))


def headers_ok(got, ua, cookie_has, what, replaced=None, added=None):
    """TikTok's header set, our User-Agent, the cookies; replaced/added: request_headers."""
    want = dict(TIKTOK_HEADERS, **(replaced or {}))
    want["user-agent"] = ua
    want.update(added or {})
    bad = ["%s=%r" % (k, got.get(k)) for k, v in want.items() if got.get(k) != v]
    extra = set(got) - set(want) - {"host", "cookie"}
    bad += ["unexpected %s" % k for k in sorted(extra)]
    jar = dict(p.split("=", 1) for p in got.get("cookie", "").split("; ") if "=" in p)
    bad += ["cookie %s=%r" % (k, jar.get(k)) for k, v in cookie_has.items() if jar.get(k) != v]
    check(not bad, "%s: headers and cookies as §3.1/§3.6 say%s"
          % (what, ": " + ", ".join(bad[:6]) if bad else ""))


def req_scenario(tmp, handles, extra_fields=""):
    lines = ['{"kind":"sim","seed":3}']
    for h in handles:
        lines.append('{"kind":"streamer","handle":"%s"%s}' % (h, extra_fields))
        lines.append('{"t":0.2,"type":"chat","user":"fan","text":"one"}')
        lines.append('{"t":0.5,"type":"follow","user":"fan"}')
        lines.append('{"t":0.9,"type":"chat","user":"fan","text":"two"}')
        lines.append('{"t":1.4,"type":"end"}')
    path = os.path.join(tmp, "req.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def of_room(lines, room, kind=None, path=None):
    return [l for l in lines if l.get("room") == room and (kind is None or l["kind"] == kind)
            and (path is None or path in (l.get("path") or ""))]


def ws_side(lines, room, ua, cookie_has, what, ws_headers=None, overrides=None):
    """The WebSocket of a flow: URL parameters, handshake headers, cookies, enter-room first,
    heartbeats counted from 1, every batch that asked acked with its internalExt."""
    ups = of_room(lines, room, "ws-upgrade")
    check(len(ups) == 1, "%s: one WebSocket upgrade (%d)" % (what, len(ups)))
    if not ups:
        return
    up = ups[0]
    q = up.get("query", {})
    rid = q.get("room_id", "")
    params_ok(q, WS_PARAMS, {}, ua, {
        "room_id": lambda v: v.isdigit(),
        "cursor": lambda v: re.match(r"^\d+_%s_\d+_1_0_0$" % rid, v) is not None,
        "internal_ext": lambda v: "wss_push_room_id:%s" % rid in v,
        "imprp": lambda v: v.startswith("sim-imprp-"),  # the route params, each one
        "wrss": "sim-wrss-%s" % rid}, overrides or {}, what + " WebSocket URL")
    check(up.get("dup_keys") == ["version_code"] and up["path"].endswith("/ws_reuse_supplement/"),
          "%s: the push server's path, &version_code=270000 appended (§5.1): %s %s"
          % (what, up["path"], up.get("dup_keys")))
    h = up.get("headers", {})
    want_ua = (ws_headers or {}).get("user-agent", ua)
    jar = dict(p.split("=", 1) for p in h.get("cookie", "").split("; ") if "=" in p)
    bad = ["user-agent=%r" % h.get("user-agent")] if h.get("user-agent") != want_ua else []
    bad += ["origin (2.x sends none)"] if "origin" in h else []
    bad += ["%s=%r" % (k, h.get(k)) for k, v in (ws_headers or {}).items()
            if k != "user-agent" and h.get(k) != v]
    bad += ["cookie %s=%r" % (k, jar.get(k)) for k, v in cookie_has.items() if jar.get(k) != v]
    check(not bad, "%s: WebSocket handshake headers and cookies%s"
          % (what, ": " + ", ".join(bad) if bad else ""))
    ins = of_room(lines, room, "ws-in")
    types = [l.get("type") for l in ins]
    enter = [l["enter"] for l in ins if l.get("enter")]
    check(types[:1] == ["im_enter_room"] and len(enter) == 1 and enter[0]["room_id"] == rid and
          enter[0]["live_id"] == 12 and enter[0]["identity"] == "audience" and
          enter[0]["filter_welcome_msg"] == "0" and int(enter[0]["enter_unique_id"]) > 0,
          "%s: im_enter_room first, with room id, liveId 12, audience, filterWelcomeMsg 0 "
          "(§7.4): %s" % (what, enter))
    hbs = [l["hb"] for l in ins if l.get("hb")]
    check(hbs and all(b["room_id"] == rid for b in hbs) and
          [b["seq"] for b in hbs] == list(range(1, len(hbs) + 1)),
          "%s: heartbeats with the room id and sendPacketSeqId 1, 2, ... (§7.4): %s"
          % (what, hbs))
    acks = [l for l in ins if l.get("type") == "ack"]
    close = of_room(lines, room, "ws-close")
    check(close and close[0]["need_ack"] > 0 and close[0]["acks"] == close[0]["need_ack"] and
          close[0]["acks_unknown"] == 0 and
          all(a["payload"] and "wss_push_room_id:%s" % rid in a["payload"] for a in acks),
          "%s: every batch that asked acked once, with its logId and internalExt (§7.4): %s"
          % (what, {k: close[0][k] for k in ("need_ack", "acks", "acks_unknown")}
             if close else "no ws-close"))


def test_requests(tmp):
    """Every request of the three flows, parameter by parameter and header by header, from the
    simulator's request log; client_params, request_headers and websocket_headers where they
    belong, over the defaults."""
    import threading
    handles = ("req_euler", "req_legacy", "req_session")
    sim, base, log = start_sim(tmp, "requests", ["--scenario", req_scenario(tmp, handles),
                                                 "--api-key", "k3y"])
    check(base is not None, "simulator starts for the request checks")
    custom_ua = "Mozilla/5.0 (X11; Linux x86_64) TestAgent/1.0"
    runs = {
        "req_euler": ["sign_api_key=k3y", "session_id=s3ss", "enable_extended_gift_info=true",
                      "user_agent=" + custom_ua, "client_params=aid=1999&extra_param=yes",
                      "request_headers=Referer: https://example.org/; X-Test: one; "
                      "Cookie: mine=1; other=2",
                      "websocket_headers=User-Agent: wsagent/1; X-Test: two"],
        "req_legacy": ["sign_flow=legacy", "sign_api_key=k3y"],
        "req_session": ["sign_flow=session", "session_id=s3ss", "tt_target_idc=useast2a"],
    }
    results = {}

    def run(h):
        results[h] = tt_connect(h, base, *runs[h])

    threads = [threading.Thread(target=run, args=(h,)) for h in handles]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stop(sim)
    for h in handles:
        rc, out, err = results[h]
        check(rc == 0 and [e["data"].get("comment") for e in events(out) if e["event"] == "chat"]
              == ["one", "two"], "%s: connects and gets the events (rc=%s %s)"
              % (h, rc, err[-200:]))
    lines = log_lines(log)
    session = {"sessionid": "s3ss", "sessionid_ss": "s3ss", "sid_tt": "s3ss"}

    # euler: every option that changes the wire
    what = "euler"
    over = {"aid": "1999", "extra_param": "yes"}
    page = of_room(lines, "req_euler", "http", "/@req_euler/live")
    check(len(page) == 1 and page[0]["query"] == {},
          "euler: the live page, plain GET without parameters (§3.2)")
    tiktok = page + of_room(lines, "req_euler", "http", "/webcast/room/info/") + \
        [l for l in lines if l["kind"] == "http" and "/webcast/gift/list/" in l["path"]]
    check(len(tiktok) == 3, "euler: live page, room/info and gift/list asked (%d)" % len(tiktok))
    for l in tiktok:
        headers_ok(l["headers"], custom_ua, dict(session, mine="1", other="2"),
                   "%s %s" % (what, l["path"]),
                   replaced={"referer": "https://example.org/"}, added={"x-test": "one"})
    for l in tiktok[1:]:
        params_ok(l["query"], HTTP_PARAMS, HTTP_PARAMS_2X, custom_ua,
                  {"room_id": lambda v: v.isdigit()}, over, "%s %s" % (what, l["path"]))
    sign = of_room(lines, "req_euler", "http", "/connect")
    check(len(sign) == 1 and re.match(r"^/webcast/rooms/\d+/connect$", sign[0]["path"]),
          "euler: /webcast/rooms/{room_id}/connect asked once (§4.1)")
    if sign:
        q, h = sign[0]["query"], sign[0]["headers"]
        check(q == {"client": q.get("client"), "cursor": "", "client_enter": "true",
                    "platform": "web", "user_agent": custom_ua} and q.get("client"),
              "euler: client, cursor, client_enter, platform and the UA it will use (§4.1): %s"
              % q)
        check(h.get("x-api-key") == "k3y" and
              h.get("accept") == "application/protobuf,application/json",
              "euler: the API key header and Accept: application/protobuf,application/json")
        leaked = [k for k in ("cookie", "referer", "origin", "x-test") if k in h]
        check(not leaked and h.get("user-agent") != custom_ua,
              "euler: the sign server gets no TikTok cookie (no session id), no TikTok "
              "headers, no request_headers: %s" % leaked)
        check(sign[0].get("status") == 200, "euler: the sign server accepted the key")
    ws_side(lines, "req_euler", custom_ua,
            dict(session, mine="1", other="2", **{"tt-target-idc": "useast1a"}),
            what, ws_headers={"user-agent": "wsagent/1", "x-test": "two"}, overrides=over)

    # legacy: 1.x's sign_url, then the signed im/fetch with the signer's UA and msToken
    what = "legacy"
    tiktok = of_room(lines, "req_legacy", "http", "/webcast/room/info/")
    for l in tiktok:
        headers_ok(l["headers"], DEFAULT_UA, {}, "legacy room/info")
        params_ok(l["query"], HTTP_PARAMS, HTTP_PARAMS_2X, DEFAULT_UA,
                  {"room_id": lambda v: v.isdigit()}, {}, "legacy room/info")
    sign = of_room(lines, "req_legacy", "http", "/webcast/sign_url")
    check(len(sign) == 1, "legacy: sign_url asked once (§4.2)")
    if sign:
        q, h = sign[0]["query"], sign[0]["headers"]
        check(set(q) == {"url", "client", "uuc", "apiKey"} and q["uuc"].isdigit() and
              q["apiKey"] == "k3y" and h.get("x-api-key") == "k3y",
              "legacy: url, client, uuc and the key (§4.2): %s" % sorted(q))
        check("cookie" not in h and "referer" not in h,
              "legacy: no TikTok cookie or header to the sign server")
        from urllib.parse import parse_qsl, urlsplit
        u = urlsplit(q["url"])
        uq = dict(parse_qsl(u.query, keep_blank_values=True))
        check(u.path == "/webcast/im/fetch/", "legacy: the URL to sign is im/fetch's")
        params_ok(uq, HTTP_PARAMS, HTTP_PARAMS_2X, DEFAULT_UA,
                  {"room_id": lambda v: v.isdigit(), "cursor": "", "internal_ext": ""}, {},
                  "legacy: the URL to sign, with empty cursor and internal_ext (§3.5)")
        fetch = of_room(lines, "req_legacy", "http", "/webcast/im/fetch/")
        check(len(fetch) == 1, "legacy: the signed im/fetch asked once")
        if fetch:
            fq = fetch[0]["query"]
            signed = {k: v for k, v in fq.items() if k not in ("msToken", "X-Bogus",
                                                               "_signature")}
            check(signed == uq and all(fq.get(k) for k in ("msToken", "X-Bogus", "_signature")),
                  "legacy: im/fetch is the signed URL verbatim (the URL + the tokens)")
            headers_ok(fetch[0]["headers"], SIGN_UA, {"msToken": fq.get("msToken")},
                       "legacy im/fetch (the signer's User-Agent and msToken, §4.2)")
    ws_side(lines, "req_legacy", DEFAULT_UA, {}, what)

    # session: no sign server, the session cookies everywhere
    what = "session"
    cookies = dict(session, **{"tt-target-idc": "useast2a"})
    tiktok = of_room(lines, "req_session", "http")
    check([l["path"].split("?")[0] for l in tiktok] ==
          ["/@req_session/live", "/webcast/room/info/", "/webcast/im/fetch/"],
          "session: live page, room/info, im/fetch and no sign server (§2): %s"
          % [l["path"] for l in tiktok])
    for l in tiktok:
        headers_ok(l["headers"], DEFAULT_UA, cookies, "session %s" % l["path"])
    for l in tiktok[1:]:
        ex = {"room_id": lambda v: v.isdigit()}
        if "im/fetch" in l["path"]:
            ex.update(cursor="", internal_ext="")
        params_ok(l["query"], HTTP_PARAMS, HTTP_PARAMS_2X, DEFAULT_UA, ex, {},
                  "session %s" % l["path"])
    ws_side(lines, "req_session", DEFAULT_UA, cookies, what)
    return lines


def test_api_live(log):
    """api-live/user/room, the fallback after a live page without a room id (§3.2)."""
    lines = [l for l in log_lines(log) if l.get("kind") == "http" and
             "/api-live/user/room" in l.get("path", "")]
    check(lines, "api-live asked after a page without a room id")
    for l in lines[:2]:
        headers_ok(l["headers"], DEFAULT_UA, {}, "api-live")
        params_ok(l["query"], HTTP_PARAMS, HTTP_PARAMS_2X, DEFAULT_UA,
                  {"uniqueId": l.get("room") or l["query"].get("uniqueId"), "sourceType": "54"},
                  {}, "api-live (uniqueId, sourceType=54)")


def test_heartbeat_interval(tmp):
    """The server's Handshake-Options ping-interval sets the heartbeat interval; without it,
    10 s (§5.3). After the first (sent with enter-room), heartbeats fall on the
    interval's multiples of the monotonic clock, whenever the connection began (ws.c). Three
    rooms of one simulator, side by side, each ending after 4.5 s; one client starts 0.45 s
    after the others, so that only the alignment can put its beats in step with theirs."""
    import threading
    path = os.path.join(tmp, "hb.jsonl")
    with open(path, "w") as f:
        for h, extra in (("hb_fast", ',"ping_interval":1'), ("hb_late", ',"ping_interval":1'),
                         ("hb_default", "")):
            f.write('{"kind":"streamer","handle":"%s"%s}\n{"t":4.5,"type":"end"}\n' % (h, extra))
    sim, base, log = start_sim(tmp, "heartbeat", ["--scenario", path])
    rcs = {}

    def run(h, delay):
        time.sleep(delay)  # a phase offset between the clients, not a wait for anything
        rcs[h] = tt_connect(h, base)

    threads = [threading.Thread(target=run, args=(h, d))
               for h, d in (("hb_fast", 0), ("hb_default", 0), ("hb_late", 0.45))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stop(sim)
    lines = log_lines(log)
    for h in ("hb_fast", "hb_late", "hb_default"):
        check(rcs[h][0] == 0, "%s: connected until the stream ended (rc=%s)" % (h, rcs[h][0]))
    beats = {h: [l["t"] for l in of_room(lines, h, "ws-in") if l.get("type") == "hb"][1:]
             for h in ("hb_fast", "hb_late")}
    fast = beats["hb_fast"]
    gaps = [(b - a) / 1000.0 for a, b in zip(fast, fast[1:])]
    check(len(fast) >= 3 and all(0.5 <= g <= 2.5 for g in gaps),
          "ping-interval=1: heartbeats about 1 s apart over 4.5 s (%d, gaps %s)"
          % (len(fast), ["%.2f" % g for g in gaps]))
    # phase of each beat within the second, relative to hb_fast's first: 0 when in step
    ref = fast[0] if fast else 0
    phase = [((t - ref + 500) % 1000) - 500 for t in beats["hb_late"]]
    check(len(phase) >= 2 and all(abs(p) < 200 for p in phase),
          "heartbeats of two connections begun 0.45 s apart beat in step (offsets %s ms)"
          % phase)
    slow = of_room(lines, "hb_default", "ws-in")
    hbs = [l["t"] for l in slow if l.get("type") == "hb"]
    enter = [l["t"] for l in slow if l.get("type") == "im_enter_room"]
    close = of_room(lines, "hb_default", "ws-close")
    check(enter and close and close[0]["ms"] >= 3000 and 1 <= len(hbs) <= 2 and
          hbs[0] - enter[0] < 500,
          "no Handshake-Options: one heartbeat with enter-room and at most one more (the next "
          "multiple of 10 s) in the %.1f s after, where 1 s would give 3 or more (got %d)"
          % ((close[0]["ms"] / 1000.0) if close else 0, len(hbs)))


def test_reconnect_dedup(tmp):
    """A dropped socket, then the caller reconnects on the same client: the new connection's
    first fetch repeats the last messages (same msgIds, as TikTok's backlog), and the caller
    still sees every event exactly once."""
    path = os.path.join(tmp, "again.jsonl")
    lines = ['{"kind":"sim","seed":5}',
             '{"kind":"streamer","handle":"again","history":6}',
             '{"t":0,"type":"chat","user":"old","text":"from the backlog","backlog":true}']
    texts = ["before %d" % i for i in range(1, 7)]
    for i, t in enumerate(texts):
        lines.append('{"t":%.2f,"type":"chat","user":"fan","text":"%s"}' % (0.3 + 0.2 * i, t))
    lines.append('{"t":1.5,"type":"follow","user":"fan"}')
    lines.append('{"t":2.2,"type":"drop"}')
    after = ["after %d" % i for i in range(1, 4)]
    for i, t in enumerate(after):
        lines.append('{"t":%.2f,"type":"chat","user":"fan","text":"%s"}' % (4.2 + 0.2 * i, t))
    lines.append('{"t":5.2,"type":"end"}')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    sim, base, log = start_sim(tmp, "reconnect", ["--scenario", path])
    rc, out, err = tt_connect("again", base, "reconnect=2", timeout=30)
    stop(sim)
    evs = events(out)
    names = [e["event"] for e in evs]
    check(rc == 0 and names.count("connected") == 2 and "disconnected" in names[:-1],
          "the socket dropped, disconnected, the caller reconnected on the same client and "
          "got to the end (rc=%s, %d connected) %s" % (rc, names.count("connected"), err[-200:]))
    chats = [e["data"]["comment"] for e in evs if e["event"] == "chat"]
    check(chats == ["from the backlog"] + texts + after,
          "every chat exactly once, in order, none missing: %s" % chats)
    ids = [(e["event"], e["data"]["msgId"]) for e in evs if e["data"].get("msgId")]
    check(len(ids) == len(set(ids)) and names.count("follow") == 1 and
          names.count("social") == 1, "no event twice by msgId (follow and social once each)")
    first_conn = set()
    for e in evs:
        if e["event"] == "disconnected":
            break
        if e["data"].get("msgId"):
            first_conn.add(e["data"]["msgId"])
    answers = [l for l in log_lines(log) if l.get("kind") == "http" and "/connect" in l["path"]]
    check(len(answers) == 2 and answers[0].get("history") == 0 and
          answers[1].get("history") == 6,
          "the reconnect's fetch repeated the last 6 messages (histories %s)"
          % [a.get("history") for a in answers])
    if len(answers) == 2:
        again = answers[1]["msg_ids"]
        check(len(again) == 7 and set(again) <= first_conn,
              "its msgIds (the backlog's and the 6 repeated) were all delivered before the "
              "drop: really sent again (%d of %d)" % (len(set(again) & first_conn), len(again)))


def test_idle_http(tmp):
    """Once its WebSocket is open, a client holds no HTTP connection (curl's handle is let go
    until the next request: 16 KiB and a socket per streamer); a later connect on the same
    client makes its requests again (test_reconnect_dedup)."""
    path = os.path.join(tmp, "idle.jsonl")
    with open(path, "w") as f:
        f.write('{"kind":"sim","seed":6}\n{"kind":"streamer","handle":"idle"}\n'
                '{"t":0.5,"type":"chat","user":"fan","text":"hello"}\n{"t":3,"type":"end"}\n')
    sim, base, log = start_sim(tmp, "idle", ["--scenario", path])
    p = itest.start(itest.tt_connect_cmd("idle", base, ["sign_flow=euler"]),
                    stdout=subprocess.PIPE, text=True)
    held = None
    guard = threading.Timer(30, p.kill)  # a client that hangs ends the read below
    guard.start()
    for line in p.stdout:
        if line.startswith("{") and json.loads(line).get("event") == "connected":
            held = itest.established(p.pid)  # emitted after the release: no wait needed
            break
    out = p.stdout.read()
    p.wait(20)
    guard.cancel()
    stop(sim)
    check(held == 1, "connected over the WebSocket: 1 TCP connection held, the WebSocket "
          "(%s)" % held)
    check(p.returncode == 0 and '"hello"' in out, "the events still came (rc=%s)"
          % p.returncode)


def test_big_frames_let_go(tmp):
    """A frame that needed large buffers gives them back: a WebSocket message near
    max_frame_bytes (900 KB of garbage) and a gzip bomb that fills max_inflate_bytes (8 MiB)
    once held that memory for the client's life. Measured as the process's RSS between the chat
    before them and the one after (sanitizer builds keep freed memory in quarantine: there only
    the events are checked)."""
    path = os.path.join(tmp, "heavy.jsonl")
    with open(path, "w") as f:
        f.write('{"kind":"sim","seed":7}\n{"kind":"streamer","handle":"heavy"}\n'
                '{"t":0.5,"type":"chat","user":"fan","text":"before"}\n'
                '{"t":1.0,"type":"garbage","bytes":900000}\n'
                '{"t":1.5,"type":"gzip_bomb","inflated":16777216}\n'
                '{"t":2.0,"type":"chat","user":"fan","text":"after"}\n{"t":3,"type":"end"}\n')
    sim, base, log = start_sim(tmp, "heavy", ["--scenario", path])
    p = itest.start(itest.tt_connect_cmd("heavy", base, ["sign_flow=euler"]),
                    stdout=subprocess.PIPE, text=True)
    rss, errors = {}, 0
    guard = threading.Timer(30, p.kill)
    guard.start()
    for line in p.stdout:
        ev = json.loads(line) if line.startswith("{") else {}
        if ev.get("event") == "chat":  # the frames before it are done with: read at once
            rss[ev["data"]["comment"]] = itest.rss_kb(p.pid)
        errors += ev.get("event") == "error"
        if "after" in rss:
            break
    p.kill()
    p.wait(20)
    guard.cancel()
    stop(sim)
    check(set(rss) == {"before", "after"} and errors >= 2,
          "both chats came, and an error for each bad frame (%s, %d errors)" % (rss, errors))
    if itest.sanitized() or len(rss) < 2:
        return
    grew = rss["after"] - rss["before"]
    check(grew < 4096, "the large frames' buffers were given back: RSS grew %d KiB "
          "(9 MiB held them)" % grew)


FAULTS_EXPECTED = [
    # handle, expected stderr substring, extra options
    ("ghost", "user not found", []),
    ("sleepy", "user is not live", []),
    ("adults_only", "age-restricted", []),
    ("blocked_ip", "blocked by TikTok", []),
    ("rate_limited", "retry after 42s", []),
    # TikTok's own im/fetch 429 (the legacy and session flows): its Retry-After, as the signer's
    ("fetch_limited", "rate limited (sign server or im/fetch): im/fetch: rate limited, retry "
     "after 17s", ["sign_flow=legacy"]),
    ("bad_key", "sign server refused", []),
    ("unpaid", "sign server refused", []),
    ("forbidden", "sign server refused", []),
    ("no_cursor", "no cursor", []),
    ("ws_refused", "DEVICE_BLOCKED", []),
    ("dropper", "connection lost", []),
    ("closer", "4001", []),
]


def test_faults(tmp):
    sim, base, log = start_sim(tmp, "faults", ["--scenario", FAULTS])
    check(base is not None, "simulator starts with the fault scenario")
    for handle, want, extra in FAULTS_EXPECTED:
        rc, out, err = tt_connect(handle, base, *extra, timeout=30)
        check(rc not in (0, None) and want in err,
              "%s: %r in the error (rc=%s, stderr=%s)" % (handle, want, rc, err.strip()[-200:]))
    rc, out, err = tt_connect("dropper", base)  # the drop is per connection: a new one
    rc, out, err = tt_connect("noisy", base, timeout=30)
    evs = events(out)
    chats = [e["data"]["comment"] for e in evs if e["event"] == "chat"]
    errors = [e for e in evs if e["event"] == "error"]
    check(chats == ["noise 1", "noise 2", "noise 3", "noise 4"],
          "garbage, truncated and bomb frames cost themselves: %s" % chats)
    check(len(errors) >= 3, "each bad frame is an error event (%d)" % len(errors))
    sim.terminate()
    sim.wait(5)
    return log


def test_retry_after(tmp):
    """The sign server's 429 with each form of Retry-After RFC 9110 allows, and with values
    that are neither: a date is waited out to it, garbage is no value (strtoul read "-1" as
    136 years, and a date as 0 s), a huge one is capped at a day."""
    sim, base, log = start_sim(tmp, "retry-after", ["--scenario", FAULTS])
    value = [None]
    srv, sign = itest.start_http(lambda path, headers: (429, [("Retry-After", value[0])],
                                         b'{"code":429,"message":"slow down"}'))
    in2min = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    for ra, want in (("7", "retry after 7s"), (in2min, "retry after 1[12][0-9]s"),
                     ("Wed, 21 Oct 2015 07:28:00 GMT", "no usable Retry-After"),
                     ("-1", "no usable Retry-After"), ("1.5", "no usable Retry-After"),
                     ("99999999999", "retry after 86400s")):
        value[0] = ra
        rc, out, err = tt_connect("dropper", base, "sign_api_url=" + sign)
        check(rc not in (0, None) and "rate limit" in err and re.search(want, err),
              "Retry-After %r: %r (%s)" % (ra, want, err.strip()[-160:]))
    srv.shutdown()
    srv.server_close()
    stop(sim)


def test_room_lookup(tmp):
    """The live page says blocked (no room id, no og:url) and api-live is no help: the error
    is the page's, and so is its message, with the API's failure after it (the message was the
    API's alone: "blocked" over "api-live/user/room: HTTP 503"). An api-live answer without
    data.user is no help either (it said "not live", and the streamer waited for good)."""
    sim, base, log = start_sim(tmp, "lookup", ["--scenario", FAULTS])
    api = [(503, [], b"")]

    def answer(path, headers):
        if path.startswith("/api-live/"):
            return api[0]
        return 200, [], b"<html><title>Security Check</title><div id=captcha></div></html>"

    srv, web = itest.start_http(answer)
    for api[0], want in (((503, [], b""), "HTTP 503"), ((200, [], b""), "not JSON"),
                         ((200, [], b"{}"), "no data.user")):
        rc, out, err = tt_connect("dropper", base, "web_base=" + web)
        check(rc not in (0, None) and "blocked by TikTok" in err and
              "the live page has no room id" in err and want in err,
              "a captcha page, then api-live %s: the page's verdict with its own message (%s)"
              % (want, err.strip()[-200:]))
    srv.shutdown()
    srv.server_close()
    stop(sim)


def test_x_room_id(tmp):
    """The sign server's X-Room-Id replaces the room id only when it is one (digits): the
    server is not trusted, and "12ab" went into the WebSocket's room_id, which the push server
    refused, and into the bridge's status."""
    sim, base, log = start_sim(tmp, "x-room-id", ["--scenario", FAULTS])

    def answer(path, headers):
        with urllib.request.urlopen(base + path, timeout=5) as r:
            body = r.read()
            headers = [(k, "12ab" if k.lower() == "x-room-id" else v) for k, v in r.getheaders()
                       if k.lower().startswith("x-")]
            return r.status, headers, body

    srv, sign = itest.start_http(answer)
    rc, out, err = tt_connect("dropper", base, "sign_api_url=" + sign, timeout=30)
    evs = events(out)
    conn = [e for e in evs if e["event"] == "connected"]
    check(conn and conn[0]["data"].get("roomId", "").isdigit() and
          "X-Room-Id is not a room id" in err,
          "X-Room-Id 12ab: the room id found stays, with a warning (%s %s)"
          % (conn[0]["data"].get("roomId") if conn else None, err.strip()[-160:]))
    srv.shutdown()
    srv.server_close()
    stop(sim)


def test_sign_header_injection(tmp):
    """A sign server's answer with a line break in what goes into later requests' headers
    (curl hands a header's bare CR on as it came, and JSON strings unescape to anything): the
    legacy signer's User-Agent and msToken are refused with an error naming them, and an
    X-Set-TT-Cookie pair holding a CR is left out while the flow goes on with the others, so
    no header of the answer's choosing reaches TikTok; nor a request line of its choosing: a
    push server URL (from the fetch result) with a space or a control byte is not used."""
    sim, base, log = start_sim(tmp, "header-injection", ["--scenario", FAULTS])
    bad = "x\r\nX-Injected: 1"
    mode = [None]

    def answer(path, headers):
        with urllib.request.urlopen(base + path, timeout=5) as r:
            body = r.read()
            hdrs = [(k, v) for k, v in r.getheaders() if k.lower().startswith("x-")]
            if mode[0] == "cookie":
                hdrs = [(k, v) for k, v in hdrs if k.lower() != "x-set-tt-cookie"]
                hdrs.append(("X-Set-TT-Cookie", "ttwid=ab\rX-Injected: 1; planted=ok"))
            elif mode[0] in ("\r", " "):  # the same length: the protobuf stays sound
                body = body.replace(b"ws_proxy/", b"ws_pr" + mode[0].encode() + b"xy/")
            elif "sign_url" in path:
                j = json.loads(body)
                j[mode[0]] = bad
                body = json.dumps(j).encode()
            return r.status, hdrs, body

    srv, sign = itest.start_http(answer)
    for mode[0] in ("User-Agent", "msToken"):
        rc, out, err = tt_connect("dropper", base, "sign_flow=legacy", "sign_api_url=" + sign)
        check(rc not in (0, None) and "a control character in its " + mode[0] in err,
              "legacy: a line break in the signer's %s is refused (%s)"
              % (mode[0], err.strip()[-160:]))
    for mode[0] in ("\r", " "):
        rc, out, err = tt_connect("dropper", base, "sign_api_url=" + sign)
        check(rc not in (0, None) and "push server URL holds a space or a control byte" in err,
              "euler: a push server URL with %r is not used (it went into the request line): %s"
              % (mode[0], err.strip()[-160:]))
    mode[0] = "cookie"
    rc, out, err = tt_connect("dropper", base, "sign_api_url=" + sign, timeout=30)
    stop(sim)
    sent = [l for l in log_lines(log) if l.get("room") == "dropper"]
    planted = [l for l in sent if "planted" in (l.get("headers") or {}).get("cookie", "")]
    hostile = [l for l in sent if any("injected" in k.lower() or "injected" in str(v).lower()
                                      for k, v in (l.get("headers") or {}).items())]
    check("connected" in [e["event"] for e in events(out)] and planted and not hostile,
          "euler: X-Set-TT-Cookie's pair with a CR is left out, the others kept: %d requests "
          "with the good pair, %d with the planted header (%s)"
          % (len(planted), len(hostile), err.strip()[-160:]))
    srv.shutdown()
    srv.server_close()


def start_proxy():
    """A CONNECT-only HTTP proxy on loopback (what tunnels https and wss); counts tunnels."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    seen = []

    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve(conn):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            d = conn.recv(4096)
            if not d:
                return
            head += d
        line = head.split(b"\r\n", 1)[0].decode()
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        host, port = parts[1].rsplit(":", 1)
        seen.append(parts[1])
        up = socket.create_connection((host, int(port)), 5)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            up.sendall(rest)
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()
        threading.Thread(target=pump, args=(up, conn), daemon=True).start()

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv, seen


def test_proxy(tmp):
    """Connect via proxy (the seed's example): HTTP and the WebSocket through an http://
    proxy; a SOCKS5 proxy is refused up front with the http:// alternative named."""
    srv, seen = start_proxy()
    sim, base, log = start_sim(tmp, "proxy", ["--replay", CORPUS])
    proxy = "http://127.0.0.1:%d" % srv.getsockname()[1]
    rc, out, err = tt_connect("the_host", base, "proxy=" + proxy)
    check(rc == 0 and compare(tmp, events(out), "proxy.jsonl"),
          "via an http:// proxy: every event (rc=%s %s)" % (rc, err[-200:]))
    check(len(seen) >= 2, "the proxy carried the requests and the WebSocket (%d tunnels)"
          % len(seen))
    rc, out, err = tt_connect("the_host", base, "proxy=socks5://127.0.0.1:9")
    check(rc == 1 and "use an http:// proxy" in err,
          "a SOCKS5 proxy is refused for the WebSocket: %s" % err.strip()[-160:])
    srv.close()
    sim.terminate()
    sim.wait(5)


def test_valgrind(tmp):
    """The happy path under valgrind: no leak, no invalid access (plain builds only: the
    sanitizer build checks the same with ASan)."""
    if itest.sanitized() or subprocess.run(
            ["sh", "-c", "command -v valgrind"], capture_output=True).returncode:
        print("valgrind: skipped (sanitizer build, or no valgrind)")
        return
    sim, base, log = start_sim(tmp, "valgrind", ["--replay", CORPUS, "--rate", "200"])
    cmd = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
           "--error-exitcode=99", "--quiet", os.path.join(B, "tt-connect"), "the_host",
           "web_base=" + base, "webcast_base=" + base, "sign_api_url=" + base]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=clean_env())
    check(r.returncode == 0, "valgrind: the happy path is clean (rc=%s) %s"
          % (r.returncode, r.stderr[-600:]))
    check(sum(1 for e in events(r.stdout) if e["event"] == "chat") > 100,
          "valgrind: the events still arrive")
    sim.terminate()
    sim.wait(5)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        try:
            print("== happy path", flush=True)
            log = test_happy_path(tmp)
            test_request_log(log)
            print("== happy path over TLS", flush=True)
            test_happy_path(tmp, tls=True)
            print("== sign flows", flush=True)
            test_flows(tmp)
            print("== polling", flush=True)
            test_polling(tmp)
            test_polling_rate_limited(tmp)
            print("== requests, parameter by parameter", flush=True)
            test_requests(tmp)
            print("== heartbeat interval", flush=True)
            test_heartbeat_interval(tmp)
            print("== reconnect without duplicates", flush=True)
            test_reconnect_dedup(tmp)
            print("== no idle HTTP connection", flush=True)
            test_idle_http(tmp)
            print("== large frames give their memory back", flush=True)
            test_big_frames_let_go(tmp)
            print("== faults", flush=True)
            test_api_live(test_faults(tmp))
            print("== Retry-After", flush=True)
            test_retry_after(tmp)
            print("== room lookup", flush=True)
            test_room_lookup(tmp)
            print("== X-Room-Id", flush=True)
            test_x_room_id(tmp)
            print("== line breaks in a sign server's headers", flush=True)
            test_sign_header_injection(tmp)
            print("== proxy", flush=True)
            test_proxy(tmp)
            print("== valgrind", flush=True)
            test_valgrind(tmp)
        finally:
            kill_all()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
