#!/usr/bin/env python3
"""make soak: the bridge under faults for SOAK_MINUTES, and whether it lost or repeated anything.

tiktok-live-sim plays SOAK_STREAMERS streamers (sign_flow = euler) whose timelines this script
writes: chats, likes, joins, gifts, follows, shares and viewer counts at SOAK_RATE events/s each,
with faults throughout (dropped and closed sockets, garbage and truncated frames, a gzip bomb,
short silences and silences past stale_timeout_s, sign server 429 bursts) and each stream ending
and going live again under a new room id. Meanwhile mosquitto is restarted every SOAK_RESTART_S
(SIGTERM, then a new one on the same port), the configuration is reloaded with SIGHUP every
SOAK_HUP_S (adding or removing a streamer), and streamers are added and removed through the
runtime API every SOAK_CHURN_S.

What is counted, and against what:
- sent: the simulator's request log (--log-frames) says which msgIds went out in which frame
  ("emit") and which frames each socket sent ("ws-out"): a msgId is sent when a frame holding it
  was written on an open socket, or when a fetch answer carried it (half the rooms repeat their
  last SOAK_HISTORY messages there, as TikTok does after a reconnect: repeats must not come out
  twice). Events emitted while a room had no socket and no fetch carried them are not sent.
- received: a mosquitto_sub with a persistent session (-c, QoS 1) on `tiktok/#`, every message
  with its arrival time; an event is received when its msgId arrives on an event topic of its
  streamer. Lost = sent - received, over the SOAK_STREAMERS streamers (API and SIGHUP streamers
  come and go by design and are reported apart). Dropped by design: garbage, truncated and bomb
  frames carry no msgId (tiktok2mqtt_streamer_frame_errors_total counts them, at most as many
  as were written on a socket); a full queue is counted by
  tiktok2mqtt_mqtt_messages_dropped_total.
- duplicated: a msgId twice on one topic. QoS 1 allows it for a message in flight when the broker
  went down; a second copy that arrived within SOAK_DUP_WINDOW s of a broker restart is counted
  as that, any other one fails.
- state: the retained <base>/<user>/state of each streamer at the end, against the totals of the
  live its last socket joined: every message of that live sent to the bridge, on a socket or in
  a fetch's backlog, once (the bridge's totals are per live, over its reconnects).
- process: RSS, fds and threads of the bridge every 5 s. RSS may grow at most 5 % from the
  minute after SOAK_WARMUP_S to the last minute; fds and threads at the end (all streamers live
  and quiet, the same set followed as at the start) must equal those at the start, within a
  few (a DNS thread or a socket in passing).

The broker is restarted with persistence on and SIGTERM: mosquitto saves its database on the
way out, so the subscriber's session, its queued messages and the retained topics survive, and
everything the broker acknowledged to the bridge reaches the subscriber. With kill -9 (or no
persistence) mosquitto loses messages it already acknowledged, and a loss would not tell
anything about the bridge. SOAK_KILL=9 does that anyway, for a harsher run whose loss is then
only reported.

Environment: B (build dir), SOAK_MINUTES (30), SOAK_STREAMERS (50), SOAK_RATE (2),
SOAK_RESTART_S (300), SOAK_HUP_S (60), SOAK_CHURN_S (15), SOAK_WARMUP_S (SOAK_RESTART_S + 30, at most half of
the run; the RSS bar needs it to hold the first restart), SOAK_DUP_WINDOW (15), SOAK_HISTORY (8: what half the rooms repeat in a reconnect's first fetch, as
TikTok does), SOAK_KILL (15), SOAK_AUTH (1: the broker wants a password), SOAK_SEED (1), SOAK_TIKTOK (more [tiktok] keys, "\n"
between them), SOAK_UNIT_ENV (1: the bridge gets the Environment= of contrib/systemd's unit, as the
installed service does; 0: ours alone), KEEP_TMP=1 keeps the files. --smoke is
make check's run: 51 s, 10 streamers, a broker restart at 30 s, no RSS check.
Prints the figures, then `N passed, N failed`; exit status 1 on a failure.

SPDX-License-Identifier: MIT
"""
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "tools"))
import livestack  # noqa: E402  (tests/tools/livestack.py: Broker, start_sim)
from itest import B, check, clean_env, finish, free_port, kill_all, start, stop, wait_for  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py: Sub, pub)

ENV = os.environ.get
if "--smoke" in sys.argv:  # make check's run: a minute, a broker restart at 30 s
    os.environ.update(SOAK_MINUTES="0.85", SOAK_STREAMERS="10", SOAK_RESTART_S="30",
                      SOAK_HUP_S="20", SOAK_CHURN_S="8")
