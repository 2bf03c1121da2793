#!/usr/bin/env python3
"""tiktok2mqtt's broker transports, the MQTT 5 → 3.1.1 fallback and the Prometheus endpoint:
a real mosquitto on free loopback ports, tiktok-live-sim replaying the v3 oracle corpus, the
bridge.

- TLS: a throwaway CA and server certificate (openssl, in the tmp dir) and a mosquitto TLS
  listener; ssl:// and mqtts:// with ca_file deliver every event of the replay; the wrong CA
  gives a log line naming TLS and the verification failure and the bridge keeps retrying;
  tls_insecure connects with a warning; a listener requiring client certificates accepts
  cert_file/key_file.
- WebSocket: a small WebSocket to TCP gateway (RFC 6455, in this file) stands in front of
  mosquitto's TCP listener; ws:// and wss:// carry the events. (Debian 12's mosquitto 2.0.11
  does speak websockets: a `protocol websockets` listener works beside a TCP listener, as
  tests/overlay uses it; a configuration with only a websockets listener fails to start.)
- Fallback: a proxy refuses a CONNECT of protocol level 5 as a 3.1.1-only broker does (CONNACK
  return code 1, then close) and forwards the rest to mosquitto: the bridge ends up on 3.1.1
  (bridge/info), says so in its log, and the events flow; an MQTT 5 CONNACK with reason 0x84
  (unsupported protocol version) falls back too. protocol = 3.1.1 never tries 5.
- Metrics: /metrics parsed as the text exposition format (HELP/TYPE before samples, families
  contiguous, every sample `name{labels} value`); its counters match what a subscriber saw;
  /healthz flips to 503 while mosquitto is stopped and back to 200; a port in use stops startup
  (set with `metrics`, the old name of `[bridge] http`; the server itself: tests/bridge/http_server.py).

Environment: B (build dir, default build). Needs mosquitto, mosquitto_sub and openssl. Every
wait is bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import base64
import hashlib
import json
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
from itest import check, free_port, listening, run_tests, stop, wait_for  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py: Broker, Sub, start_sim, bridge, ...)


# ---- certificates ----

def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=" + name, "-keyout", key, "-out", crt)
    return key, crt


def make_cert(d, name, ca, server):
    """a certificate signed by `ca`; a server's names 127.0.0.1 (paho checks the host)"""
    key, csr, crt = (os.path.join(d, name + x) for x in (".key", ".csr", ".crt"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server
                else "extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key,
            "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", crt)
    os.chmod(key, 0o600)
    return key, crt


_certs = {}


def certs_in(tmp):
    """made once per run: RSA key generation takes a while"""
    if tmp not in _certs:
        _certs[tmp] = Certs(tmp)
    return _certs[tmp]


class Certs:
    def __init__(self, tmp):
        d = os.path.join(tmp, "pki")
        os.makedirs(d, exist_ok=True)
        self.ca = make_ca(d, "test-ca")
        self.other_ca = make_ca(d, "other-ca")
        self.server = make_cert(d, "server", self.ca, True)
        self.client = make_cert(d, "client", self.ca, False)


# ---- brokers ----

class TlsBroker(bt.Broker):
    """mosquitto with a plain listener (for the test's subscriber; `port`) and TLS ones: `tls`
    and `mtls` (client certificates required)"""

    def __init__(self, tmp, certs):
        super().__init__(tmp)
        self.tls, self.mtls = free_port(), free_port()
        with open(self.conf, "a") as f:
            if os.geteuid() == 0:  # mosquitto would drop to its own user: the keys are ours
                f.write("user root\n")
            for port, need in ((self.tls, "false"), (self.mtls, "true")):
                f.write("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                        "require_certificate %s\n" % (port, certs.ca[1], certs.server[1],
                                                      certs.server[0], need))


# ---- a WebSocket gateway in front of mosquitto's TCP listener (RFC 6455, binary frames) ----

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError("closed")
        b += c
    return b


