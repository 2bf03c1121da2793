#!/usr/bin/env python3
"""libtiktok (through examples/tt-connect) against a hostile TikTok side, played by
tiktok-live-sim on loopback:

- cookies follow their domain: the push server a fetch result names and the URL a legacy
  signer returns get no cookie when their host is not TikTok's (localhost, evil.example),
  while TikTok's hosts get them; with the `resolve` option the simulator answers under
  TikTok's own names (www.tiktok.com, webcast.tiktok.com, webcast-ws.tiktok.com), mapped to
  127.0.0.1, and a push server on evil.example (also mapped to 127.0.0.1) gets no cookie;
- a WebSocket message that never ends (fragments without FIN) is cut at max_frame_bytes and
  ends the connection, with one log line, instead of leaving the client live forever; one
  large message costs one line, not one per fragment;
- error texts say what happened: a huge response header is "response header too large", not
  curl's "Out of memory"; room info nested too deep is a JSON error, not "HTTP 200".

Environment: B (build dir). Every configuration here maps TikTok's names to loopback
(tests/tools/check_no_tiktok.py). Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from itest import B, check, clean_env, events, log_lines, run_tests, start  # noqa: E402

SECRET = "s3cr3t-session-for-hostile"
SCENARIO = """\
{"kind":"sim","require_signature":false}
{"kind":"streamer","handle":"good"}
{"t":0.2,"type":"chat","text":"hi"}
{"t":0.5,"type":"end"}
{"kind":"streamer","handle":"pushleak","faults":{"push_host":"localhost"}}
{"t":0.2,"type":"chat","text":"hi"}
{"t":0.5,"type":"end"}
{"kind":"streamer","handle":"signleak","faults":{"signed_host":"localhost"}}
{"t":0.2,"type":"chat","text":"hi"}
{"t":0.5,"type":"end"}
{"kind":"streamer","handle":"tiktokpush","faults":{"push_host":"webcast-ws.tiktok.com"}}
{"t":0.2,"type":"chat","text":"hi"}
{"t":0.5,"type":"end"}
{"kind":"streamer","handle":"evilpush","faults":{"push_host":"evil.example"}}
{"t":0.2,"type":"chat","text":"hi"}
{"t":0.5,"type":"end"}
{"kind":"streamer","handle":"endless","faults":{"endless_message":true}}
{"kind":"streamer","handle":"bigframe"}
{"t":0.5,"type":"garbage","bytes":4194304}
{"t":0.6,"type":"chat","text":"after"}
{"t":0.8,"type":"end"}
{"kind":"streamer","handle":"bighead","faults":{"header_bytes":200000}}
{"kind":"streamer","handle":"deep","faults":{"json_depth":5000}}
{"kind":"streamer","handle":"tlsname","faults":{"push_host":"webcast-ws.tiktok.com"}}
{"t":0.2,"type":"chat","text":"hi"}
{"t":0.5,"type":"end"}
{"kind":"streamer","handle":"slowpush","loop":true,"faults":{"push_host":"ws.slow.test"}}
{"t":0.2,"type":"chat","text":"hi"}
{"kind":"streamer","handle":"racer","loop":true}
{"t":0.05,"type":"chat","text":"tick"}
"""


def start_sim(tmp, extra=()):
    scen = os.path.join(tmp, "hostile.jsonl")
    with open(scen, "w") as f:
        f.write(SCENARIO)
    out, log = os.path.join(tmp, "sim.out"), os.path.join(tmp, "sim.log")
    p = start([os.path.join(B, "tiktok-live-sim"), "--listen", "127.0.0.1:0", "--log", log,
               "--scenario", scen, "--end-grace-ms", "200"] + list(extra),
              stdout=open(out, "w"), stderr=subprocess.STDOUT)
    end = time.time() + 5
    while time.time() < end:
        for line in open(out):
            if '"listening"' in line:
                return p, json.loads(line)["listening"], log
        time.sleep(0.05)
    return p, None, log


def tt_connect(handle, base, *opts, timeout=20):
    """rc (None on timeout), stdout, stderr, seconds taken; sign_flow=euler unless opts say
    otherwise: a signed flow, never the direct path's push edge"""
    cmd = [os.path.join(B, "tt-connect"), handle, "web_base=" + base, "webcast_base=" + base,
           "sign_api_url=" + base, "sign_flow=euler", "stale_timeout_s=5"] + list(opts)
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=clean_env())
        return r.returncode, r.stdout, r.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, out, err, time.time() - t0