MINUTES = float(ENV("SOAK_MINUTES", "30"))
STREAMERS = int(ENV("SOAK_STREAMERS", "50"))
RATE = float(ENV("SOAK_RATE", "2"))
RESTART_S = float(ENV("SOAK_RESTART_S", "300"))
HUP_S = float(ENV("SOAK_HUP_S", "60"))
CHURN_S = float(ENV("SOAK_CHURN_S", "15"))
# the warm-up ends 30 s after the first broker restart, so that the baseline holds what a
# restart's buffering costs once (a high-water mark, not a leak); at most half the run, so that
# as much is left to measure. A run too short for that gets no RSS bar (process_checks): with a
# third, a 12-minute run's baseline ended before the first restart, and the restart's one step
# (21.9 to 25.4 MiB, flat after it) failed the bar.
WARMUP_S = min(float(ENV("SOAK_WARMUP_S", str(RESTART_S + 30))), MINUTES * 60 / 2)
DUP_WINDOW = float(ENV("SOAK_DUP_WINDOW", "15"))
KILL = int(ENV("SOAK_KILL", "15"))
HISTORY = int(ENV("SOAK_HISTORY", "8"))  # a reconnect's first fetch repeats this many messages
AUTH = ENV("SOAK_AUTH") == "1"  # the broker wants a user name and password
CREDS = ["-u", "soak", "-P", "soak-password-1"] if AUTH else []
SEED = int(ENV("SOAK_SEED", "1"))
UNIT = os.path.join(HERE, "..", "contrib", "systemd", "tiktok2mqtt.service")
UNIT_ENV = ENV("SOAK_UNIT_ENV", "1") != "0"
RUN_S = MINUTES * 60

STALE_S = 20  # the bridge's stale_timeout_s here; the long silences outlast it
# added through the API and removed three additions later; each room answers its first two sign
# requests with 429, so that each first addition is a 429 burst (the simulator's sign_times)
CHURN = ["churn%02d" % i for i in range(40)]
HUP = ["hup%02d" % i for i in range(3)]  # added and removed by reloads
EVENT_TOPICS = {"chat", "gift", "giftEnd", "like", "member", "social", "follow", "share",
                "roomUser", "streamEnd"}
GIFT_DIAMONDS = 100  # Confetti: arrives once, complete
LIKE_COUNT = 3
# what the bridge publishes without a msgId (1.x's shapes): counted by number per streamer
NO_MSGID = {"viewers": "roomUser", "end": "streamEnd"}
MSGID = re.compile(rb'"msgId":"?(\d+)')


def log(*a):
    print(*a, flush=True)


# ---- the scenario -----------------------------------------------------------------------

def main_handle(i):
    return "soak%02d" % i


def viewers_of(i, sess):
    """the viewer count of streamer i's session sess: the expected state says which session"""
    return 100 + i + 1000 * sess


def session_events(rng, i, sess, length):
    """one session's timeline: events at RATE/s and streamer i's share of the faults"""
    evs, t, n = [], 0.5, 0
    kinds = ["chat"] * 40 + ["like"] * 20 + ["join"] * 15 + ["gift"] * 10 + ["follow"] * 5 + \
        ["share"] * 5 + ["viewers"] * 5
    while t < length:
        k = rng.choice(kinds)
        e = {"t": round(t, 3), "type": k}
        if k == "chat":
            e["text"] = "soak %d/%d #%d" % (i, sess, n)
        elif k == "like":
            e["count"] = LIKE_COUNT
        elif k == "gift":
            e.update(gift="Confetti", count=1)
        elif k == "viewers":
            e["count"] = viewers_of(i, sess)
        if k != "viewers":
            e["user"] = "fan%03d" % rng.randrange(200)
        evs.append(e)
        n += 1
        t += rng.uniform(0.5, 1.5) / RATE

    def at():
        return round(rng.uniform(min(5, length / 3), max(length - 5, length * 2 / 3)), 3)

    if i % 4 == 0:  # a dropped socket (TCP end, no close frame) about every minute
        for _ in range(max(1, int(length / 60))):
            evs.append({"t": at(), "type": "drop"})
    if i % 7 == 3:
        evs.append({"t": at(), "type": "close", "code": 1011, "reason": "soak"})
    if i % 3 == 0:
        evs.append({"t": at(), "type": "garbage", "bytes": 300})
    if i % 5 == 2:
        evs.append({"t": at(), "type": "truncated"})
    if i % 6 == 1:
        evs.append({"t": at(), "type": "silence", "seconds": 8})
    if i % 16 == 5 and length > 60:  # past stale_timeout_s: the bridge closes and reconnects
        evs.append({"t": at(), "type": "silence", "seconds": STALE_S + 10})
    if i % 10 == 7:
        evs.append({"t": at(), "type": "gzip_bomb", "inflated": 16 << 20})
    evs.sort(key=lambda e: e["t"])
    return evs