def ws_frames_to_tcp(ws, tcp):
    """client frames (masked) → their payloads to the broker, until either side closes"""
    while True:
        h = recv_exact(ws, 2)
        op, n = h[0] & 0x0F, h[1] & 0x7F
        if n == 126:
            n = int.from_bytes(recv_exact(ws, 2), "big")
        elif n == 127:
            n = int.from_bytes(recv_exact(ws, 8), "big")
        mask = recv_exact(ws, 4) if h[1] & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(recv_exact(ws, n)))
        if op == 8:
            return
        if op == 9:  # ping: pong
            ws.sendall(bytes([0x8A, len(data)]) + data)
        elif op in (0, 1, 2):
            tcp.sendall(data)


def mqtt_packets(buf):
    """the whole MQTT packets at the start of `buf`, and the rest"""
    out, i = [], 0
    while i + 2 <= len(buf):
        n, mult, j = 0, 1, i + 1
        while j < len(buf) and j < i + 5:
            n += (buf[j] & 0x7F) * mult
            mult *= 128
            j += 1
            if not buf[j - 1] & 0x80:
                break
        else:
            break
        if buf[j - 1] & 0x80 or j + n > len(buf):
            break
        out.append(buf[i:j + n])
        i = j + n
    return out, buf[i:]


def tcp_to_ws_frames(tcp, ws):
    """the broker's bytes to the client, one binary frame per MQTT packet, as a broker's own
    WebSocket listener sends them (mosquitto's does). paho reads one packet per wakeup of its
    receive thread: several in one TLS record wait there for its next one-second poll."""
    rest = b""
    while True:
        data = tcp.recv(65536)
        if not data:
            return
        packets, rest = mqtt_packets(rest + data)
        for pkt in packets:
            n = len(pkt)
            head = bytes([0x82, n]) if n < 126 else (bytes([0x82, 126]) + n.to_bytes(2, "big")
                                                     if n < 65536 else
                                                     bytes([0x82, 127]) + n.to_bytes(8, "big"))
            ws.sendall(head + pkt)


class Server:
    """a loopback listener whose connections each get a thread running `handle`"""

    def __init__(self, handle, tls=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handle, self.tls, self.conns = handle, tls, []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            # no Nagle: every MQTT packet is a small write, and PUBACKs must not wait for
            # delayed ACKs (40 ms each, a slow stream)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            if self.tls:
                c = self.tls.wrap_socket(c, server_side=True)
                self.conns.append(c)
            self.handle(c)
        except (OSError, ConnectionError, ssl.SSLError):
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


def forward(src, dst):
    """copy src to dst as it comes, until src closes"""
    while True:
        d = src.recv(65536)
        if not d:
            return
        dst.sendall(d)


def relay(c, broker_port, up=forward, down=forward, first=b"", on_open=None):
    """a proxy's connection: open one to the broker, send it `first`, then pipe the client's
    bytes through `up` and the broker's through `down` until either side closes. The 5 s bound
    the connect alone: at QoS 0 the broker may say nothing for longer, and a recv timing out
    would cut the bridge's connection mid-stream. on_open(client, upstream) sees the pair."""
    s = socket.create_connection(("127.0.0.1", broker_port), 5)
    s.settimeout(None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if on_open:
        on_open(c, s)
    if first:
        s.sendall(first)
    pipe_both(c, s, up, down)
    s.close()


def pipe_both(a, b, a_to_b, b_to_a):
    t = threading.Thread(target=lambda: (run_quietly(b_to_a, b, a), shut(a)), daemon=True)
    t.start()
    run_quietly(a_to_b, a, b)
    shut(b)


def run_quietly(f, *args):
    try:
        f(*args)
    except (OSError, ConnectionError, ssl.SSLError):
        pass


def shut(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def ws_gateway(broker_port, tls=None):
    upgrades = []

    def handle(c):
        req = b""
        while b"\r\n\r\n" not in req:
            chunk = c.recv(4096)
            if not chunk:
                return
            req += chunk
        key = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)", req).group(1)
        upgrades.append(req.split(b"\r\n", 1)[0].decode())
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID.encode()).digest())
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                  b"\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
        relay(c, broker_port, ws_frames_to_tcp, lambda src, dst: tcp_to_ws_frames(src, dst))

    srv = Server(handle, tls)
    srv.upgrades = upgrades
    return srv


