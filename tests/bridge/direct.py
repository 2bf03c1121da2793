#!/usr/bin/env python3
"""tiktok2mqtt on the direct path against tiktok-live-sim and a real mosquitto, on loopback:

- no sign server at all (sign_api_url points at a closed port), the default sign_flow (auto):
  three streamers' events on MQTT; streamers_per_device = 2 -> two devices for three
  streamers; bridge/info says flow direct and why; /metrics counts the devices;
- ttwid_file beside state_file: after a restart the bridge mints nothing and reuses the
  saved tokens;
- --probe: the flow step and the device step;
- auto falling back to Euler for a streamer whose edge refuses it (bridge/info says why),
  the other streamers staying on direct;
- the watchdog: a socket gone silent is closed after stale_timeout_s, counted in
  bridge/health (staleCloses) and the metrics, and the streamer is live again;
- bad frames (random bytes, a frame cut in half, a gzip bomb) between chats: each costs only
  itself, and each is counted, for its streamer alone, in bridge/health (frameErrors) and
  tiktok2mqtt_streamer_frame_errors_total;
- a ttwid_file that cannot be written: the events flow, the metric says 1, and the log warns
  (with the path) that a restart will mint new devices;
- a ttwid_file that cannot be read (a directory): the same, an error at the start and at the
  mint, and the path left as it was.

Environment: B (build dir). Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, HERE)
import itest  # noqa: E402
from itest import B, check, free_port, log_lines, run_tests, stop, wait_for  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py: Broker, Sub, bridge)


def start_sim(tmp, name, scenario):
    return itest.sim(tmp, name, [], scenario)


def write_config(tmp, name, port, url, streamers, bridge_extra="", tiktok_extra=""):
    """auto (the default), no sign server unless tiktok_extra names one"""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("[bridge]\nhealth_interval = 1\n%s" % bridge_extra)
        f.write("[mqtt]\nuri = tcp://127.0.0.1:%d\nkeepalive = 5\n" % port)
        f.write("[homeassistant]\nenabled = false\n")
        f.write("[tiktok]\nweb_base = %s\nwebcast_base = %s\npush_base = %s\n"
                % (url, url, url.replace("http://", "ws://")))
        f.write("sign_api_url = http://127.0.0.1:1\n")  # nothing listens there
        f.write("reconnect_min_s = 1\nreconnect_max_s = 2\nlive_check_interval = 60\n")
        f.write(tiktok_extra)
        for s, extra in streamers:
            f.write("[streamer:%s]\n%s" % (s, extra))
    os.chmod(path, 0o600)
    return path


def start_stack(tmp, name, scen, streamers, bridge_extra=""):
    """The simulator playing `scen`, mosquitto with a subscriber of tiktok/#, and the bridge
    following `streamers` ([(handle, section text)], or a function of the simulator's URL
    giving them) with a metrics listener: (sim, url, sim log, broker, sub, metrics port,
    bridge, config path)."""
    sim, url, log = start_sim(tmp, name, scen)
    broker = bt.Broker(tmp)
    check(broker.up() and url, "mosquitto and the simulator start")
    sub = bt.Sub(tmp, broker.port, "tiktok/#", name + ".sub")
    mport = free_port()
    cfg = write_config(tmp, name + ".ini", broker.port, url,
                       streamers(url) if callable(streamers) else streamers,
                       "metrics = 127.0.0.1:%d\n%s" % (mport, bridge_extra))
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, name + ".err"), "w"))
    return sim, url, log, broker, sub, mport, br, cfg


def chats_of(sub, user):
    out = []
    for line in sub.lines():
        topic, _, payload = line.partition(" ")
        if topic == "tiktok/%s/chat" % user:
            out.append(json.loads(payload).get("comment"))
    return out


def retained(sub, topic):
    last = None
    for line in sub.lines():
        t, _, payload = line.partition(" ")
        if t == topic:
            try:
                last = json.loads(payload)
            except ValueError:
                pass
    return last


def info_flows(sub):
    info = retained(sub, "tiktok/bridge/info") or {}
    return {s["handle"]: (s.get("flow"), s.get("flowReason")) for s in info.get("streamers", [])}


def scrape(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=3) as r:
            return r.read().decode()
    except OSError:
        return ""


def metric(text, name, labels=""):
    m = re.search(r"^tiktok2mqtt_%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text,
                  re.M)
    return float(m.group(1)) if m else None


def chats(room, n, t0=0.5):
    return [{"t": t0 + 0.3 * i, "type": "chat", "text": "%s %d" % (room, i), "room": room}
            for i in range(n)]


def test_direct_bridge(tmp):
    scen = [{"kind": "streamer", "handle": h} for h in ("p1", "p2", "p3")]
    scen += chats("p1", 3) + chats("p2", 3) + chats("p3", 3)
    sim, url, log, broker, sub, mport, br, cfg = start_stack(
            tmp, "direct", scen, [("p1", ""), ("p2", ""), ("p3", "")], "streamers_per_device = 2\n")
    ok = wait_for(lambda: all(len(chats_of(sub, u)) >= 3 for u in ("p1", "p2", "p3")), 30)
    check(ok, "no sign server: every streamer's chats arrive: %s"
          % {u: chats_of(sub, u) for u in ("p1", "p2", "p3")})
    for u in ("p1", "p2", "p3"):
        check(chats_of(sub, u) == ["%s %d" % (u, i) for i in range(3)],
              "%s: each chat once, in order" % u)
    lines = log_lines(log)
    homes = [l for l in lines if l.get("kind") == "http" and l.get("path") == "/"]
    ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
    check(len(homes) == 2, "streamers_per_device = 2: two devices minted for three streamers "
          "(%d GET /)" % len(homes))
    check(len(ups) == 3 and all(u.get("direct") and "refused" not in u for u in ups) and
          len({u.get("ttwid") for u in ups}) == 2,
          "three direct upgrades on two ttwids: %s" % [u.get("ttwid", "")[-8:] for u in ups])
    check(not any("/webcast/rooms/" in l.get("path", "") for l in lines),
          "the sign server was never needed")
    ok = wait_for(lambda: all(f == ("direct", "auto: the direct path")
                              for f in info_flows(sub).values()) and len(info_flows(sub)) == 3,
                  10)
    check(ok, "bridge/info: flow direct, reason given, for each: %s" % info_flows(sub))
    text = scrape(mport)
    check(metric(text, "ttwid_minted_total") == 2 and metric(text, "devices") == 2 and
          metric(text, "devices_blocked") == 0,
          "metrics: two devices minted, none blocked")
    check(metric(text, "streamer_flow", '{streamer="p1",flow="direct"}') == 1 and
          metric(text, "streamer_flow", '{streamer="p1",flow="euler"}') == 0,
          "metrics: p1's flow is direct")
    stop(br)
    path = os.path.join(tmp, "ttwid.jsonl")
    try:
        rows = [json.loads(l) for l in open(path)]
    except (OSError, ValueError):
        rows = []
    check(len(rows) == 2 and all(set(r) == {"token", "ua", "minted", "blocked"} for r in rows)
          and {r["token"] for r in rows} == {h.get("ttwid") for h in homes},
          "ttwid_file beside state_file: the two devices, one line each")
    check(rows and oct(os.stat(path).st_mode & 0o777) == "0o600", "ttwid_file is private")
    # a restart: the devices come from the file, nothing is minted
    before = len(log_lines(log))
    br = bt.bridge(cfg, stderr=open(os.path.join(tmp, "direct2.err"), "w"))
    wait_for(lambda: len([l for l in log_lines(log)[before:]
                          if l.get("kind") == "ws-upgrade"]) >= 3, 20)
    lines = log_lines(log)[before:]
    ups = [l for l in lines if l.get("kind") == "ws-upgrade"]
    check(len(ups) == 3 and {u.get("ttwid") for u in ups} <= {r["token"] for r in rows} and
          not any(l.get("kind") == "http" and l.get("path") == "/" for l in lines),
          "after a restart: the saved devices, no GET /")
    stop(br)
    r = subprocess.run([os.path.join(B, "tiktok2mqtt"), "-c", cfg, "--probe", "p1"],
                       capture_output=True, text=True, timeout=60)
    check("flow          ok   direct (auto: the direct path)" in r.stdout and
          "device        ok" in r.stdout and "websocket     ok" in r.stdout,
          "--probe: the flow and the device:\n" + r.stdout)
    sub.close()
    broker.down()
    stop(sim)


def test_fallback_and_watchdog(tmp):
    scen = [{"kind": "streamer", "handle": "refuser",
             "faults": {"direct_handshake": "417 illegal app_id"}},
            {"kind": "streamer", "handle": "quiet"},
            {"kind": "streamer", "handle": "fine"}]
    scen += chats("refuser", 3) + chats("fine", 2)
    scen += [{"t": 0.5, "type": "chat", "text": "before", "room": "quiet"},
             {"t": 1.0, "type": "silence", "seconds": 3, "room": "quiet"},
             # the watchdog closes the silent socket at about 3 s and the first reconnect
             # waits 1 to 2 s (reconnect_min_s, jittered): "after" at 4.5 s raced the new
             # socket and, pushed to none, was lost; 8 s leaves that reconnect 3 s to spare
             {"t": 8.0, "type": "chat", "text": "after", "room": "quiet"}]
    sim, url, log, broker, sub, mport, br, cfg = start_stack(
            tmp, "fallback", scen, lambda url: [("refuser", "sign_api_url = %s\n" % url),
                                                ("quiet", "stale_timeout_s = 2\n"), ("fine", "")],
            "ttwid_file = fallback.ttwid\n")
    ok = wait_for(lambda: len(chats_of(sub, "refuser")) >= 3 and len(chats_of(sub, "fine")) >= 2
                  and "after" in chats_of(sub, "quiet"), 40)
    check(ok, "every streamer's chats arrive: %s"
          % {u: chats_of(sub, u) for u in ("refuser", "quiet", "fine")})
    check(chats_of(sub, "refuser") == ["refuser %d" % i for i in range(3)],
          "refuser: Euler carries it, each chat once")
    check(chats_of(sub, "quiet") == ["before", "after"],
          "quiet: the chats before and after the silence, once each")
    flows = {}
    wait_for(lambda: flows.update(info_flows(sub)) or
             (flows.get("refuser", (None,))[0] == "euler" and flows.get("fine", (None,))[0]
              == "direct"), 10)
    check(flows.get("refuser", ("", ""))[0] == "euler" and
          "fell back to euler (TikTok refused the WebSocket: illegal app_id)"
          in (flows["refuser"][1] or ""),
          "bridge/info: refuser fell back to euler, and why: %s" % (flows.get("refuser"),))
    check(flows.get("fine", ("",))[0] == "direct", "bridge/info: the others stay direct")
    lines = log_lines(log)
    check(any(re.match(r"/webcast/rooms/\d+/connect", l.get("path", "")) for l in lines),
          "the sign server was asked for refuser")

    def stale_counted():
        h = retained(sub, "tiktok/bridge/health") or {}
        return h.get("streamers", {}).get("quiet", {}).get("staleCloses", 0) >= 1
    check(wait_for(stale_counted, 10), "bridge/health: quiet's staleCloses counts the silent "
          "socket: %s" % (retained(sub, "tiktok/bridge/health") or {}).get("streamers", {})
          .get("quiet"))
    text = scrape(mport)
    check((metric(text, "streamer_stale_closes_total", '{streamer="quiet"}') or 0) >= 1 and
          metric(text, "streamer_stale_closes_total", '{streamer="fine"}') == 0,
          "metrics: tiktok2mqtt_streamer_stale_closes_total counts it for quiet alone")
    status = retained(sub, "tiktok/quiet/status") or {}
    check(status.get("state") == "live", "quiet is live again: %s" % status)
    stop(br)
    r = subprocess.run([os.path.join(B, "tiktok2mqtt"), "-c", cfg, "--probe", "refuser"],
                       capture_output=True, text=True, timeout=60)
    check("flow          ok   euler (auto: fell back to euler (TikTok refused the WebSocket: "
          "illegal app_id)" in r.stdout and "sign server   ok" in r.stdout,
          "--probe: the fallback and its reason:\n" + r.stdout)
    sub.close()
    broker.down()
    stop(sim)


def check_health_frame_errors(sub, want):
    """bridge/health comes to say frameErrors `want[handle]` for each handle"""
    def counted():
        h = (retained(sub, "tiktok/bridge/health") or {}).get("streamers", {})
        return all(h.get(u, {}).get("frameErrors") == n for u, n in want.items())
    check(wait_for(counted, 10), "bridge/health: frameErrors %s: %s" % (
          ", ".join("%d for %s" % (n, u) for u, n in want.items()),
          (retained(sub, "tiktok/bridge/health") or {}).get("streamers")))


def test_bad_frames_counted(tmp):
    scen = [{"kind": "streamer", "handle": h} for h in ("bad", "good")]
    scen += chats("bad", 2) + chats("good", 4)
    scen += [{"t": 1.2, "type": "garbage", "room": "bad"},
             {"t": 1.4, "type": "truncated", "room": "bad"},
             {"t": 1.6, "type": "gzip_bomb", "room": "bad"}]
    scen += chats("bad", 2, t0=2.0)
    sim, url, log, broker, sub, mport, br, cfg = start_stack(
            tmp, "badframes", scen, [("bad", ""), ("good", "")])
    ok = wait_for(lambda: len(chats_of(sub, "bad")) >= 4 and len(chats_of(sub, "good")) >= 4, 30)
    check(ok and chats_of(sub, "bad") == ["bad 0", "bad 1", "bad 0", "bad 1"],
          "the chats around the bad frames arrive, once each: %s" % chats_of(sub, "bad"))

    check_health_frame_errors(sub, {"bad": 3, "good": 0})
    text = scrape(mport)
    check(metric(text, "streamer_frame_errors_total", '{streamer="bad"}') == 3 and
          metric(text, "streamer_frame_errors_total", '{streamer="good"}') == 0,
          "metrics: tiktok2mqtt_streamer_frame_errors_total 3 for bad, 0 for good")
    check(metric(text, "streamer_decode_errors_total", '{streamer="bad"}') == 0,
          "a bad frame is not a bad message: decode_errors stays 0")
    stop(br)


def test_bad_poll_answers_counted(tmp):
    """Polling (no WebSocket): two im/fetch answers that cannot be decoded are frame errors
    like bad WebSocket frames; the next polls get the same messages, so none is lost or
    doubled, and two failed polls in a row do not end the connection (five would)."""
    scen = [{"kind": "streamer", "handle": "cutpoll", "faults": {"poll_truncated": 2}},
            {"kind": "streamer", "handle": "goodpoll"}]
    scen += chats("cutpoll", 4) + chats("goodpoll", 4)
    secret = os.path.join(tmp, "session")
    with open(secret, "w") as f:
        f.write("s3cr3t-session\n")
    os.chmod(secret, 0o600)
    poll = ("sign_flow = session\nsession_id_file = %s\nenable_websocket_upgrade = false\n"
            "request_polling_interval_ms = 100\n" % secret)
    sim, url, log, broker, sub, mport, br, cfg = start_stack(
            tmp, "badpolls", scen, [("cutpoll", poll), ("goodpoll", poll)])
    want = lambda u: ["%s %d" % (u, i) for i in range(4)]
    ok = wait_for(lambda: len(chats_of(sub, "cutpoll")) >= 4 and
                  len(chats_of(sub, "goodpoll")) >= 4, 30)
    check(ok and chats_of(sub, "cutpoll") == want("cutpoll") and
          chats_of(sub, "goodpoll") == want("goodpoll"),
          "every chat arrives once, in order, around the cut answers: %s"
          % chats_of(sub, "cutpoll"))
    cut = [l for l in log_lines(log) if "cut short" in json.dumps(l)]
    check(len(cut) == 2, "the simulator cut 2 polling answers (%d)" % len(cut))

    check_health_frame_errors(sub, {"cutpoll": 2, "goodpoll": 0})
    text = scrape(mport)
    check(metric(text, "streamer_frame_errors_total", '{streamer="cutpoll"}') == 2,
          "metrics: tiktok2mqtt_streamer_frame_errors_total 2 for cutpoll")
    check(metric(text, "streamer_decode_errors_total", '{streamer="cutpoll"}') == 0,
          "a cut answer is not a bad message: decode_errors stays 0")
    states = [json.loads(l.partition(" ")[2]).get("state") for l in sub.lines()
              if l.startswith("tiktok/cutpoll/status ")]
    check(states and states[-1] == "live" and states.count("live") == 1,
          "the polling connection stayed up through the cut answers: %s" % states)
    stop(br)


def test_ttwid_file_unwritable(tmp):
    """a ttwid_file that cannot be written (its directory is missing: even root fails) costs
    nothing now, but every restart mints anew: the log says so, not only a metric"""
    scen = [{"kind": "streamer", "handle": "nofile"}] + chats("nofile", 2)
    sim, url, log, broker, sub, mport, br, cfg = start_stack(
            tmp, "nofile", scen, [("nofile", "")], "ttwid_file = no-such-dir/ttwid.jsonl\n")
    check(wait_for(lambda: len(chats_of(sub, "nofile")) >= 2, 30),
          "an unwritable ttwid_file: the chats arrive all the same")
    text = scrape(mport)
    check(metric(text, "ttwid_file_save_failed") == 1, "metrics: ttwid_file_save_failed 1")
    stop(br)
    err = open(os.path.join(tmp, "nofile.err")).read()
    want = "cannot write ttwid_file %s" % os.path.join(tmp, "no-such-dir", "ttwid.jsonl")
    check(any(want in l and "[warn]" in l for l in err.splitlines()),
          "the log warns that the device file cannot be written:\n" + err)
    sub.close()
    broker.down()
    stop(sim)


def test_ttwid_file_unreadable(tmp):
    """a ttwid_file that exists but cannot be read (here a directory: even root fails; as
    state_file) holds devices the bridge cannot see: an error at the start and at each mint,
    the path left as it was, and the chats arrive all the same on a device kept in memory"""
    path = os.path.join(tmp, "unread.ttwid")
    os.mkdir(path)
    with open(os.path.join(path, "kept"), "w") as f:
        f.write("precious\n")
    scen = [{"kind": "streamer", "handle": "unread"}] + chats("unread", 2)
    sim, url, log, broker, sub, mport, br, cfg = start_stack(
            tmp, "unread", scen, [("unread", "")], "ttwid_file = %s\n" % path)
    check(wait_for(lambda: len(chats_of(sub, "unread")) >= 2, 30),
          "an unreadable ttwid_file: the chats arrive all the same")
    text = scrape(mport)
    check(metric(text, "ttwid_file_save_failed") == 1, "metrics: ttwid_file_save_failed 1")
    stop(br)
    err = open(os.path.join(tmp, "unread.err")).read().splitlines()
    start = "cannot read %s (Is a directory): its devices are not used, and it is not replaced" \
        % path
    mint = "cannot read ttwid_file %s (Is a directory), so it is not replaced" % path
    check(any(start in l and "[error]" in l for l in err) and
          any(mint in l and "[error]" in l for l in err),
          "the log says the device file cannot be read, at the start and at the mint:\n%s"
          % "\n".join(err))
    check(os.listdir(path) == ["kept"] and open(os.path.join(path, "kept")).read() ==
          "precious\n" and not [f for f in os.listdir(tmp) if f.startswith("unread.ttwid.")],
          "the path is left as it was, no temporary file beside it")
    sub.close()
    broker.down()
    stop(sim)


def main():
    return run_tests((test_direct_bridge, test_fallback_and_watchdog, test_bad_frames_counted,
                      test_bad_poll_answers_counted, test_ttwid_file_unwritable,
                      test_ttwid_file_unreadable),
                     ("mosquitto", "mosquitto_sub"), "bridge-direct-")


if __name__ == "__main__":
    sys.exit(main())