def write_scenario(path, span_s):
    """the main streamers' sessions cover span_s of events, then they stay live and quiet;
    returns {room_id: (handle, session)}"""
    rng = random.Random(SEED)
    rooms = {}
    with open(path, "w") as f:
        f.write(json.dumps({"kind": "sim", "seed": SEED}) + "\n")
        for i in range(STREAMERS):
            h = main_handle(i)
            faults = {"sign_status": 429, "sign_times": 3, "retry_after": 2} if i % 10 == 1 else {}
            base = 7400000000000000000 + i * 1000
            f.write(json.dumps({"kind": "streamer", "handle": h, "room_id": str(base),
                                "viewers": viewers_of(i, 0), "likes": 0, "faults": faults,
                                "history": HISTORY if i % 2 == 0 else 0}) + "\n")
            left, sess = span_s, 0
            while True:
                if span_s >= 300:
                    length = rng.uniform(150, 250)
                else:  # a short run: a third of the streamers end and relive once
                    length = span_s / 2 if i % 3 == 0 else span_s
                length = min(length, left)
                rooms[str(base + sess)] = (h, sess)
                for e in session_events(rng, i, sess, length):
                    f.write(json.dumps(e) + "\n")
                left -= length
                if left < min(20, span_s / 3):
                    break
                sess += 1
                f.write(json.dumps({"t": round(length + 0.5, 3), "type": "end",
                                    "relive_after": 3, "relive_room_id": str(base + sess)}) + "\n")
        for h in CHURN + HUP:  # come and go: a never-ending loop of a few events
            faults = {"sign_status": 429, "sign_times": 2, "retry_after": 2}
            f.write(json.dumps({"kind": "streamer", "handle": h, "loop": True,
                                "faults": faults}) + "\n")
            for k in range(10):
                f.write(json.dumps({"t": k * 0.7, "type": "chat", "user": "fan001",
                                    "text": "%s %d" % (h, k)}) + "\n")
    return rooms


# ---- the bridge --------------------------------------------------------------------------

def unit_env():
    """With SOAK_UNIT_ENV, the unit's Environment= lines as a dict, to add to ours: the soak runs
    the bridge as the installed service runs (its GLIBC_TUNABLES turns glibc's per-thread caches
    off; docs/PERFORMANCE.md)"""
    extra = {}
    if UNIT_ENV:
        with open(UNIT) as f:
            for line in f:
                if line.startswith("Environment="):
                    k, v = line[len("Environment="):].strip().split("=", 1)
                    extra[k] = v
    return extra


def write_config(path, port, url, metrics_port, state_file, extra):
    if AUTH:
        with open(path + ".pw", "w") as f:
            f.write(CREDS[3] + "\n")
        os.chmod(path + ".pw", 0o600)
    with open(path, "w") as f:
        f.write("[bridge]\nmetrics = 127.0.0.1:%d\nstate_interval = 2\nhealth_interval = 10\n"
                "state_file = %s\n" % (metrics_port, state_file))
        f.write("[mqtt]\nuri = tcp://127.0.0.1:%d\nqos = 1\nkeepalive = 5\n"
                "client_id = soak-bridge\n" % port)
        if AUTH:
            f.write("username = %s\npassword_file = %s.pw\n" % (CREDS[1], path))
        f.write("[tiktok]\nweb_base = %s\nwebcast_base = %s\nsign_api_url = %s\n" % (url, url, url))
        # the simulator's signed flow: the default (auto) would try TikTok's own push edge
        f.write("sign_flow = euler\n")
        f.write("reconnect_min_s = 1\nreconnect_max_s = 5\nlive_check_interval = 5\n"
                "stale_timeout_s = %d\n" % STALE_S)
        f.write(ENV("SOAK_TIKTOK", "").replace("\\n", "\n") + "\n")  # more [tiktok] keys
        for h in [main_handle(i) for i in range(STREAMERS)] + list(extra):
            f.write("[streamer:%s]\n" % h)
    os.chmod(path, 0o600)


def metrics(port):
    """{name: total over its labels} of the bridge's /metrics; {} when it does not answer"""
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    except OSError:
        return {}
    out = {}
    for line in text.decode("utf-8", "replace").splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, _, val = line.rpartition(" ")
        try:
            out[name.split("{")[0]] = out.get(name.split("{")[0], 0) + float(val)
        except ValueError:
            pass
    return out


def statuses(port):
    """{handle: state} from the streamer_status gauge's labels"""
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    except OSError:
        return {}
    out = {}
    for m in re.finditer(rb'tiktok2mqtt_streamer_status\{[^}]*streamer="([^"]+)"[^}]*status="([^"]+)"[^}]*\} 1',
                         text):
        out[m.group(1).decode()] = m.group(2).decode()
    return out


