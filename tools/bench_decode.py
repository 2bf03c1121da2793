#!/usr/bin/env python3
"""make bench-decode: decode throughput of libtiktok beside the real Node library.

For each corpus (tests/oracle/gen.js, seed 1, FRAMES frames, 85 % gzip: the v1 schema, which the issue's
goal is stated on, and the v3 schema, which both Node versions decode; then "real": FRAMES_REAL
v3 frames of the same layout whose messages are the recorded ones of the third-party captures,
see below), on one core (taskset -c 0), median of RUNS runs over frames preloaded in memory:

  ours      build/tt-decode --bench        frames -> events -> JSON text, nothing printed
                                           (OUR_RUNS runs, default 31: each takes ~0.1 s)
  floor     build/bench-inflate            only the gzip payloads' decompression (zlib reset,
                                           zlib fresh per payload, libdeflate)
  node v1   tools/bench_decode.js --json   tiktok-live-connector 1.2.3, events + JSON.stringify
  node v2   same with ORACLE_LIB=2.5.0     (v3-schema corpus only: 2.x needs payloadEncoding)

The "real" corpus: the 1,950 distinct inner messages (chat, gift, member, like, link-mic, rank
... 75 methods; recorded from public streams in 2023) of the third-party captures beside the
clone (tests/tools/captures.py says where: captures/ in the shared folder beside the clone, or
$SHARED/captures), written at run time to build/bench/real-messages.jsonl (never into the
repository) and dealt into the push
frames of `gen.js --messages` in a seeded order (each used about 11 times at FRAMES_REAL=9000).
Without the captures that corpus prints `SKIPPED: ...` and the others run as before.
Real messages include many methods 1.2.3 has no event for (it drops them; we emit rawData or a
typed event): the events each side emitted are counted (by name, once, untimed: tt-decode DIR and
tests/oracle/decode.js), and beside the events/s ratio the table gives the ratio of the times
over the same frames (for 1.2.3, every event of which libtiktok emits too, that is the events/s
ratio counted on 1.2.3's events only).

Writes the table to stdout and, with --write, the figures section of docs/PERFORMANCE.md.
Needs node and the npm packages `make deps` puts into build/oracle (the drivers are ours:
tests/oracle/gen.js and tools/bench_decode.js).
Environment: FRAMES (20000), FRAMES_REAL (9000), ROUNDS (5), RUNS (1), OUR_RUNS (31), B (build),
SHARED (the folder holding captures/).
The machine is shared and noisy: the sides of each ratio are measured back to back, in
ROUNDS rounds, and the median ratio is reported with its range.

SPDX-License-Identifier: MIT
"""
import base64
import collections
import gzip
import json
import os
import subprocess
import sys

from benchlib import now as bench_now, report

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
import pbwire  # noqa: E402
from captures import CAPS  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.path.join(ROOT, os.environ.get("B", "build"))
SMOKE = "--smoke" in sys.argv
# the smoke run (make check) keeps its small corpora apart from the real run's
BENCH = os.path.join(ROOT, "build", "bench", "smoke" if SMOKE else "")
FRAMES = int(os.environ.get("FRAMES", "300" if SMOKE else "20000"))
FRAMES_REAL = int(os.environ.get("FRAMES_REAL", "300" if SMOKE else "9000"))
REAL_SRC = os.path.join(CAPS, "tiktoklivejava-event-logs", "event-corpus-2023.jsonl.gz")
RUNS = int(os.environ.get("RUNS", "1"))
# our runs take a tenth of a second each, so one burst of load on the shared machine can move a
# median of five; they are cheap, so take the median of many
OUR_RUNS = int(os.environ.get("OUR_RUNS", "1" if SMOKE else "31"))
ROUNDS = int(os.environ.get("ROUNDS", "1" if SMOKE else "5"))
ORACLE_DIR = os.path.join(ROOT, "build", "oracle")


def run(cmd, env=None):
    e = dict(os.environ, ORACLE_DIR=ORACLE_DIR)
    e.update(env or {})
    out = subprocess.run(cmd, env=e, check=True, capture_output=True, text=True).stdout
    return out


def last_json(text):
    """The last JSON object printed (bench_decode.js pretty-prints one at the end)."""
    start = text.rfind("\n{")
    return json.loads(text[start + 1 if start >= 0 else 0:])


def corpus(schema):
    d = os.path.join(BENCH, f"corpus-{schema}-{FRAMES}")
    if not os.path.exists(os.path.join(d, "manifest.json")):
        os.makedirs(d, exist_ok=True)
        run(["node", os.path.join(ROOT, "tests", "oracle", "gen.js"), "--seed", "1", "--frames",
             str(FRAMES), "--schema", schema, "--no-expected", "--out", d])
    return d


