#!/usr/bin/env python3
"""contrib/overlay in headless Chromium (Debian's, driven by playwright-core from build/npm:
`make deps`), fed by the bridge following tiktok-live-sim playing tests/overlay/scenario.jsonl:

- over MQTT-over-WebSockets: mosquitto with a websockets listener beside its TCP one; the
  page (?mqtt=ws://...&user=the_host,pixel_pia) subscribes, then the bridge starts;
- over Server-Sent Events: the page served by the bridge itself ([bridge] http, /overlay/)
  reading the bridge's own event stream (/events?user=...).

In both, the page must come to show exactly what the scenario says (derived here from its
lines): each shown streamer's chat lines in order with name, text (markup shown as text) and
its avatar loaded from the simulator; one alert per gift (a streak once, with its final count)
with the gift's picture; the like totals and the last viewer count; a toast per follow and
share; nothing of the streamer not asked for; no page error and no request off loopback.
Screenshots go to B/overlay-mqtt.png and B/overlay-sse.png.

Environment: B (build dir of the bridge and the simulator). Every wait is bounded; everything
started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from itest import B, ROOT, check, free_port, run_tests, start, stop, wait_for  # noqa: E402
import livestack as ls  # noqa: E402

OVERLAY = os.path.join(ROOT, "contrib", "overlay")
SCENARIO = os.path.join(HERE, "scenario.jsonl")
MQTT_JS = os.path.join(ls.NPM, "mqtt", "dist", "mqtt.min.js")
SHOWN = ["the_host", "pixel_pia"]
EVENTS = ["chat", "gift", "like", "roomUser", "follow", "share", "state"]  # sources.js


def expected():
    """the page the scenario must give, in browse.js's snapshot form"""
    nick, chat, alerts, counters, toasts = {}, {}, [], {}, []
    room = None
    for e in ls.scenario_lines(SCENARIO):
        if e.get("kind") == "viewer":
            nick[e["handle"]] = e.get("nickname", e["handle"])
        if e.get("kind") == "streamer":
            room = e["handle"]
        if "type" not in e or room not in SHOWN:
            continue
        c = counters.setdefault(room, {"likes": 0, "viewers": 0})
        t, who = e["type"], nick.get(e.get("user"), e.get("user"))
        if t == "chat":
            chat.setdefault(room, []).append({"name": who, "text": e["text"], "avatar": True,
                                              "html": 0})
        elif t == "gift":
            alerts.append({"user": room, "name": who, "gift": e["gift"],
                           "count": "x%d" % e.get("count", 1), "done": True, "picture": True,
                           "avatar": True})
        elif t == "like":
            c["likes"] += e.get("count", 1)
        elif t == "viewers":
            c["viewers"] = e["count"]
        elif t in ("follow", "share"):
            text = who + (" followed @" + room if t == "follow" else " shared the LIVE")
            toasts.append({"user": room, "text": text, "avatar": True})
    return {"status": "live", "chat": chat, "alerts": sorted(alerts, key=lambda a: a["gift"]),
            "counters": {u: {k: "{:,}".format(v) for k, v in c.items()}
                         for u, c in counters.items()},
            "toasts": sorted(toasts, key=lambda t: t["text"])}


class Handler(http.server.SimpleHTTPRequestHandler):
    """the overlay's files, quietly"""

    def log_message(self, *args):
        pass