def proc_sample(pid):
    try:
        st = open("/proc/%d/status" % pid).read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
        thr = int(re.search(r"Threads:\s+(\d+)", st).group(1))
        fds = len(os.listdir("/proc/%d/fd" % pid))
        return rss, fds, thr
    except (OSError, AttributeError):
        return None


# ---- the simulator's log, read as it grows ------------------------------------------------

class SimLog:
    def __init__(self, path):
        self.path, self.off, self.rest = path, 0, b""
        self.emit = {}  # (room, seq) -> (room_id, msg_ids, types)
        self.msg = {}  # msgId -> (room, type, value: the like total or viewer count)
        self.likes = {}  # room -> like messages emitted so far (the room's running total / 3)
        self.conn_room = {}  # conn -> (room, room_id) of an accepted socket
        self.last_conn = {}  # room -> its latest accepted socket
        self.sent = {}  # room -> set of msgIds sent on an open socket
        self.faults = {}
        self.faults_sent = {}  # garbage, truncated, gzip_bomb frames written on a socket
        self.rooms = {}  # "ended", "live again" counts
        self.closes = 0
        self.last_emit_t = 0.0  # time.time() of the last main streamer's emit

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return
        self.off += len(data)
        data = self.rest + data
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            try:
                self.line(json.loads(line))
            except ValueError:
                pass

    def line(self, o):
        k = o.get("kind")
        if k == "emit" and o.get("fault"):
            self.emit[(o["room"], o["seq"])] = o["fault"]
        elif k == "emit":
            room, ids, types = o["room"], o["msg_ids"], o["types"]
            self.emit[(room, o["seq"])] = ids
            for mid, ty in zip(ids, types):
                val = None
                if ty == "like":
                    self.likes[room] = self.likes.get(room, 0) + 1
                    val = self.likes[room] * LIKE_COUNT
                self.msg[mid] = (room, ty, val, o["room_id"])
            if room.startswith("soak"):
                self.last_emit_t = time.time()
        elif k == "ws-open" and not o.get("refused"):
            self.conn_room[o["conn"]] = (o["room"], o["room_id"])
            self.last_conn[o["room"]] = o["conn"]
        elif k == "ws-out":
            ids = self.emit.get((o["room"], o["seq"]), ())  # control frames: none
            if isinstance(ids, str):  # a fault's frame
                self.faults_sent[ids] = self.faults_sent.get(ids, 0) + 1
                return
            self.sent.setdefault(o["room"], set()).update(ids)
        elif k == "http" and o.get("msg_ids") and o.get("room"):
            self.sent.setdefault(o["room"], set()).update(o["msg_ids"])  # a fetch's backlog
        elif k == "fault":
            self.faults[o["fault"]] = self.faults.get(o["fault"], 0) + 1
        elif k == "room":
            self.rooms[o["state"]] = self.rooms.get(o["state"], 0) + 1
        elif k == "ws-close":
            self.closes += 1

    def expected_state(self, room, rooms):
        """the totals of the live the room's last socket joined, as the bridge keeps them: every
        message of that live sent to the bridge (on any of its sockets, or in a fetch's
        backlog), once"""
        t = {"chats": 0, "follows": 0, "shares": 0, "members": 0, "gifts": 0, "diamonds": 0,
             "totalLikeCount": 0, "viewerCount": 0}
        live = self.conn_room.get(self.last_conn.get(room), (None, None))[1]
        for mid in self.sent.get(room, ()):
            _, ty, val, room_id = self.msg[mid]
            if room_id != live:
                continue
            if ty == "chat":
                t["chats"] += 1
            elif ty == "follow":
                t["follows"] += 1
            elif ty == "share":
                t["shares"] += 1
            elif ty == "join":
                t["members"] += 1
            elif ty == "gift":
                t["gifts"] += 1
                t["diamonds"] += GIFT_DIAMONDS
            elif ty == "like":
                t["totalLikeCount"] = max(t["totalLikeCount"], val)
            elif ty == "viewers":
                t["viewerCount"] = viewers_of(int(room[4:]), rooms[room_id][1])
        return t


# ---- what the subscriber got ---------------------------------------------------------------

def read_sub(path):
    """per streamer: {msgId: [(topic, arrival time)]}; per streamer, the arrival times of events
    without a msgId (roomUser: 1.x's shape has none); and the API answers"""
    got, nomsg, answers = {}, {}, []
    with open(path, "rb") as f:
        for line in f:
            parts = line.rstrip(b"\n").split(b" ", 2)
            if len(parts) < 3:
                continue
            topic, ts, payload = parts
            levels = topic.decode("utf-8", "replace").split("/")
            if len(levels) == 4 and levels[1] == "bridge" and levels[2] == "response":
                answers.append(payload)
                continue
            if len(levels) != 3 or levels[2] not in EVENT_TOPICS:
                continue
            m = MSGID.search(payload)
            if m:
                got.setdefault(levels[1], {}).setdefault(m.group(1).decode(), []).append(
                    (levels[2], float(ts)))
            else:
                nomsg.setdefault((levels[1], levels[2]), []).append(float(ts))
    return got, nomsg, answers


