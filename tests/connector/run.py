#!/usr/bin/env python3
"""libtiktok's connection against tiktok-live-sim on loopback, through examples/tt-connect.

- happy path: the v3 oracle corpus replayed, every event equal to what 1.2.3 emits for those
  frames (our comparator), over plain http/ws and over https/wss with a throwaway CA;
- the three sign flows (euler, legacy, session) and request polling, checked in the
  simulator's request log: parameters, headers, cookies, enter-room, heartbeats, acks;
- every fault of contrib/sim/scenarios/faults.jsonl gives its documented error;
- garbage frames cost themselves: the connection goes on;
- through an http:// proxy (CONNECT tunnels), and SOCKS5 refused for the WebSocket;
- the happy path under valgrind shows no leak.

Environment: B (build dir). Bounded waits, everything started is stopped; ends with
`N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from itest import B, CORPUS, ROOT, check, clean_env, compare, finish, kill_all, start  # noqa: E402

FAULTS = os.path.join(ROOT, "contrib", "sim", "scenarios", "faults.jsonl")
EVERY = os.path.join(ROOT, "contrib", "sim", "scenarios", "every-event.jsonl")


def start_sim(tmp, name, args):
    out = os.path.join(tmp, name + ".out")
    log = os.path.join(tmp, name + ".log")
    p = start([os.path.join(B, "tiktok-live-sim"), "--listen", "127.0.0.1:0", "--log", log]
              + args, stdout=open(out, "w"), stderr=subprocess.STDOUT)
    end = time.time() + 5
    while time.time() < end:
        for line in open(out):
            if '"listening"' in line:
                return p, json.loads(line)["listening"], log
        time.sleep(0.05)
    return p, None, log


def tt_connect(handle, base, *opts, timeout=20):
    cmd = [os.path.join(B, "tt-connect"), handle, "web_base=" + base, "webcast_base=" + base,
           "sign_api_url=" + base] + list(opts)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=clean_env())
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:  # what it printed so far still counts
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, ""


def events(stdout):
    out = []
    for line in stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def log_lines(path):
    out = []
    try:
        for line in open(path):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    except OSError:
        pass
    return out


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
    rc, out, err = tt_connect("the_host", base, *opts)
    evs = events(out)
    names = [e["event"] for e in evs]
    tag = " (TLS)" if tls else ""
    check(rc == 0, "tt-connect ends cleanly after the stream%s: rc=%s %s" % (tag, rc, err[-200:]))
    check(names[:2] == ["websocketConnected", "connected"], "control events first%s: %s" % (tag, names[:4]))
    check(names[-1] == "disconnected", "disconnected last%s" % tag)
    check(compare(tmp, evs, "happy%s.jsonl" % ("-tls" if tls else "")),
          "events equal 1.2.3's for the same frames%s" % tag)
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


FAULTS_EXPECTED = [
    # handle, expected stderr substring, extra options
    ("ghost", "user not found", []),
    ("sleepy", "user is not live", []),
    ("adults_only", "age-restricted", []),
    ("blocked_ip", "blocked by TikTok", []),
    ("rate_limited", "retry after 42s", []),
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
    if "san" in os.path.basename(os.path.normpath(B)) or subprocess.run(
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
            print("== faults", flush=True)
            test_faults(tmp)
            print("== proxy", flush=True)
            test_proxy(tmp)
            print("== valgrind", flush=True)
            test_valgrind(tmp)
        finally:
            kill_all()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
