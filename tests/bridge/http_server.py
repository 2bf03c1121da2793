#!/usr/bin/env python3
"""The bridge's HTTP server ([bridge] http, bridge/http.c on libwebsockets) under hostile
clients, its Server-Sent Events stream and the overlay's files. The bridge runs with --stdout
(no broker needed) following tiktok-live-sim.

Hostile clients (issue 11, finding 14; each of these failed on the hand-written server):
- a request containing NUL is refused or answered at once (it used to hang 5 s);
- 32 slowloris clients (a header byte every 0.3 s) do not slow a scrape: each answers within
  1 s while they hold (it took 8-9.5 s); the server drops them within its request timeout;
- 1,000 idle connections do not delay the first scrape: it answers within 1 s (19 s), and the
  server keeps at most 64 of them open;
- an oversized request head is refused.
Event stream: `retry:`, then `event: <name>` / `data: {"user","event","data"}` exactly as
--stdout prints the event; `?user=` keeps the others out; a late client starts with the
kept `state` and `room`; a bad filter is 400; a 17th stream is 503; a client that does not
read is cut off while a reading one gets every event and the bridge's output goes on.
Overlay: /overlay/ serves contrib/overlay's files with their types, /overlay redirects, and no
path (`..`, encoded or not) reaches a file outside the directory; overlay_dir picks another.

Environment: B (build dir). Every wait is bounded; everything started is stopped. Ends with
`N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import itest  # noqa: E402
from itest import ROOT, check, free_port, run_tests, stop, wait_for  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py: write_config, bridge)

SCENARIO = os.path.join(ROOT, "tests", "overlay", "scenario.jsonl")
OVERLAY = os.path.join(ROOT, "contrib", "overlay")


def start_sim(tmp, scenario):
    return itest.sim(tmp, "sim", ["--scenario", scenario], timeout=10)[:2]


class Bridge:
    """tiktok2mqtt --stdout with [bridge] http on a free port; its stdout lines collected"""

    def __init__(self, tmp, name, sim_url, streamers, extra="", wait=True):
        self.port = free_port()
        cfg = bt.write_config(tmp, name + ".ini", 1, sim_url or "http://127.0.0.1:1", streamers,
                              extra="[bridge]\nhttp = 127.0.0.1:%d\n%s" % (self.port, extra))
        self.log = os.path.join(tmp, name + ".log")
        self.p = bt.bridge(cfg, "--stdout", stdout=subprocess.PIPE, text=True,
                           stderr=open(self.log, "w"))
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        self.up = not wait or wait_for(lambda: self.get("/healthz", timeout=1)[0] == 200, 10,
                                       step=0.1)

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.strip())

    def get(self, path, timeout=5, raw=None):
        """(status, headers dict, body bytes, seconds); status None when nothing came back"""
        t0 = time.monotonic()
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout)
        except OSError:
            return None, {}, b"", time.monotonic() - t0
        s.settimeout(timeout)
        s.sendall(raw or ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path)
                  .encode())
        data = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
        s.close()
        took = time.monotonic() - t0
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ")[1])
        except (IndexError, ValueError):
            return None, {}, data, took
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        return status, hdrs, body, took

    def stop(self):
        """SIGTERM; it must exit 0 (a sanitizer's report or a leak would not)"""
        stop(self.p)
        check(self.p.returncode == 0, "the bridge exits 0 (%s): %s"
              % (self.p.returncode, open(self.log).read()[-1500:]))


def connect(port, n):
    """n connections that send nothing; not waited for (a full backlog would hold them)"""
    out = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        out.append(s)
    return out


def closed_by_server(socks):
    """how many of `socks` the server has closed (readable, and EOF or reset)"""
    n = 0
    for i in range(0, len(socks), 500):
        part = socks[i:i + 500]
        r, _, _ = select.select(part, [], [], 0)
        for s in r:
            try:
                n += s.recv(1) == b""
            except OSError:
                n += 1
    return n


# ---- hostile clients ----

def test_nul(tmp):
    br = Bridge(tmp, "nul", None, [])
    check(br.up, "the bridge serves /healthz")
    status, _, body, took = br.get(None, timeout=6,
                                   raw=b"GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(took < 1, "a request containing NUL is refused or answered at once (%.2f s, %s %r)"
          % (took, status, body[:40]))
    status, _, _, took = br.get("/metrics", timeout=6)
    check(status == 200 and took < 1, "then a scrape answers within 1 s (%s, %.2f s)"
          % (status, took))
    big = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n"
    status, _, _, took = br.get(None, raw=big)
    check(status in (None, 431) and took < 1,
          "an oversized request head is refused at once (%s, %.2f s)" % (status, took))
    br.stop()


def test_slowloris(tmp):
    br = Bridge(tmp, "slow", None, [])
    check(br.up, "the bridge serves /healthz")
    slow = connect(br.port, 32)
    done = threading.Event()

    def drip():  # one header byte each 0.3 s on every connection, never the blank line
        head = b"GET /metrics HTTP/1.1\r\nX-Slow: " + b"a" * 400
        i = 0
        while not done.is_set() and i < len(head):
            for s in slow:
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    pass  # not connected yet, or dropped
            i += 1
            done.wait(0.3)
    t = threading.Thread(target=drip, daemon=True)
    t.start()
    time.sleep(0.5)
    took = []
    for _ in range(4):
        status, _, body, dt = br.get("/metrics", timeout=15)
        took.append(round(dt, 2))
        check(status == 200 and b"tiktok2mqtt_build_info" in body, "a scrape is answered")
        time.sleep(0.3)
    check(max(took) < 1, "32 slowloris clients: every scrape within 1 s (%s)" % took)
    # the request timeout runs from the connection, not from the last byte
    check(wait_for(lambda: closed_by_server(slow) == len(slow), 9, step=0.2),
          "the slowloris clients are dropped within the request timeout, dripping or not")
    done.set()
    for s in slow:
        s.close()
    br.stop()


def test_idle_crowd(tmp):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    br = Bridge(tmp, "idle", None, [])
    check(br.up, "the bridge serves /healthz")
    idle = connect(br.port, 1000)
    status, _, body, took = br.get("/metrics", timeout=30)
    check(status == 200 and took < 1,
          "1,000 idle connections: the first scrape answers within 1 s (%s, %.2f s)"
          % (status, took))
    left = []
    check(wait_for(lambda: left.append(len(idle) - closed_by_server(idle)) or left[-1] <= 64,
                   5, step=0.2),
          "the server keeps at most 64 connections open (%s still open)" % (left[-1:],))
    status, _, _, took = br.get("/healthz", timeout=30)
    check(status == 200 and took < 1, "and /healthz too (%s, %.2f s)" % (status, took))
    for s in idle:
        s.close()
    br.stop()


# ---- the event stream ----

def read_stream(port, path, seconds, out, rcvbuf=None, read=True, until=None):
    """GET path and collect its bytes into out["data"] for `seconds` (or until EOF, or until
    until(out) is true: asked at most twice a second)"""
    end = time.monotonic() + 10
    while True:  # the bridge may be starting: its port listens before its streamers start
        s = socket.socket()
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            s.connect(("127.0.0.1", port))
            break
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.01)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    out["sock"], out["data"], out["eof"] = s, b"", False
    end = time.monotonic() + seconds
    asked = time.monotonic()
    while read and time.monotonic() < end:
        if until and time.monotonic() - asked >= 0.5:
            asked = time.monotonic()
            if until(out):
                break
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                out["eof"] = True
                break
            out["data"] += d