# ---- a 3.1.1-only broker: refuses CONNECT level 5, forwards everything else ----

def connect_packet(c):
    """the CONNECT packet's bytes and its protocol level"""
    head = recv_exact(c, 1)
    n, mult, lenbytes = 0, 1, b""
    while True:  # remaining length, 1 to 4 bytes
        b = recv_exact(c, 1)
        lenbytes += b
        n += (b[0] & 0x7F) * mult
        mult *= 128
        if not b[0] & 0x80:
            break
    body = recv_exact(c, n)
    name_len = int.from_bytes(body[0:2], "big")
    return head + lenbytes + body, body[2 + name_len]


def v311_only_proxy(broker_port, refusal=b"\x20\x02\x00\x01"):
    """refusal: a 3.1.1 CONNACK, return code 1 (unacceptable protocol version), by default"""
    levels = []

    def handle(c):
        pkt, level = connect_packet(c)
        levels.append(level)
        if level == 5:
            c.sendall(refusal)
            return
        relay(c, broker_port, first=pkt)

    srv = Server(handle)
    srv.levels = levels
    return srv


# ---- running the bridge against one transport ----

def config(tmp, name, url, uri, mqtt_extra="", extra=""):
    path = bt.write_config(tmp, name, 1, url, ["the_host"], extra)
    text = open(path).read().replace("uri = tcp://127.0.0.1:1\n", "uri = %s\n%s" % (uri, mqtt_extra))
    with open(path, "w") as f:
        f.write(text)
    return path


def log_of(path):
    try:
        return open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return ""


def retained(sub, topic):
    """the last payload seen on `topic`, or None"""
    last = None
    for l in sub.lines():
        t, _, p = l.partition(" ")
        if t == topic:
            last = p
    return last


def scenario(tmp, tag, sub_port, uri, mqtt_extra="", extra="", expect_log=None, full=True):
    """the bridge on `uri` delivers the replay's events to a subscriber on the plain port: all
    of them with 1.2.3's payloads when `full`, else the first ones (the replay takes seconds on
    a busy machine); returns (subscriber, bridge, log path) still running"""
    sim, url = bt.start_sim(tmp)
    sub = bt.Sub(tmp, sub_port, "tiktok/#", tag + ".txt")
    cfg = config(tmp, tag + ".ini", url, uri, mqtt_extra, extra)
    log = os.path.join(tmp, tag + ".log")
    br = bt.bridge(cfg, stderr=open(log, "w"))
    want = bt.expected_count() if full else 1
    got = lambda: len(bt.events_of(sub.lines(), "the_host"))
    check(wait_for(lambda: got() >= want, 40),
          "%s: %d events arrive (got %d)" % (tag, want, got()))
    if full:
        check(bt.compare(tmp, bt.events_of(sub.lines(), "the_host"), tag + ".jsonl"),
              "%s: payloads are 1.2.3's events" % tag)
    check(retained(sub, "tiktok/bridge/state") == "online", "%s: bridge/state online" % tag)
    if expect_log:
        check(re.search(expect_log, log_of(log)) is not None,
              "%s: the log says /%s/" % (tag, expect_log))
    stop(sim)
    return sub, br, log


def info_protocol(sub):
    p = retained(sub, "tiktok/bridge/info")
    return json.loads(p).get("mqttProtocol") if p else None


def finish_run(sub, br):
    stop(br)
    check(br.returncode == 0, "the bridge exits 0 on SIGTERM (%s)" % br.returncode)
    sub.close()


# ---- the tests ----

