#!/usr/bin/env python3
"""Check build/tt-decode against real captured TikTok LIVE messages.

Reads ../shared/captures (beside the project; SHARED=... overrides the
../shared folder, TT_DECODE=... the decoder binary).  Parts:

  a  every *.pb in captures/tiktoklivejava-test-resources and
     captures/tiktoklivejava-event-logs/samples: method = file name up to the
     first '_' (or '.pb'); `tt-decode --message METHOD FILE` must exit 0, print
     no "error" event, print at least one 1.x event for the 1.x message types
     (none for control actions 1/2 and for non-1.x types), and its key fields
     must equal the `.decoded.txt` oracle beside the file (user id / displayId /
     nickname, comment, gift id / repeatCount / repeatEnd, like count / total,
     viewer count and top viewers, question text, battle users and armies,
     live intro, emote id, control action).  The reconstructed push frame
     WebcastPushFrame_reconstructed.bin is decoded as a frame and checked
     against its payload oracle (one like event).
  b  every line of captures/tiktoklivejava-event-logs/event-corpus-2023.jsonl.gz
     (1950 inner messages): decoded with its method; zero errors allowed, and
     1.x message types must yield a 1.x event (see "method" below).  Uses
     `tt-decode --messages-jsonl FILE` when `tt-decode --help` mentions it
     (one input line {"method","b64"} -> one output line {"index":N,"events":[..]}
     or {"index":N,"error":".."}, N counting input lines from 0), else one
     `tt-decode --message` run per message.
  c  every captured message of a 1.x type (samples, test resources, corpus;
     identical payloads once) wrapped in its own push frame (pbwire.push_frame),
     plus the reconstructed real frame; decoded by the real library 1.2.3
     (tests/oracle/decode.js) and by `tt-decode DIR`; compared with
     compare_events.py.  The oracle is ORACLE_DIR if set, else build/oracle if
     it has v1/node_modules/tiktok-live-connector, else /tmp/oracle.  Without
     node or the library, part c is skipped (reported, not counted).

Method of a corpus line: its `type` is the source log's key, which equals the
payload's common.method except for key RoomMessage (payloads carry common.method
"SystemMessage"), and two keys lack the "Webcast" prefix (LinkMicMethod and
RoomMessage/SystemMessage).  We use common.method when the payload has one,
else `type`, and prefix "Webcast" when missing: RoomMessage -> WebcastSystemMessage,
LinkMicMethod -> WebcastLinkMicMethod.

Usage:
    check_captures.py [--parts abc] [--keep DIR] [--oracle-only] [--no-batch] [-v]

--keep DIR      build part c in DIR and keep it (frames, sources.tsv,
                expected.jsonl, actual.jsonl) instead of a temp dir.
--no-batch      part b: one `tt-decode --message` run per message even if
                --messages-jsonl is available (tests the per-file path).
--oracle-only   part c without tt-decode: build the frames, run the oracle and
                summarise what 1.x emits (events, errors, per-source notes).

Prints per-part counts; the last line is `N passed, N failed` (items: files,
messages, frames).  Exit 1 on any failure.  If ../shared/captures is absent:
`SKIPPED: ../shared/captures not found`, `0 passed, 0 failed`, exit 0.

SPDX-License-Identifier: MIT
"""

import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import compare_events  # noqa: E402
import pbtext  # noqa: E402
import pbwire  # noqa: E402
from captures import CAPS, ROOT  # noqa: E402

TT_DECODE = os.environ.get("TT_DECODE") or os.path.join(ROOT, "build", "tt-decode")

RES_DIR = os.path.join(CAPS, "tiktoklivejava-test-resources")
SAMPLES_DIR = os.path.join(CAPS, "tiktoklivejava-event-logs", "samples")
CORPUS = os.path.join(CAPS, "tiktoklivejava-event-logs", "event-corpus-2023.jsonl.gz")
PUSH_FRAME = os.path.join(RES_DIR, "WebcastPushFrame_reconstructed.bin")
PUSH_FRAME_PAYLOAD_TXT = os.path.join(RES_DIR, "WebcastPushFrame_reconstructed.payload.decoded.txt")