def real_messages():
    """The captures' inner messages as gen.js --messages reads them, in build/bench (rewritten
    each run: the captures may change); None when the captures are absent. The method is the
    payload's common.method (the source log's key differs for two types), with "Webcast"
    prefixed where it lacks it, as tests/tools/check_captures.py decodes them."""
    if not os.path.exists(REAL_SRC):
        return None
    out = os.path.join(BENCH, "real-messages.jsonl")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    n = size = 0
    methods = set()
    with gzip.open(REAL_SRC, "rt") as src, open(out, "w") as dst:
        for line in src:
            j = json.loads(line)
            payload = base64.b64decode(j["b64"])
            method = pbwire.common_method(payload) or j["type"]
            method = method if method.startswith("Webcast") else "Webcast" + method
            try:
                common = pbwire.first_field(payload, 1, pbwire.WT_LEN)
                msg_id = pbwire.first_field(common, 2, pbwire.WT_VARINT) if common else 0
            except pbwire.WireError:
                msg_id = 0
            dst.write(json.dumps({"method": method, "msgId": str(msg_id or 0), "b64": j["b64"]}) + "\n")
            n += 1
            size += len(payload)
            methods.add(method)
    return {"file": out, "count": n, "meanBytes": size / n if n else 0, "methods": len(methods)}


def real_corpus(msgs):
    """FRAMES_REAL v3 frames (gen.js's layout, seed 1) carrying the recorded messages"""
    d = os.path.join(BENCH, f"corpus-real-{FRAMES_REAL}")
    os.makedirs(d, exist_ok=True)
    run(["node", os.path.join(ROOT, "tests", "oracle", "gen.js"), "--seed", "1", "--frames",
         str(FRAMES_REAL), "--schema", "v3", "--no-expected", "--messages", msgs["file"],
         "--out", d])
    with open(os.path.join(d, "manifest.json")) as f:
        stats = json.load(f)["stats"]
    return d, stats["messages"] / stats["msgFrames"]


def names(cmd, env=None):
    """events by name over a corpus, from the per-frame JSON lines a decoder prints: read as
    they come, since the whole text (hundreds of MB for the real corpus) would swell this
    process, and a child's ru_maxrss (tt-decode's peak RSS figure) starts from its parent's
    size at the fork"""
    e = dict(os.environ, ORACLE_DIR=ORACLE_DIR)
    e.update(env or {})
    c = collections.Counter()
    with subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, text=True) as p:
        for line in p.stdout:
            if line.strip():
                c.update(ev["event"] for ev in json.loads(line)["events"])
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, cmd)
    return c


def pinned(cmd):
    return ["taskset", "-c", "0"] + cmd


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def measure(schema, d=None, extra=None):
    """ROUNDS rounds, each: ours, the floors, then every Node version, back to back, so that a
    slow spell of the shared machine hits both sides of a ratio; the ratios' median is what
    counts (and the medians of each side are shown). Schema "real" is the v3 layout."""
    d = d or corpus(schema)
    bench_js = os.path.join(ROOT, "tools", "bench_decode.js")
    libs = {"v1": {"ORACLE_LIB": os.path.join(ORACLE_DIR, "v1", "node_modules",
                                              "tiktok-live-connector")}}
    if schema in ("v3", "real"):
        libs["v2"] = {"ORACLE_LIB": os.path.join(ORACLE_DIR, "v2", "node_modules",
                                                 "tiktok-live-connector")}
    rounds = []
    for _ in range(ROUNDS):
        r = {"ours": json.loads(run(pinned([os.path.join(B, "tt-decode"), "--bench",
                                            str(OUR_RUNS), d]))),
             "floor": json.loads(run(pinned([os.path.join(B, "bench-inflate"), str(OUR_RUNS),
                                             d]))),
             "node": {}}
        for v, env in libs.items():
            r["node"][v] = last_json(run(["node", bench_js, "--dir", d, "--json", "--runs",
                                          str(RUNS)], env=env))
        rounds.append(r)
    res = {"schema": schema, "dir": d, "rounds": rounds}
    if extra:
        res.update(extra)
    # what each side emitted, by name (untimed)
    res["names"] = {"ours": names([os.path.join(B, "tt-decode"), d])}
    for v, env in libs.items():
        res["names"][v] = names(["node", os.path.join(ROOT, "tests", "oracle", "decode.js"), d],
                                env=env)
    return res