def messages(data):
    """the SSE messages of a stream's body: [{"event": name, "data": text}], comments left out"""
    body = data.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    out = []
    for block in body.split("\n\n")[:-1]:
        m = {}
        for line in block.split("\n"):
            k, _, v = line.partition(": ")
            if k in ("event", "data", "retry"):
                m[k] = m[k] + "\n" + v if k in m else v
        if m:
            out.append(m)
    return out


def test_events(tmp):
    sim, url = start_sim(tmp, SCENARIO)
    check(url is not None, "the simulator starts")
    # the stream opens while the bridge starts, before its streamers connect: nothing is missed
    br = Bridge(tmp, "sse", url, ["the_host", "pixel_pia", "night_owl"], wait=False)
    one = {}
    t = threading.Thread(target=read_stream,
                         args=(br.port, "/events?user=the_host,pixel_pia", 8, one))
    t.start()
    t.join()
    head = one["data"].partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    check(head.startswith("http/1.1 200") and "content-type: text/event-stream" in head,
          "/events: 200 text/event-stream (%r)" % head[:80])
    got = messages(one["data"])
    check(got and got[0].get("retry") == "3000", "the stream starts with retry: 3000")
    stdout = [json.loads(l) for l in br.lines if '"event"' in l]
    want = [(o["event"], o["user"], o["data"]) for o in stdout
            if o["user"] in ("the_host", "pixel_pia")]
    seen = []
    for m in got:
        if "event" in m and m["event"] not in ("state", "room", "status"):
            o = json.loads(m["data"])
            check(o["event"] == m["event"], "data.event is the event's name")
            seen.append((o["event"], o["user"], o["data"]))
    check(len(want) > 20 and seen == want,
          "the stream carries exactly the wanted streamers' events, in order, as --stdout "
          "prints them (%d of %d)" % (len(seen), len(want)))
    check(not any('"night_owl"' in m.get("data", "") for m in got),
          "nothing of a streamer not asked for")
    check(any(m.get("event") == "state" for m in got), "state updates go on the stream")

    # a late page starts with each wanted streamer's kept state and room
    late = {}
    read_stream(br.port, "/events?user=the_host", 1, late)
    first = messages(late["data"])[1:]
    kinds = sorted((m["event"], json.loads(m["data"])["user"]) for m in first)
    check(kinds == [("room", "the_host"), ("state", "the_host")],
          "a late client gets the_host's kept room and state first: %s" % kinds)
    state = [json.loads(m["data"])["data"] for m in first if m["event"] == "state"]
    likes = sum(o["data"].get("likeCount", 0) for o in stdout
                if o["user"] == "the_host" and o["event"] == "like")
    check(state and state[0].get("totalLikeCount") == likes,
          "its counters are the running totals (%s likes, %d sent)"
          % (state and state[0].get("totalLikeCount"), likes))

    status, _, body, _ = br.get("/events?user=a/b")
    check(status == 400, "a bad ?user= is 400 (%s %r)" % (status, body))
    streams = [{} for _ in range(16)]
    for s in streams:
        read_stream(br.port, "/events", 0, s, read=False)
    status, _, _, _ = br.get("/events")
    check(status == 503, "a 17th stream: 503 (%s)" % status)
    for s in streams:
        s["sock"].close()
    check(wait_for(lambda: br.get("/events", timeout=1)[0] != 503 or True, 1),
          "streams closed")
    br.stop()
    stop(sim)