# Message types tiktok-live-connector 1.2.3 decodes, and the event each yields
# (WebcastControlMessage: streamEnd for actions 3/4 only).
V1_TYPES = {
    "WebcastChatMessage": "chat",
    "WebcastMemberMessage": "member",
    "WebcastGiftMessage": "gift",
    "WebcastRoomUserSeqMessage": "roomUser",
    "WebcastSocialMessage": "social",
    "WebcastLikeMessage": "like",
    "WebcastQuestionNewMessage": "questionNew",
    "WebcastLinkMicBattle": "linkMicBattle",
    "WebcastLinkMicArmies": "linkMicArmies",
    "WebcastLiveIntroMessage": "liveIntro",
    "WebcastEmoteChatMessage": "emote",
    "WebcastEnvelopeMessage": "envelope",
    "WebcastSubNotifyMessage": "subscribe",
    "WebcastControlMessage": "streamEnd",
}
V1_EVENTS = compare_events.V1_EVENTS
MAX_SHOWN = 10
VERBOSE = False


# --- small utilities -------------------------------------------------------

class Tally:
    """pass/fail counts of one part plus the first failure messages."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.messages = []
        self.skipped = None  # reason, when the part could not run

    def ok(self, label):
        self.passed += 1
        if VERBOSE:
            print("  ok   %s" % label)

    def fail(self, label, problems):
        self.failed += 1
        if len(self.messages) < MAX_SHOWN or VERBOSE:
            self.messages.append("FAIL %s: %s" % (label, "; ".join(problems)))
            print("  " + self.messages[-1])

    def record(self, label, problems):
        if problems:
            self.fail(label, problems)
        else:
            self.ok(label)


def run(cmd, timeout=120, env=None):
    """Run a command; return (rc, stdout, stderr) as text (rc None on timeout/exec error).

    stdout keeps invalid UTF-8 as lone surrogates (surrogateescape) so that
    parse_lines() can report it instead of silently repairing it.
    """
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, "", "timeout after %ds" % timeout
    except OSError as e:
        return None, "", str(e)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode("utf-8", "replace")


def parse_lines(stdout):
    """JSON objects of a JSON Lines text; returns (objects, problems)."""
    objs, problems = [], []
    for n, line in enumerate(stdout.splitlines(), 1):
        if not line.strip():
            continue
        if any("\udc80" <= ch <= "\udcff" for ch in line):
            problems.append("output line %d is not valid UTF-8" % n)
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            problems.append("output line %d is not JSON (%s): %.80s" % (n, e, line))
            continue
        if not isinstance(o, dict):
            problems.append("output line %d is not an object" % n)
            continue
        objs.append(o)
    return objs, problems


def short(v, limit=80):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit - 3] + "..."


def method_of_file(path):
    """WebcastSocialMessage_share.pb -> WebcastSocialMessage."""
    base = os.path.basename(path)
    if base.endswith(".pb"):
        base = base[:-3]
    return base.split("_", 1)[0]


def corpus_method(type_, payload):
    """Method to decode a corpus line with (see the module docstring)."""
    m = pbwire.common_method(payload) or type_
    return m if m.startswith("Webcast") else "Webcast" + m


def control_action(payload):
    """WebcastControlMessage.action (field 2), 0 if absent or unreadable."""
    try:
        v = pbwire.first_field(payload, 2, pbwire.WT_VARINT)
    except pbwire.WireError:
        return 0
    return v or 0


def read_corpus():
    """[(index, type, method, payload bytes)] of the event corpus."""
    out = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            o = json.loads(line)
            payload = base64.b64decode(o["b64"])
            out.append((i, o["type"], corpus_method(o["type"], payload), payload))
    return out


def capture_files():
    """Every *.pb of parts a/c, in a stable order."""
    files = []
    for d in (RES_DIR, SAMPLES_DIR):
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".pb")]
    return files


def rel(path):
    """Path relative to the captures folder, for messages."""
    return os.path.relpath(path, CAPS)


# --- expected values from the text-format oracles --------------------------

class Checks:
    """Collects problems of one message's key-field checks."""

    def __init__(self):
        self.problems = []

    def eq(self, label, actual, expected):
        if actual is _ABSENT:
            self.problems.append("%s missing (want %s)" % (label, short(expected)))
        elif type(actual) is not type(expected) or actual != expected:
            self.problems.append("%s = %s, want %s" % (label, short(actual), short(expected)))

    def user(self, prefix, data, u, id_field="id", nick_field="nickname", display_field="displayId"):
        """1.x user attributes (userId / uniqueId / nickname) against a v3 User-like Msg."""
        if not isinstance(data, dict):
            self.problems.append("%s is not an object" % prefix)
            return
        uid = u.get(id_field) if u is not None else None
        if uid is not None:
            self.eq(prefix + "userId", data.get("userId", _ABSENT), str(uid))
        for key, field in (("uniqueId", display_field), ("nickname", nick_field)):
            want = pbtext.text(u.get(field)) if u is not None else None
            got = data.get(key, _ABSENT)
            if want:
                self.eq(prefix + key, got, want)
            elif got not in (_ABSENT, None, ""):
                # 1.x drops an empty one; ours may drop it or print "".
                self.problems.append("%s%s = %s, want empty/absent" % (prefix, key, short(got)))