def serve(tmp):
    """the overlay as a user hosts it elsewhere (its files and mqtt.js's bundle) on a loopback
    port"""
    site = os.path.join(tmp, "site")
    shutil.copytree(OVERLAY, site, dirs_exist_ok=True)
    shutil.copy(MQTT_JS, site)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(Handler, directory=site))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def browse(tmp, name, query):
    """browse.js on the page: its process; it prints its verdict when done"""
    exp = os.path.join(tmp, name + "-expected.json")
    with open(exp, "w") as f:
        json.dump(expected(), f)
    out = open(os.path.join(tmp, name + "-browse.out"), "w")
    return start(["node", os.path.join(HERE, "browse.js"), query, exp,
                  os.path.join(B, "overlay-%s.png" % name), os.path.join(tmp, name + "-profile"),
                  "30"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp)


def verdict(tmp, name, p):
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        stop(p)
    text = open(os.path.join(tmp, name + "-browse.out")).read()
    try:
        v = json.loads(text.strip().split("\n")[-1])
    except ValueError:
        v = {"matched": False, "snapshot": None, "errors": [text[-2000:]]}
    want = expected()
    check(v["matched"], "%s: the page shows the scenario:\n got  %s\n want %s"
          % (name, json.dumps(v["snapshot"]), json.dumps(want)))
    check(not v["errors"], "%s: no page error, nothing off loopback: %s" % (name, v["errors"]))
    check(os.path.getsize(os.path.join(B, "overlay-%s.png" % name)) > 10000,
          "%s: a screenshot is saved" % name)


def prerequisites():
    ok = os.path.exists(MQTT_JS) and os.path.exists(os.path.join(ls.NPM, "playwright-core"))
    check(ok, "mqtt and playwright-core are installed in build/npm (make deps)")
    check(os.path.exists("/usr/bin/chromium"), "chromium is installed (make deps)")
    return ok and os.path.exists("/usr/bin/chromium")


def test_mqtt_websockets(tmp):
    if not prerequisites():
        return
    broker = ls.Broker(tmp, websockets=True)
    check(broker.up(), "mosquitto with a websockets listener beside the TCP one starts")
    sim, url = ls.start_sim(tmp, SCENARIO)
    check(url is not None, "the simulator starts")
    srv = serve(tmp)
    page = "http://127.0.0.1:%d/index.html?mqtt=ws://127.0.0.1:%d&user=%s&alert=120&toast=120" \
           "&bg=%%23181826" % (srv.server_port, broker.ws, ",".join(SHOWN))
    b = browse(tmp, "mqtt", page)
    topics = ["tiktok/%s/%s" % (u, e) for u in SHOWN for e in EVENTS]
    check(wait_for(lambda: broker.subscribed(topics) or b.poll() is not None, 30, step=0.1),
          "the page subscribes over websockets: " + open(broker.log).read()[-800:])
    br = ls.start_bridge(tmp, broker, url, SHOWN + ["night_owl"])
    verdict(tmp, "mqtt", b)
    stop(br)
    stop(sim)
    srv.shutdown()
    broker.down()


def streams_open(port):
    """tiktok2mqtt_http_event_streams of the bridge's /metrics, or -1"""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            for line in r.read().decode().split("\n"):
                if line.startswith("tiktok2mqtt_http_event_streams "):
                    return float(line.split()[1])
    except OSError:
        pass
    return -1


def test_sse(tmp):
    """the overlay served by the bridge itself ([bridge] http: /overlay/), over its own event
    stream (/events); the simulator starts once the page's stream is open, so nothing is
    missed (the bridge retries its streamers meanwhile)"""
    if not prerequisites():
        return
    sse_tmp = os.path.join(tmp, "sse")
    os.makedirs(sse_tmp, exist_ok=True)
    sim_url = "http://127.0.0.1:%d" % free_port()
    hport = free_port()
    cfg = ls.bt.write_config(sse_tmp, "sse.ini", 1, sim_url, SHOWN + ["night_owl"],
                             extra="[bridge]\nhttp = 127.0.0.1:%d\n" % hport)
    br = ls.bt.bridge(cfg, "--stdout", stdout=subprocess.DEVNULL,
                      stderr=open(os.path.join(sse_tmp, "bridge.log"), "w"))
    check(wait_for(lambda: streams_open(hport) == 0, 10, step=0.1), "the bridge's HTTP server is up")
    page = "http://127.0.0.1:%d/overlay/?sse=/events&user=%s&alert=120&toast=120" \
           "&bg=%%23181826" % (hport, ",".join(SHOWN))
    b = browse(sse_tmp, "sse", page)
    check(wait_for(lambda: streams_open(hport) >= 1 or b.poll() is not None, 30, step=0.1),
          "the page, served by the bridge, opens the bridge's event stream")
    sim = start([os.path.join(B, "tiktok-live-sim"), "--listen", sim_url[len("http://"):],
                 "--scenario", SCENARIO, "--log", os.path.join(sse_tmp, "sim.log")],
                stdout=open(os.path.join(sse_tmp, "sim.out"), "w"), stderr=subprocess.STDOUT)
    verdict(sse_tmp, "sse", b)
    stop(br)
    stop(sim)


if __name__ == "__main__":
    sys.exit(run_tests([test_mqtt_websockets, test_sse],
                       tools=("mosquitto", "node"), keep_prefix="overlay-"))