def test_tls(tmp):
    certs = certs_in(tmp)
    broker = TlsBroker(tmp, certs)
    check(broker.up() and wait_for(lambda: listening(broker.tls), 5), "mosquitto starts with TLS")
    ca = "ca_file = %s\n" % certs.ca[1]
    for scheme in ("ssl", "mqtts"):
        sub, br, log = scenario(tmp, "tls-" + scheme, broker.port,
                                "%s://127.0.0.1:%d" % (scheme, broker.tls), ca,
                                expect_log=r"mqtt: connected to %s://" % scheme)
        finish_run(sub, br)

    # the wrong CA: a clear log line, retried, never connected
    sim, url = bt.start_sim(tmp)
    sub = bt.Sub(tmp, broker.port, "tiktok/bridge/#", "tls-wrong.txt")
    log = os.path.join(tmp, "tls-wrong.log")
    cfg = config(tmp, "tls-wrong.ini", url, "ssl://127.0.0.1:%d" % broker.tls,
                 "ca_file = %s\n" % certs.other_ca[1])
    br = bt.bridge(cfg, stderr=open(log, "w"))
    fails = lambda: re.findall(r"\[warn\] mqtt: cannot connect to ssl://[^ ]*: TLS: "
                               r"certificate verify failed", log_of(log))
    check(wait_for(lambda: len(fails()) >= 2, 15),
          "wrong CA: 'TLS: certificate verify failed' logged, and retried (%d times)"
          % len(fails()))
    check(br.poll() is None, "wrong CA: the bridge keeps running")
    check(retained(sub, "tiktok/bridge/state") != "online", "wrong CA: never connected")
    stop(br)
    sub.close()
    stop(sim)

    # tls_insecure with the same wrong CA: connects, with a warning
    sub, br, log = scenario(tmp, "tls-insecure", broker.port, "ssl://127.0.0.1:%d" % broker.tls,
                            "ca_file = %s\ntls_insecure = true\n" % certs.other_ca[1],
                            expect_log=r"\[warn\] mqtt: tls_insecure is set", full=False)
    finish_run(sub, br)

    # client certificates: refused without, accepted with cert_file/key_file
    log = os.path.join(tmp, "mtls-none.log")
    br = bt.bridge(config(tmp, "mtls-none.ini", "http://127.0.0.1:1",
                          "ssl://127.0.0.1:%d" % broker.mtls, ca), stderr=open(log, "w"))
    check(wait_for(lambda: "[warn] mqtt: cannot connect to ssl://" in log_of(log), 15) and
          "client certificate" in log_of(log),
          "client certificate required: refused without one, the log suggests cert_file")
    stop(br)
    sub, br, log = scenario(tmp, "mtls", broker.port, "mqtts://127.0.0.1:%d" % broker.mtls,
                            ca + "cert_file = %s\nkey_file = %s\n" % (certs.client[1],
                                                                       certs.client[0]),
                            full=False)
    finish_run(sub, br)
    broker.down()


def test_websocket(tmp):
    certs = certs_in(tmp)
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    gw = ws_gateway(broker.port)
    sub, br, log = scenario(tmp, "ws", broker.port, "ws://127.0.0.1:%d/mqtt" % gw.port,
                            expect_log=r"mqtt: connected to ws://")
    check(any(u.startswith("GET /mqtt ") for u in gw.upgrades),
          "ws: the bridge came through the WebSocket upgrade (%s)" % gw.upgrades[:1])
    finish_run(sub, br)
    gw.close()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.server[1], certs.server[0])
    gws = ws_gateway(broker.port, ctx)
    sub, br, log = scenario(tmp, "wss", broker.port, "wss://127.0.0.1:%d/mqtt" % gws.port,
                            "ca_file = %s\n" % certs.ca[1], expect_log=r"mqtt: connected to wss://")
    check(len(gws.upgrades) >= 1, "wss: the upgrade came over TLS")
    finish_run(sub, br)
    gws.close()
    broker.down()