_ABSENT = object()


def first_event(events, name):
    for e in events:
        if e.get("event") == name:
            return e.get("data")
    return None


def v1_names(events):
    return [e.get("event") for e in events if e.get("event") in V1_EVENTS]


def check_key_fields(method, msg, events):
    """Key-field checks of one message's events against its oracle Msg."""
    c = Checks()
    ev_name = V1_TYPES.get(method)
    names = v1_names(events)
    if method == "WebcastControlMessage":
        action = msg.get("action", 0)
        if action in (3, 4):
            c.eq("1.x events", names, ["streamEnd"])
            d = first_event(events, "streamEnd")
            if isinstance(d, dict):
                c.eq("streamEnd.action", d.get("action", _ABSENT), action)
        else:
            c.eq("1.x events", names, [])
        cm = first_event(events, "controlMessage")
        if isinstance(cm, dict) and "action" in cm:
            c.eq("controlMessage.action", cm["action"], action)
        return c.problems
    if ev_name is None:
        c.eq("1.x events (non-1.x type)", names, [])
        return c.problems
    d = first_event(events, ev_name)
    if not isinstance(d, dict):
        c.problems.append("no %r event (1.x events: %s)" % (ev_name, names))
        return c.problems

    if method == "WebcastChatMessage":
        c.user("", d, msg.get("user"))
        content = pbtext.text(msg.get("content"))
        if content:
            c.eq("comment", d.get("comment", _ABSENT), content)
        n_emotes = len(msg.all("emotes"))
        if n_emotes:
            got = d.get("emotes", _ABSENT)
            c.eq("len(emotes)", len(got) if isinstance(got, list) else got, n_emotes)
    elif method == "WebcastMemberMessage":
        c.user("", d, msg.get("user"))
        if msg.has("action"):
            c.eq("actionId", d.get("actionId", _ABSENT), msg.get("action"))
    elif method == "WebcastGiftMessage":
        c.user("", d, msg.get("user"))
        c.eq("giftId", d.get("giftId", _ABSENT), msg.get("giftId", 0))
        c.eq("repeatCount", d.get("repeatCount", _ABSENT), msg.get("repeatCount", 0))
        c.eq("repeatEnd", d.get("repeatEnd", _ABSENT), bool(msg.get("repeatEnd", 0)))
    elif method == "WebcastLikeMessage":
        c.user("", d, msg.get("user"))
        c.eq("likeCount", d.get("likeCount", _ABSENT), msg.get("count", 0))
        c.eq("totalLikeCount", d.get("totalLikeCount", _ABSENT), msg.get("total", 0))
    elif method == "WebcastSocialMessage":
        c.user("", d, msg.get("user"))
        key = pbtext.text(msg.path("common.displayText.key")) or ""
        if key:
            c.eq("displayType", d.get("displayType", _ABSENT), key)
        want = ["social"] + (["follow"] if "follow" in key else []) + (["share"] if "share" in key else [])
        c.eq("1.x events", names, want)
    elif method == "WebcastRoomUserSeqMessage":
        c.eq("viewerCount", d.get("viewerCount", _ABSENT), msg.get("total", 0))
        ranks = msg.all("ranks")
        tv = d.get("topViewers", _ABSENT)
        if not isinstance(tv, list):
            c.problems.append("topViewers = %s, want a list of %d" % (short(tv), len(ranks)))
        else:
            c.eq("len(topViewers)", len(tv), len(ranks))
            for i, (r, v) in enumerate(zip(ranks, tv)):
                if not isinstance(v, dict):
                    c.problems.append("topViewers[%d] is not an object" % i)
                    continue
                c.eq("topViewers[%d].coinCount" % i, v.get("coinCount", _ABSENT), r.get("score", 0))
                if r.get("user") is not None:
                    c.user("topViewers[%d].user." % i, v.get("user"), r.get("user"))
    elif method == "WebcastQuestionNewMessage":
        q = msg.get("data") or pbtext.Msg()
        c.eq("questionText", d.get("questionText", _ABSENT), pbtext.text(q.get("content", b"")))
        c.user("", d, q.get("user"))
    elif method == "WebcastLinkMicBattle":
        # 1.x battleUsers (field 10) = anchorsInfo map entries {key, value{user{userId, nickName, displayId}}}
        users = [e.path("value.user") for e in msg.all("anchorsInfo") if e.path("value.user") is not None]
        bu = d.get("battleUsers", _ABSENT)
        if not isinstance(bu, list):
            c.problems.append("battleUsers = %s, want a list of %d" % (short(bu), len(users)))
        else:
            c.eq("len(battleUsers)", len(bu), len(users))
            for i, (u, b) in enumerate(zip(users, bu)):
                c.user("battleUsers[%d]." % i, b, u, id_field="userId", nick_field="nickName")
    elif method == "WebcastLinkMicArmies":
        # 1.x battleArmies (field 3) = armies map entries {key=host id, value{userArmies[], hostscore}}
        armies = msg.all("armies")
        ba = d.get("battleArmies", _ABSENT)
        if not isinstance(ba, list):
            c.problems.append("battleArmies = %s, want a list of %d" % (short(ba), len(armies)))
        else:
            c.eq("len(battleArmies)", len(ba), len(armies))
            for i, (a, b) in enumerate(zip(armies, ba)):
                if not isinstance(b, dict):
                    c.problems.append("battleArmies[%d] is not an object" % i)
                    continue
                c.eq("battleArmies[%d].hostUserId" % i, b.get("hostUserId", _ABSENT), str(a.get("key", 0)))
                c.eq("battleArmies[%d].points" % i, b.get("points", _ABSENT), a.path("value.hostscore", 0))
                parts = a.path("value").all("userArmies") if a.path("value") is not None else []
                got = b.get("participants", _ABSENT)
                if not isinstance(got, list):
                    c.problems.append("battleArmies[%d].participants not a list" % i)
                    continue
                c.eq("len(battleArmies[%d].participants)" % i, len(got), len(parts))
                for j, (p, g) in enumerate(zip(parts, got)):
                    c.user("battleArmies[%d].participants[%d]." % (i, j), g, p,
                           id_field="userId", display_field="-")
    elif method == "WebcastLiveIntroMessage":
        c.user("", d, msg.get("user"))
        if msg.has("id"):
            got = d.get("id", _ABSENT)
            c.eq("id", str(got) if isinstance(got, (int, str)) else got, str(msg.get("id")))
        content = pbtext.text(msg.get("content"))
        if content:
            c.eq("description", d.get("description", _ABSENT), content)
    elif method == "WebcastEmoteChatMessage":
        c.user("", d, msg.get("user"))
        ids = [pbtext.text(e.get("emoteId")) for e in msg.all("emoteList")]
        if ids and d.get("emoteId", _ABSENT) not in ids:
            c.problems.append("emoteId = %s, want one of %s" % (short(d.get("emoteId", None)), ids))
    elif method in ("WebcastEnvelopeMessage", "WebcastSubNotifyMessage"):
        pass  # presence of the event only (1.x maps envelope fields by v1 guesses)
    return c.problems