def cookie_of(line):
    return (line.get("headers") or {}).get("cookie") or ""


def requests_of(log, room):
    return [l for l in log_lines(log) if l.get("room") == room and
            l.get("kind") in ("http", "ws-upgrade")]


def host_of(line):
    return ((line.get("headers") or {}).get("host") or "").split(":")[0]


def test_cookie_domain(tmp):
    """without resolve: a push server and a signed URL on localhost get no cookie"""
    sim, base, log = start_sim(tmp)
    check(base is not None, "simulator starts")
    rc, out, err, _ = tt_connect("pushleak", base, "session_id=" + SECRET, timeout=20)
    reqs = requests_of(log, "pushleak")
    ups = [l for l in reqs if l["kind"] == "ws-upgrade"]
    tiktok = [l for l in reqs if l["kind"] == "http" and "/webcast/room/info/" in l["path"]]
    check(ups and host_of(ups[0]) == "localhost",
          "push_host fault: the WebSocket went to localhost (%s)" % [host_of(u) for u in ups])
    check(tiktok and SECRET in cookie_of(tiktok[0]),
          "room/info on the configured TikTok host carries the session cookie")
    check(ups and all(SECRET not in cookie_of(u) and "ttwid" not in cookie_of(u) for u in ups),
          "the push server a fetch result names on another host gets no cookie: %s"
          % [cookie_of(u)[:60] for u in ups])

    rc, out, err, _ = tt_connect("signleak", base, "session_id=" + SECRET,
                                 "sign_flow=legacy", timeout=20)
    reqs = requests_of(log, "signleak")
    fetches = [l for l in reqs if l["kind"] == "http" and "/webcast/im/fetch/" in l["path"]]
    check(fetches and host_of(fetches[0]) == "localhost",
          "signed_host fault: the signed im/fetch went to localhost (%s)"
          % [host_of(f) for f in fetches])
    check(fetches and all(SECRET not in cookie_of(f) for f in fetches),
          "the signedUrl of a legacy signer on another host gets no cookie: %s"
          % [cookie_of(f)[:60] for f in fetches])
    ups = [l for l in reqs if l["kind"] == "ws-upgrade"]
    check(ups and SECRET in cookie_of(ups[0]),
          "the push server on the TikTok host still gets the session cookie")
    sim.terminate()


def test_resolve(tmp):
    """TikTok's names on loopback through the resolve option: cookies go to them, and to
    nothing else"""
    sim, base, log = start_sim(tmp)
    port = base.rsplit(":", 1)[1]
    # written out whole, so tests/tools/check_no_tiktok.py sees each name mapped to loopback
    resolve = ",".join(["www.tiktok.com:%s:127.0.0.1" % port,
                        "webcast.tiktok.com:%s:127.0.0.1" % port,
                        "webcast-ws.tiktok.com:%s:127.0.0.1" % port,
                        "evil.example:%s:127.0.0.1" % port])
    web, webcast = "http://www.tiktok.com:%s" % port, "http://webcast.tiktok.com:%s" % port
    for handle, push_host, gets in (("tiktokpush", "webcast-ws.tiktok.com", True),
                                    ("evilpush", "evil.example", False)):
        rc, out, err, _ = tt_connect(handle, base, "web_base=" + web, "webcast_base=" + webcast,
                                     "resolve=" + resolve, "session_id=" + SECRET,
                                     "push_base=ws://webcast-ws.tiktok.com:%s" % port, timeout=20)
        reqs = requests_of(log, handle)
        info = [l for l in reqs if l["kind"] == "http" and "/webcast/room/info/" in l["path"]]
        ups = [l for l in reqs if l["kind"] == "ws-upgrade"]
        check(info and host_of(info[0]) == "webcast.tiktok.com" and
              SECRET in cookie_of(info[0]),
              "%s: room/info asked webcast.tiktok.com (resolved to loopback), with the "
              "cookie: %s" % (handle, [host_of(i) for i in info]))
        check(ups and host_of(ups[0]) == push_host,
              "%s: the WebSocket went to %s through the override (%s) %s"
              % (handle, push_host, [host_of(u) for u in ups], err.strip()[-200:]))
        check(ups and (SECRET in cookie_of(ups[0])) == gets,
              "%s: the session cookie %s the push server %s" %
              (handle, "reaches" if gets else "does not reach", push_host))
    rc, out, err, _ = tt_connect("good", base, "resolve=www.tiktok.com:80")
    check(rc not in (0, None) and "resolve" in err,
          "a malformed resolve entry is refused, named: %s" % err.strip()[-160:])


