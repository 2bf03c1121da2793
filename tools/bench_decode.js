#!/usr/bin/env node
'use strict';
// Decode throughput of the real tiktok-live-connector, the Node side of `make bench-decode`
// (tools/bench_decode.py): the frames of a corpus (tests/oracle/gen.js) are loaded into memory, then
// run through the library's own decode path (tests/oracle/library.js: push frame, its async gunzip,
// messages, events emitted to a no-op listener of every name) one after the other, as its
// WebSocket handler would; not timed: sockets and acks. One warm-up pass, then the median of --runs.
//
//   node tools/bench_decode.js --dir CORPUS [--runs 5] [--json]
//   ORACLE_LIB=build/oracle/v2/node_modules/tiktok-live-connector node tools/bench_decode.js --dir CORPUS
// --json also turns every event into JSON text, as a bridge must (tt-decode --bench does too).
// One core: it runs itself again under `taskset -c 0` when taskset exists (the libuv thread that
// gunzips is then on the same core). Prints one JSON object (pretty-printed) at the end.
// SPDX-License-Identifier: MIT
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const L = require('../tests/oracle/library.js');

function options(argv) {
  const o = { dir: null, runs: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dir') o.dir = argv[++i];
    else if (argv[i] === '--runs') o.runs = parseInt(argv[++i], 10);
    else if (argv[i] === '--json') o.json = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!o.dir || !(o.runs >= 1)) throw new Error('usage: bench_decode.js --dir CORPUS [--runs N] [--json]');
  return o;
}

// Re-runs this script pinned to core 0; returns only when it should run here instead.
function pin() {
  if (process.env.BENCH_PINNED || spawnSync('taskset', ['-c', '0', 'true']).status !== 0) return;
  const r = spawnSync('taskset', ['-c', '0', process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' } });
  process.exit(r.status === null ? 1 : r.status);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  pin();
  const o = options(process.argv.slice(2));
  const lib = await L.load();
  const frames = L.frameFiles(o.dir).map((f) => fs.readFileSync(path.join(o.dir, f)));
  const wire = frames.reduce((n, b) => n + b.length, 0);
  let events = 0;
  let jsonBytes = 0;
  lib.onEvent = (name, args) => {
    events++;
    if (o.json) jsonBytes += L.toJson(args.length === 1 ? args[0] : args).length;
  };
  for (const name of ['chat', 'gift', 'member', 'roomUser', 'like', 'social', 'follow', 'share', 'questionNew', 'linkMicBattle',
    'linkMicArmies', 'liveIntro', 'streamEnd', 'controlMessage', 'emote', 'envelope', 'subscribe']) lib.conn.on(name, () => {});

  const pass = async () => {
    events = 0;
    jsonBytes = 0;
    let errors = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const f of frames) {
      try {
        await lib.decode(f);
      } catch {
        errors++;
      }
    }
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { sec, cpuSec: (cpu.user + cpu.system) / 1e6, events, errors, jsonBytes };
  };
  const rssLoaded = process.memoryUsage().rss;
  const warm = await pass();
  const runs = [];
  for (let i = 0; i < o.runs; i++) runs.push(await pass());
  const sec = median(runs.map((r) => r.sec));
  const round = (x, d) => +x.toFixed(d);
  const result = {
    library: `${lib.name}@${lib.version}`, node: process.version, pinned: !!process.env.BENCH_PINNED, json: o.json,
    dir: path.resolve(o.dir), frames: frames.length, wireBytes: wire, eventsPerPass: runs[0].events, errorsPerPass: runs[0].errors,
    warmupSec: round(warm.sec, 4), runsSec: runs.map((r) => round(r.sec, 4)), medianSec: round(sec, 4),
    eventsPerSec: Math.round(runs[0].events / sec), framesPerSec: Math.round(frames.length / sec), MBperSec: round(wire / 1e6 / sec, 2),
    cpuSecMedian: round(median(runs.map((r) => r.cpuSec)), 4),
    rssAfterLoadMB: round(rssLoaded / 1048576, 1), peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
    jsonMBperPass: o.json ? round(runs[0].jsonBytes / 1e6, 2) : undefined,
  };
  process.stdout.write(JSON.stringify(result, null, 1) + '\n', () => process.exit(0));
}
main().catch((e) => { process.stderr.write(`bench_decode.js: ${(e && e.stack) || e}\n`); process.exit(1); });