# --- tt-decode invocations -------------------------------------------------

def tt_available():
    return os.path.isfile(TT_DECODE) and os.access(TT_DECODE, os.X_OK)


def tt_has_batch():
    rc, out, err = run([TT_DECODE, "--help"], timeout=10)
    return "--messages-jsonl" in (out + err)


def decode_message(method, path):
    """tt-decode --message; returns (events, problems)."""
    rc, out, err = run([TT_DECODE, "--message", method, path], timeout=30)
    events, problems = parse_lines(out)
    if rc != 0:
        problems.insert(0, "exit status %s%s" % (rc, (": " + err.strip()[:200]) if err.strip() else ""))
    for e in events:
        if "event" not in e:
            problems.append("line without \"event\": %s" % short(e))
    errs = [e for e in events if e.get("event") == "error"]
    if errs:
        problems.append("error event: %s" % short(errs[0].get("data")))
    return events, problems


# --- part a ----------------------------------------------------------------

def part_a():
    t = Tally("a")
    print("part a: captured messages vs their .decoded.txt oracles")
    for path in capture_files():
        method = method_of_file(path)
        label = rel(path)
        events, problems = decode_message(method, path)
        txt = path[:-3] + ".decoded.txt"
        if not problems:
            if not os.path.isfile(txt):
                problems.append("no oracle %s" % os.path.basename(txt))
            else:
                try:
                    msg = pbtext.parse_file(txt)
                except pbtext.ParseError as e:
                    problems.append("oracle unreadable: %s" % e)
                else:
                    problems += check_key_fields(method, msg, events)
        t.record(label, problems)

    # The reconstructed real push frame: frame mode, one like event.
    if os.path.isfile(PUSH_FRAME):
        label = rel(PUSH_FRAME)
        rc, out, err = run([TT_DECODE, PUSH_FRAME], timeout=30)
        lines, problems = parse_lines(out)
        if rc != 0:
            problems.insert(0, "exit status %s" % rc)
        if len(lines) != 1:
            problems.append("%d output lines, want 1" % len(lines))
        elif "error" in lines[0]:
            problems.append("frame error %s" % short(lines[0]["error"]))
        else:
            line = lines[0]
            if line.get("frame") != os.path.basename(PUSH_FRAME):
                problems.append("frame = %s" % short(line.get("frame")))
            events = line.get("events") if isinstance(line.get("events"), list) else []
            with open(PUSH_FRAME_PAYLOAD_TXT, encoding="utf-8") as f:
                inner = f.read().split("---- inner WebcastLikeMessage ----", 1)[1]
            problems += check_key_fields("WebcastLikeMessage", pbtext.parse(inner), events)
            if v1_names(events) != ["like"]:
                problems.append("1.x events %s, want [\"like\"]" % v1_names(events))
        t.record(label, problems)
    return t


