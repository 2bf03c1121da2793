#!/usr/bin/env python3
"""Compare our decoder's events with tiktok-live-connector 1.x's (the oracle).

Usage:
    compare_events.py EXPECTED.jsonl ACTUAL.jsonl            per-frame lines
    compare_events.py --events EXPECTED.jsonl ACTUAL.jsonl   ACTUAL = event lines
    compare_events.py --multiset EXPECTED.jsonl ACTUAL.jsonl [--ignore a,b,...]

EXPECTED is an oracle file (gen.js / decode.js): one line per frame,
    {"frame":"000001.bin","events":[{"event":"chat","data":{...}}, ...]}
ACTUAL is, by default, the same layout (`build/tt-decode DIR`), matched by
"frame"; a frame of ours may also carry a frame-level "error":"<message>".
With --events, ACTUAL holds one {"event":..., "data":...} per line
(`tt-decode --message`, `tt-connect`) and is compared as one sequence against
the concatenation of EXPECTED's frames, in order.

What must match, per frame:
  * Only events with a 1.x name count (V1_EVENTS); other names of ours are
    ignored.  Same count, same names, same order.
  * For each event pair, every key 1.x emits must be present in ours with an
    equal value, recursively: objects compare key-order-insensitively and may
    carry extra keys in ours at every level; arrays must have the same length
    and compare element-wise; strings, booleans and null compare exactly.
  * Numbers compare exactly (Python ints are exact; json.loads keeps all
    digits), except for these deviations of 1.x, each accepted only when its
    own condition holds, and counted:
      precision  1.x number vs our integer with |ours| > 2^53 and
                 float(ours) == float(expected)  (1.x parseInt lost digits);
      int32-wrap our integer outside the int32 range whose two's-complement
                 32-bit wrap, ((ours + 2^31) mod 2^32) - 2^31, equals the 1.x
                 number (1.x int32 fields); this includes an int64 of ours
                 beyond 2^53 whose int32 wrap is what 1.x printed.
  * expected-error: 1.x emits {"event":"error"} when its decoding throws; the
    rest of that frame is lost.  Then the events 1.x emitted before the error
    must match the first events of ours; ours may go on (more events, its own
    "error" event or a frame-level "error").  Without an expected error event,
    a frame-level "error" of ours is a failure.

--multiset compares the real library with itself: EXPECTED is what it decodes
from frames (gen.js / decode.js, per-frame lines), ACTUAL what the same library
emitted as a live client (client.js, one event per line; per-frame lines are
accepted too).  The live client reorders events across frames (it awaits
zlib only for gzip payloads), so both sides are flattened into multisets of
events and must be equal: every event of one side matched by an identical one
(JSON-equal, key order aside; no deviation rules) of the other.  The client's
own control events are left out: connected, websocketConnected, disconnected,
enterRoom, $timeout, $connectFailed, and errors with info "Websocket Error"
(--ignore NAMES replaces that list of names).  Output: up to 10 lines
`MISSING xN <event>` (expected, not received) and `UNEXPECTED xN <event>`,
then `N passed, N failed` counting events: matched ones pass, each missing or
unexpected one fails.

Output: the first 10 differences (frame, event index, JSON path, expected,
actual), the number of deviations accepted per rule, then exactly
`N passed, N failed` (frames) as the last line.  Exit status 1 on any failure,
2 on usage / input errors.

SPDX-License-Identifier: MIT
"""

import json
import sys
from collections import Counter

# Event names tiktok-live-connector 1.2.3 emits while decoding (docs/events.md).
V1_EVENTS = frozenset([
    "chat", "member", "gift", "roomUser", "like", "social", "follow", "share",
    "questionNew", "linkMicBattle", "linkMicArmies", "liveIntro", "emote",
    "envelope", "subscribe", "streamEnd", "error",
])

TWO53 = 1 << 53
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
MAX_SHOWN = 10

RULES = ("precision", "int32-wrap", "expected-error")


def wrap_int32(n):
    """Two's-complement 32-bit wrap of an int."""
    return ((n + (1 << 31)) % (1 << 32)) - (1 << 31)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fmt(v, limit=120):
    """Short JSON rendering of a value for messages."""
    s = json.dumps(v, ensure_ascii=False, sort_keys=True) if v is not _ABSENT else "<absent>"
    return s if len(s) <= limit else s[:limit - 3] + "..."


_ABSENT = object()


def path_join(path, key):
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    if key.isidentifier():
        return "%s.%s" % (path, key)
    return "%s[%s]" % (path, json.dumps(key, ensure_ascii=False))