def test_resolve_tls(tmp):
    """over TLS, with a certificate for the names only (no IP address): libcurl and the
    WebSocket connect to the overridden address but verify the name"""
    key, crt = os.path.join(tmp, "tk.pem"), os.path.join(tmp, "tc.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=www.tiktok.com", "-addext",
                    "subjectAltName=DNS:www.tiktok.com,DNS:webcast.tiktok.com,"
                    "DNS:webcast-ws.tiktok.com,DNS:sign.example"], capture_output=True)
    sim, base, log = start_sim(tmp, ["--tls", crt, key])
    port = base.rsplit(":", 1)[1]
    resolve = ",".join(["www.tiktok.com:%s:127.0.0.1" % port,
                        "webcast.tiktok.com:%s:127.0.0.1" % port,
                        "webcast-ws.tiktok.com:%s:127.0.0.1" % port,
                        "sign.example:%s:127.0.0.1" % port])
    rc, out, err, _ = tt_connect("tlsname", base, "sign_api_url=https://sign.example:%s" % port, "web_base=https://www.tiktok.com:%s" % port,
                                 "webcast_base=https://webcast.tiktok.com:%s" % port,
                                 "resolve=" + resolve, "ca_file=" + crt, timeout=20)
    names = [e["event"] for e in events(out)]
    check(rc == 0 and "connected" in names and "chat" in names,
          "TLS under TikTok's names through resolve: verified and connected (rc=%s) %s"
          % (rc, err.strip()[-200:]))
    sim.terminate()


def test_endless_message(tmp):
    sim, base, log = start_sim(tmp)
    rc, out, err, secs = tt_connect("endless", base, "max_frame_bytes=262144", timeout=25)
    evs = events(out)
    names = [e["event"] for e in evs]
    check(rc is not None and secs < 15,
          "a message that never ends ends the connection (rc=%s after %.1f s, events %s)"
          % (rc, secs, names[:6]))
    check("connected" in names and names[-1:] == ["disconnected"],
          "connected, then disconnected: %s" % names[-3:])
    check("max_frame_bytes" in err, "the reason names max_frame_bytes: %s" % err.strip()[-200:])
    lines = [l for l in err.splitlines() if "max_frame_bytes" in l]
    check(1 <= len(lines) <= 3, "said once, not per fragment (%d lines)" % len(lines))
    faults = [l for l in log_lines(log) if l.get("fault") == "endless message"]
    check(len(faults) >= 1, "the simulator sent its endless message")


def test_big_frame(tmp):
    """one 4 MiB message, max_frame_bytes 1 MiB: one line, not one per 4 KiB fragment"""
    sim, base, log = start_sim(tmp)
    rc, out, err, secs = tt_connect("bigframe", base, timeout=25)
    check(rc is not None, "tt-connect ends (rc=%s after %.1f s)" % (rc, secs))
    lines = err.splitlines()
    check(len(lines) <= 10, "a large message writes few log lines, not one per fragment (%d)"
          % len(lines))
    check("max_frame_bytes" in err, "the reason names max_frame_bytes: %s" % err.strip()[-200:])