# --- part b ----------------------------------------------------------------

def expected_v1_events(method, payload):
    """Whether a message of this method must yield a 1.x event (True/False)."""
    if method == "WebcastControlMessage":
        return control_action(payload) in (3, 4)
    return method in V1_TYPES


def check_corpus_events(method, payload, events):
    problems = []
    errs = [e for e in events if isinstance(e, dict) and e.get("event") == "error"]
    if errs:
        problems.append("error event: %s" % short(errs[0].get("data")))
    names = v1_names(events)
    if expected_v1_events(method, payload):
        if not names:
            problems.append("no 1.x event")
    elif names:
        problems.append("unexpected 1.x events %s" % names)
    return problems


def part_b(no_batch=False):
    t = Tally("b")
    corpus = read_corpus()
    batch = not no_batch and tt_has_batch()
    print("part b: event corpus, %d messages (%s)"
          % (len(corpus), "--messages-jsonl batch" if batch else "one tt-decode run per message"))
    if batch:
        with tempfile.TemporaryDirectory(prefix="check_captures.b.") as tmp:
            inp = os.path.join(tmp, "messages.jsonl")
            with open(inp, "w", encoding="utf-8") as f:
                for _, _, method, payload in corpus:
                    f.write(json.dumps({"method": method, "b64": base64.b64encode(payload).decode()}) + "\n")
            rc, out, err = run([TT_DECODE, "--messages-jsonl", inp], timeout=300)
        lines, problems = parse_lines(out)
        if rc != 0 or problems:
            t.fail("tt-decode --messages-jsonl", ["exit status %s" % rc] + problems[:3]
                   + ([err.strip()[:200]] if err.strip() else []))
        by_index = {}
        for o in lines:
            if isinstance(o.get("index"), int):
                by_index.setdefault(o["index"], []).append(o)
        for n, (i, type_, method, payload) in enumerate(corpus):
            label = "corpus line %d (%s as %s)" % (i + 1, type_, method)
            got = by_index.get(n, [])
            if len(got) != 1:
                t.fail(label, ["%d output lines for index %d, want 1" % (len(got), n)])
                continue
            o = got[0]
            if "error" in o:
                t.fail(label, ["error %s" % short(o["error"])])
                continue
            events = o.get("events")
            if not isinstance(events, list):
                t.fail(label, ["no events array"])
                continue
            t.record(label, check_corpus_events(method, payload, events))
    else:
        with tempfile.TemporaryDirectory(prefix="check_captures.b.") as tmp:
            path = os.path.join(tmp, "message.pb")
            for i, type_, method, payload in corpus:
                label = "corpus line %d (%s as %s)" % (i + 1, type_, method)
                with open(path, "wb") as f:
                    f.write(payload)
                events, problems = decode_message(method, path)
                if not problems:
                    problems = check_corpus_events(method, payload, events)
                t.record(label, problems)
    return t


