#!/usr/bin/env python3
"""make bench-decode: decode throughput of libtiktok beside the real Node library.

For each corpus (tests/oracle/gen.js, seed 1, FRAMES frames, 85 % gzip: the v1 schema, which the issue's
goal is stated on, and the v3 schema, which both Node versions decode), on one core
(taskset -c 0), median of RUNS runs over frames preloaded in memory:

  ours      build/tt-decode --bench        frames -> events -> JSON text, nothing printed
                                           (OUR_RUNS runs, default 31: each takes ~0.1 s)
  floor     build/bench-inflate            only the gzip payloads' decompression (zlib reset,
                                           zlib fresh per payload, libdeflate)
  node v1   tools/bench_decode.js --json   tiktok-live-connector 1.2.3, events + JSON.stringify
  node v2   same with ORACLE_LIB=2.5.0     (v3-schema corpus only: 2.x needs payloadEncoding)

Writes the table to stdout and, with --write, the figures section of docs/PERFORMANCE.md.
Needs node and the npm packages `make deps` puts into build/oracle (the drivers are ours:
tests/oracle/gen.js and tools/bench_decode.js).
Environment: FRAMES (20000), ROUNDS (5), RUNS (1), OUR_RUNS (31), B (build).
The machine is shared and noisy: the sides of each ratio are measured back to back, in
ROUNDS rounds, and the median ratio is reported with its range.

SPDX-License-Identifier: MIT
"""
import json
import os
import subprocess

from benchlib import now as bench_now, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.path.join(ROOT, os.environ.get("B", "build"))
FRAMES = int(os.environ.get("FRAMES", "20000"))
RUNS = int(os.environ.get("RUNS", "1"))
# our runs take a tenth of a second each, so one burst of load on the shared machine can move a
# median of five; they are cheap, so take the median of many
OUR_RUNS = int(os.environ.get("OUR_RUNS", "31"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
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
    d = os.path.join(ROOT, "build", "bench", f"corpus-{schema}-{FRAMES}")
    if not os.path.exists(os.path.join(d, "manifest.json")):
        os.makedirs(d, exist_ok=True)
        run(["node", os.path.join(ROOT, "tests", "oracle", "gen.js"), "--seed", "1", "--frames",
             str(FRAMES), "--schema", schema, "--no-expected", "--out", d])
    return d


def pinned(cmd):
    return ["taskset", "-c", "0"] + cmd


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def measure(schema):
    """ROUNDS rounds, each: ours, the floors, then every Node version, back to back, so that a
    slow spell of the shared machine hits both sides of a ratio; the ratios' median is what
    counts (and the medians of each side are shown)."""
    d = corpus(schema)
    bench_js = os.path.join(ROOT, "tools", "bench_decode.js")
    libs = {"v1": {"ORACLE_LIB": os.path.join(ORACLE_DIR, "v1", "node_modules",
                                              "tiktok-live-connector")}}
    if schema == "v3":
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
    return {"schema": schema, "rounds": rounds}


def table(res):
    rounds = res["rounds"]
    o0, f0 = rounds[0]["ours"], rounds[0]["floor"]
    ours_s = median([r["ours"]["medianSec"] for r in rounds])
    ours_eps = median([r["ours"]["eventsPerSec"] for r in rounds])
    lines = [
        f"Corpus: tests/oracle/gen.js `--seed 1 --frames {FRAMES}`, {res['schema']} schema, "
        f"{o0['frames']} frames, {o0['wireBytes'] / 1e6:.1f} MB on the wire, "
        f"{f0['gzipFrames']} gzip payloads inflating to {f0['inflatedBytes'] / 1e6:.1f} MB; "
        f"{len(rounds)} rounds.",
        "",
        "| what | median s | events/s | peak RSS MB | ours is (median of the rounds' ratios) |",
        "|---|---|---|---|---|",
        f"| **libtiktok** (tt-decode --bench: decode + JSON) | {ours_s:.3f} | {ours_eps:,.0f} "
        f"| {o0['peakRssMB']:.0f} | |",
    ]
    for v in sorted(rounds[0]["node"]):
        ns = [r["node"][v] for r in rounds]
        ratio = median([r["ours"]["eventsPerSec"] / r["node"][v]["eventsPerSec"] for r in rounds])
        lo = min(r["ours"]["eventsPerSec"] / r["node"][v]["eventsPerSec"] for r in rounds)
        hi = max(r["ours"]["eventsPerSec"] / r["node"][v]["eventsPerSec"] for r in rounds)
        lines.append(f"| Node {ns[0]['library']} (bench_decode.js --json) | "
                     f"{median([n['medianSec'] for n in ns]):.3f} | "
                     f"{median([n['eventsPerSec'] for n in ns]):,.0f} | "
                     f"{median([n['peakRssMB'] for n in ns]):.0f} | "
                     f"**{ratio:.1f}x** faster (rounds: {lo:.1f}x to {hi:.1f}x) |")
    for key, name in (("zlibReuseMedianSec", "zlib inflate only, stream reset per payload"),
                      ("zlibFreshMedianSec", "zlib inflate only, new stream per payload"),
                      ("libdeflateMedianSec", "libdeflate only (what libtiktok uses)")):
        ratio = median([r["ours"]["medianSec"] / r["floor"][key] for r in rounds])
        lines.append(f"| floor: {name} | {median([r['floor'][key] for r in rounds]):.3f} | | | "
                     f"**{ratio:.2f}x** its time |")
    return "\n".join(lines)


def main():
    results = [measure("v1"), measure("v3")]
    now = bench_now()
    out = [f"Measured {now} by `make bench-decode` (FRAMES={FRAMES}, ROUNDS={ROUNDS}; in each "
           f"round the median of RUNS={RUNS} runs for Node and OUR_RUNS={OUR_RUNS} for "
           f"tt-decode and the floors), single core (`taskset -c 0`).", ""]
    for r in results:
        out += [table(r), ""]
    raw = os.path.join(ROOT, "build", "bench", "bench-decode.json")
    with open(raw, "w") as f:
        json.dump(results, f, indent=1)
    report("bench-decode", "\n".join(out))


if __name__ == "__main__":
    main()