def retained_states(port):
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "tiktok/+/state",
                        "-v", "--retained-only", "-W", "3"] + CREDS, capture_output=True, timeout=20,
                       env=clean_env())
    out = {}
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        topic, _, payload = line.partition(" ")
        try:
            out[topic.split("/")[1]] = json.loads(payload)
        except ValueError:
            pass
    return out


def delivery(sl, got, nomsg, mains, restarts):
    """sent, lost, repeats at a broker restart, other repeats, a few lost (handle, msgId, type)"""
    def at_restart(ts):
        return any(d - 1 <= ts <= u + DUP_WINDOW for d, u in restarts)

    sent = sum(len(sl.sent.get(h, ())) for h in mains)
    lost, dup_qos, dup_bad, lost_ex = 0, 0, 0, []
    for h in mains:
        recv = got.get(h, {})
        counted = {}
        for mid in sl.sent.get(h, ()):
            ty = sl.msg.get(mid, (0, "?"))[1]
            if ty in NO_MSGID:  # counted by number below
                counted[ty] = counted.get(ty, 0) + 1
            elif mid not in recv:
                lost += 1
                if len(lost_ex) < 10:
                    lost_ex.append((h, mid, ty))
        for ty, topic in NO_MSGID.items():
            n, arrived = counted.get(ty, 0), nomsg.get((h, topic), [])
            lost += max(0, n - len(arrived))
            if n < len(arrived) and any(at_restart(ts) for ts in arrived):
                dup_qos += len(arrived) - n
            elif n < len(arrived):
                dup_bad += len(arrived) - n
    for h, ids in got.items():
        for mid, arr in ids.items():
            per_topic = {}
            for topic, ts in arr:
                per_topic.setdefault(topic, []).append(ts)
            for tss in per_topic.values():
                for ts in sorted(tss)[1:]:
                    if at_restart(ts):
                        dup_qos += 1
                    else:
                        dup_bad += 1
    return sent, lost, dup_qos, dup_bad, lost_ex


# ---- the run ----------------------------------------------------------------------------------

