#!/usr/bin/env python3
"""Conformance of tiktok-live-sim with the real tiktok-live-connector (1.2.3 and 2.5.0).

The real Node library, installed by `make deps` into build/oracle, connects to the simulator
through tests/oracle/client.js and must receive exactly the events that the same library
decodes from the frames the simulator sent (compared as multisets: the live client reorders
events across frames); against each fault it must fail the way it fails against TikTok; and
the simulator's request log must show its requests, heartbeats, acks and (2.x) enter-room frame.

    B=build python3 tests/conformance/run.py [-v] [-k SUBSTRING]

Environment: B (build directory of the simulator, default build). The Node drivers are ours
(tests/oracle); the library comes from `make deps`. Needs node; without node or the installed
library every test fails loudly. Prints PASS/FAIL per check and ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""

import concurrent.futures
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
B = os.environ.get("B", "build")
BDIR = B if os.path.isabs(B) else os.path.join(ROOT, B)
SIM = os.path.join(BDIR, "tiktok-live-sim")
TT_DECODE = os.path.join(BDIR, "tt-decode")
ORACLE_DIR = os.path.join(ROOT, "build", "oracle")
LIB = {v: os.path.join(ORACLE_DIR, v, "node_modules", "tiktok-live-connector") for v in ("v1", "v2")}
CLIENT_JS = os.path.join(ROOT, "tests", "oracle", "client.js")
DECODE_JS = os.path.join(ROOT, "tests", "oracle", "decode.js")
SCEN = os.path.join(ROOT, "contrib", "sim", "scenarios")
CORPUS = os.path.join(ROOT, "tests", "fixtures", "oracle", "v3")
COMPARE = os.path.join(ROOT, "tests", "tools", "compare_events.py")
WORK = os.path.join(BDIR, "conformance")
VERBOSE = "-v" in sys.argv
ONLY = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None

LOCK = threading.Lock()
RESULTS = []
RUNS = iter(range(1, 1 << 30))  # numbers the client runs' output files


def record(name, ok, detail=""):
    with LOCK:
        RESULTS.append((name, ok))
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, "" if ok or not detail else ": " + detail),
              flush=True)


def check(name, cond, detail=""):
    record(name, bool(cond), detail)
    return bool(cond)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


# ---- the simulator ----------------------------------------------------------------------------

class Sim:
    """One simulator process on a free loopback port, with its request log and frame dump."""

    def __init__(self, name, *args, record=True):
        self.name = name
        self.log = os.path.join(WORK, name + ".log")
        self.dump = os.path.join(WORK, name + ".dump")
        self.err = open(os.path.join(WORK, name + ".stderr"), "w")
        self.totals = {}
        cmd = [SIM, "--listen", "127.0.0.1:0"]
        if record:
            cmd += ["--log", self.log, "--dump", self.dump]
        cmd += list(args)
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, env=clean_env())
        line = self._line(15)
        info = json.loads(line) if line.startswith("{") else {}
        if "listening" not in info:
            self.stop()
            raise RuntimeError("%s did not start: %r" % (name, line))
        self.base = info["listening"]
        self.ws = info["ws"]

    def _line(self, timeout):
        """One stdout line, waiting at most timeout seconds."""
        end = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < end and not buf.endswith(b"\n"):
            r, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if r:
                c = os.read(self.p.stdout.fileno(), 1)
                if not c:
                    break
                buf += c
        return buf.decode("utf-8", "replace").strip()

    def stop(self):
        """SIGTERM, then wait (bounded); the exit status is 0 unless a sanitizer objected."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=10)
        self.err.close()
        # the last stdout line carries the totals: {"stopped":true,"frames":...,"events":...}
        self.totals = {}
        for line in self.p.stdout.read().decode("utf-8", "replace").splitlines():
            if line.startswith('{"stopped"'):
                self.totals = json.loads(line)
        return self.p.returncode

    def entries(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                return [json.loads(l) for l in f if l.strip()]
        except (OSError, ValueError):
            return []

    def wait_log(self, pred, timeout=10):
        """The first log entry matching pred, polling until the deadline; None if none came."""
        end = time.monotonic() + timeout
        while True:
            for e in self.entries():
                if pred(e):
                    return e
            if time.monotonic() > end:
                return None
            time.sleep(0.05)

    def get(self, path, headers=None, timeout=10):
        """(status, headers, body bytes) of a GET to the simulator."""
        req = urllib.request.Request(self.base + path, headers=headers or {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


def with_sim(name, *args, record=True):
    """Starts a simulator or records why it could not."""
    try:
        return Sim(name, *args, record=record)
    except (OSError, RuntimeError, ValueError) as e:
        record(name + ": simulator starts", False, str(e))
        return None


def stop_sim(sim):
    rc = sim.stop()
    check("%s: simulator exits cleanly (status %s)" % (sim.name, rc), rc == 0,
          open(os.path.join(WORK, sim.name + ".stderr")).read()[-2000:])


# ---- the real clients ---------------------------------------------------------------------------

def client(ver, base, unique_id, timeout_ms=15000, tls=False, tag=None):
    """Runs tests/oracle/client.js; returns the events it printed (list of dicts)."""
    env = clean_env(ORACLE_DIR=ORACLE_DIR, ORACLE_LIB=LIB[ver], TIKTOK_BASE=base, WEBCAST_BASE=base,
                    UNIQUE_ID=unique_id, CLIENT_TIMEOUT_MS=timeout_ms)
    if tls:
        env["TLS_INSECURE"] = "1"
    with LOCK:
        n = next(RUNS)
    out = os.path.join(WORK, "%03d.%s.%s.%s.events.jsonl" % (n, tag or "client", unique_id, ver))
    try:
        p = subprocess.run(["node", CLIENT_JS], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout_ms / 1000 + 30)
        text = p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode("utf-8", "replace")
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    with open(out, "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    return events, out


def decode(ver, frames_dir, out):
    """What the library itself emits for the frames of a directory (decode.js)."""
    env = clean_env(ORACLE_DIR=ORACLE_DIR, ORACLE_LIB=LIB[ver])
    with open(out, "w") as f:
        p = subprocess.run(["node", DECODE_JS, frames_dir], env=env, stdout=f,
                           stderr=subprocess.PIPE, timeout=120)
    return p.returncode == 0


def multiset(name, expected, actual_path):
    """compare_events.py --multiset; records the result."""
    p = subprocess.run([sys.executable, COMPARE, "--multiset", expected, actual_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    lines = p.stdout.decode("utf-8", "replace").strip().splitlines()
    last = lines[-1] if lines else ""
    m = re.match(r"(\d+) passed, (\d+) failed", last)
    ok = p.returncode == 0 and m is not None and int(m.group(1)) > 0
    return check(name + " (" + last + ")", ok, "\n    " + "\n    ".join(lines[:12]))


def names(events):
    return [e.get("event") for e in events]


def data_of(events, name):
    return [e.get("data") or {} for e in events if e.get("event") == name]


def failed_with(events):
    """The message of the client's $connectFailed, or None."""
    for e in events:
        if e.get("event") == "$connectFailed":
            return (e.get("data") or {}).get("message", "")
    return None


# ---- replay -------------------------------------------------------------------------------------

def manifest():
    with open(os.path.join(CORPUS, "manifest.json")) as f:
        return json.load(f)


def close_entry(sim):
    return sim.wait_log(lambda e: e.get("kind") == "ws-close", 10) or {}


def test_replay_v1():
    sim = with_sim("replay-v1", "--replay", CORPUS)
    if sim is None:
        return
    try:
        events, path = client("v1", sim.base, "the_host", tag="replay")
        multiset("replay v1: 1.2.3 live == 1.2.3 decode of the corpus",
                 os.path.join(CORPUS, "expected.jsonl"), path)
        c = close_entry(sim)
        n = manifest()["frames"]
        check("replay v1: each of the %d frames sent exactly once (%s)" % (n, c.get("frames")),
              c.get("frames") == n and c.get("skipped") == 0)
        # 1.x acks a frame after decoding it (gzip is async) and disconnects on streamEnd: the
        # acks of frames still inflating then go nowhere, so only "all known" is exact
        check("replay v1: 1.x acks frames by their logId (%s of %d, %s unknown)"
              % (c.get("acks"), n, c.get("acks_unknown")),
              0 < c.get("acks", 0) <= n and c.get("acks_unknown") == 0)
        start = sim.wait_log(lambda e: e.get("kind") == "room" and e.get("state") == "started", 1)
        end = sim.wait_log(lambda e: e.get("kind") == "room" and e.get("state") == "ended", 1)
        ms = (end or {}).get("t", 0) - (start or {}).get("t", 0)
        check("replay v1: 100 frames/s or faster (%d frames in %d ms)" % (n, ms),
              start and end and 0 <= ms <= n * 10)
        replay_over(sim)
    finally:
        stop_sim(sim)


def replay_over(sim):
    """After the last frame the room is over: offline for both clients, page without room id."""
    ev1, _ = client("v1", sim.base, "the_host", timeout_ms=8000, tag="replay-again")
    msg = failed_with(ev1)
    check("replay over: 1.x reconnecting gets its offline error (%r)" % msg, msg == "LIVE has ended")
    ev2, _ = client("v2", sim.base, "the_host", timeout_ms=8000, tag="replay-again")
    msg = failed_with(ev2)
    check("replay over: 2.x reconnecting gets its offline error (%r)" % msg,
          msg == "The requested user isn't online :(")
    st, _, body = sim.get("/@the_host/live")
    page = body.decode("utf-8", "replace")
    check("replay over: the live page has no room id", st == 200 and '"roomId":""' in page
          and re.search(r'roomId":"([0-9]+)"', page) is None)
    st, _, body = sim.get("/webcast/room/info/?room_id=7301234567890123456")
    info = json.loads(body or b"{}")
    check("replay over: room info says status 4", (info.get("data") or {}).get("status") == 4)


def test_replay_v2():
    sim = with_sim("replay-v2", "--replay", CORPUS)
    if sim is None:
        return
    try:
        expected = os.path.join(WORK, "corpus-v3.v2.expected.jsonl")
        ok = decode("v2", CORPUS, expected)
        events, path = client("v2", sim.base, "the_host", tag="replay")
        if check("replay v2: 2.5.0 decodes the corpus (decode.js)", ok):
            multiset("replay v2: 2.5.0 live == 2.5.0 decode of the corpus", expected, path)
        c = close_entry(sim)
        msgs = manifest()["stats"]["msgFrames"]
        check("replay v2: 2.x acked the %d needAck frames (%s, %s unknown)"
              % (msgs, c.get("acks"), c.get("acks_unknown")),
              c.get("acks") == msgs and c.get("acks_unknown") == 0)
        check("replay v2: one enter-room frame, answered", c.get("enter_room") == 1
              and c.get("answers", 0) >= 1)
    finally:
        stop_sim(sim)


def replay_span(name, rec, *args):
    """Replays rec through a bare WebSocket; ms from the room's start to its end."""
    sim = with_sim(name, "--replay", rec, "--end-grace-ms", "500", *args)
    if sim is None:
        return None
    try:
        ids = write(os.path.join(WORK, name + ".ids"), "7301234567890123456\n")
        env = clean_env(ORACLE_LIB=LIB["v2"])
        subprocess.run(["node", os.path.join(HERE, "load_client.js"), sim.ws, ids, "20000"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        start = sim.wait_log(lambda e: e.get("kind") == "room" and e.get("state") == "started", 1)
        end = sim.wait_log(lambda e: e.get("kind") == "room" and e.get("state") == "ended", 1)
        c = close_entry(sim)
    finally:
        stop_sim(sim)
    if not (start and end):
        return None
    return end["t"] - start["t"], c.get("frames")


def test_recording():
    """A recording (frames.jsonl with receive times) replays at its pace, or at --rate with --fast."""
    rec = os.path.join(WORK, "recording")
    os.makedirs(rec, exist_ok=True)
    frames = sorted(f for f in os.listdir(CORPUS) if f.endswith(".bin"))[:30]
    with open(os.path.join(rec, "frames.jsonl"), "w") as idx:
        for i, f in enumerate(frames):
            shutil.copy(os.path.join(CORPUS, f), os.path.join(rec, f))
            idx.write(json.dumps({"frame": f, "ms": 1700000000000 + 50 * i}) + "\n")
    paced = replay_span("recording-paced", rec)
    check("recording: replayed at its recorded pace (1450 ms of frames: %s)" % (paced,),
          paced and 1350 <= paced[0] <= 3000 and paced[1] == len(frames))
    fast = replay_span("recording-fast", rec, "--fast", "--rate", "1000")
    check("recording: --fast ignores the recorded pace (%s)" % (fast,),
          fast and fast[0] < 600 and fast[1] == len(frames))


# ---- every event type ---------------------------------------------------------------------------

V1_NAMES = {"chat", "member", "gift", "roomUser", "like", "social", "follow", "share",
            "questionNew", "linkMicBattle", "linkMicArmies", "liveIntro", "emote", "envelope",
            "subscribe", "streamEnd"}
V2_NAMES = {"chat", "member", "gift", "roomUser", "like", "follow", "share", "questionNew",
            "linkMicBattle", "linkMicArmies", "liveIntro", "emote", "envelope", "subNotify",
            "roomPin", "pollMessage", "controlMessage", "system", "streamEnd"}


def test_every_event(ver):
    sim = with_sim("every-event-" + ver, "--scenario", os.path.join(SCEN, "every-event.jsonl"))
    if sim is None:
        return
    try:
        events, path = client(ver, sim.base, "conf_host", timeout_ms=30000, tag="every-event")
        c = close_entry(sim)
    finally:
        stop_sim(sim)
    frames = os.path.join(sim.dump, "conf_host")
    expected = os.path.join(WORK, "every-event.%s.expected.jsonl" % ver)
    if check("every event %s: the library decodes the dumped frames" % ver,
             os.path.isdir(frames) and decode(ver, frames, expected)):
        multiset("every event %s: live client == decode of the same frames" % ver, expected, path)
    want = V1_NAMES if ver == "v1" else V2_NAMES
    missing = sorted(want - set(names(events)))
    check("every event %s: all %d event types arrived" % (ver, len(want)), not missing,
          "missing %s" % missing)
    if ver == "v1":
        content_v1(events)
        third_check(frames, expected)
    else:
        content_v2(events)
    protocol_checks(ver, sim, c)


def content_v1(events):
    """The values the scenario asked for, as 1.x reports them."""
    chats = [d.get("comment") for d in data_of(events, "chat")]
    check("v1 content: chat texts incl. the im/fetch backlog",
          "from the backlog" in chats and "hello 👋 from the simulator" in chats, chats)
    roses = [(d.get("repeatCount"), d.get("repeatEnd")) for d in data_of(events, "gift")
             if d.get("giftName") == "Rose"]
    check("v1 content: a Rose streak of 3 (1, 2, 3, then 3 with repeatEnd)",
          sorted(roses, key=lambda x: (x[0], bool(x[1]))) ==
          [(1, False), (2, False), (3, False), (3, True)], roses)
    lion = [d for d in data_of(events, "gift") if d.get("giftName") == "Lion"]
    check("v1 content: a single Lion, 29999 diamonds, repeatEnd", len(lion) == 1
          and lion[0].get("diamondCount") == 29999 and lion[0].get("repeatEnd") is True)
    alice = [d for d in data_of(events, "chat") if d.get("uniqueId") == "alice"]
    check("v1 content: badges (moderator, subscriber, gifter level 15)", alice
          and alice[0].get("isModerator") is True and alice[0].get("isSubscriber") is True
          and alice[0].get("gifterLevel") == 15
          and "100x100.webp" in (alice[0].get("profilePictureUrl") or ""))
    ru = data_of(events, "roomUser")
    check("v1 content: viewer count and top viewers", ru and ru[0].get("viewerCount") == 321
          and len(ru[0].get("topViewers") or []) == 3)
    likes = sorted(d.get("totalLikeCount") for d in data_of(events, "like"))
    check("v1 content: like totals add up (7, 22) and 3e9 wraps in 1.x's int32",
          likes == [-1294967296, 7, 22], likes)
    sub = data_of(events, "subscribe")
    check("v1 content: subscribe months", sub and sub[0].get("subMonth") == 3)
    q = data_of(events, "questionNew")
    check("v1 content: question text", q and q[0].get("questionText") == "What's your setup?")
    armies = data_of(events, "linkMicArmies")
    check("v1 content: battle points for both hosts",
          any(len(d.get("battleArmies") or []) == 2 for d in armies))
    env = data_of(events, "envelope")
    check("v1 content: envelope coins and sender", env and env[0].get("coins") == 500
          and env[0].get("uniqueId") == "bob_the_builder")
    check("v1 content: streamEnd action 3", data_of(events, "streamEnd") == [{"action": 3}])


def content_v2(events):
    """The values the scenario asked for, as 2.x reports them."""
    ctl = sorted((d.get("action") for d in data_of(events, "controlMessage")))
    check("v2 content: control actions pause, resume, end", ctl == [1, 2, 3], ctl)
    polls = data_of(events, "pollMessage")
    check("v2 content: poll start, update and end", len(polls) == 3)
    pins = data_of(events, "roomPin")
    check("v2 content: pinned chat", pins and (pins[0].get("chatMessage") or {}).get("content")
          == "pinned: read the rules")
    subs = data_of(events, "subNotify")
    check("v2 content: subNotify months", subs and str(subs[0].get("subMonth")) == "3")
    sysm = data_of(events, "system")
    check("v2 content: a raw WebcastSystemMessage", sysm and "Welcome" in (sysm[0].get("message")
                                                                           or ""))
    gifts = [d for d in data_of(events, "gift") if str(d.get("giftId")) == "5655"]
    check("v2 content: Rose streak messages", len(gifts) == 4)


def third_check(frames, expected_v1):
    """Our own decoder (tt-decode) against 1.2.3 on the same frames, per frame."""
    if not os.path.exists(TT_DECODE):
        record("third check: tt-decode == 1.2.3 on the dumped frames", False, TT_DECODE + " missing")
        return
    ours = os.path.join(WORK, "every-event.tt-decode.jsonl")
    with open(ours, "w") as f:
        subprocess.run([TT_DECODE, frames], stdout=f, stderr=subprocess.DEVNULL, timeout=60)
    p = subprocess.run([sys.executable, COMPARE, expected_v1, ours], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    last = p.stdout.decode().strip().splitlines()[-1:] or [""]
    check("third check: tt-decode == 1.2.3 on the dumped frames (%s)" % last[0], p.returncode == 0,
          p.stdout.decode()[-1500:])


def protocol_checks(ver, sim, c):
    """What the request log says the real client did."""
    log = sim.entries()
    http = [e for e in log if e.get("kind") == "http"]
    paths = [e.get("path") for e in http]
    if ver == "v1":
        want = ["/@conf_host/live", "/webcast/room/info/", "/webcast/sign_url", "/webcast/im/fetch/"]
    else:
        want = ["/@conf_host/live", "/webcast/room/info/"]
    check("log %s: requests in the order the client makes them %s" % (ver, paths),
          paths[:len(want)] == want and (ver == "v1" or
                                          (len(paths) > 2 and re.match(r"/webcast/rooms/\d+/connect$",
                                                                       paths[2] or ""))))
    if ver == "v1":
        fetch = [e for e in http if e.get("path") == "/webcast/im/fetch/"]
        q = fetch[0].get("query", {}) if fetch else {}
        check("log v1: im/fetch carries the sign server's msToken and X-Bogus",
              q.get("msToken") and q.get("X-Bogus") and q.get("room_id"))
    up = [e for e in log if e.get("kind") == "ws-upgrade"]
    q = up[0].get("query", {}) if up else {}
    check("log %s: WebSocket URL with room_id, cursor, internal_ext, compress and route params"
          % ver, q.get("room_id") and q.get("cursor") and q.get("internal_ext")
          and q.get("compress") == "gzip" and q.get("imprp") and q.get("wrss"), q)
    if ver == "v2":
        check("log v2: version_code twice and the User-Agent as a query parameter",
              "version_code" in (up[0].get("dup_keys") or []) and q.get("User-Agent"))
    ins = [e for e in log if e.get("kind") == "ws-in"]
    hbs = [e for e in ins if e.get("type") == "hb"]
    if ver == "v1":
        check("log v1: 1.x heartbeat, the fixed bytes 3a026862", hbs and hbs[0].get("hex") == "3a026862")
    else:
        rid = q.get("room_id")
        check("log v2: 2.x heartbeat with room id and sequence 1",
              hbs and (hbs[0].get("hb") or {}).get("room_id") == rid
              and (hbs[0].get("hb") or {}).get("seq") == 1)
        enter = [e for e in ins if e.get("type") == "im_enter_room"]
        er = (enter[0].get("enter") if enter else None) or {}
        check("log v2: enter-room frame (room id, live id 12, audience)",
              er.get("room_id") == rid and er.get("live_id") == 12 and er.get("identity") ==
              "audience" and er.get("filter_welcome_msg") == "0")
    check("log %s: every frame acked, no unknown acks (%s/%s)" % (ver, c.get("acks"), c.get("frames")),
          c.get("frames", 0) > 0 and c.get("acks") == c.get("frames") == c.get("need_ack")
          and c.get("acks_unknown") == 0)
    check("log %s: heartbeats answered (%s answers)" % (ver, c.get("answers")),
          c.get("heartbeats", 0) >= 1 and c.get("answers", 0) >= c.get("heartbeats", 0))


# ---- faults -------------------------------------------------------------------------------------

# streamer -> (1.x message pattern, 2.x message pattern) of the client's $connectFailed
CONNECT_FAULTS = {
    "ghost": (r"^Failed to retrieve room_id from page source\. API Error 19881007 \(user_not_found\)$",
              r"^Failed to retrieve Room ID from all sources\.$"),
    "sleepy": (r"^LIVE has ended$", r"^The requested user isn't online :\($"),
    "blocked_ip": (r"^Failed to retrieve room_id from page source\. Request failed with status code 403$",
                   r"^Failed to retrieve Room ID from all sources\.$"),
    "rate_limited": (r"^Failed to sign request: .*status code 429",
                     r"^\[Rate Limited\] \(rate_limit_account_minute\) Too many connections"),
    "bad_key": (r"^Failed to sign request: .*status code 401",
                r"^\[Sign Error\] .*Unexpected sign server status 401"),
    "unpaid": (r"^Failed to sign request: .*status code 402", r"^\[Premium Feature\] "),
    "forbidden": (r"^Failed to sign request: .*status code 403",
                  r"^\[Sign Error\] .*Unexpected sign server status 403"),
    "no_cursor": (r"^Missing cursor in initial fetch response\.$",
                  r"Missing cursor in initial fetch response\.$"),
    "ws_refused": (r"^TikTok does not offer a websocket upgrade",
                   r"^Error connecting to WebSocket with message: DEVICE_BLOCKED$"),
    "no_push": (r"^TikTok does not offer a websocket upgrade", r"^Invalid URL: \?version_code="),
}


def fault_connect(ver, sim, handle):
    events, _ = client(ver, sim.base, handle, timeout_ms=10000, tag="fault")
    msg = failed_with(events)
    pat = CONNECT_FAULTS[handle][0 if ver == "v1" else 1]
    check("fault %s %s: %r" % (handle, ver, (msg or "")[:110]), msg is not None and re.search(pat, msg),
          "events: %s" % names(events))
    if handle == "ws_refused" and ver == "v1":
        errs = [d.get("exception", "") for d in data_of(events, "error")]
        check("fault ws_refused v1: the handshake-msg reached the client",
              any("handshake-msg: DEVICE_BLOCKED" in x for x in errs))


def fault_events(ver, sim, handle, timeout_ms=10000):
    events, path = client(ver, sim.base, handle, timeout_ms=timeout_ms, tag="fault")
    return events, path


def fault_age(ver, sim):
    events, _ = fault_events(ver, sim, "adults_only")
    conn = data_of(events, "connected")
    info = (conn[0].get("roomInfo") or {}) if conn else {}
    code = info.get("status_code") if ver == "v2" else None
    chats = [d for d in data_of(events, "chat")]
    check("fault adults_only %s: room info refused (10011) yet the stream works" % ver,
          conn and chats and (ver == "v1" and info.get("prompts") == "Request params error"
                              or code == 10011), names(events))


def fault_drop(ver, sim):
    events, _ = fault_events(ver, sim, "dropper")
    texts = sorted(d.get("comment") or (d.get("content")) for d in data_of(events, "chat"))
    disc = data_of(events, "disconnected")
    code = (disc[0] or {}).get("code") if disc else None
    check("fault dropper %s: 3 frames, then the socket is gone (%s)" % (ver, texts),
          texts == ["drop 1", "drop 2", "drop 3"] and disc and (ver == "v1" or code == 1006))


def fault_close(ver, sim):
    events, _ = fault_events(ver, sim, "closer")
    disc = data_of(events, "disconnected")
    texts = [d.get("comment") or d.get("content") for d in data_of(events, "chat")]
    ok = disc and texts == ["before the close"]
    if ver == "v2":
        ok = ok and disc[0].get("code") == 4001 and disc[0].get("reason") == "sim closes"
    check("fault closer %s: close frame 4001 \"sim closes\"" % ver, ok, json.dumps(disc))


def fault_noisy(ver, sim):
    events, path = fault_events(ver, sim, "noisy")
    return path


def fault_quiet(ver, sim):
    events, _ = fault_events(ver, sim, "quiet", timeout_ms=3000)
    n = [x for x in names(events) if x not in ("connected", "websocketConnected", "$timeout")]
    check("fault quiet %s: connected, then silence (%s)" % (ver, n or "nothing"),
          "websocketConnected" in names(events) and not n)


def fault_slow(ver, sim):
    t0 = time.monotonic()
    events, _ = fault_events(ver, sim, "slowpoke")
    took = time.monotonic() - t0
    check("fault slowpoke %s: slow answers (%.1f s), still connects" % (ver, took),
          took >= 1.4 and data_of(events, "chat"))


def fault_relive(ver, sim):
    ev1, _ = fault_events(ver, sim, "phoenix")
    first = [d.get("comment") or d.get("content") for d in data_of(ev1, "chat")]
    live = sim.wait_log(lambda e: e.get("kind") == "room" and e.get("room") == "phoenix"
                        and e.get("state") == "live again", 10)
    ev2, _ = client(ver, sim.base, "phoenix", timeout_ms=10000, tag="fault-relive")
    conn = data_of(ev2, "connected")
    rid = (conn[0].get("roomId") if conn else None)
    second = [d.get("comment") or d.get("content") for d in data_of(ev2, "chat")]
    check("fault phoenix %s: stream end, then live again as room %s" % (ver, rid),
          first == ["first life"] and "streamEnd" in names(ev1) and live
          and rid == "7390000000000000002" and second == ["second life"])


def fault_retry(ver, sim):
    ev1, _ = fault_events(ver, sim, "flaky_sign")
    ev2, _ = client(ver, sim.base, "flaky_sign", timeout_ms=10000, tag="fault-retry")
    msg = failed_with(ev1) or ""
    second = [d.get("comment") or d.get("content") for d in data_of(ev2, "chat")]
    check("fault flaky_sign %s: rate-limited once, the retry connects" % ver,
          "429" in msg or "Rate Limited" in msg, msg[:100])
    check("fault flaky_sign %s: ... and gets the stream" % ver, second == ["second try"], names(ev2))


def test_faults(ver):
    sim = with_sim("faults-" + ver, "--scenario", os.path.join(SCEN, "faults.jsonl"))
    if sim is None:
        return
    noisy = None
    try:
        jobs = [(fault_connect, (ver, sim, h)) for h in CONNECT_FAULTS]
        jobs += [(fault_age, (ver, sim)), (fault_drop, (ver, sim)), (fault_close, (ver, sim)),
                 (fault_quiet, (ver, sim)), (fault_slow, (ver, sim)), (fault_relive, (ver, sim)),
                 (fault_retry, (ver, sim))]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futs = [pool.submit(f, *a) for f, a in jobs]
            fut_noisy = pool.submit(fault_noisy, ver, sim)
            for f in futs:
                guard(f)
            noisy = guard(fut_noisy)
        if ver == "v1":
            events, _ = client("v1", sim.base, "fetch_limited", timeout_ms=10000, tag="fault")
            msg = failed_with(events)
            check("fault fetch_limited v1: im/fetch 429 -> InitialFetchError (%r)" % msg,
                  msg == "Rate limited by TikTok (HTTP 429)")
        else:
            events, _ = client("v2", sim.base, "blocked_web_only", timeout_ms=10000, tag="fault")
            check("fault blocked_web_only v2: web blocked, connected through the sign server",
                  "chat" in names(events) and "streamEnd" in names(events), names(events))
    finally:
        stop_sim(sim)
    expected = os.path.join(WORK, "noisy.%s.expected.jsonl" % ver)
    frames = os.path.join(sim.dump, "noisy")
    if noisy and check("fault noisy %s: the library decodes the dumped frames" % ver,
                       decode(ver, frames, expected)):
        multiset("fault noisy %s: garbage, truncated frame and gzip bomb: same events and errors"
                 % ver, expected, noisy)
    log = sim.entries()
    check("fault log %s: every fault recorded" % ver,
          {"garbage frame", "truncated frame", "gzip bomb", "drop after frames", "close sockets",
           "sign server status", "websocket handshake refused"} <=
          {e.get("fault") for e in log if e.get("kind") == "fault"})


def guard(fut):
    """A test function's exception becomes a failure, not a crash of the run."""
    try:
        return fut.result(timeout=180)
    except Exception as e:  # pylint: disable=broad-except
        record("internal error", False, "%s: %s" % (type(e).__name__, e))
        return None


# ---- HTTP endpoints, TLS, API key, load ---------------------------------------------------------

def test_endpoints():
    sim = with_sim("endpoints", "--scenario", os.path.join(SCEN, "demo.jsonl"))
    if sim is None:
        return
    try:
        st, _, body = sim.get("/@the_host/live")
        page = body.decode()
        m1 = re.search(r'roomId":"([0-9]+)"', page)
        m2 = re.search(r'<script id="SIGI_STATE" type="application/json">(.*?)</script>', page)
        sigi = json.loads(m2.group(1)) if m2 else {}
        rid = ((sigi.get("LiveRoom") or {}).get("liveRoomUserInfo") or {}).get("user", {}).get("roomId")
        check("http: live page in both shapes (1.x regex and SIGI_STATE)", st == 200 and m1 and rid
              and m1.group(1) == rid and '"og:url"' in page)
        st, _, body = sim.get("/api-live/user/room/?uniqueId=the_host&sourceType=54")
        j = json.loads(body)
        check("http: api-live/user/room", j.get("statusCode") == 0
              and j["data"]["user"]["roomId"] == rid and j["data"]["liveRoom"]["status"] == 2)
        st, _, body = sim.get("/webcast/room/check_alive/?room_ids=%s,1" % rid)
        j = json.loads(body)
        check("http: room/check_alive", [d.get("alive") for d in j.get("data", [])] == [True, False])
        st, _, body = sim.get("/webcast/gift/list/")
        gifts = json.loads(body)["data"]["gifts"]
        rose = [g for g in gifts if g["id"] == 5655]
        check("http: gift/list (%d gifts, Rose 5655 = 1 diamond, with images)" % len(gifts),
              len(gifts) >= 30 and rose and rose[0]["diamond_count"] == 1
              and rose[0]["image"]["url_list"])
        st, _, body = sim.get("/webcast/im/fetch/?room_id=%s" % rid)
        check("http: unsigned im/fetch gets no cursor (an empty body)", st == 200 and body == b"")
        st, hdr, body = sim.get("/webcast/fetch/?room_id=%s&client=ttlive-node" % rid)
        hl = {k.lower(): v for k, v in hdr.items()}
        check("http: webcast/fetch (older sign path): protobuf + x-set-tt-cookie",
              st == 200 and len(body) > 50 and "x-set-tt-cookie" in hl and hl.get("x-room-id") == rid)
        st, _, body = sim.get("/webcast/anchors/ghost_user/room_id")
        check("http: Euler room-id lookup of a missing user", st == 404 and b"user_not_found" in body)
        events, _ = client("v1", sim.base, "the_host", timeout_ms=4000, tag="demo")
        seen = set(names(events))
        check("demo: 1.x connects to the_host and gets a lively room %s" % sorted(seen),
              {"chat", "member", "like", "gift"} <= seen)
        st, _, body = sim.get("/nowhere")
        check("http: unknown path -> 404 JSON", st == 404 and json.loads(body).get("status_code") == 404)
        bad = os.path.join(WORK, "bad.jsonl")
        with open(bad, "w") as f:
            f.write('{"kind":"streamer","handle":"x"}\n{"t":1,"type":"dance"}\n')
        p = subprocess.run([SIM, "--listen", "127.0.0.1:0", "--scenario", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, env=clean_env())
        check("scenario errors name file and line", p.returncode != 0
              and b"bad.jsonl:2: unknown event type \"dance\"" in p.stderr, p.stderr[-300:])
    finally:
        stop_sim(sim)


def test_gift_list_kb():
    """--gift-list-kb: a gift list of TikTok's size for memory measurements (tools/bench_bridge.py
    GIFT_LIST_KB), the table's gifts first, then fillers with ids of their own"""
    sim = with_sim("giftlist", "--scenario", os.path.join(SCEN, "demo.jsonl"), "--gift-list-kb",
                   "250")
    if sim is None:
        return
    try:
        st, _, body = sim.get("/webcast/gift/list/")
        gifts = json.loads(body)["data"]["gifts"]
        ids = [g["id"] for g in gifts]
        check("http: gift/list padded to 250 KiB (%d bytes, %d gifts)" % (len(body), len(gifts)),
              st == 200 and 250 * 1024 <= len(body) < 252 * 1024 and len(set(ids)) == len(ids)
              and ids[0] == 5655 and sum(1 for g in gifts if g["name"].startswith("Filler")) > 400
              and all(g["image"]["url_list"] for g in gifts))
    finally:
        stop_sim(sim)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


TINY = ('{"kind":"streamer","handle":"tiny"}\n'
        '{"t":0.2,"type":"chat","text":"over TLS"}\n{"t":0.6,"type":"end"}\n')


def test_tls():
    d = os.path.join(WORK, "tls")
    os.makedirs(d, exist_ok=True)
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    try:
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                            key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        made = p.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        made = False
    if not check("tls: a throwaway certificate (openssl)", made):
        return
    for ver in ("v1", "v2"):
        sim = with_sim("tls-" + ver, "--tls", crt, key, "--scenario", write(os.path.join(d, "tiny.jsonl"), TINY))
        if sim is None:
            continue
        try:
            events, _ = client(ver, sim.base, "tiny", timeout_ms=10000, tls=True, tag="tls")
            texts = [d_.get("comment") or d_.get("content") for d_ in data_of(events, "chat")]
            check("tls %s: https + wss (%s)" % (ver, sim.base), sim.base.startswith("https://")
                  and texts == ["over TLS"] and "streamEnd" in names(events), names(events))
        finally:
            stop_sim(sim)


def test_api_key():
    sim = with_sim("api-key", "--api-key", "s3cret", "--scenario",
                   write(os.path.join(WORK, "tiny-key.jsonl"), TINY))
    if sim is None:
        return
    try:
        events, _ = client("v2", sim.base, "tiny", timeout_ms=10000, tag="api-key")
        msg = failed_with(events) or ""
        check("api key: 2.x without the key gets the sign server's 401 (%r)" % msg[:80],
              "Unexpected sign server status 401" in msg)
        st, _, _ = sim.get("/webcast/fetch/?room_id=1")
        check("api key: no key -> 401", st == 401)
        rid = json.loads(sim.get("/sim/status")[2])["rooms"][0]["room_id"]
        st, hdr, body = sim.get("/webcast/rooms/%s/connect?client=t" % rid, {"x-api-key": "s3cret"})
        check("api key: x-api-key header accepted", st == 200 and len(body) > 50)
        st, _, _ = sim.get("/webcast/rooms/%s/connect?client=t&apiKey=s3cret" % rid)
        check("api key: apiKey parameter accepted", st == 200)
    finally:
        stop_sim(sim)


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def test_load():
    rooms, rate, secs = 1000, 3, 4
    scen = write(os.path.join(WORK, "load.jsonl"),
                 '{"kind":"load","rooms":%d,"rate":%d,"seconds":%d,"seed":5}\n' % (rooms, rate, secs))
    sim = with_sim("load", "--scenario", scen, "--end-grace-ms", "500", record=False)
    if sim is None:
        return
    try:
        st = json.loads(sim.get("/sim/status")[2])
        ids = os.path.join(WORK, "load-ids.txt")
        write(ids, "\n".join(r["room_id"] for r in st["rooms"]) + "\n")
        cpu0 = cpu_seconds(sim.p.pid)
        env = clean_env(ORACLE_LIB=LIB["v2"])
        p = subprocess.run(["node", os.path.join(HERE, "load_client.js"), sim.ws, ids, "30000"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        cpu1 = cpu_seconds(sim.p.pid)
        out = json.loads(p.stdout.decode().strip().splitlines()[-1]) if p.stdout.strip() else {}
        after = json.loads(sim.get("/sim/status")[2])
    finally:
        stop_sim(sim)
    cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else -1
    events = sim.totals.get("events", 0)
    check("load: %d rooms x %d events/s x %d s: %d events in %s frames to %s sockets in %d ms, "
          "sim CPU %.2f s" % (rooms, rate, secs, events, out.get("frames"), out.get("opened"),
                              out.get("ms", 0), cpu),
          out.get("opened") == rooms and out.get("with_frames") == rooms
          and out.get("closed") == rooms and events >= rooms * rate * (secs - 1),
          json.dumps(out) + p.stderr.decode()[-500:])
    # createTime, where every latency measured starts, is stamped when the frame is built: a
    # frame has to be built when its socket can take it, not with every room of its tick (a tick
    # of 125 rooms here), or its createTime runs while the others are built and written
    writes, late = after.get("loadWrites", 0), after.get("loadWritesLate", -1)
    check("load: %d of %d frames written more than 1 ms after they were built" % (late, writes),
          writes >= rooms and 0 <= late <= writes // 20, json.dumps(after)[-300:])


# ---- main ---------------------------------------------------------------------------------------

def preflight():
    """Everything the tests need; a missing piece fails loudly (never a silent skip)."""
    problems = []
    if shutil.which("node") is None:
        problems.append("node is not installed (the real client runs on it)")
    if shutil.which("npm") is None:
        problems.append("npm is not installed (`make deps` installs the real client with it)")
    for path, what in ((CLIENT_JS, "tests/oracle/client.js"), (DECODE_JS, "tests/oracle/decode.js"),
                       (os.path.join(LIB["v1"], "package.json"), "tiktok-live-connector 1.2.3 (make deps)"),
                       (os.path.join(LIB["v2"], "package.json"), "tiktok-live-connector 2.5.0 (make deps)"),
                       (SIM, "the simulator (make)")):
        if not os.path.exists(path):
            problems.append("missing %s: %s" % (what, path))
    for p in problems:
        record("preflight", False, p)
    return not problems


def main():
    t0 = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    if preflight():
        tests = [("replay-v1", test_replay_v1, ()), ("replay-v2", test_replay_v2, ()),
                 ("every-event-v1", test_every_event, ("v1",)),
                 ("every-event-v2", test_every_event, ("v2",)),
                 ("faults-v1", test_faults, ("v1",)), ("faults-v2", test_faults, ("v2",)),
                 ("endpoints", test_endpoints, ()), ("gift-list-kb", test_gift_list_kb, ()),
                 ("tls", test_tls, ()),
                 ("api-key", test_api_key, ()), ("load", test_load, ()),
                 ("recording", test_recording, ())]
        tests = [t for t in tests if ONLY is None or ONLY in t[0]]
        # the long every-event runs (11.5 s streams) start first
        tests.sort(key=lambda t: not t[0].startswith("every-event"))
        with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
            for f in [pool.submit(fn, *args) for _, fn, args in tests]:
                guard(f)
    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print("conformance: %.0f s, work files in %s" % (time.monotonic() - t0, WORK))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
