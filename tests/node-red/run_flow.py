#!/usr/bin/env python3
"""contrib/node-red/flows.json in a real Node-RED (from npm, build/npm; `make deps`), run
headless with its own user directory, credentials off, on a free loopback port, against a real
mosquitto, tiktok-live-sim playing tests/node-red/scenario.jsonl and the bridge.

What the flow must do, derived here from the scenario's lines (and the simulator's gift table):
- every completed gift (a streak counts once, at its end) of at least 100 diamonds in total
  publishes `ON` on studio/light/set, and nothing else does (small gifts, streak steps);
- every chat line `!name args` with a known name (hello, song, dice; any case) publishes
  {"streamer","user","nickname","args"} on studio/command/<name>, in order; unknown commands
  and lines with a `!` further in do not;
- every viewer count and like appends `time,streamer,viewers|likes,value` to
  tiktok-audience.csv, in order, with the running like total.

Environment: B (build dir of the bridge and the simulator). Every wait is bounded; everything
started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import datetime
import json
import os
import re
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from itest import ROOT, check, free_port, run_tests, start, stop, wait_for  # noqa: E402
import livestack as ls  # noqa: E402

FLOW = os.path.join(ROOT, "contrib", "node-red", "flows.json")
SCENARIO = os.path.join(HERE, "scenario.jsonl")
RED = os.path.join(ls.NPM, "node-red", "red.js")
MIN_DIAMONDS = 100
COMMANDS = ("hello", "song", "dice")


def expected(gifts):
    """(light switches, command messages, CSV rows without the time) the scenario must give"""
    nick = {}
    light, commands, rows = 0, [], []
    likes = 0
    for e in ls.scenario_lines(SCENARIO):
        if e.get("kind") == "viewer":
            nick[e["handle"]] = e.get("nickname", e["handle"])
        if e.get("kind") == "streamer":
            streamer, likes = e["handle"], e.get("likes", 0)
        t = e.get("type")
        if t == "gift":
            if gifts[e["gift"]] * e.get("count", 1) >= MIN_DIAMONDS:
                light += 1
        elif t == "chat":
            m = re.match(r"^!(\w+)\s*(.*)$", e["text"].strip())
            if m and m.group(1).lower() in COMMANDS:
                commands.append(("studio/command/" + m.group(1).lower(),
                                 {"streamer": streamer, "user": e["user"],
                                  "nickname": nick[e["user"]], "args": m.group(2)}))
        elif t == "viewers":
            rows.append([streamer, "viewers", str(e["count"])])
        elif t == "like":
            likes += e.get("count", 1)
            rows.append([streamer, "likes", str(likes)])
    return light, commands, rows


def gift_table(sim_url):
    """name -> diamonds, from the simulator's gift list (what TikTok's gift/list answers)"""
    with urllib.request.urlopen(sim_url + "/webcast/gift/list/", timeout=10) as r:
        data = json.load(r)["data"]["gifts"]
    return {g["name"]: g["diamond_count"] for g in data}


def node_red(tmp, broker_port):
    """Node-RED with the flow (its broker pointed at ours), settings of its own, no
    credentials, loopback only; its log in tmp/node-red.log"""
    user_dir = os.path.join(tmp, "node-red")
    os.makedirs(user_dir, exist_ok=True)
    flow = json.load(open(FLOW, encoding="utf-8"))
    for n in flow:
        if n["type"] == "mqtt-broker":
            n["broker"], n["port"] = "127.0.0.1", str(broker_port)
    flow_file = os.path.join(user_dir, "flows.json")
    with open(flow_file, "w", encoding="utf-8") as f:
        json.dump(flow, f)
    settings = os.path.join(user_dir, "settings.js")
    with open(settings, "w") as f:
        f.write("module.exports = %s;\n" % json.dumps({
            "uiHost": "127.0.0.1", "uiPort": free_port(), "credentialSecret": False,
            "fileWorkingDirectory": tmp, "telemetry": {"enabled": False},
            "diagnostics": {"enabled": False}, "editorTheme": {"projects": {"enabled": False}},
            "logging": {"console": {"level": "info"}}}))
    os.environ["NODE_RED_DISABLE_TELEMETRY"] = "1"  # besides the setting: never phone home
    log = open(os.path.join(tmp, "node-red.log"), "w")
    return start(["node", RED, "--settings", settings, "--userDir", user_dir, flow_file],
                 stdout=log, stderr=subprocess.STDOUT)


def csv_rows(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [l.split(",") for l in f.read().split("\n")[:-1]]
    except OSError:
        return []


def test_flow(tmp):
    if not os.path.exists(RED):
        check(False, "node-red is installed in build/npm (make deps)")
        return
    t0 = datetime.datetime.now(datetime.timezone.utc)
    broker = ls.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sub = ls.bt.Sub(tmp, broker.port, "studio/#", "studio.txt")
    end = ls.bt.Sub(tmp, broker.port, "tiktok/the_host/#", "events.txt")
    red = node_red(tmp, broker.port)
    topics = [n["topic"] for n in json.load(open(FLOW)) if n["type"] == "mqtt in"]
    ok = wait_for(lambda: broker.subscribed(topics) or red.poll() is not None, 40, step=0.1)
    check(ok and red.poll() is None, "Node-RED starts and subscribes to %s: %s"
          % (topics, open(os.path.join(tmp, "node-red.log")).read()[-1500:]))
    sim, url = ls.start_sim(tmp, SCENARIO)
    check(url is not None, "the simulator starts")
    if not (ok and url):
        return
    light, commands, rows = expected(gift_table(url))
    br = ls.start_bridge(tmp, broker, url, ["the_host"])
    check(wait_for(lambda: any(l.startswith("tiktok/the_host/streamEnd ") for l in end.lines()),
                   20), "the scenario plays to its end through the bridge")

    def light_lines():
        return [l for l in sub.lines() if l.startswith("studio/light/")]

    def command_lines():
        return [l for l in sub.lines() if l.startswith("studio/command/")]

    csv = os.path.join(tmp, "tiktok-audience.csv")
    # the flow saw streamEnd's predecessors before it: only its own processing is left
    wait_for(lambda: len(light_lines()) >= light and len(command_lines()) >= len(commands)
             and len(csv_rows(csv)) >= len(rows), 15)
    got_light = light_lines()
    check(light == 3 and got_light == ["studio/light/set ON"] * light,
          "big gifts switch the light once each (%d): %s" % (light, got_light))
    got_cmd = [(l.split(" ", 1)[0], json.loads(l.split(" ", 1)[1])) for l in command_lines()]
    check(len(commands) == 3 and got_cmd == commands,
          "!commands reach the function node: %s, want %s" % (got_cmd, commands))
    got_rows = csv_rows(csv)
    check([r[1:] for r in got_rows] == rows and len(rows) == 5,
          "viewers and likes in the file: %s, want %s" % (got_rows, rows))
    t1 = datetime.datetime.now(datetime.timezone.utc)
    times = []
    for r in got_rows:
        try:
            times.append(datetime.datetime.fromisoformat(r[0].replace("Z", "+00:00")))
        except ValueError:
            times.append(None)
    check(all(t and t0 <= t <= t1 for t in times) and times == sorted(times),
          "each line starts with its ISO time, in order: %s" % [r[0] for r in got_rows])
    check("error" not in open(os.path.join(tmp, "node-red.log")).read().lower(),
          "Node-RED logs no error")
    stop(br)
    stop(sim)
    stop(red)
    sub.close()
    end.close()
    broker.down()


if __name__ == "__main__":
    rc = run_tests([test_flow], tools=("mosquitto", "mosquitto_sub", "node"),
                   keep_prefix="nodered-")
    sys.exit(rc)