def test_slow_reader(tmp):
    scen = os.path.join(tmp, "load.jsonl")
    with open(scen, "w") as f:
        f.write('{"kind":"load","rooms":1,"rate":1000,"seconds":8,"seed":3,"gzip":0}\n')
    sim, url = start_sim(tmp, scen)
    check(url is not None, "the simulator starts (load)")
    br = Bridge(tmp, "slowsse", url, ["load00001"], wait=False)
    stalled, fast = {}, {}
    read_stream(br.port, "/events", 0, stalled, rcvbuf=4096, read=False)  # never reads

    def events_out():
        return len([l for l in br.lines if '"event"' in l])

    def events_in(data):
        return len([m for m in messages(data) if m.get("event") not in
                    (None, "state", "room", "status")])

    # read until the load is over (the daemon's stdout has had no event for 3 s, long after its
    # 8 s) and the reader has as many events as stdout, or for 60 s: a room that went live late
    # on a slow machine still has all of its load counted
    seen = {"n": -1, "since": time.monotonic()}

    def load_over(out):
        n = events_out()
        if n != seen["n"]:
            seen["n"], seen["since"] = n, time.monotonic()
            return False
        return n > 0 and time.monotonic() - seen["since"] >= 3 and events_in(out["data"]) >= n

    t = threading.Thread(target=read_stream, args=(br.port, "/events", 60, fast),
                         kwargs={"until": load_over})
    t.start()
    t.join()
    n_stdout = events_out()
    n_fast = events_in(fast["data"])
    check(n_stdout > 5000, "the load ran (%d events)" % n_stdout)
    check(n_fast == n_stdout and not fast["eof"],
          "a reading client gets every event (%d of %d, %s)"
          % (n_fast, n_stdout, "cut off" if fast["eof"] else "open"))
    s = stalled["sock"]
    s.settimeout(10)
    eof, total = False, 0
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                eof = True
                break
            total += len(d)
    except OSError:
        eof = True
    check(eof and total < len(fast["data"]),
          "a client that did not read was cut off (%d bytes, then the end)" % total)
    br.stop()
    stop(sim)


