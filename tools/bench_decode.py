#!/usr/bin/env python3
"""make bench-decode: decode throughput of libtiktok beside the real Node library.

For each corpus (gen.js, seed 1, FRAMES frames, 85 % gzip: the v1 schema, which the issue's
goal is stated on, and the v3 schema, which both Node versions decode), on one core
(taskset -c 0), median of RUNS runs over frames preloaded in memory:

  ours      build/tt-decode --bench        frames -> events -> JSON text, nothing printed
                                           (OUR_RUNS runs, default 31: each takes ~0.1 s)
  floor     build/bench-inflate            only the gzip payloads' decompression (zlib reset,
                                           zlib fresh per payload, libdeflate)
  node v1   ../shared/oracle/bench.js --json   tiktok-live-connector 1.2.3, events + JSON.stringify
  node v2   same with ORACLE_LIB=2.5.0         (v3-schema corpus only: 2.x needs payloadEncoding)

Writes the table to stdout and, with --write, the figures section of docs/PERFORMANCE.md.
Needs ../shared/oracle and the npm packages `make deps` puts into build/oracle.
Environment: FRAMES (20000), RUNS (5), OUR_RUNS (31), B (build), SHARED (../shared).

SPDX-License-Identifier: MIT
"""
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.path.join(ROOT, os.environ.get("B", "build"))
SHARED = os.environ.get("SHARED", os.path.join(ROOT, "..", "shared"))
FRAMES = int(os.environ.get("FRAMES", "20000"))
RUNS = int(os.environ.get("RUNS", "5"))
# our runs take a tenth of a second each, so one burst of load on the shared machine can move a
# median of five; they are cheap, so take the median of many
OUR_RUNS = int(os.environ.get("OUR_RUNS", "31"))
ORACLE_DIR = os.path.join(ROOT, "build", "oracle")


def run(cmd, env=None):
    e = dict(os.environ, ORACLE_DIR=ORACLE_DIR)
    e.update(env or {})
    out = subprocess.run(cmd, env=e, check=True, capture_output=True, text=True).stdout
    return out


def last_json(text):
    """The last JSON object printed (bench.js pretty-prints one at the end)."""
    start = text.rfind("\n{")
    return json.loads(text[start + 1 if start >= 0 else 0:])


def corpus(schema):
    d = os.path.join(ROOT, "build", "bench", f"corpus-{schema}-{FRAMES}")
    if not os.path.exists(os.path.join(d, "manifest.json")):
        os.makedirs(d, exist_ok=True)
        run(["node", os.path.join(SHARED, "oracle", "gen.js"), "--seed", "1", "--frames",
             str(FRAMES), "--no-expected", "--out", d], env={"ORACLE_SCHEMA": schema})
    return d


def pinned(cmd):
    return ["taskset", "-c", "0"] + cmd


def measure(schema):
    d = corpus(schema)
    ours = json.loads(run(pinned([os.path.join(B, "tt-decode"), "--bench", str(OUR_RUNS), d])))
    floor = json.loads(run(pinned([os.path.join(B, "bench-inflate"), str(OUR_RUNS), d])))
    bench_js = os.path.join(SHARED, "oracle", "bench.js")
    node = {"v1": last_json(run(["node", bench_js, "--dir", d, "--json", "--runs", str(RUNS)]))}
    if schema == "v3":
        lib2 = os.path.join(ORACLE_DIR, "v2", "node_modules", "tiktok-live-connector")
        node["v2"] = last_json(run(["node", bench_js, "--dir", d, "--json", "--runs", str(RUNS)],
                                   env={"ORACLE_LIB": lib2}))
    return {"schema": schema, "ours": ours, "floor": floor, "node": node}


def table(r):
    o, f = r["ours"], r["floor"]
    lines = [
        f"Corpus: gen.js `--seed 1 --frames {FRAMES}`, {r['schema']} schema, "
        f"{o['frames']} frames, {o['wireBytes'] / 1e6:.1f} MB on the wire, "
        f"{f['gzipFrames']} gzip payloads inflating to {f['inflatedBytes'] / 1e6:.1f} MB.",
        "",
        "| what | median s | events/s | MB/s (wire) | peak RSS MB | ours is |",
        "|---|---|---|---|---|---|",
        f"| **libtiktok** (tt-decode --bench: decode + JSON) | {o['medianSec']:.3f} | "
        f"{o['eventsPerSec']:,.0f} | {o['MBperSec']:.1f} | {o['peakRssMB']:.0f} | |",
    ]
    for v, n in sorted(r["node"].items()):
        lines.append(
            f"| Node {n['library']} (bench.js --json) | {n['medianSec']:.3f} | "
            f"{n['eventsPerSec']:,.0f} | {n['MBperSec']:.1f} | {n['peakRssMB']:.0f} | "
            f"**{o['eventsPerSec'] / n['eventsPerSec']:.1f}x** faster |")
    for key, name in (("zlibReuseMedianSec", "zlib inflate only, stream reset per payload"),
                      ("zlibFreshMedianSec", "zlib inflate only, new stream per payload"),
                      ("libdeflateMedianSec", "libdeflate only (what libtiktok uses)")):
        lines.append(f"| floor: {name} | {f[key]:.3f} | | | | "
                     f"**{o['medianSec'] / f[key]:.2f}x** its time |")
    return "\n".join(lines)


def main():
    results = [measure("v1"), measure("v3")]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"Measured {now} by `make bench-decode` (FRAMES={FRAMES}; medians of RUNS={RUNS} runs "
           f"for Node, OUR_RUNS={OUR_RUNS} for tt-decode and the floors), single core "
           f"(`taskset -c 0`).", ""]
    for r in results:
        out += [table(r), ""]
    text = "\n".join(out)
    print(text)
    raw = os.path.join(ROOT, "build", "bench", "bench-decode.json")
    with open(raw, "w") as f:
        json.dump(results, f, indent=1)
    if "--write" in sys.argv:
        path = os.path.join(ROOT, "docs", "PERFORMANCE.md")
        doc = open(path).read()
        a, b = "<!-- bench-decode:begin -->", "<!-- bench-decode:end -->"
        doc = doc[:doc.index(a) + len(a)] + "\n" + text + "\n" + doc[doc.index(b):]
        with open(path, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()