class Soak:
    def __init__(self, tmp):
        self.tmp = tmp
        self.t0 = time.time()
        self.restarts = []  # (down, up) times
        self.reconnect_s = []  # from a broker's restart to the bridge's birth on it
        self.away, self.birth_off = False, 0
        self.samples = []  # (t, rss kB, fds, threads)
        self.hups = 0
        self.requests = 0
        self.followed_churn = set()
        self.hup_set = []

    def start(self):
        tmp = self.tmp
        span = max(20.0, RUN_S - 40)
        scen = os.path.join(tmp, "soak.jsonl")
        self.rooms = write_scenario(scen, span)
        self.broker = bt.Broker(tmp, persist=True, passwords={CREDS[1]: CREDS[3]} if AUTH else None)
        with open(self.broker.conf, "a") as f:
            if os.geteuid() == 0 and not AUTH:  # mosquitto would drop to its own user (with a
                # password file, Broker has said so already): the database is ours
                f.write("user root\n")
            # the subscriber's queue while it reconnects: unbounded, or the broker drops
            f.write("max_queued_messages 0\n")
        self.broker.up()
        self.sub = bt.Sub(tmp, self.broker.port, "tiktok/#", "sub.txt",
                          ["-q", "1", "-c", "-i", "soak-sub-%d" % os.getpid(), "-F", "%t %U %p"],
                          creds=CREDS)
        self.sim, self.url = livestack.start_sim(tmp, scen, ["--log-frames", "--end-grace-ms", "3000"])
        self.simlog = SimLog(os.path.join(tmp, "sim.log"))
        self.mport = free_port()
        self.cfg = os.path.join(tmp, "soak.ini")
        self.state_file = os.path.join(tmp, "soak.state")
        write_config(self.cfg, self.broker.port, self.url, self.mport, self.state_file, [])
        extra = unit_env()
        log("soak: the bridge's environment: ours%s" % "".join(
            ", %s=%s (the unit's)" % kv for kv in sorted(extra.items())))
        self.bridge = start([os.path.join(B, "tiktok2mqtt"), "-c", self.cfg],
                            env=dict(os.environ, **extra),
                            stderr=open(os.path.join(tmp, "bridge.log"), "w"))
        mains = {main_handle(i) for i in range(STREAMERS)}
        ok = wait_for(lambda: mains <= {h for h, s in statuses(self.mport).items() if s == "live"},
                      60 + STREAMERS * 0.5, step=0.5)
        check(ok, "all %d streamers go live" % STREAMERS)
        self.base = proc_sample(self.bridge.pid)
        log("soak: %d streamers live after %.1f s; bridge pid %d, broker port %d, sim %s; "
            "rss %d kB, fds %d, threads %d" % (STREAMERS, time.time() - self.t0, self.bridge.pid,
                                               self.broker.port, self.url, *self.base))

    def restart_broker(self):
        """SIGTERM (or SIGKILL), 2 s away, a new mosquitto on the port; then wait for the bridge's
        birth: the bridge's session is clean (no subscription survives it), so a request sent
        before it is back is lost at the broker, not by the bridge"""
        down, off = time.time(), os.path.getsize(self.sub.path)
        stop(self.broker.p, signal.SIGKILL if KILL == 9 else signal.SIGTERM)
        time.sleep(2)  # the bridge buffers meanwhile
        ok = self.broker.up()
        up = time.time()

        self.birth_off = off
        back = wait_for(lambda: self.sample(every=5) or self.born(), 60, step=0.1)
        self.restarts.append((down, up))
        self.reconnect_s.append(time.time() - up)
        self.away = not back  # no API request until the birth: the broker would drop it
        p = proc_sample(self.bridge.pid) or (0, 0, 0)
        log("soak: %4.0f s broker restarted (%s); the bridge is back after %.1f s; rss %d kB, "
            "fds %d, threads %d" % (up - self.t0, "up" if ok else "NOT UP", time.time() - up, *p))
        check(ok and back, "broker restart %d: the bridge is back within 60 s (%s)"
              % (len(self.restarts), "after %.1f s" % (time.time() - up) if back else
                 "not yet: no API request until it is"))

    def born(self):
        """has the bridge's birth arrived since the last broker restart?"""
        with open(self.sub.path, "rb") as f:
            f.seek(self.birth_off)
            return re.search(rb"(^|\n)tiktok/bridge/state \S+ online\n", f.read()) is not None

    def reload(self):
        self.hups += 1
        self.hup_set = [HUP[self.hups % len(HUP)]] if self.hups % 2 else []
        write_config(self.cfg, self.broker.port, self.url, self.mport, self.state_file, self.hup_set)
        self.bridge.send_signal(signal.SIGHUP)

    def request(self, cmd, h):
        """a runtime API request; False when mosquitto_pub could not deliver it"""
        self.requests += 1
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-q",
                            "1", "-t", "tiktok/bridge/request/" + cmd, "-m",
                            json.dumps({"user": h, "transaction": "soak-%d" % self.requests})]
                           + CREDS,
                           capture_output=True, timeout=10, env=clean_env())
        if r.returncode:
            self.requests -= 1
        return r.returncode == 0

    def churn(self, k):
        """add the k-th churn streamer, remove the one added three turns before"""
        add, rm = CHURN[k % len(CHURN)], CHURN[(k - 3) % len(CHURN)]
        if add not in self.followed_churn and self.request("add_streamer", add):
            self.followed_churn.add(add)
        if k >= 3 and rm in self.followed_churn and self.request("remove_streamer", rm):
            self.followed_churn.discard(rm)

    def sample(self, every=0):
        if self.samples and time.time() - self.t0 - self.samples[-1][0] < every:
            return
        s = proc_sample(self.bridge.pid)
        if s:
            self.samples.append((time.time() - self.t0,) + s)

    def main_phase(self):
        nxt = {"restart": RESTART_S, "hup": HUP_S / 2, "churn": CHURN_S / 2, "sample": 0}
        k = 0
        while time.time() - self.t0 < RUN_S:
            t = time.time() - self.t0
            if t >= nxt["sample"]:
                self.sample()
                self.simlog.poll()
                nxt["sample"] = t + 5
            if t >= nxt["restart"]:
                self.restart_broker()
                nxt["restart"] = t + RESTART_S
            if t >= nxt["hup"]:
                self.reload()
                nxt["hup"] = t + HUP_S
            if self.away and self.born():
                self.away = False
                self.reconnect_s[-1] = t - (self.restarts[-1][1] - self.t0)
                log("soak: %4.0f s the bridge is back on the broker" % t)
            if t >= nxt["churn"] and not self.away:
                self.churn(k)
                k += 1
                nxt["churn"] = t + CHURN_S
            if self.bridge.poll() is not None:
                check(False, "the bridge is still running (exit %s)" % self.bridge.returncode)
                return False
            time.sleep(0.2)
        return True

    def end_phase(self):
        """churn and reloads stop with the start's set followed; the timelines run out"""
        for h in sorted(self.followed_churn):
            if self.request("remove_streamer", h):
                self.followed_churn.discard(h)
        check(not self.followed_churn, "the API streamers are removed at the end")
        self.hup_set = []
        write_config(self.cfg, self.broker.port, self.url, self.mport, self.state_file, [])
        self.bridge.send_signal(signal.SIGHUP)
        self.hups += 1

        def quiet():
            self.simlog.poll()
            self.sample()
            return time.time() - self.simlog.last_emit_t > 10
        ok = wait_for(quiet, 240, step=1)
        mains = {main_handle(i) for i in range(STREAMERS)}
        live = wait_for(lambda: mains <= {h for h, s in statuses(self.mport).items()
                                          if s == "live"}, 60, step=1)
        size = [-1]

        def sub_settled():  # nothing new for 5 s (state_interval 2 s: the last totals are out)
            n = os.path.getsize(self.sub.path)
            same = n == size[0]
            size[0] = n
            return same
        wait_for(sub_settled, 60, step=5)
        self.simlog.poll()
        check(ok, "the simulator's timelines ran out (quiet for 10 s)")
        check(live, "at the end every streamer is live")
        self.final = proc_sample(self.bridge.pid)

    def report(self):
        sl = self.simlog
        m = metrics(self.mport)
        states = retained_states(self.broker.port)
        t_stop = time.time()
        stop(self.bridge, timeout=30)
        check(time.time() - t_stop < 30 and self.bridge.returncode == 0,
              "SIGTERM: the bridge exits 0 within 30 s (%s after %.1f s)"
              % (self.bridge.returncode, time.time() - t_stop))
        self.sub.close()
        stop(self.sim)
        stop(self.broker.p)
        got, nomsg, answers = read_sub(self.sub.path)

        mains = [main_handle(i) for i in range(STREAMERS)]
        sent, lost, dup_qos, dup_bad, lost_ex = delivery(sl, got, nomsg, mains, self.restarts)
        other_sent = sum(len(sl.sent.get(h, ())) for h in CHURN + HUP)
        other_got = sum(1 for h in CHURN + HUP for mid in sl.sent.get(h, ()) if mid in got.get(h, {}))
        dropped = int(m.get("tiktok2mqtt_mqtt_messages_dropped_total", 0))
        refused = int(m.get("tiktok2mqtt_mqtt_messages_refused_total", 0))
        decode = int(m.get("tiktok2mqtt_streamer_decode_errors_total", 0))
        counted = int(m.get("tiktok2mqtt_streamer_frame_errors_total", 0))
        with open(os.path.join(self.tmp, "bridge.log"), errors="replace") as f:
            frame_errors = sum("Websocket message decoding failed" in line for line in f)
        bad_frames = sum(sl.faults_sent.values())
        log("soak: ran %.1f min, %d streamers at %g events/s, %d broker restarts (SIGTERM%s), "
            "%d reloads, %d API requests (%d answers)"
            % ((time.time() - self.t0) / 60, STREAMERS, RATE, len(self.restarts),
               "" if KILL != 9 else " -> SIGKILL", self.hups, self.requests, len(answers)))
        log("soak: simulator faults %s; rooms %s; sockets closed %d; bad frames written on a "
            "socket %s" % (json.dumps(sl.faults, sort_keys=True), json.dumps(sl.rooms, sort_keys=True),
                           sl.closes, json.dumps(sl.faults_sent, sort_keys=True)))
        log("soak: bridge metrics: events %d, decode errors %d, frame errors %d, stale closes %d, "
            "streamer reconnects %d, mqtt reconnects %d, published %d, dropped %d, refused %d"
            % (m.get("tiktok2mqtt_streamer_events_total", 0), decode, counted,
               m.get("tiktok2mqtt_streamer_stale_closes_total", 0),
               m.get("tiktok2mqtt_streamer_reconnects_total", 0),
               m.get("tiktok2mqtt_mqtt_reconnects_total", 0),
               m.get("tiktok2mqtt_mqtt_messages_published_total", 0), dropped, refused))
        log("soak: the bridge's birth after a broker restart: %s s"
            % ", ".join("%.1f" % x for x in self.reconnect_s))
        log("soak: sent on open sockets %d events; received %d; lost %d (queue drops counted: %d); "
            "duplicates %d at broker restarts (QoS 1), %d elsewhere"
            % (sent, sent - lost, lost, dropped, dup_qos, dup_bad))
        log("soak: API and SIGHUP streamers (not in the bar): %d sent, %d received"
            % (other_sent, other_got))
        check(sent > 0, "the simulator sent events on open sockets (%d)" % sent)
        ok_answers = set()
        for a in answers:
            try:
                o = json.loads(a)
            except ValueError:
                continue
            if o.get("status") == "ok" and str(o.get("transaction", "")).startswith("soak-"):
                ok_answers.add(o["transaction"])
        check(len(ok_answers) == self.requests, "every API request delivered is answered ok "
              "(%d of %d)" % (len(ok_answers), self.requests))
        check(lost == 0 or lost <= dropped,
              "0 lost: %d of %d sent events never arrived (queue drops %d)%s"
              % (lost, sent, dropped, "; e.g. " + str(lost_ex) if lost_ex else ""))
        check(dup_bad == 0, "0 duplicated outside broker restarts (%d; %d at restarts)"
              % (dup_bad, dup_qos))
        # dropped by design: each bad frame costs itself alone, and is counted
        # (frame_errors_total; decode_errors counts bad messages inside good frames). The log is
        # rate-limited per cause, so it may say fewer than the counter, never more; the counter
        # may miss a frame written on a socket the bridge closed before reading it, never more.
        check(bad_frames == 0 or 0 < counted <= bad_frames and frame_errors <= counted,
              "the bad frames sent (%d) are counted by the bridge (frame_errors_total %d; log "
              "lines, rate-limited: %d; decode_errors %d)" % (bad_frames, counted, frame_errors,
                                                               decode))
        bad_state = []
        for h in mains:
            want = sl.expected_state(h, self.rooms)
            have = states.get(h, {})
            diff = {k: (have.get(k), v) for k, v in want.items() if have.get(k) != v}
            if diff or have.get("live") is not True:
                bad_state.append((h, diff, have.get("live")))
        check(not bad_state, "retained state equals the simulator's totals for %d of %d streamers%s"
              % (STREAMERS - len(bad_state), STREAMERS,
                 ("; e.g. %s: {field: (retained, expected)} %s, live %s" % bad_state[0])
                 if bad_state else ""))
        self.process_checks()
        return finish()

    def process_checks(self):
        s = self.samples
        if not s or not self.final:
            check(False, "the bridge's process was sampled")
            return
        win = [x for x in s if x[0] >= WARMUP_S][:12]  # a minute of samples
        last = [x for x in s if RUN_S - 60 <= x[0] < RUN_S]
        rss0 = statistics.median(x[1] for x in win) if win else s[0][1]
        rss1 = statistics.median(x[1] for x in last) if last else s[-1][1]
        growth = (rss1 - rss0) / rss0 * 100
        log("soak: RSS %.1f MiB after warm-up (%.0f s), %.1f MiB in the last minute (%+.1f %%), "
            "max %.1f MiB" % (rss0 / 1024, WARMUP_S, rss1 / 1024, growth, max(x[1] for x in s) / 1024))
        per_min = {}
        for x in s:
            per_min[int(x[0] // 60)] = max(per_min.get(int(x[0] // 60), 0), x[1])
        log("soak: RSS by minute (max, MiB): " + " ".join("%.1f" % (v / 1024) for _, v in
                                                          sorted(per_min.items())))
        log("soak: fds %d at the start, %d at the end (max %d); threads %d at the start, %d at "
            "the end (max %d)" % (self.base[1], self.final[1], max(x[2] for x in s),
                                  self.base[2], self.final[2], max(x[3] for x in s)))
        # a warm-up the user set is theirs to choose
        holds_restart = (WARMUP_S >= RESTART_S + 30 or RESTART_S + 30 >= RUN_S
                         or ENV("SOAK_WARMUP_S") is not None)
        if RUN_S >= 600 and holds_restart:  # a short run has no warm-up to speak of
            check(growth <= 5, "RSS growth after warm-up %+.1f %% (at most 5 %%)" % growth)
        elif RUN_S >= 600:
            log("soak: no RSS bar: the warm-up (%.0f s, at most half the run) cannot hold the "
                "first broker restart (%.0f s) and 30 s after it; a longer run can" %
                (WARMUP_S, RESTART_S))
        check(self.final[1] <= self.base[1] + 3, "fd count flat: %d at the start, %d at the end"
              % (self.base[1], self.final[1]))
        check(self.final[2] <= self.base[2] + 1, "thread count flat: %d at the start, %d at the end"
              % (self.base[2], self.final[2]))


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that kill_all() runs
    keep = ENV("KEEP_TMP")
    tmp = tempfile.mkdtemp(prefix="soak-") if keep else tempfile.TemporaryDirectory(prefix="soak-")
    path = tmp if keep else tmp.name
    if keep:
        log("soak: keeping " + path)
    log("soak: %g min, %d streamers, %g events/s each, broker restart every %g s, SIGHUP every "
        "%g s, API churn every %g s; load %s" % (MINUTES, STREAMERS, RATE, RESTART_S, HUP_S,
                                                 CHURN_S, open("/proc/loadavg").read().strip()))
    try:
        s = Soak(path)
        s.start()
        if s.main_phase():
            s.end_phase()
            return s.report()
        return finish()
    finally:
        kill_all()
        log("soak: load at the end %s" % open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    sys.exit(main())