def test_fallback(tmp):
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    proxy = v311_only_proxy(broker.port)
    sub, br, log = scenario(tmp, "fallback", broker.port, "tcp://127.0.0.1:%d" % proxy.port,
                            expect_log=r"\[warn\] mqtt: tcp://[^ ]* refused MQTT 5: falling back "
                                       r"to MQTT 3.1.1")
    check(proxy.levels[:1] == [5] and 4 in proxy.levels,
          "fallback: tried level 5 first, then 4 (%s)" % proxy.levels)
    check(wait_for(lambda: info_protocol(sub) == "3.1.1", 5),
          "fallback: bridge/info says mqttProtocol 3.1.1 (%s)" % info_protocol(sub))
    check("connected to tcp://127.0.0.1:%d (MQTT 3.1.1," % proxy.port in log_of(log),
          "fallback: the log says connected with 3.1.1")
    finish_run(sub, br)

    n = len(proxy.levels)
    sub, br, log = scenario(tmp, "v311", broker.port, "tcp://127.0.0.1:%d" % proxy.port,
                            "protocol = 3.1.1\n", full=False)
    check(5 not in proxy.levels[n:] and 4 in proxy.levels[n:],
          "protocol = 3.1.1: never tries 5 (%s)" % proxy.levels[n:])
    check(info_protocol(sub) == "3.1.1", "protocol = 3.1.1: bridge/info says so")
    check("refused MQTT 5" not in log_of(log), "protocol = 3.1.1: no fallback logged")
    finish_run(sub, br)

    sub, br, log = scenario(tmp, "v5", broker.port, "tcp://127.0.0.1:%d" % broker.port,
                            full=False)
    check(info_protocol(sub) == "5", "protocol 5 (a broker that speaks it): bridge/info says 5")
    finish_run(sub, br)
    proxy.close()

    # an MQTT 5 CONNACK with reason 0x84, unsupported protocol version: also a fallback
    proxy = v311_only_proxy(broker.port, b"\x20\x03\x00\x84\x00")
    sub, br, log = scenario(tmp, "fallback-0x84", broker.port, "tcp://127.0.0.1:%d" % proxy.port,
                            expect_log=r"refused MQTT 5: falling back", full=False)
    check(proxy.levels[:1] == [5] and 4 in proxy.levels,
          "reason 0x84: level 5 first, then 4 (%s)" % proxy.levels)
    finish_run(sub, br)
    proxy.close()
    broker.down()


