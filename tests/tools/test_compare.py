#!/usr/bin/env python3
"""Self-test for compare_events.py: tiny hand-made JSONL cases.

Each case writes an expected and an actual JSONL file to a temp directory,
runs compare_events.py on them as a subprocess (as a test script would) and
checks the exit status, the `N passed, N failed` last line and, where it
matters, which deviation rule was counted.  Ends with `N passed, N failed`
(cases); exit 1 if any case fails.

    python3 tests/tools/test_compare.py [-v]

SPDX-License-Identifier: MIT
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "compare_events.py")

TWO53 = 2 ** 53


def frame(name, *events, **extra):
    line = {"frame": name, "events": list(events)}
    line.update(extra)
    return line


def ev(name, **data):
    return {"event": name, "data": data}


def user(uid="1", **more):
    u = {"userId": uid, "uniqueId": "u%s" % uid, "nickname": "N\u00e4me \U0001F600"}
    u.update(more)
    return u


# Every case: (name, expected lines, actual lines, want_exit, want_counts "P passed, F failed",
#              rule that must have been counted or None, options for compare_events.py)
CASES = []


def case(name, expected, actual, ok, counts=None, rule=None, events=False, args=()):
    if counts is None:
        n = len(expected)
        counts = "%d passed, 0 failed" % n if ok else None
    opts = (["--events"] if events else []) + list(args)
    CASES.append((name, expected, actual, 0 if ok else 1, counts, rule, opts))


def multiset(name, expected, actual, ok, counts, args=()):
    """--multiset mode: counts are events, not frames."""
    case(name, expected, actual, ok, counts, args=["--multiset"] + list(args))


chat = ev("chat", comment="hi", **user("7"))
gift = ev("gift", giftId=5655, repeatCount=1, repeatEnd=False, gift={"gift_id": 5655, "repeat_end": 0})
like = ev("like", likeCount=15, totalLikeCount=90961, **user("2"))

# --- plain equality / structure ---
case("equal", [frame("000001.bin", chat, gift)], [frame("000001.bin", chat, gift)], True)
case("empty frame (heartbeat)", [frame("000001.bin")], [frame("000001.bin")], True)
case("key order differs",
     [frame("a.bin", ev("chat", userId="1", comment="x", nested={"a": 1, "b": 2}))],
     [frame("a.bin", {"data": {"nested": {"b": 2, "a": 1}, "comment": "x", "userId": "1"}, "event": "chat"})],
     True)
case("missing top-level key -> fail",
     [frame("a.bin", ev("chat", userId="1", comment="x"))],
     [frame("a.bin", ev("chat", userId="1"))], False, "0 passed, 1 failed")
case("missing nested key -> fail",
     [frame("a.bin", ev("member", followInfo={"followerCount": 3, "followStatus": 1}))],
     [frame("a.bin", ev("member", followInfo={"followerCount": 3}))], False, "0 passed, 1 failed")
case("extra keys in ours at every level -> pass",
     [frame("a.bin", ev("chat", userDetails={"bio": "b", "urls": [{"u": 1}]}))],
     [frame("a.bin", ev("chat", extra=1, userDetails={"bio": "b", "more": [], "urls": [{"u": 1, "v": 2}]}))],
     True)
case("null equals null", [frame("a.bin", ev("chat", profilePictureUrl=None))],
     [frame("a.bin", ev("chat", profilePictureUrl=None))], True)
case("null vs string -> fail", [frame("a.bin", ev("chat", profilePictureUrl=None))],
     [frame("a.bin", ev("chat", profilePictureUrl=""))], False, "0 passed, 1 failed")
case("array length differs -> fail", [frame("a.bin", ev("chat", userBadges=[1, 2]))],
     [frame("a.bin", ev("chat", userBadges=[1, 2, 3]))], False, "0 passed, 1 failed")
case("array order differs -> fail", [frame("a.bin", ev("chat", userSceneTypes=[1, 8]))],
     [frame("a.bin", ev("chat", userSceneTypes=[8, 1]))], False, "0 passed, 1 failed")
case("string id vs number -> fail", [frame("a.bin", ev("chat", userId="123"))],
     [frame("a.bin", ev("chat", userId=123))], False, "0 passed, 1 failed")
case("bool vs int -> fail", [frame("a.bin", ev("gift", repeatEnd=True))],
     [frame("a.bin", ev("gift", repeatEnd=1))], False, "0 passed, 1 failed")
case("unicode string equal", [frame("a.bin", ev("chat", nickname="\u202eabc \u05e9\u05dc\u05d5\u05dd \U0001F468\u200d\U0001F469"))],
     [frame("a.bin", ev("chat", nickname="\u202eabc \u05e9\u05dc\u05d5\u05dd \U0001F468\u200d\U0001F469"))], True)
case("unicode normalisation differs -> fail", [frame("a.bin", ev("chat", nickname="e\u0301"))],
     [frame("a.bin", ev("chat", nickname="\u00e9"))], False, "0 passed, 1 failed")
case("float equal", [frame("a.bin", ev("roomUser", x=1.5))], [frame("a.bin", ev("roomUser", x=1.5))], True)

# --- numbers: precision rule (i) ---
case("2^53+1 vs 9007199254740992 -> pass (precision)",
     [frame("a.bin", ev("roomUser", coinCount=9007199254740992))],
     [frame("a.bin", ev("roomUser", coinCount=TWO53 + 1))], True, rule="precision")
case("2^63-1 vs 9223372036854775808 (1.x double) -> pass (precision)",
     [frame("a.bin", ev("gift", timestamp=9223372036854775808))],
     [frame("a.bin", ev("gift", timestamp=2 ** 63 - 1))], True, rule="precision")
case("2^53+1 vs 9.007199254740992e15 written as float -> pass (precision)",
     [frame("a.bin", ev("roomUser", coinCount=9.007199254740992e15))],
     [frame("a.bin", ev("roomUser", coinCount=TWO53 + 1))], True, rule="precision")
case("9007199254740993 vs 9007199254740994 (floats differ) -> fail",
     [frame("a.bin", ev("roomUser", coinCount=9007199254740994))],
     [frame("a.bin", ev("roomUser", coinCount=9007199254740993))], False, "0 passed, 1 failed")
case("small ints differ -> fail (no rule for |ours| <= 2^53)",
     [frame("a.bin", ev("like", likeCount=6))], [frame("a.bin", ev("like", likeCount=5))],
     False, "0 passed, 1 failed")
case("ours 2^53 exactly vs 2^53 -> pass without rule",
     [frame("a.bin", ev("roomUser", coinCount=TWO53))], [frame("a.bin", ev("roomUser", coinCount=TWO53))], True)
case("precision needs ours to be the big one: ours 2^53 vs 1.x 2^53+1 -> fail",
     [frame("a.bin", ev("roomUser", coinCount=TWO53 + 1))], [frame("a.bin", ev("roomUser", coinCount=TWO53))],
     False, "0 passed, 1 failed")

# --- numbers: int32 wrap rule (ii) ---
case("3000000000 vs -1294967296 -> pass (int32-wrap)",
     [frame("a.bin", ev("like", totalLikeCount=-1294967296))],
     [frame("a.bin", ev("like", totalLikeCount=3000000000))], True, rule="int32-wrap")
case("4294967296 vs 0 -> pass (int32-wrap)",
     [frame("a.bin", ev("like", totalLikeCount=0))], [frame("a.bin", ev("like", totalLikeCount=2 ** 32))],
     True, rule="int32-wrap")
case("int64 beyond 2^53 whose int32 wrap is 1.x's number -> pass (int32-wrap)",
     [frame("a.bin", ev("like", totalLikeCount=5))], [frame("a.bin", ev("like", totalLikeCount=2 ** 60 + 5))],
     True, rule="int32-wrap")
case("3000000000 vs 3000000000 -> pass without rule",
     [frame("a.bin", ev("like", totalLikeCount=3000000000))],
     [frame("a.bin", ev("like", totalLikeCount=3000000000))], True)
case("wrap not matching: 3000000001 vs -1294967296 -> fail",
     [frame("a.bin", ev("like", totalLikeCount=-1294967296))],
     [frame("a.bin", ev("like", totalLikeCount=3000000001))], False, "0 passed, 1 failed")
case("ours inside int32, 1.x outside: -1294967296 vs 3000000000 -> fail",
     [frame("a.bin", ev("like", totalLikeCount=3000000000))],
     [frame("a.bin", ev("like", totalLikeCount=-1294967296))], False, "0 passed, 1 failed")

# --- event sequences ---
case("wrong order -> fail", [frame("a.bin", chat, gift)], [frame("a.bin", gift, chat)], False, "0 passed, 1 failed")
case("missing event -> fail", [frame("a.bin", chat, gift)], [frame("a.bin", chat)], False, "0 passed, 1 failed")
case("extra 1.x event -> fail", [frame("a.bin", chat)], [frame("a.bin", chat, like)], False, "0 passed, 1 failed")
case("extra non-1.x events ignored -> pass",
     [frame("a.bin", chat, gift)],
     [frame("a.bin", ev("controlMessage", action=1), chat, ev("roomPin"), gift, ev("rawData"))], True)
case("social + follow pair", [frame("a.bin", ev("social", displayType="pm_main_follow"), ev("follow", displayType="pm_main_follow"))],
     [frame("a.bin", ev("social", displayType="pm_main_follow"), ev("follow", displayType="pm_main_follow"))], True)

# --- frames ---
case("two frames, one bad -> 1 passed, 1 failed",
     [frame("000001.bin", chat), frame("000002.bin", like)],
     [frame("000001.bin", chat), frame("000002.bin", ev("like", likeCount=16))], False, "1 passed, 1 failed")
case("frames matched by name, not line order",
     [frame("000001.bin", chat), frame("000002.bin", like)],
     [frame("000002.bin", like), frame("000001.bin", chat)], True)
case("frame missing from actual -> fail",
     [frame("000001.bin", chat), frame("000002.bin", like)], [frame("000001.bin", chat)],
     False, "1 passed, 1 failed")
case("frame only in actual -> fail",
     [frame("000001.bin", chat)], [frame("000001.bin", chat), frame("000009.bin")],
     False, "1 passed, 1 failed")

# --- errors (rule iii) ---
v1err = ev("error", info="Websocket message decoding failed", exception="Cannot read properties of undefined")
case("frame-level error in ours, none in 1.x -> fail",
     [frame("a.bin", chat)], [frame("a.bin", chat, error="truncated varint")], False, "0 passed, 1 failed")
case("1.x threw, ours has frame error -> pass (expected-error)",
     [frame("a.bin", chat, v1err)], [frame("a.bin", chat, error="bad wire type")], True, rule="expected-error")
case("1.x threw, ours decodes the rest -> pass (expected-error)",
     [frame("a.bin", chat, v1err)], [frame("a.bin", chat, gift, like)], True, rule="expected-error")
case("1.x threw, ours differs before the failure -> fail",
     [frame("a.bin", chat, v1err)], [frame("a.bin", gift, chat)], False, "0 passed, 1 failed")
case("error event of ours, none in 1.x -> fail",
     [frame("a.bin", chat)], [frame("a.bin", chat, ev("error", info="x"))], False, "0 passed, 1 failed")

# --- --events mode ---
case("--events: equal stream", [frame("1.bin", chat, gift), frame("2.bin"), frame("3.bin", like)],
     [chat, ev("controlMessage", action=2), gift, like], True, "3 passed, 0 failed", events=True)
case("--events: missing last event -> fail", [frame("1.bin", chat, gift), frame("2.bin", like)],
     [chat, gift], False, "1 passed, 1 failed", events=True)
case("--events: extra trailing event -> fail", [frame("1.bin", chat)],
     [chat, like], False, "1 passed, 1 failed", events=True)
case("--events: 1.x threw, ours goes on, re-sync on next frame -> pass",
     [frame("1.bin", chat, v1err), frame("2.bin", like)],
     [chat, gift, ev("gift", giftId=1), like], True, "2 passed, 0 failed", rule="expected-error", events=True)


# --- --multiset mode (the real library as a live client against what it decodes itself) ---
gz_chat = ev("chat", comment="from a gzip frame", **user("3"))
err_decode = ev("error", info="Websocket message decoding failed", exception="index out of range")
multiset("--multiset: reordered across frames -> pass",
         [frame("1.bin", chat, gift), frame("2.bin", gz_chat)],
         [gz_chat, chat, gift], True, "3 passed, 0 failed")
multiset("--multiset: client control events ignored -> pass",
         [frame("1.bin", chat)],
         [{"event": "websocketConnected"}, ev("connected", roomId="1"), ev("enterRoom"), chat,
          ev("error", info="Websocket Error", exception="x"), ev("disconnected", code=1000),
          ev("$timeout", ms=1)], True, "1 passed, 0 failed")
multiset("--multiset: missing event -> fail",
         [frame("1.bin", chat, gift, like)], [like, chat], False, "2 passed, 1 failed")
multiset("--multiset: unexpected event -> fail",
         [frame("1.bin", chat)], [chat, like], False, "1 passed, 1 failed")
multiset("--multiset: a duplicate counts -> fail",
         [frame("1.bin", chat, chat)], [chat], False, "1 passed, 1 failed")
multiset("--multiset: key order aside, values exact (no deviation rules) -> fail",
         [frame("1.bin", ev("roomUser", viewerCount=TWO53 + 1))],
         [{"data": {"viewerCount": float(TWO53 + 1)}, "event": "roomUser"}], False,
         "0 passed, 2 failed")
multiset("--multiset: events of any name count (2.x names too)",
         [frame("1.bin", ev("roomPin", action=1), ev("pollMessage", pollId="9"))],
         [ev("pollMessage", pollId="9"), ev("roomPin", action=1)], True, "2 passed, 0 failed")
multiset("--multiset: decoding errors must match like events",
         [frame("1.bin", chat), frame("2.bin", err_decode)], [err_decode, chat], True,
         "2 passed, 0 failed")
multiset("--multiset: per-frame actual lines are accepted",
         [frame("1.bin", chat), frame("2.bin", like)], [frame("9.bin", like, chat)], True,
         "2 passed, 0 failed")
multiset("--multiset: --ignore replaces the ignored names",
         [frame("1.bin", chat)], [chat, ev("connected"), like], True, "1 passed, 0 failed",
         args=["--ignore", "connected,like"])


def run_case(tmp, c, verbose):
    name, expected, actual, want_rc, want_counts, rule, opts = c
    e_path = os.path.join(tmp, "expected.jsonl")
    a_path = os.path.join(tmp, "actual.jsonl")
    for path, lines in ((e_path, expected), (a_path, actual)):
        with open(path, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
    cmd = [sys.executable, COMPARE] + opts + [e_path, a_path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    lines = p.stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    problems = []
    if p.returncode != want_rc:
        problems.append("exit %d, want %d" % (p.returncode, want_rc))
    if want_counts and last != want_counts:
        problems.append("last line %r, want %r" % (last, want_counts))
    if rule:
        counted = [l for l in lines if l.startswith("accepted %s " % rule) or l.startswith("accepted %s\t" % rule)]
        if not counted or counted[0].split()[2] == "0":
            problems.append("rule %s not counted" % rule)
    if not want_rc and not rule:
        # A plain pass must not lean on any deviation rule.
        for l in lines:
            if l.startswith("accepted ") and l.split()[2] != "0":
                problems.append("unexpected deviation: %s" % l)
    if want_rc and not any(l.startswith(("DIFF ", "MISSING ", "UNEXPECTED ")) for l in lines):
        problems.append("failure without a DIFF line")
    if verbose or problems:
        print("%s %s" % ("FAIL" if problems else "ok  ", name))
        for pr in problems:
            print("     " + pr)
        if verbose or problems:
            for l in lines:
                print("     | " + l)
            if p.stderr:
                print("     stderr: " + p.stderr.strip())
    return not problems


def main(argv):
    verbose = "-v" in argv
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="test_compare.") as tmp:
        for c in CASES:
            if run_case(tmp, c, verbose):
                passed += 1
            else:
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