# --- part c ----------------------------------------------------------------

def oracle_dir():
    if os.environ.get("ORACLE_DIR"):
        return os.environ["ORACLE_DIR"]
    local = os.path.join(ROOT, "build", "oracle")
    if os.path.isdir(os.path.join(local, "v1", "node_modules", "tiktok-live-connector")):
        return local
    return "/tmp/oracle"


def build_frames(out_dir):
    """Write NNNNNN.bin push frames + sources.tsv; return [(frame, method, source)]."""
    items = []
    seen = set()
    for path in capture_files():
        method = method_of_file(path)
        if method in V1_TYPES:
            with open(path, "rb") as f:
                payload = f.read()
            items.append((method, payload, rel(path)))
    if os.path.isfile(CORPUS):
        for i, type_, method, payload in read_corpus():
            if method in V1_TYPES:
                items.append((method, payload, "corpus line %d" % (i + 1)))
    table = []
    n = 0
    for method, payload, source in items:
        if (method, payload) in seen:
            continue
        seen.add((method, payload))
        n += 1
        name = "%06d.bin" % n
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(pbwire.push_frame(method, payload, log_id=n))
        table.append((name, method, source))
    if os.path.isfile(PUSH_FRAME):
        n += 1
        name = "%06d.bin" % n
        shutil.copyfile(PUSH_FRAME, os.path.join(out_dir, name))
        table.append((name, "WebcastPushFrame (whole frame)", rel(PUSH_FRAME)))
    with open(os.path.join(out_dir, "sources.tsv"), "w", encoding="utf-8") as f:
        f.write("frame\tmethod\tsource\n")
        for row in table:
            f.write("\t".join(row) + "\n")
    return table