def describe(res):
    """the corpus line above a table"""
    o0, f0 = res["rounds"][0]["ours"], res["rounds"][0]["floor"]
    wire = (f"{o0['frames']} frames, {o0['wireBytes'] / 1e6:.1f} MB on the wire, "
            f"{f0['gzipFrames']} gzip payloads inflating to {f0['inflatedBytes'] / 1e6:.1f} MB; "
            f"{len(res['rounds'])} rounds.")
    if res["schema"] == "real":
        return (f"Corpus: **real TikTok messages**: the {res['count']:,} distinct inner messages "
                f"(mean {res['meanBytes']:,.0f} bytes; {res['methods']} methods) of the third-party captures "
                f"(event logs recorded from public streams in 2023), read at run time, dealt in a "
                f"seeded order into the push frames of tests/oracle/gen.js `--seed 1 --frames "
                f"{FRAMES_REAL} --schema v3 --messages ...` (gen.js's frame layout: 85 % gzip, "
                f"{res['perFrame']:.1f} messages per message frame); {wire}")
    return (f"Corpus: tests/oracle/gen.js `--seed 1 --frames {FRAMES}`, {res['schema']} schema, "
            + wire)


def ratios(rounds, num, den):
    """median, min and max of num(r) / den(r) over the rounds"""
    xs = [num(r) / den(r) for r in rounds]
    return median(xs), min(xs), max(xs)


def table(res):
    rounds = res["rounds"]
    o0 = rounds[0]["ours"]
    ours_s = median([r["ours"]["medianSec"] for r in rounds])
    ours_eps = median([r["ours"]["eventsPerSec"] for r in rounds])
    lines = [
        describe(res),
        "",
        "| what | median s | events per pass | events/s | peak RSS MB "
        "| ours is, in events/s (median of the rounds' ratios) | ours is, in time over the same frames |",
        "|---|---|---|---|---|---|---|",
        f"| **libtiktok** (tt-decode --bench: decode + JSON) | {ours_s:.3f} | {o0['events']:,} "
        f"| {ours_eps:,.0f} | {o0['peakRssMB']:.0f} | | |",
    ]
    for v in sorted(rounds[0]["node"]):
        ns = [r["node"][v] for r in rounds]
        ev = ratios(rounds, lambda r: r["ours"]["eventsPerSec"], lambda r: r["node"][v]["eventsPerSec"])
        tm = ratios(rounds, lambda r: r["node"][v]["medianSec"], lambda r: r["ours"]["medianSec"])
        err = ns[0]["errorsPerPass"]
        lines.append(f"| Node {ns[0]['library']} (bench_decode.js --json) | "
                     f"{median([n['medianSec'] for n in ns]):.3f} | {ns[0]['eventsPerPass']:,}"
                     f"{f' ({err} frames failed)' if err else ''} | "
                     f"{median([n['eventsPerSec'] for n in ns]):,.0f} | "
                     f"{median([n['peakRssMB'] for n in ns]):.0f} | "
                     f"**{ev[0]:.1f}x** faster (rounds: {ev[1]:.1f}x to {ev[2]:.1f}x) | "
                     f"**{tm[0]:.1f}x** faster (rounds: {tm[1]:.1f}x to {tm[2]:.1f}x) |")
    for key, name in (("zlibReuseMedianSec", "zlib inflate only, stream reset per payload"),
                      ("zlibFreshMedianSec", "zlib inflate only, new stream per payload"),
                      ("libdeflateMedianSec", "libdeflate only (what libtiktok uses)")):
        ratio = median([r["ours"]["medianSec"] / r["floor"][key] for r in rounds])
        lines.append(f"| floor: {name} | {median([r['floor'][key] for r in rounds]):.3f} | | | | "
                     f"| takes **{ratio:.2f}x** its time |")
    lines.append("")
    for v in sorted(rounds[0]["node"]):
        c = ratios(rounds, lambda r: r["node"][v]["medianSec"], lambda r: r["floor"]["libdeflateMedianSec"])
        lines.append(f"Node {rounds[0]['node'][v]['library']}'s time over the libdeflate floor's: "
                     f"**{c[0]:.1f}x** (rounds: {c[1]:.1f}x to {c[2]:.1f}x), the most any decoder "
                     f"that inflates with libdeflate could be faster than it on this corpus.")
    lines += event_counts(res)
    return "\n".join(lines)