# ---- Prometheus ----

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_labels(s):
    out, pos = {}, 0
    while pos < len(s):
        m = LABEL.match(s, pos)
        if not m:
            raise ValueError("bad labels: " + s)
        out[m.group(1)] = re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)),
                                 m.group(2))
        pos = m.end()
    return out


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}, {name: type}; raises on any format error"""
    helps, types, samples, done, current = {}, {}, {}, set(), None
    if not text.endswith("\n"):
        raise ValueError("the last line must end with a newline")
    for line in text.split("\n")[:-1]:
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$", line)
            if not m:
                raise ValueError("bad comment line: " + line)
            kind, name, rest = m.groups()
            if name in done or name in types or (kind == "HELP" and name in helps):
                raise ValueError("%s of %s repeated or after its samples" % (kind, name))
            if kind == "TYPE" and rest not in ("counter", "gauge", "histogram", "summary",
                                               "untyped"):
                raise ValueError("bad type: " + line)
            (helps if kind == "HELP" else types)[name] = rest
            if current and current != name:
                done.add(current)
            current = name
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("bad sample line: %r" % line)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if name != current or name not in types or name not in helps:
            raise ValueError("sample %s outside its family (HELP and TYPE first)" % name)
        float(value)
        key = (name, frozenset(parse_labels(labels).items()))
        if key in samples:
            raise ValueError("duplicate sample: " + line)
        samples[key] = float(value)
    return samples, types


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()
    except OSError as e:
        return None, "", str(e)


def metric(samples, name, **labels):
    return samples.get(("tiktok2mqtt_" + name, frozenset(labels.items())))


def test_metrics(tmp):
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    mport = free_port()
    base = "http://127.0.0.1:%d" % mport
    sub, br, log = scenario(tmp, "metrics", broker.port, "tcp://127.0.0.1:%d" % broker.port,
                            extra="[bridge]\nmetrics = 127.0.0.1:%d\n" % mport)
    # status waiting goes out after the stream's last event: every event message is in by then
    check(wait_for(lambda: '"waiting"' in (retained(sub, "tiktok/the_host/status") or ""), 20),
          "metrics: status waiting after the replay")
    status, ctype, text = http_get(base + "/metrics")
    check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
          "/metrics: 200 text/plain version=0.0.4 (%s %s)" % (status, ctype))
    try:
        samples, types = parse_metrics(text)
    except ValueError as e:
        check(False, "/metrics parses as the text format: %s" % e)
        samples, types = {}, {}
    check(all(n.startswith("tiktok2mqtt_") for n, _ in samples), "every name is tiktok2mqtt_*")
    check(types.get("tiktok2mqtt_streamer_events_total") == "counter" and
          types.get("tiktok2mqtt_mqtt_connected") == "gauge", "counters and gauges typed")

    # every event the bridge received came to the subscriber
    ev_topics = lambda: [l for l in sub.lines() if l.startswith("tiktok/the_host/") and
                         l.split(" ", 1)[0].split("/")[2] not in
                         ("availability", "status", "room", "state", "giftEnd")]
    events = metric(samples, "streamer_events_total", streamer="the_host")
    check(events == len(ev_topics()) and events >= bt.expected_count(),
          "events_total %s = event messages the subscriber saw %d" % (events, len(ev_topics())))
    check(metric(samples, "streamer_status", streamer="the_host", status="waiting") == 1 and
          metric(samples, "streamer_status", streamer="the_host", status="live") == 0,
          "status gauge: waiting 1, live 0 after the replay")
    last = metric(samples, "streamer_last_event_timestamp_seconds", streamer="the_host")
    start = metric(samples, "start_time_seconds")
    check(start and last and last >= start, "last event time %s after start %s" % (last, start))
    check(metric(samples, "mqtt_connected") == 1 and metric(samples, "mqtt_protocol_level") == 5,
          "mqtt_connected 1, protocol level 5")
    check(metric(samples, "build_info", version="0.1.0", libtiktok="0.1.0") == 1 or
          any(n == "tiktok2mqtt_build_info" for n, _ in samples), "build_info present")
    check(metric(samples, "mqtt_messages_dropped_total") == 0 and
          metric(samples, "mqtt_messages_buffered") is not None, "dropped 0, buffered present")

    # published = what a subscriber from before the start saw (the marker is the test's own)
    def published_matches():
        _, _, t = http_get(base + "/metrics")
        try:
            s, _ = parse_metrics(t)
        except ValueError:
            return False
        seen = [l for l in sub.lines() if not l.startswith("tiktok/_sub_ready ")]
        published_matches.last = (metric(s, "mqtt_messages_published_total"), len(seen))
        return published_matches.last[0] == published_matches.last[1]
    published_matches.last = None
    check(wait_for(published_matches, 15, step=0.5),
          "published_total = messages the subscriber saw %s" % (published_matches.last,))

    # /healthz follows the broker
    check(http_get(base + "/healthz")[:3:2] == (200, "ok\n"), "/healthz 200 ok")
    check(http_get(base + "/nope")[0] == 404, "unknown path: 404")
    req = urllib.request.Request(base + "/metrics", data=b"x", method="POST")
    try:
        code = urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as e:
        code = e.code
    check(code == 405, "POST: 405 (%s)" % code)
    big = socket.create_connection(("127.0.0.1", mport), 5)
    big.settimeout(5)
    big.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n")
    try:
        answer = big.recv(64)
    except OSError:
        answer = b""
    check(answer == b"" or answer.startswith(b"HTTP/1.1 431"),
          "an oversized request head: refused, not served (%r)" % answer[:20])
    big.close()
    # (slow, silent and hostile clients: tests/bridge/http_server.py)
    sub.close()
    broker.down()
    status, _, body = None, "", ""

    def unhealthy():
        nonlocal status, body
        status, _, body = http_get(base + "/healthz")
        return status == 503
    check(wait_for(unhealthy, 15, step=0.2) and "not connected" in body,
          "mosquitto stopped: /healthz 503 with a reason (%s %r)" % (status, body))
    _, _, t = http_get(base + "/metrics")
    check(metric(parse_metrics(t)[0], "mqtt_connected") == 0, "mqtt_connected 0 meanwhile")
    again = bt.Broker(tmp, port=broker.port)
    check(again.up(), "mosquitto restarts on the same port")
    check(wait_for(lambda: http_get(base + "/healthz")[0] == 200, 40, step=0.2),
          "mosquitto back: /healthz 200")
    _, _, t = http_get(base + "/metrics")
    check(metric(parse_metrics(t)[0], "mqtt_reconnects_total") >= 1, "mqtt_reconnects_total >= 1")
    stop(br)
    check(br.returncode == 0, "the bridge exits 0")

    # a port in use: a startup error naming it, nothing runs
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    tport = taken.getsockname()[1]
    cfg = config(tmp, "metrics-busy.ini", "http://127.0.0.1:1",
                 "tcp://127.0.0.1:%d" % again.port, extra="[bridge]\nmetrics = 127.0.0.1:%d\n" % tport)
    r = subprocess.run([os.path.join(bt.B, "tiktok2mqtt"), "-c", cfg], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 69 and "http: cannot listen on 127.0.0.1:%d: Address already in use "
          "([bridge] metrics)" % tport in r.stderr,
          "metrics port in use: exit 69 with a clear message (%s %r)"
          % (r.returncode, r.stderr[-300:]))
    taken.close()
    again.down()


def test_refused(tmp):
    """A message the broker refuses (an ACL: PUBACK reason 0x87 over MQTT 5) is dropped and
    counted, logged once, and never blocks the ones behind it (it used to be resent forever,
    172,000 times in 25 s, and everything behind it waited)."""
    broker = bt.Broker(tmp)
    acl = os.path.join(tmp, "acl")
    with open(acl, "w") as f:
        f.write("topic readwrite #\ntopic deny tiktok/the_host/chat\n")
    with open(broker.conf, "a") as f:
        f.write("acl_file %s\n" % acl)
        if os.geteuid() == 0:  # mosquitto would drop to its own user: the file is ours
            f.write("user root\n")
    check(broker.up(), "mosquitto with an ACL starts")
    sim, url = bt.start_sim(tmp)
    sub = bt.Sub(tmp, broker.port, "tiktok/#", "refused.txt")
    log = os.path.join(tmp, "refused.log")
    br = bt.bridge(config(tmp, "refused.ini", url, "tcp://127.0.0.1:%d" % broker.port,
                          extra="[bridge]\nhealth_interval = 1\n"), stderr=open(log, "w"))
    want = sum(1 for e in bt.events_of_expected() if e != "chat")
    got = lambda: sum(1 for e in bt.events_of(sub.lines(), "the_host") if e["event"] != "chat")
    check(wait_for(lambda: got() >= want, 40),
          "refused: every event but the denied chats arrives (%d of %d)" % (got(), want))
    health = lambda: json.loads(retained(sub, "tiktok/bridge/health") or "{}")
    nchat = bt.events_of_expected().count("chat")
    check(wait_for(lambda: health().get("mqtt", {}).get("refused", 0) >= nchat, 10),
          "refused: bridge/health counts the %d refused chats (%s)"
          % (nchat, health().get("mqtt", {}).get("refused")))
    lines = re.findall(r"the broker refused .*", log_of(log))
    check(len(lines) == 1 and "tiktok/the_host/chat" in lines[0] and "0x87" in lines[0],
          "refused: logged once, with the reason and the topic (%s)" % lines[:2])
    stop(sim)
    finish_run(sub, br)
    broker.down()


def main():
    return run_tests((test_tls, test_websocket, test_fallback, test_metrics, test_refused),
                     ("mosquitto", "mosquitto_sub", "openssl"), "transports-test-")


if __name__ == "__main__":
    sys.exit(main())