def run_oracle(frames_dir, expected_path):
    """node decode.js over frames_dir -> expected_path; returns None or a skip/fail reason."""
    node = shutil.which("node")
    decode_js = os.path.join(ROOT, "tests", "oracle", "decode.js")
    odir = oracle_dir()
    lib = os.path.join(odir, "v1", "node_modules", "tiktok-live-connector")
    if not node:
        return "skip", "node not found"
    if not os.path.isfile(decode_js):
        return "skip", "%s not found" % decode_js
    if not os.path.isdir(lib):
        return "skip", "tiktok-live-connector 1.x not found under %s" % odir
    env = dict(os.environ)
    for k in ("ORACLE_MODE", "ORACLE_LONG", "ORACLE_ALL_EVENTS", "ORACLE_PROTO"):
        env.pop(k, None)
    env["ORACLE_DIR"] = odir
    env["ORACLE_LIB"] = lib  # always 1.x, whatever the caller's environment says
    # decode.js ends with process.exit(), which can cut short what is still queued for a pipe;
    # writes to a file are synchronous in Node, so its stdout goes straight to the file.
    try:
        with open(expected_path, "w", encoding="utf-8") as f:
            p = subprocess.run([node, decode_js, frames_dir], stdout=f, stderr=subprocess.PIPE,
                               timeout=600, env=env)
    except (subprocess.TimeoutExpired, OSError) as e:
        return "fail", "oracle did not run: %s" % e
    rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
    if rc != 0:
        return "fail", "oracle exit status %s: %s" % (rc, err.strip()[-300:])
    if VERBOSE:
        print("  " + err.strip())
    return None


def summarize_oracle(expected, table):
    """What 1.x emitted for the captured frames: counts, errors, oddities."""
    src = {name: (method, source) for name, method, source in table}
    ev_count = Counter()
    errors = []
    silent = []
    for line in expected:
        names = [e.get("event") for e in line.get("events", [])]
        ev_count.update(names)
        method, source = src.get(line.get("frame"), ("?", "?"))
        for e in line.get("events", []):
            if e.get("event") == "error":
                errors.append((line.get("frame"), method, source, (e.get("data") or {}).get("exception")))
        if not names and not (method == "WebcastControlMessage"):
            silent.append((line.get("frame"), method, source))
    print("  1.x events: %s" % ", ".join("%s %d" % kv for kv in sorted(ev_count.items())))
    by_exc = Counter((m, x) for _, m, _, x in errors)
    for (m, x), k in sorted(by_exc.items(), key=str):
        first = next(e for e in errors if e[1] == m and e[3] == x)
        print("  1.x error x%d: %s: %r (first: %s, %s)" % (k, m, x, first[0], first[2]))
    for frame, method, source in silent[:MAX_SHOWN]:
        print("  1.x emitted nothing: %s %s (%s)" % (frame, method, source))
    return ev_count, errors


