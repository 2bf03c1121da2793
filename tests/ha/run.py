#!/usr/bin/env python3
"""Home Assistant discovery as Home Assistant reads it (docs/mqtt.md §6).

1. The rules (rules.py, each from HA's own source) hold: for every rule a deliberately broken
   config that the checker must reject, and the good configs that it must pass.
2. End to end: a real mosquitto, tiktok-live-sim playing tests/ha/scenario.jsonl and the bridge.
   Every discovery config the bridge publishes is held against the rules, and every
   value_template is rendered (Jinja2, hatemplate.py) on the payloads the run really produced:
   a live streamer, one never live, one offline with a stale retained state from an "earlier
   run", one added and one removed through the runtime API, and a bridge restart.

Environment: B (build dir). Needs mosquitto, mosquitto_sub/pub (make deps) and python3-jinja2.
Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import copy
import json
import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
import itest  # noqa: E402
from itest import ROOT, check, free_port, run_tests, stop, wait_for  # noqa: E402
from hatemplate import render, render_with  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py: Broker, Sub, pub)
import rules  # noqa: E402

SCENARIO = os.path.join(HERE, "scenario.jsonl")
PREFIX = "homeassistant"

# ---- 1. the rules reject what HA would refuse or misread ----

GOOD = {
    PREFIX + "/binary_sensor/tiktok2mqtt-bridge-t/connectivity/config": {
        "name": "Connected", "unique_id": "b_conn", "default_entity_id": "binary_sensor.t_bridge",
        "state_topic": "t/bridge/state", "payload_on": "online", "payload_off": "offline",
        "device_class": "connectivity", "entity_category": "diagnostic",
        "device": {"identifiers": ["tiktok2mqtt-bridge-t"], "name": "b", "model": "bridge",
                   "sw_version": "1"},
        "origin": {"name": "tiktok2mqtt", "sw_version": "1"}},
    PREFIX + "/sensor/tiktok2mqtt_a/likes/config": {
        "name": "Total likes", "unique_id": "a_likes", "default_entity_id": "sensor.t_a_likes",
        "state_topic": "t/a/state", "availability_topic": "t/bridge/state",
        "value_template": "{{ value_json.totalLikeCount }}", "state_class": "total_increasing",
        "icon": "mdi:heart",
        "device": {"identifiers": ["tiktok2mqtt_a"], "name": "a", "model": "streamer",
                   "sw_version": "1", "via_device": "tiktok2mqtt-bridge-t",
                   "configuration_url": "https://www.tiktok.com/@a/live"},
        "origin": {"name": "tiktok2mqtt", "sw_version": "1"}},
    PREFIX + "/binary_sensor/tiktok2mqtt_a/live/config": {
        "name": "Live", "unique_id": "a_live", "default_entity_id": "binary_sensor.t_a_live",
        "state_topic": "t/a/state", "value_template": "{{ 'ON' if value_json.live else 'OFF' }}",
        "device": {"identifiers": ["tiktok2mqtt_a"], "name": "a", "model": "streamer",
                   "sw_version": "1", "via_device": "tiktok2mqtt-bridge-t",
                   "configuration_url": "https://www.tiktok.com/@a/live"},
        "origin": {"name": "tiktok2mqtt", "sw_version": "1"}},
    PREFIX + "/event/tiktok2mqtt_a/gift/config": {
        "name": "Gift", "unique_id": "a_gift", "default_entity_id": "event.t_a_gift",
        "state_topic": "t/a/giftEnd", "event_types": ["gift"],
        "value_template": "{{ dict(value_json, event_type='gift') | to_json }}",
        "device": {"identifiers": ["tiktok2mqtt_a"], "name": "a", "model": "streamer",
                   "sw_version": "1", "via_device": "tiktok2mqtt-bridge-t",
                   "configuration_url": "https://www.tiktok.com/@a/live"},
        "origin": {"name": "tiktok2mqtt", "sw_version": "1"}},
    PREFIX + "/device_automation/tiktok2mqtt_a/gift_5655/config": {
        "automation_type": "trigger", "topic": "t/a/giftEnd", "type": "gift", "subtype": "Rose",
        "payload": "Rose", "value_template": "{{ value_json.giftName }}",
        "device": {"identifiers": ["tiktok2mqtt_a"], "name": "a", "model": "streamer",
                   "sw_version": "1", "via_device": "tiktok2mqtt-bridge-t",
                   "configuration_url": "https://www.tiktok.com/@a/live"},
        "origin": {"name": "tiktok2mqtt", "sw_version": "1"}},
}
GOOD_SAMPLES = {
    "t/a/state": ['{"live":true,"totalLikeCount":12}', '{"live":false,"totalLikeCount":0}'],
    "t/a/giftEnd": ['{"giftName":"Rose","giftId":5655,"uniqueId":"maya","totalDiamonds":5}'],
    "t/bridge/state": ["online"],
}
LIKES = PREFIX + "/sensor/tiktok2mqtt_a/likes/config"
LIVE = PREFIX + "/binary_sensor/tiktok2mqtt_a/live/config"
GIFT = PREFIX + "/event/tiktok2mqtt_a/gift/config"
TRIG = PREFIX + "/device_automation/tiktok2mqtt_a/gift_5655/config"


def _set(topic, **kv):
    """a mutation: keys of one config set (None deletes)"""
    def f(cfgs, samples):
        for k, v in kv.items():
            if v is None:
                cfgs[topic].pop(k, None)
            else:
                cfgs[topic][k] = v
    return f


def _dev(topic, **kv):
    def f(cfgs, samples):
        for k, v in kv.items():
            if v is None:
                cfgs[topic]["device"].pop(k, None)
            else:
                cfgs[topic]["device"][k] = v
    return f


def _move(old, new):
    def f(cfgs, samples):
        cfgs[new] = cfgs.pop(old)
    return f


def _sample(topic, payload):
    def f(cfgs, samples):
        samples[topic] = samples.get(topic, []) + [payload]
    return f


def _copy(src, dst, **kv):
    def f(cfgs, samples):
        cfgs[dst] = copy.deepcopy(cfgs[src])
        cfgs[dst].update(kv)
    return f


# rule id -> (what is broken, mutation)
BROKEN = {
    "topic": [("a dot in the node id", _move(LIKES, PREFIX + "/sensor/tiktok2mqtt_a.b/likes/config")),
              ("an unknown component", _move(LIKES, PREFIX + "/gauge/tiktok2mqtt_a/likes/config"))],
    "keys": [("the deprecated object_id", _set(LIKES, object_id="t_a_likes")),
             ("a misspelt key", _set(LIKES, stat_class="total_increasing"))],
    "required": [("an event without event_types", _set(GIFT, event_types=None)),
                 ("a sensor without state_topic", _set(LIKES, state_topic=None)),
                 ("a trigger without subtype", _set(TRIG, subtype=None))],
    "types": [("qos 3", _set(LIKES, qos=3)), ("a numeric name", _set(LIKES, name=5)),
              ("an icon without prefix", _set(LIKES, icon="heart"))],
    "availability": [("both forms of availability",
                      _set(LIKES, availability=[{"topic": "t/bridge/state"}]))],
    "entity_category": [("a sensor in category config", _set(LIKES, entity_category="config"))],
    "default_entity_id": [("no platform", _set(LIKES, default_entity_id="t_a_likes")),
                          ("another platform", _set(LIKES, default_entity_id="switch.t_a_likes")),
                          ("a dash", _set(LIKES, default_entity_id="sensor.t_a-b_likes"))],
    "device": [("no identifiers", _dev(LIKES, identifiers=[])),
               ("no sw_version", _dev(LIKES, sw_version=None)),
               ("a bad configuration_url", _dev(LIKES, configuration_url="tiktok.com/@a"))],
    "origin": [("no origin", _set(LIKES, origin=None)),
               ("an origin without name", _set(LIKES, origin={"sw_version": "1"}))],
    "via_device": [("a parent nobody publishes", _dev(LIKES, via_device="tiktok2mqtt_bridge"))],
    "device_agree": [("another sw_version for the same device", _dev(LIVE, sw_version="2"))],
    "state_class": [("an unknown state class", _set(LIKES, state_class="total_increasin")),
                    ("last_reset without total", _set(LIKES, last_reset_value_template="{{ 0 }}")),
                    ("a timestamp with a state class", _set(LIKES, device_class="timestamp"))],
    "counts_per_live": [("likes as measurement", _set(LIKES, state_class="measurement"))],
    "device_class": [("an unknown binary class", _set(LIVE, device_class="streaming"))],
    "event_types": [("the event's fields dropped (the old template)",
                     _set(GIFT, value_template="{{ {'event_type': 'gift'} | to_json }}")),
                    ("an event type not listed", _set(GIFT, event_types=["giftEnd"])),
                    ("a payload without event_type and no template", _set(GIFT, value_template=None))],
    "renders": [("a sensor rendering text", _set(LIKES, value_template="{{ value_json.live }}")),
                ("a binary sensor rendering true/false",
                 _set(LIVE, value_template="{{ value_json.live }}")),
                ("a template on a missing field", _sample("t/a/state", '{"live":true}'))],
    "trigger": [("a trigger that never fires", _set(TRIG, payload="Rose ")),
                ("two triggers with one subtype",
                 _copy(TRIG, PREFIX + "/device_automation/tiktok2mqtt_a/gift_1/config"))],
    "unique_id": [("a unique_id twice", _set(LIVE, unique_id="a_likes")),
                  ("no unique_id", _set(LIKES, unique_id=None))],
}


def test_rules_reject_broken(tmp):
    """Each rule catches its broken configs, and the good set passes every rule."""
    good = {t: json.dumps(p) for t, p in GOOD.items()}
    problems = rules.check(good, GOOD_SAMPLES)
    check(not problems, "rules: the good configs pass: %s" % problems[:3])
    check(set(BROKEN) | {"json"} == {r[0] for r in rules.RULES},
          "rules: every rule has broken configs")
    for rid, cases in BROKEN.items():
        for what, mutate in cases:
            cfgs, samples = copy.deepcopy(GOOD), copy.deepcopy(GOOD_SAMPLES)
            mutate(cfgs, samples)
            found = {p[0] for p in rules.check({t: json.dumps(p) for t, p in cfgs.items()},
                                               samples)}
            check(rid in found, "rules: %s rejects %s (found %s)" % (rid, what, sorted(found)))
    bad_json = dict(good)
    bad_json[LIKES] = "{not json"
    check("json" in {p[0] for p in rules.check(bad_json, GOOD_SAMPLES)},
          "rules: json rejects a payload that is not JSON")


# ---- 2. the bridge end to end ----

def lines_of(sub):
    """(topic, payload) in arrival order; mosquitto_sub shows an empty payload as (null)"""
    out = []
    for line in sub.lines():
        topic, _, payload = line.partition(" ")
        out.append((topic, "" if payload == "(null)" else payload))
    return out


def retained_configs(msgs):
    """the discovery configs as the broker keeps them: the last payload of each, empty ones gone"""
    last = {}
    for t, p in msgs:
        if t.startswith(PREFIX + "/") and t.endswith("/config"):
            last[t] = p
    return {t: p for t, p in last.items() if p}


def samples_of(msgs):
    out = {}
    for t, p in msgs:
        out.setdefault(t, []).append(p)
    return out


def write_config(tmp, port, url, metrics, streamers, name="ha.ini"):
    path = bt.write_config(tmp, name, port, url, streamers)
    text = open(path).read().replace("[homeassistant]\nenabled = false\n", "")
    text = text.replace("live_check_interval = 60\n", "live_check_interval = 1\n")
    # a state file per configuration: the tests share `tmp`, and the streamers one test adds
    # or removes at run time are kept there
    state = os.path.join(tmp, name[:-len(".ini")] + "-state.json")
    text = text.replace("[mqtt]", "[bridge]\nstate_interval = 1\nmetrics = 127.0.0.1:%d\n"
                        "state_file = %s\n[mqtt]" % (metrics, state), 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def start_sim(tmp):
    return itest.sim(tmp, "sim", ["--scenario", SCENARIO], timeout=10)[:2]


def node(user):
    return "tiktok2mqtt_" + user.replace(".", "-")


def configs_of(cfgs, user):
    return {t: p for t, p in cfgs.items() if "/%s/" % node(user) in t}


def report(problems):
    for rid, topic, text in problems[:12]:
        print("  %s: %s: %s" % (rid, topic, text))
    return not problems


STALE_STATE = ('{"live":true,"viewerCount":77,"totalLikeCount":9999,"likeCountSum":9999,'
               '"diamonds":500,"gifts":9,"follows":3,"shares":2,"members":40,"chats":80,'
               '"lastEventAt":1700000000000}')
# an earlier run saw a Lion under another gift id: this run's Lion must not get a second trigger
OLD_TRIGGER = (PREFIX + "/device_automation/tiktok2mqtt_dj-mo/gift_9999/config",
               json.dumps({"automation_type": "trigger", "topic": "tiktok/dj.mo/giftEnd",
                           "type": "gift", "subtype": "Lion", "payload": "Lion",
                           "value_template": "{{ value_json.giftName }}",
                           "device": {"identifiers": ["tiktok2mqtt_dj-mo"], "name": "dj.mo",
                                      "manufacturer": "TikTok LIVE", "model": "streamer",
                                      "sw_version": "0.1.0",
                                      "configuration_url": "https://www.tiktok.com/@dj.mo/live",
                                      "via_device": "tiktok2mqtt-bridge-tiktok"},
                           "origin": {"name": "tiktok2mqtt", "sw_version": "0.1.0"}}))


def states(msgs, user):
    return [json.loads(p) for t, p in msgs if t == "tiktok/%s/state" % user and p]


def statuses(msgs, user):
    return [json.loads(p) for t, p in msgs if t == "tiktok/%s/status" % user and p]


def check_discovery(msgs, metrics):
    cfgs = retained_configs(msgs)
    check(report(rules.check(cfgs, samples_of(msgs))), "e2e: every discovery config keeps the rules")
    bridge = [json.loads(p) for t, p in cfgs.items() if "/tiktok2mqtt-bridge-" in t]
    check(len(bridge) == 1 and bridge[0]["state_topic"] == "tiktok/bridge/state" and
          bridge[0]["device"].get("configuration_url", "").endswith(":%d/metrics" % metrics),
          "e2e: the bridge is a device, its connectivity on bridge/state, /metrics linked")
    return cfgs


def check_trigger_sizes(msgs):
    """The bridge reads its gift triggers back from the broker (retained), under the Maximum
    Packet Size its MQTT 5 CONNECT asks for (bt.INBOUND_MAX): the broker would drop a larger
    one. The largest here, plus the worst a gift name adds (95 bytes each escaped as \\u00XX,
    in subtype and payload: 1,140 bytes), stays far under it."""
    sizes = [len(t.encode()) + len(p.encode()) for t, p in msgs
             if "/device_automation/" in t and p]
    check(sizes and max(sizes) + 1140 < bt.INBOUND_MAX // 8,
          "e2e: a gift trigger (%d bytes at most) is far under the bridge's Maximum Packet Size"
          % max(sizes or [0]))


def check_doc_example(cfgs, msgs):
    """docs/integrations.md's automation on the gift event entity: its entity id is the one the
    bridge suggests, and its templates render on the attributes of a real gift"""
    text = open(os.path.join(ROOT, "docs", "integrations.md"), encoding="utf-8").read()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
              if "event.tiktok_the_host_gift" in b]
    gift = json.loads(cfgs.get(PREFIX + "/event/%s/gift/config" % node("dj_mo"), "{}"))
    check(gift.get("default_entity_id") == "event.tiktok_dj_mo_gift",
          "docs: entity ids are event.tiktok_<user>_gift, as the example has them")
    cfg = json.loads(cfgs.get(PREFIX + "/event/%s/gift/config" % node("dj.mo"), "{}"))
    payload = ([p for t, p in msgs if t == "tiktok/dj.mo/giftEnd"] + ["{}"])[0]
    attrs = json.loads(render(cfg.get("value_template", "{{ value }}"), payload))
    attrs.pop("event_type", None)  # event.py: the event type is not an attribute
    attrs.setdefault("giftName", "(none)")
    trigger = {"to_state": {"state": "2026-12-05T01:00:00+00:00", "attributes": attrs}}
    out = []
    for block in blocks:
        for expr in re.findall(r"\{\{.*?\}\}", block, re.S):
            try:
                out.append(render_with(expr, trigger=trigger))
            except Exception as e:  # noqa: BLE001
                out.append("ERROR %s" % e)
    check(blocks and out and not any(o.startswith("ERROR") for o in out) and
          any(attrs["giftName"] in o for o in out) and "False" in out,
          "docs: the automation's templates render on a real gift's attributes: %s" % out)


def test_discovery_end_to_end(tmp):
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    # what an earlier run left: a streamer live with totals, and a gift trigger of dj.mo
    for topic, payload in (("tiktok/night_owl/state", STALE_STATE),
                           ("tiktok/night_owl/availability", "online"), OLD_TRIGGER):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-r", "-q",
                        "1", "-t", topic, "-m", payload], timeout=10, check=True)
    sim, url = start_sim(tmp)
    check(url is not None, "the simulator starts")
    sub = bt.Sub(tmp, broker.port, "#", "all.txt")
    metrics = free_port()
    cfg = write_config(tmp, broker.port, url, metrics, ["dj.mo", "dj_mo", "night_owl"])
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, "bridge.log"), "w"))

    def settled():
        m = lines_of(sub)
        st = states(m, "dj.mo")
        trig = [t for t in retained_configs(m) if "/device_automation/" + node("dj.mo") in t]
        return (st and st[-1]["totalLikeCount"] == 104 and len(trig) == 2 and
                any(t == "tiktok/dj.mo/giftEnd" for t, _ in m) and
                len(statuses(m, "night_owl")) >= 4)

    check(wait_for(settled, 30), "e2e: the live, its gifts and two live checks are in")
    msgs = lines_of(sub)
    cfgs = check_discovery(msgs, metrics)
    check_trigger_sizes(msgs)
    check_doc_example(cfgs, msgs)

    # 5: injective ids
    a, b = configs_of(cfgs, "dj.mo"), configs_of(cfgs, "dj_mo")
    uid = lambda cs: {json.loads(p).get("unique_id") for p in cs.values()} - {None}
    check(len(a) >= 11 and len(b) == 11 and not (uid(a) & uid(b)),
          "e2e: dj.mo and dj_mo are two devices with their own ids (%d, %d)" % (len(a), len(b)))
    # 4: one trigger per gift name, first sight; the earlier run's one kept
    subtypes = sorted(json.loads(p)["subtype"] for t, p in a.items() if "/device_automation/" in t)
    check(subtypes == ["Lion", "Rose"] and
          json.loads(a.get(OLD_TRIGGER[0], "{}")).get("device", {}).get("sw_version") == "0.1.0",
          "e2e: a trigger per gift name seen (Rose twice, Lion also in an earlier run): %s"
          % subtypes)
    # 11: the total never steps back; the sum of likeCount beside it
    st = states(msgs, "dj.mo")
    totals = [s["totalLikeCount"] for s in st if s["live"]]
    check(totals == sorted(totals) and st[-1].get("likeCountSum") == 10,
          "e2e: totalLikeCount never goes back (%s), likeCountSum %s" % (totals,
                                                                        st[-1].get("likeCountSum")))
    # 6: offline after a restart, never live, and quiet live checks
    owl = states(msgs, "night_owl")
    check(owl and not owl[-1]["live"] and owl[-1]["totalLikeCount"] == 0 and
          owl[-1]["diamonds"] == 0, "e2e: the stale live state of an offline streamer is replaced")
    check([p for t, p in msgs if t == "tiktok/night_owl/availability"][-1:] == ["offline"],
          "e2e: the offline streamer's availability says offline")
    never = states(msgs, "dj_mo")
    check(never and not never[-1]["live"] and
          [p for t, p in msgs if t == "tiktok/dj_mo/availability"][-1:] == ["offline"],
          "e2e: a never-live streamer has a state (Live off) and availability offline")
    sts = statuses(msgs, "night_owl")
    after = sts[[s["state"] for s in sts].index("waiting"):]
    check(all(s["state"] == "waiting" for s in after) and len({s["since"] for s in after}) == 1,
          "e2e: live checks keep status waiting and its since: %s" %
          [(s["state"], s["since"]) for s in sts][:6])

    # add through the API: its configs keep the rules too
    n = len(lines_of(sub))
    bt.pub(broker.port, "tiktok/bridge/request/add_streamer", '{"user":"pixel.pia"}')
    check(wait_for(lambda: len([t for t in retained_configs(lines_of(sub))
                                if node("pixel.pia") in t]) >= 12, 20),
          "e2e: an added streamer gets its discovery and its gift's trigger")
    again = [t for t, p in lines_of(sub)[n:] if p and t.endswith("/config") and
             "/device_automation/" not in t and node("pixel.pia") not in t]
    check(not again, "e2e: adding one streamer does not publish the others' discovery again "
          "(%d configs: %s)" % (len(again), again[:2]))
    check_discovery(lines_of(sub), metrics)

    # 9: remove through the API: configs (triggers included) before its state
    n = len(lines_of(sub))
    bt.pub(broker.port, "tiktok/bridge/request/remove_streamer", '{"user":"dj.mo"}')
    gone = lambda: not configs_of(retained_configs(lines_of(sub)), "dj.mo") and \
        ("tiktok/dj.mo/state", "") in lines_of(sub)[n:]
    check(wait_for(gone, 15), "e2e: removal clears every config of dj.mo, its triggers too")
    tail = lines_of(sub)[n:]
    cleared = [i for i, (t, p) in enumerate(tail) if node("dj.mo") in t and not p]
    state_at = tail.index(("tiktok/dj.mo/state", "")) if ("tiktok/dj.mo/state", "") in tail else -1
    check(cleared and max(cleared) < state_at,
          "e2e: the configs are cleared before the state (no template error in HA)")
    check(configs_of(retained_configs(lines_of(sub)), "dj_mo"),
          "e2e: removing dj.mo leaves dj_mo alone")

    # bridge restart: the same configs again, still keeping the rules
    before = retained_configs(lines_of(sub))
    stop(br)
    n = len(lines_of(sub))
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, "bridge2.log"), "w"))
    again = lambda: set(before) <= {t for t, p in lines_of(sub)[n:] if p}
    check(wait_for(again, 20), "e2e: a restarted bridge publishes its discovery again: %s" %
          sorted(set(before) - {t for t, p in lines_of(sub)[n:] if p})[:3])
    late = bt.Sub(tmp, broker.port, PREFIX + "/#", "late.txt")  # the retained ones came first
    check(retained_configs(lines_of(late)) == before,
          "e2e: after the restart the broker holds the same configs (no stray, none missing)")
    late.close()
    check_discovery(lines_of(sub), metrics)
    stop(br, signal.SIGTERM)
    sub.close()
    stop(sim)
    broker.down()


def test_instance(tmp):
    """An instance with its own bridge topics ([bridge] instance) is a bridge device of its own:
    its connectivity reads its own bridge/<instance>/state, and so does the availability of
    its streamers' entities."""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sim, url = start_sim(tmp)
    sub = bt.Sub(tmp, broker.port, "#", "inst.txt")
    cfg = write_config(tmp, broker.port, url, free_port(), ["dj_mo"], name="inst.ini")
    with open(cfg) as f:
        text = f.read().replace("[bridge]\n", "[bridge]\ninstance = studio.a\n", 1)
    with open(cfg, "w") as f:
        f.write(text)
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, "bridge-inst.log"), "w"))
    ok = wait_for(lambda: len(retained_configs(lines_of(sub))) >= 12, 20)
    cfgs = retained_configs(lines_of(sub))
    check(ok and report(rules.check(cfgs, samples_of(lines_of(sub)))),
          "instance: every config keeps the rules")
    conn = json.loads(cfgs.get(PREFIX + "/binary_sensor/tiktok2mqtt-bridge-tiktok-studio-a/"
                                        "connectivity/config", "{}"))
    live = json.loads(cfgs.get(PREFIX + "/binary_sensor/%s/live/config" % node("dj_mo"), "{}"))
    check(conn.get("state_topic") == "tiktok/bridge/studio.a/state" and
          conn.get("default_entity_id") == "binary_sensor.tiktok_bridge_studio_a" and
          live.get("availability_topic") == "tiktok/bridge/studio.a/state" and
          live.get("device", {}).get("via_device") == "tiktok2mqtt-bridge-tiktok-studio-a",
          "instance: its own bridge device, read from its own bridge state: %s, %s" %
          (conn.get("state_topic"), live.get("availability_topic")))
    stop(br)
    sub.close()
    stop(sim)
    broker.down()


