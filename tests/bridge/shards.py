#!/usr/bin/env python3
"""Two instances of tiktok2mqtt sharing one broker as shards 1/2 and 2/2 (docs/mqtt.md §8).

Checks: each instance has its own bridge topics (<base>/bridge/shard<i>/state|info) and nothing is
published on the unsharded <base>/bridge/state; the info names the instance and the shard;
Home Assistant availability of a streamer's entities follows its own instance's state; a
request about a streamer is answered once, by the shard that owns it; `info` is answered by
both, each naming itself; kill -9 of one instance makes the broker publish `offline` on that
instance's state alone; the default client ids differ (neither is taken over); a config
naming the instance `request` is refused.

Environment: B (build dir). Needs mosquitto and mosquitto_sub (make deps). Every wait is
bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
from itest import B, check, run_tests, stop, wait_for  # noqa: E402
from run import Broker, Sub, bridge, faults_sim, fnv1a32, pub, write_config  # noqa: E402

HANDLES = ["sleepy", "streamer_01", "streamer_02", "streamer_03", "streamer_04"]


def owner(handle):
    return fnv1a32(handle) % 2 + 1


def shard_config(tmp, i, port, url, extra=""):
    cfg = write_config(tmp, "shard%d.ini" % i, port, url, HANDLES)
    with open(cfg) as f:
        text = f.read()
    text = text.replace("[mqtt]", "[bridge]\nshard = %d/2\n%s[mqtt]" % (i, extra), 1)
    text = text.replace("[homeassistant]\nenabled = false", "[homeassistant]\nenabled = true")
    with open(cfg, "w") as f:
        f.write(text)
    return cfg


def payloads(sub, topic):
    return [l.partition(" ")[2] for l in sub.lines() if l.partition(" ")[0] == topic]


def answers(sub, cmd, transaction):
    out = []
    for p in payloads(sub, "tiktok/bridge/response/" + cmd):
        try:
            j = json.loads(p)
        except ValueError:
            continue
        if j.get("transaction") == transaction:
            out.append(j)
    return out


def test_shards_topics_api_will(tmp):
    broker = Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sim, url = faults_sim(tmp, "shards")
    sub = Sub(tmp, broker.port, "#", "shards.txt")
    logs = [os.path.join(tmp, "shard%d.log" % i) for i in (1, 2)]
    brs = [bridge(shard_config(tmp, i, broker.port, url), stderr=open(logs[i - 1], "w"))
           for i in (1, 2)]
    for i in (1, 2):
        check(wait_for(lambda: "online" in payloads(sub, "tiktok/bridge/shard%d/state" % i), 10),
              "instance %d publishes online on tiktok/bridge/shard%d/state" % (i, i))
    for i in (1, 2):
        ok = wait_for(lambda: payloads(sub, "tiktok/bridge/shard%d/info" % i), 10)
        info = json.loads(payloads(sub, "tiktok/bridge/shard%d/info" % i)[-1]) if ok else {}
        check(info.get("instance") == "shard%d" % i and info.get("shard") == "%d/2" % i,
              "bridge/shard%d/info names its instance and shard (%s)" % (i, info.get("shard")))
    check(not payloads(sub, "tiktok/bridge/state") and not payloads(sub, "tiktok/bridge/info"),
          "nothing on the unsharded tiktok/bridge/state or info")

    # Home Assistant: each streamer's entities are available with their own instance
    def availability_of(handle):
        for l in sub.lines():
            topic, _, p = l.partition(" ")
            if topic.endswith("/config") and handle.replace(".", "-") in topic and p:
                try:  # one availability_topic, or a list of them (either form is HA's)
                    j = json.loads(p)
                    return ([j["availability_topic"]] if "availability_topic" in j else []) + \
                        [a["topic"] for a in j.get("availability", [])]
                except (ValueError, TypeError, KeyError):
                    return None
        return None
    for h in ("sleepy", "streamer_01"):
        wait_for(lambda: availability_of(h) is not None, 10)
        av = availability_of(h) or []
        want = "tiktok/bridge/shard%d/state" % owner(h)
        other = "tiktok/bridge/shard%d/state" % (3 - owner(h))
        check(want in av and other not in av,
              "HA availability of %s follows its own instance, %d (%s)" % (h, owner(h), av))

    # requests: about a streamer, the owner alone answers; info, both
    pub(broker.port, "tiktok/bridge/request/remove_streamer",
        '{"user":"streamer_02","transaction":"rm1"}')
    check(wait_for(lambda: answers(sub, "remove_streamer", "rm1"), 10),
          "remove_streamer is answered")
    pub(broker.port, "tiktok/bridge/request/info", '{"transaction":"inf1"}')
    check(wait_for(lambda: len(answers(sub, "info", "inf1")) == 2, 10),
          "info is answered by both instances")
    got = answers(sub, "remove_streamer", "rm1")
    check(len(got) == 1 and got[0].get("status") == "ok" and
          got[0].get("instance") == "shard%d" % owner("streamer_02"),
          "remove_streamer is answered once, ok, by the owner %d (%s)" % (owner("streamer_02"), got))
    check(sorted(a.get("instance") for a in answers(sub, "info", "inf1")) == ["shard1", "shard2"],
          "each info answer names its instance")
    pub(broker.port, "tiktok/bridge/request/add_streamer",
        '{"user":"newcomer","transaction":"add1"}')
    check(wait_for(lambda: answers(sub, "add_streamer", "add1"), 10), "add_streamer is answered")
    pub(broker.port, "tiktok/bridge/request/health_check", '{"transaction":"hc1"}')
    wait_for(lambda: len(answers(sub, "health_check", "hc1")) == 2, 10)
    got = answers(sub, "add_streamer", "add1")
    check(len(got) == 1 and got[0].get("instance") == "shard%d" % owner("newcomer") and
          got[0].get("status") == "ok", "add_streamer is answered once, by the owner (%s)" % got)
    check(wait_for(lambda: payloads(sub, "tiktok/newcomer/status"), 10),
          "the added streamer runs")

    # kill -9 of one instance: its own state goes offline, the other's stays online
    victim = owner("newcomer")
    brs[victim - 1].send_signal(signal.SIGKILL)
    brs[victim - 1].wait(10)
    check(wait_for(lambda: payloads(sub, "tiktok/bridge/shard%d/state" % victim)[-1:] == ["offline"],
                   20), "kill -9 of instance %d: the broker publishes its will" % victim)
    late = Sub(tmp, broker.port, "tiktok/bridge/#", "late.txt")
    survivor = 3 - victim
    check(wait_for(lambda: "tiktok/bridge/shard%d/state online" % survivor in late.lines() and
                   "tiktok/bridge/shard%d/state offline" % victim in late.lines(), 10),
          "a late subscriber sees instance %d online and %d offline" % (survivor, victim))
    late.close()
    stop(brs[survivor - 1])
    text = open(logs[survivor - 1]).read()
    check("lost the connection" not in text and "took over" not in text,
          "the two default client ids differ: no session was taken over")
    sub.close()
    stop(sim)
    broker.down()


def test_instance_reserved(tmp):
    cfg = shard_config(tmp, 1, 1, "http://127.0.0.1:9", extra="instance = request\n")
    p = subprocess.run([os.path.join(B, "tiktok2mqtt"), "-c", cfg, "--check-config"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 78 and "instance 'request'" in p.stderr and "shard1.ini:" in p.stderr,
          "instance = request is refused with file:line (%d: %s)" % (p.returncode,
                                                                    p.stderr.strip()[:200]))


def main():
    return run_tests((test_shards_topics_api_will, test_instance_reserved),
                     ("mosquitto", "mosquitto_sub"), "bridge-shards-")


if __name__ == "__main__":
    sys.exit(main())