def part_c(keep_dir=None, oracle_only=False):
    t = Tally("c")
    print("part c: captured 1.x-type messages in push frames, real library 1.2.3 vs tt-decode")
    tmp = None
    if keep_dir:
        work = keep_dir
        if os.path.isdir(work):
            for f in os.listdir(work):
                if f.endswith(".bin"):
                    os.unlink(os.path.join(work, f))
        os.makedirs(work, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="check_captures.c.")
        work = tmp
    try:
        table = build_frames(work)
        print("  %d frames in %s (sources.tsv lists their origin)" % (len(table), work if keep_dir else "a temp dir"))
        expected_path = os.path.join(work, "expected.jsonl")
        why = run_oracle(work, expected_path)
        if why is not None:
            kind, reason = why
            if kind == "skip":
                t.skipped = reason
                print("  SKIPPED: %s" % reason)
            else:
                t.fail("oracle", [reason])
            return t
        expected = compare_events.read_jsonl(expected_path)
        summarize_oracle(expected, table)
        if oracle_only:
            return t
        rc, out, err = run([TT_DECODE, work], timeout=600)
        actual_path = os.path.join(work, "actual.jsonl")
        with open(actual_path, "w", encoding="utf-8") as f:
            f.write(out)
        actual, problems = parse_lines(out)
        if rc != 0 or problems:
            t.fail("tt-decode %s" % ("DIR" if not keep_dir else work),
                   ["exit status %s" % rc] + problems[:3] + ([err.strip()[:200]] if err.strip() else []))
        res = compare_events.compare_frames(expected, actual)
        compare_events.report(res, out=_Indent(sys.stdout))
        src = {name: (method, source) for name, method, source in table}
        for frame in res.failed_frames[:MAX_SHOWN]:
            method, source = src.get(frame, ("?", "?"))
            print("  failed frame %s = %s (%s)" % (frame, method, source))
        t.passed += res.passed
        t.failed += res.failed
        return t
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


class _Indent:
    """File-like wrapper that indents every line (for the comparator's report)."""

    def __init__(self, f):
        self.f = f

    def write(self, s):
        self.f.write("".join("  " + l if l.strip() else l for l in s.splitlines(True)))

    def flush(self):
        self.f.flush()


# --- main ------------------------------------------------------------------

def main(argv):
    global VERBOSE
    parts = "abc"
    keep = None
    oracle_only = False
    no_batch = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--parts" and args:
            parts = args.pop(0)
        elif a == "--keep" and args:
            keep = os.path.abspath(args.pop(0))
        elif a == "--oracle-only":
            oracle_only = True
        elif a == "--no-batch":
            no_batch = True
        elif a == "-v":
            VERBOSE = True
        else:
            print(__doc__.split("Usage:")[1].split("\n\n")[0].strip(), file=sys.stderr)
            return 2
    if not os.path.isdir(CAPS):
        print("SKIPPED: ../shared/captures not found")
        print("0 passed, 0 failed")
        return 0
    if oracle_only:
        t = part_c(keep, oracle_only=True)
        if t.failed:
            print("0 passed, 1 failed")
            return 1
        print("oracle only: nothing compared")
        print("0 passed, 0 failed")
        return 0
    if not tt_available():
        shown = TT_DECODE if os.environ.get("TT_DECODE") else "build/tt-decode"
        print("FAIL: %s not found or not executable (build it first)" % shown)
        print("0 passed, 1 failed")
        return 1
    tallies = []
    if "a" in parts:
        tallies.append(part_a())
    if "b" in parts:
        tallies.append(part_b(no_batch))
    if "c" in parts:
        tallies.append(part_c(keep))
    for t in tallies:
        if t.skipped:
            print("part %s: SKIPPED (%s)" % (t.name, t.skipped))
        else:
            if t.failed > len(t.messages) and t.name != "c":
                print("part %s: %d failure(s) not shown (-v shows all)" % (t.name, t.failed - len(t.messages)))
            print("part %s: %d passed, %d failed" % (t.name, t.passed, t.failed))
    passed = sum(t.passed for t in tallies)
    failed = sum(t.failed for t in tallies)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