def event_counts(res):
    """the events each side emitted, and how far they agree"""
    ours = res["names"]["ours"]
    out = [""]
    for v in sorted(res["rounds"][0]["node"]):
        theirs = res["names"][v]
        lib = res["rounds"][0]["node"][v]["library"]
        both = sorted(set(ours) & set(theirs))
        same = [n for n in both if ours[n] == theirs[n]]
        differ = [f"{n} {ours[n]:,} vs {theirs[n]:,}" for n in both if ours[n] != theirs[n]]
        only_ours = sorted(set(ours) - set(theirs), key=lambda n: -ours[n])
        only_theirs = sorted(set(theirs) - set(ours), key=lambda n: -theirs[n])
        s = (f"Events, {lib} beside libtiktok: {sum(theirs.values()):,} against "
             f"{sum(ours.values()):,}. Of the {len(both)} event names both emit, {len(same)} have "
             f"the same count on both sides ({sum(theirs[n] for n in both):,} events on its side, "
             f"{sum(ours[n] for n in both):,} on ours)")
        s += f"; they differ for {', '.join(differ)}." if differ else "."
        if only_ours:
            s += (f" Only libtiktok emits {sum(ours[n] for n in only_ours):,}: "
                  + ", ".join(f"{n} {ours[n]:,}" for n in only_ours) + ".")
        if only_theirs:
            s += (f" Only {lib} emits {sum(theirs[n] for n in only_theirs):,}: "
                  + ", ".join(f"{n} {theirs[n]:,}" for n in only_theirs) + ".")
        if abs(sum(ours.values()) - sum(theirs.values())) > 0.1 * sum(theirs.values()):
            s += (" **The counts differ a lot**, so the events/s ratio flatters whichever side "
                  "emits more; the time over the same frames is the fair figure.")
        out += [s, ""]
    return out[:-1]


def smoke_checks(res):
    """what --smoke asserts of one corpus's result: (checks made, the failures as text)"""
    fails = []
    checks = 2 + len(res["rounds"][0]["node"]) + ("v1" in res["rounds"][0]["node"])
    name = res["schema"]
    ours = res["names"]["ours"]
    r0 = res["rounds"][0]
    if r0["ours"]["events"] != sum(ours.values()):
        fails.append(f"{name}: tt-decode --bench counted {r0['ours']['events']} events, "
                     f"tt-decode DIR printed {sum(ours.values())}")
    if r0["floor"]["gzipFrames"] < 1 or r0["floor"]["inflatedBytes"] <= 0:
        fails.append(f"{name}: bench-inflate saw {r0['floor']['gzipFrames']} gzip payloads")
    for v, n in r0["node"].items():
        theirs = res["names"][v]
        if n["errorsPerPass"] == 0 and n["eventsPerPass"] != sum(theirs.values()):
            fails.append(f"{name}: bench_decode.js counted {n['eventsPerPass']} events of "
                         f"{n['library']}, decode.js printed {sum(theirs.values())}")
        if v == "v1":  # every event 1.2.3 emits, libtiktok emits too, as many of each name
            miss = {k: (c, ours.get(k, 0)) for k, c in theirs.items() if ours.get(k, 0) != c}
            if miss or not theirs:
                fails.append(f"{name}: events by name (1.2.3, ours) differ: {miss or 'none seen'}")
    return checks, fails


def smoke():
    """make check: the tool runs and its counts agree, on small corpora (no figure checked)"""
    fails = []
    checks = 0
    results = [measure("v1")]
    msgs = real_messages()
    if msgs is None:
        print("SKIPPED: the real-message corpus (no third-party captures beside the clone)")
    else:
        d, per_frame = real_corpus(msgs)
        results.append(measure("real", d, dict(msgs, perFrame=per_frame)))
        checks += 1
        if msgs["count"] < 100:
            fails.append(f"real: only {msgs['count']} messages read from the captures")
    for res in results:
        c, f = smoke_checks(res)
        checks += c + 1
        fails += f
        text = table(res)
        if text.count("\n| ") < 6:
            fails.append(f"{res['schema']}: the table lacks rows:\n{text}")
    for f in fails:
        print("FAIL: bench-decode smoke: " + f)
    print(f"{checks - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


def main():
    results = [measure("v1"), measure("v3")]
    msgs = real_messages()
    if msgs is None:
        skipped = (f"SKIPPED: the real-message corpus (the third-party captures, {REAL_SRC}, are "
                   f"not beside this clone)")
        print(skipped)
    else:
        d, per_frame = real_corpus(msgs)
        results.append(measure("real", d, dict(msgs, perFrame=per_frame)))
    now = bench_now()
    out = [f"Measured {now} by `make bench-decode` (FRAMES={FRAMES}, FRAMES_REAL={FRAMES_REAL}, "
           f"ROUNDS={ROUNDS}; in each "
           f"round the median of RUNS={RUNS} runs for Node and OUR_RUNS={OUR_RUNS} for "
           f"tt-decode and the floors), single core (`taskset -c 0`).", ""]
    for r in results:
        out += [table(r), ""]
    if msgs is None:
        out += ["The real-message corpus was not measured in this run: the third-party captures "
                "were not beside the clone.", ""]
    raw = os.path.join(BENCH, "bench-decode.json")
    with open(raw, "w") as f:
        json.dump(results, f, indent=1)
    report("bench-decode", "\n".join(out))


if __name__ == "__main__":
    sys.exit(smoke() if SMOKE else main())