def test_broker_restart(tmp):
    """A broker restarted without persistence forgets every retained message: the bridge
    publishes them all again on the new connection (issue 13, finding 10), without waiting
    for Home Assistant's `online`: discovery (gift triggers included), bridge/info, and each
    streamer's status, availability, room and state."""
    broker = bt.Broker(tmp)
    check(broker.up(), "mosquitto starts")
    sim, url = start_sim(tmp)
    metrics = free_port()
    cfg = write_config(tmp, broker.port, url, metrics, ["dj.mo", "night_owl"], name="br.ini")
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, "bridge-br.log"), "w"))
    sub = bt.Sub(tmp, broker.port, "#", "br-all.txt")
    check(wait_for(lambda: len([t for t in retained_configs(lines_of(sub))
                                if "/device_automation/" in t]) >= 2, 60),
          "broker restart: the live and its gift triggers are in")
    # Sub returns once its own marker came back: the broker sent the retained ones before it
    late = bt.Sub(tmp, broker.port, "#", "br-before.txt")
    want = {t for t, p in lines_of(late) if p and not t.startswith("_sub_ready")
            and (t.endswith("/config") or t.split("/")[-1] in
                 ("info", "status", "availability", "room", "state"))}
    late.close()
    sub.close()
    broker.down()
    check(broker.up(), "broker restart: mosquitto is back, without what it retained")
    after = []

    def back():
        s = bt.Sub(tmp, broker.port, "#", "br-after-%d.txt" % len(after))
        got = {t for t, p in lines_of(s) if p}
        s.close()
        after.append(got)
        return want <= got

    check(wait_for(back, 20, step=1), "broker restart: every retained topic is there again: "
          "missing %s" % sorted(want - (after[-1] if after else set()))[:5])
    stop(br)
    stop(sim)
    broker.down()


def main():
    tests = [test_rules_reject_broken, test_discovery_end_to_end, test_instance,
             test_broker_restart]
    return run_tests(tests, tools=("mosquitto", "mosquitto_sub", "mosquitto_pub"),
                     keep_prefix="ha-")


if __name__ == "__main__":
    sys.exit(main())
