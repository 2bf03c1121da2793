#!/usr/bin/env python3
"""A plain consumer of tiktok-live-sim's push frames: measures what the simulator alone
delivers (contrib/sim/README.md "Load mode").

    tools/sim_reader.py URL [URL ...] [--rooms N] [--seconds S]

Opens a WebSocket to each of the first N load rooms (room ids from URL/sim/status) of each
simulator URL, reads every frame for S seconds, and counts frames and events (the messages of
each fetch result, gunzipped when the frame says gzip). No decoding beyond that, so it costs far
less than the simulator. Prints one JSON line: frames, events, bytes, seconds, events_per_s.
Several simulators: give several URLs (one reader thread each would share one interpreter, so
each URL is read by a process of its own).

SPDX-License-Identifier: MIT
"""
import base64
import json
import multiprocessing
import os
import selectors
import socket
import sys
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from pbwire import WT_LEN, iter_fields  # noqa: E402


def count_events(frame):
    """events in one push frame: the messages (field 1) of its fetch result (field 8)"""
    payload, gz = None, False
    for f, wt, v in iter_fields(frame):
        if f == 8 and wt == WT_LEN:
            payload = v
        elif f == 5 and wt == WT_LEN and b"gzip" in v:
            gz = True
    if payload is None:
        return 0
    if gz:
        payload = zlib.decompress(payload, 16 + zlib.MAX_WBITS)
    return sum(1 for f, wt, _ in iter_fields(payload) if f == 1 and wt == WT_LEN)


def connect(host, port, room_id):
    s = socket.create_connection((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /webcast/im/ws_proxy/ws_reuse_supplement/?room_id={room_id}&compress=gzip "
               f"HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed during the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise OSError("refused: " + head.split(b"\r\n")[0].decode())
    s.setblocking(False)
    return s, bytearray(rest)


def parse(buf, st):
    """takes the complete WebSocket messages (server to client: unmasked) off buf"""
    while len(buf) >= 2:
        ln, i = buf[1] & 0x7F, 2
        if ln == 126:
            if len(buf) < 4:
                return
            ln, i = int.from_bytes(buf[2:4], "big"), 4
        elif ln == 127:
            if len(buf) < 10:
                return
            ln, i = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < i + ln:
            return
        op = buf[0] & 0x0F
        if op == 2:
            st["frames"] += 1
            st["bytes"] += ln
            st["events"] += count_events(bytes(buf[i:i + ln]))
        del buf[:i + ln]


def read_one(url, rooms, seconds, q):
    host, port = url.split("//")[1].rsplit(":", 1)
    port = int(port.rstrip("/"))
    status = json.load(urllib.request.urlopen(url + "/sim/status", timeout=10))
    ids = [r["room_id"] for r in status["rooms"]][:rooms]
    sel = selectors.DefaultSelector()
    for rid in ids:
        s, rest = connect(host, port, rid)
        sel.register(s, selectors.EVENT_READ, rest)
    st = {"frames": 0, "events": 0, "bytes": 0}
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        for k, _ in sel.select(0.2):
            try:
                data = k.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(k.fileobj)
                continue
            k.data.extend(data)
            parse(k.data, st)
    st["seconds"] = time.monotonic() - t0
    q.put(st)


def main():
    args, rooms, seconds, urls = sys.argv[1:], 1000000, 10.0, []
    while args:
        a = args.pop(0)
        if a == "--rooms":
            rooms = int(args.pop(0))
        elif a == "--seconds":
            seconds = float(args.pop(0))
        else:
            urls.append(a.rstrip("/"))
    if not urls:
        sys.exit(__doc__)
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=read_one, args=(u, rooms, seconds, q)) for u in urls]
    for p in ps:
        p.start()
    tot = {"frames": 0, "events": 0, "bytes": 0, "seconds": 0.0}
    for _ in ps:
        st = q.get()
        for k in tot:
            tot[k] = max(tot[k], st[k]) if k == "seconds" else tot[k] + st[k]
    for p in ps:
        p.join()
    tot["events_per_s"] = round(tot["events"] / tot["seconds"])
    print(json.dumps(tot))


if __name__ == "__main__":
    main()