def test_error_texts(tmp):
    sim, base, log = start_sim(tmp)
    rc, out, err, _ = tt_connect("bighead", base, timeout=20)
    check(rc not in (0, None) and "header too large" in err and "Out of memory" not in err,
          "a huge response header: 'response header too large': %s" % err.strip()[-240:])
    rc, out, err, _ = tt_connect("deep", base, timeout=20)
    check(rc not in (0, None) and "nested deeper" in err and "HTTP 200" not in err,
          "room info nested too deep: a JSON nesting error, not HTTP 200: %s"
          % err.strip()[-240:])


def stop_when(cmd, ready, what):
    """start tt-connect `cmd` with every name under .slow.test never answering (slow_dns.so),
    SIGTERM it once `ready()` holds; seconds from the signal to its exit (None: no exit)"""
    env = clean_env()
    env["LD_PRELOAD"] = os.path.join(B, "tests", "slow_dns.so")
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    end = time.time() + 15
    while time.time() < end and p.poll() is None and not ready():
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the 30 s lookup: whatever the resolver does, it is waiting
    check(p.poll() is None, "%s: tt-connect is waiting for DNS" % what)
    t0 = time.time()
    p.terminate()
    try:
        p.wait(10)
        return time.time() - t0
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def test_stop_during_dns(tmp):
    """a stop while DNS does not answer (a name under .slow.test, slow_dns.so) ends the
    client at once: libcurl's threaded resolver for HTTP, and the WebSocket's host"""
    sim, base, log = start_sim(tmp)
    cmd = [os.path.join(B, "tt-connect"), "good", "web_base=https://www.slow.test",
           "webcast_base=https://webcast.slow.test", "sign_api_url=" + base, "sign_flow=euler"]
    took = stop_when(cmd, lambda: True, "HTTP")
    print("stop during an HTTP lookup: %s s" % took)
    check(took is not None and took < 3,
          "a stop during an HTTP request's DNS lookup ends tt-connect at once (%s s)" % took)
    cmd = [os.path.join(B, "tt-connect"), "slowpush", "web_base=" + base,
           "webcast_base=" + base, "sign_api_url=" + base, "sign_flow=euler",
           "allow_insecure=true"]  # ws:// to a name that is not loopback
    connect = lambda: any(l.get("room") == "slowpush" and "/connect" in (l.get("path") or "")
                          for l in log_lines(log))
    took = stop_when(cmd, connect, "WebSocket")
    print("stop during the WebSocket's lookup: %s s" % took)
    check(took is not None and took < 3,
          "a stop during the WebSocket host's DNS lookup ends tt-connect at once (%s s)" % took)
    sim.terminate()


def test_stop_race(tmp):
    """tt_client_stop() from another thread at every moment of a connection
    (tests/connector/stop_race.c): each stop ends its thread within 3 s; under make check-tsan
    a stop that races the WebSocket's teardown is a report"""
    sim, base, log = start_sim(tmp)
    try:
        r = subprocess.run([os.path.join(B, "tests", "stop_race"), base, "150", "4000"],
                           capture_output=True, text=True, timeout=240, env=clean_env())
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        r, out = None, "timed out: a stop did not end its connection"
    print(out.strip()[-600:])
    m = re.search(r"^(\d+) passed, (\d+) failed", out, re.M)
    check(r is not None and r.returncode == 0 and m and m.group(2) == "0",
          "stop_race: every stop ends its connection promptly (rc=%s)"
          % (r.returncode if r else None))
    sim.terminate()


def main():
    return run_tests([test_cookie_domain, test_resolve, test_resolve_tls, test_endless_message, test_big_frame,
                      test_error_texts, test_stop_during_dns, test_stop_race],
                     keep_prefix="hostile-")


if __name__ == "__main__":
    sys.exit(main())
