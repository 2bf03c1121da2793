#!/usr/bin/env node
'use strict';
// What the real tiktok-live-connector emits for existing frames, one JSON line per frame:
//   {"frame":"000001.bin","events":[{"event":"chat","data":{...}},...]}
// (the format of a corpus' expected.jsonl; tests/tools/compare_events.py reads it).
//
//   node tests/oracle/decode.js DIR|FRAME.bin...        1.2.3 (build/oracle/v1)
//   ORACLE_LIB=build/oracle/v2/node_modules/tiktok-live-connector node tests/oracle/decode.js DIR
// A directory stands for its NNNNNN.bin files, in order.
// SPDX-License-Identifier: MIT
const fs = require('node:fs');
const path = require('node:path');
const L = require('./library.js');

async function main() {
  const inputs = process.argv.slice(2);
  if (!inputs.length) {
    process.stderr.write('usage: decode.js DIR|FRAME.bin...\n');
    process.exit(2);
  }
  const files = inputs.flatMap((i) => (fs.statSync(i).isDirectory() ? L.frameFiles(i).map((f) => path.join(i, f)) : [i]));
  const lib = await L.load();
  process.stderr.write(`decode.js: ${lib.name}@${lib.version}, ${files.length} frames\n`);
  for (const f of files) {
    const line = JSON.stringify({ frame: path.basename(f), events: await lib.decodeFrame(fs.readFileSync(f)) }) + '\n';
    if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once('drain', r));
  }
  // 2.x keeps an HTTP agent alive: leave once stdout has taken everything
  process.stdout.write('', () => process.exit(0));
}
main().catch((e) => { process.stderr.write(`decode.js: ${(e && e.stack) || e}\n`); process.exit(1); });