class Result:
    """Outcome of one comparison run."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failed_frames = []        # frame names, in order
        self.diffs = []                # (frame, event_index, path, expected, actual, note)
        self.n_diffs = 0
        self.accepted = Counter()      # rule -> count
        self.accepted_examples = {}    # rule -> first (frame, index, path, expected, actual)
        self.notes = []                # informational lines (e.g. 1.x errors accepted)

    def add_diff(self, frame, index, path, expected, actual, note=""):
        self.n_diffs += 1
        if len(self.diffs) < MAX_SHOWN:
            self.diffs.append((frame, index, path, expected, actual, note))

    def accept(self, rule, frame, index, path, expected, actual):
        self.accepted[rule] += 1
        self.accepted_examples.setdefault(rule, (frame, index, path, expected, actual))

    def frame_done(self, frame, ok):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failed_frames.append(frame)


class Ctx:
    """Where we are: for diff messages and rule accounting."""

    __slots__ = ("res", "frame", "index", "ok")

    def __init__(self, res, frame, index):
        self.res = res
        self.frame = frame
        self.index = index
        self.ok = True

    def diff(self, path, expected, actual, note=""):
        self.ok = False
        self.res.add_diff(self.frame, self.index, path, expected, actual, note)

    def accept(self, rule, path, expected, actual):
        self.res.accept(rule, self.frame, self.index, path, expected, actual)


def compare_numbers(ctx, path, exp, act):
    """Exact numeric equality, else the two documented 1.x deviations."""
    if exp == act:  # int/float comparison in Python is exact
        return
    if isinstance(act, int):
        # (i) precision: 1.x went through a double and lost digits.
        if abs(act) > TWO53 and float(act) == float(exp):
            ctx.accept("precision", path, exp, act)
            return
        # (ii) int32 wrap (any int64 of ours, also beyond 2^53).
        if (act < INT32_MIN or act > INT32_MAX) and wrap_int32(act) == exp:
            ctx.accept("int32-wrap", path, exp, act)
            return
    ctx.diff(path, exp, act)


def compare_values(ctx, path, exp, act):
    """Recursive 'ours contains 1.x' comparison; records diffs in ctx."""
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            ctx.diff(path, exp, act, "type")
            return
        for k, v in exp.items():
            if k not in act:
                ctx.diff(path_join(path, k), v, _ABSENT, "missing key")
            else:
                compare_values(ctx, path_join(path, k), v, act[k])
        return
    if isinstance(exp, list):
        if not isinstance(act, list):
            ctx.diff(path, exp, act, "type")
            return
        if len(exp) != len(act):
            ctx.diff(path, exp, act, "length %d vs %d" % (len(exp), len(act)))
            return
        for i, (e, a) in enumerate(zip(exp, act)):
            compare_values(ctx, path_join(path, i), e, a)
        return
    if is_number(exp):
        if not is_number(act):
            ctx.diff(path, exp, act, "type")
            return
        compare_numbers(ctx, path, exp, act)
        return
    # str, bool, None: exact, and of the same type (True != 1 here).
    if type(exp) is not type(act) or exp != act:
        ctx.diff(path, exp, act)


def compare_event(ctx, exp_ev, act_ev):
    """One event pair with equal names: compare everything but the name."""
    for k, v in exp_ev.items():
        if k == "event":
            continue
        if k not in act_ev:
            ctx.diff("$." + k, v, _ABSENT, "missing key")
        else:
            compare_values(ctx, "$." + k, v, act_ev[k])


def v1_only(events):
    """Our events restricted to 1.x names (order kept)."""
    return [e for e in events if isinstance(e, dict) and e.get("event") in V1_EVENTS]


def compare_frame(res, frame, exp_events, act_line):
    """Compare one frame; act_line is our parsed line (or None if missing)."""
    if act_line is None:
        ctx = Ctx(res, frame, None)
        ctx.diff("$", "frame", _ABSENT, "frame missing from actual")
        res.frame_done(frame, False)
        return
    ctx = Ctx(res, frame, None)
    act_events = act_line.get("events")
    if not isinstance(act_events, list):
        ctx.diff("$.events", "list", act_events, "no events array")
        res.frame_done(frame, False)
        return
    ours = v1_only(act_events)

    # Does 1.x report a decoding failure in this frame?  Its events stop there.
    err_at = next((i for i, e in enumerate(exp_events) if e.get("event") == "error"), None)
    if err_at is not None:
        exp_cmp = exp_events[:err_at]
        ours_cmp = [e for e in ours if e.get("event") != "error"][:len(exp_cmp)]
        exc = (exp_events[err_at].get("data") or {}).get("exception")
        extra = len([e for e in ours if e.get("event") != "error"]) - len(exp_cmp)
        res.notes.append("%s: 1.x threw %r after %d event(s); ours: %d more event(s)%s"
                         % (frame, exc, err_at, max(extra, 0),
                            ", frame error %r" % act_line["error"] if "error" in act_line else ""))
        ctx.accept("expected-error", "$", exc, act_line.get("error", _ABSENT))
    else:
        exp_cmp = exp_events
        ours_cmp = ours
        if "error" in act_line:
            ctx.diff("$.error", _ABSENT, act_line["error"], "frame-level error")

    compare_sequences(ctx, exp_cmp, ours_cmp)
    res.frame_done(frame, ctx.ok)


def compare_sequences(ctx, exp_events, act_events):
    """Names pairwise up to the first mismatch, data of equal-named pairs, then counts."""
    n = min(len(exp_events), len(act_events))
    for i in range(n):
        en = exp_events[i].get("event")
        an = act_events[i].get("event")
        ctx.index = i
        if en != an:
            ctx.diff("$.event", en, an, "event name/order")
            ctx.index = None
            return
        compare_event(ctx, exp_events[i], act_events[i])
    ctx.index = None
    if len(exp_events) != len(act_events):
        ctx.diff("$.events", [e.get("event") for e in exp_events],
                 [e.get("event") for e in act_events],
                 "event count %d vs %d" % (len(exp_events), len(act_events)))


# --- input -----------------------------------------------------------------

class InputError(Exception):
    pass


def read_jsonl(path):
    """Parsed objects of a JSON Lines file (blank lines skipped)."""
    out = []
    try:
        with open(path, "r", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    raise InputError("%s:%d: invalid JSON: %s" % (path, n, e))
                if not isinstance(obj, dict):
                    raise InputError("%s:%d: not a JSON object" % (path, n))
                out.append(obj)
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("%s: %s" % (path, e))
    return out


def compare_frames(expected, actual):
    """Per-frame mode over parsed lines; returns a Result."""
    res = Result()
    act_by_frame = {}
    dup = []
    for line in actual:
        name = line.get("frame")
        if name in act_by_frame:
            dup.append(name)
        act_by_frame[name] = line
    exp_names = set()
    for line in expected:
        frame = line.get("frame")
        exp_names.add(frame)
        compare_frame(res, frame, line.get("events") or [], act_by_frame.get(frame))
    for name in dup:
        Ctx(res, name, None).diff("$", _ABSENT, "frame", "duplicate frame in actual")
        res.failed += 1
        res.failed_frames.append(name)
    for line in actual:
        name = line.get("frame")
        if name not in exp_names:
            Ctx(res, name, None).diff("$", _ABSENT, "frame", "frame not in expected")
            res.frame_done(name, False)
    return res


def compare_stream(expected, actual):
    """--events mode: our event sequence vs the concatenation of expected frames.

    Frames are the unit of pass/fail: a frame passes when its events match ours
    at the same position.  After a frame where 1.x threw, ours is re-synchronised
    on the next frame's first event (ours may emit more than 1.x did there).
    """
    res = Result()
    ours = v1_only(actual)
    pos = 0
    for fi, line in enumerate(expected):
        frame = line.get("frame")
        exp_events = line.get("events") or []
        ctx = Ctx(res, frame, None)
        err_at = next((i for i, e in enumerate(exp_events) if e.get("event") == "error"), None)
        if err_at is None:
            chunk = ours[pos:pos + len(exp_events)]
            compare_sequences(ctx, exp_events, chunk)
            pos += len(chunk)
        else:
            exp_cmp = exp_events[:err_at]
            chunk = ours[pos:pos + len(exp_cmp)]
            compare_sequences(ctx, exp_cmp, chunk)
            pos += len(chunk)
            # Skip what ours emitted beyond 1.x's failure: up to the next
            # expected event (first event of a later non-empty frame).
            nxt = next((l["events"][0] for l in expected[fi + 1:] if l.get("events")), None)
            skipped = 0
            while pos < len(ours) and not _same_event(nxt, ours[pos]):
                pos += 1
                skipped += 1
            exc = (exp_events[err_at].get("data") or {}).get("exception")
            res.notes.append("%s: 1.x threw %r after %d event(s); ours: %d more event(s)"
                             % (frame, exc, err_at, skipped))
            ctx.accept("expected-error", "$", exc, _ABSENT)
        res.frame_done(frame, ctx.ok)
    if pos < len(ours):
        ctx = Ctx(res, "<after last frame>", None)
        ctx.diff("$.events", _ABSENT, [e.get("event") for e in ours[pos:pos + 20]],
                 "%d extra event(s) in actual" % (len(ours) - pos))
        res.frame_done("<after last frame>", False)
    return res


def _same_event(exp_ev, act_ev):
    """Would exp_ev pass against act_ev? (used for re-synchronisation)."""
    if exp_ev is None or exp_ev.get("event") != act_ev.get("event"):
        return False
    probe = Ctx(Result(), None, None)
    compare_event(probe, exp_ev, act_ev)
    return probe.ok


# --- multiset mode -----------------------------------------------------------

# Events a live client emits about its own connection, not decoded from frames.
CLIENT_EVENTS = ("connected", "websocketConnected", "disconnected", "enterRoom",
                 "$timeout", "$connectFailed")


def canon(v):
    """JSON text of v with sorted keys: equal for JSON-equal values."""
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def flatten(lines, ignore):
    """Every event of per-frame or per-event lines, minus the ignored ones."""
    out = []
    for line in lines:
        events = line["events"] if isinstance(line.get("events"), list) else [line]
        for e in events:
            if not isinstance(e, dict) or e.get("event") in ignore:
                continue
            if e.get("event") == "error" and (e.get("data") or {}).get("info") == "Websocket Error":
                continue
            out.append(canon(e))
    return out


def compare_multiset(expected, actual, ignore, out=sys.stdout):
    """Prints the differences and the count line; returns the number failed."""
    want = Counter(flatten(expected, ignore))
    got = Counter(flatten(actual, ignore))
    missing = want - got
    unexpected = got - want
    matched = sum((want & got).values())
    failed = sum(missing.values()) + sum(unexpected.values())
    shown = 0
    for label, diff in (("MISSING", missing), ("UNEXPECTED", unexpected)):
        for text, n in sorted(diff.items()):
            if shown < MAX_SHOWN:
                print("%s x%d %s" % (label, n, text if len(text) <= 400 else text[:397] + "..."),
                      file=out)
            shown += 1
    if shown > MAX_SHOWN:
        print("... %d more difference(s)" % (shown - MAX_SHOWN), file=out)
    print("%d expected events, %d actual (multiset)" % (sum(want.values()), sum(got.values())),
          file=out)
    print("%d passed, %d failed" % (matched, failed), file=out)
    return failed


def main_multiset(argv):
    ignore = set(CLIENT_EVENTS)
    files = []
    i = 0
    while i < len(argv):
        if argv[i] == "--ignore" and i + 1 < len(argv):
            ignore = set(x for x in argv[i + 1].split(",") if x)
            i += 2
            continue
        files.append(argv[i])
        i += 1
    both = read_pair(files)
    if both is None:
        return 2
    return 1 if compare_multiset(*both, ignore) else 0


def read_pair(files):
    """The two files of the command line (`-` is stdin) as (expected, actual) event lists;
    None, with the reason on stderr, when they are not two readable files."""
    if len(files) != 2 or any(f.startswith("-") and f != "-" for f in files):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return None
    try:
        return read_jsonl(files[0]), read_jsonl(files[1] if files[1] != "-" else "/dev/stdin")
    except InputError as e:
        print("compare_events: %s" % e, file=sys.stderr)
        return None


# --- report ----------------------------------------------------------------

def report(res, out=sys.stdout, title=None):
    """Print differences, accepted deviations and the final count line."""
    if title:
        print(title, file=out)
    for frame, idx, path, exp, act, note in res.diffs:
        where = "frame %s" % frame + ("" if idx is None else " event #%d" % idx)
        print("DIFF %s %s%s: expected %s, actual %s"
              % (where, path, " (%s)" % note if note else "", fmt(exp), fmt(act)), file=out)
    if res.n_diffs > len(res.diffs):
        print("... %d more difference(s)" % (res.n_diffs - len(res.diffs)), file=out)
    for note in res.notes[:MAX_SHOWN]:
        print("NOTE %s" % note, file=out)
    if len(res.notes) > MAX_SHOWN:
        print("... %d more note(s)" % (len(res.notes) - MAX_SHOWN), file=out)
    for rule in RULES:
        line = "accepted %-14s %d" % (rule, res.accepted[rule])
        ex = res.accepted_examples.get(rule)
        if ex and rule != "expected-error":
            frame, idx, path, e, a = ex
            line += "   e.g. frame %s event #%s %s: 1.x %s, ours %s" % (frame, idx, path, fmt(e), fmt(a))
        print(line, file=out)
    print("%d passed, %d failed" % (res.passed, res.failed), file=out)


def main(argv):
    if "--multiset" in argv:
        return main_multiset([a for a in argv if a != "--multiset"])
    args = [a for a in argv if a != "--events"]
    events_mode = len(args) != len(argv)
    both = read_pair(args)
    if both is None:
        return 2
    expected, actual = both
    res = compare_stream(expected, actual) if events_mode else compare_frames(expected, actual)
    report(res)
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