# ---- the overlay's files ----

def test_overlay(tmp):
    br = Bridge(tmp, "files", None, [])
    check(br.up, "the bridge serves /healthz")
    for name, ctype in (("index.html", "text/html"), ("overlay.js", "text/javascript"),
                        ("overlay.css", "text/css"), ("sources.js", "text/javascript")):
        status, hdrs, body, _ = br.get("/overlay/" + name)
        check(status == 200 and hdrs.get("content-type", "").startswith(ctype) and
              body == open(os.path.join(OVERLAY, name), "rb").read(),
              "/overlay/%s: 200 %s, the file (%s %s)" % (name, ctype, status,
                                                         hdrs.get("content-type")))
    status, _, body, _ = br.get("/overlay/")
    check(status == 200 and body == open(os.path.join(OVERLAY, "index.html"), "rb").read(),
          "/overlay/ is index.html")
    status, hdrs, _, _ = br.get("/overlay")
    check(status in (301, 302, 303, 307, 308) and hdrs.get("location", "").endswith("/overlay/"),
          "/overlay redirects to /overlay/ (%s %s)" % (status, hdrs.get("location")))
    readme = open(os.path.join(ROOT, "README.md"), "rb").read()
    secret = os.path.join(tmp, "secret.txt")
    with open(secret, "w") as f:
        f.write("not for the web\n")
    for path in ("/overlay/../../README.md", "/overlay/%2e%2e/%2e%2e/README.md",
                 "/overlay/..%2f..%2fREADME.md", "/overlay/%2e%2e%2f%2e%2e%2fREADME.md",
                 "/overlay/....//....//README.md", "/overlay/..\\..\\README.md",
                 "/overlay/" + "../" * 12 + "etc/passwd", "/overlay//etc/passwd",
                 "/overlay/%00../README.md", "/overlay/" + "../" * 4 + tmp.lstrip("/") +
                 "/secret.txt"):
        status, _, body, _ = br.get(path)
        check(status != 200 or (readme[:200] not in body and b"root:" not in body and
                                b"not for the web" not in body),
              "no file outside the overlay: %s (%s)" % (path, status))
    status, _, _, _ = br.get("/overlay/nope.js")
    check(status == 404, "a missing file: 404 (%s)" % status)
    br.stop()
    # overlay_dir: another directory
    d = os.path.join(tmp, "mine")
    os.makedirs(d)
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<p>mine</p>\n")
    br = Bridge(tmp, "files2", None, [], extra="overlay_dir = %s\n" % d)
    status, _, body, _ = br.get("/overlay/")
    check(status == 200 and body == b"<p>mine</p>\n", "overlay_dir serves its own index.html")
    br.stop()


if __name__ == "__main__":
    sys.exit(run_tests([test_nul, test_slowloris, test_idle_crowd, test_events, test_slow_reader,
                        test_overlay], keep_prefix="http-"))
