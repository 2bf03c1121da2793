#!/usr/bin/env node
'use strict';
// Writes a corpus: generated TikTok LIVE WebSocket frames and what the real tiktok-live-connector
// emits for each of them. Deterministic: the same options give the same frames, byte for byte.
//
//   node tests/oracle/gen.js --seed 1001 --frames 400 --out DIR                 v1 schema, 1.2.3's events
//   node tests/oracle/gen.js --schema v3 --seed 1003 --frames 400 --out DIR     v3 schema, 1.2.3's events
//   ORACLE_LIB=build/oracle/v2/node_modules/tiktok-live-connector node tests/oracle/gen.js --out DIR   2.5.0
//
// Options: --seed S (default 1), --frames N (default 1000), --out DIR (required), --schema v1|v3
// (default: v1 for a 1.x library, v3 for 2.x), --gzip P (share of gzip payloads, default 0.85),
// --no-expected (frames only: for benchmarks), --messages FILE (v3 schema only: the frames carry
// recorded inner messages instead of generated ones, see below).
// --messages FILE: JSON Lines {"method", "msgId", "b64"} (the bytes of one inner message, e.g.
// WebcastChatMessage). Frame layout, heartbeats, gzip share and the count of messages per frame
// are the generated corpus's (same seed, same options); each message slot takes the next
// recorded message of a seeded shuffle of the file, reshuffled whenever it is used up.
// Writes DIR/000001.bin ... (stale frames removed first), DIR/expected.jsonl (one line per frame,
// the format of decode.js) and DIR/manifest.json (options, library, sha256 of the frames, counts).
// SPDX-License-Identifier: MIT
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const L = require('./library.js');
const { frames, rng } = require('./corpus.js');
const { encoder } = require('./encode.js');

function options(argv) {
  const o = { seed: '1', frames: 1000, out: null, schema: null, gzip: 0.85, expected: true, messages: null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--seed': o.seed = value(); break;
      case '--frames': o.frames = parseInt(value(), 10); break;
      case '--out': o.out = value(); break;
      case '--schema': o.schema = value(); break;
      case '--gzip': o.gzip = parseFloat(value()); break;
      case '--no-expected': o.expected = false; break;
      case '--messages': o.messages = value(); break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (!o.out) throw new Error('--out DIR is required');
  if (!(o.frames >= 1)) throw new Error('--frames must be at least 1');
  return o;
}

// The recorded messages of --messages FILE, dealt out in a seeded order: next() -> a message
// {kind: 'raw', common: {method, msgId}, raw} for encode.js.
function recorded(file, seed) {
  const all = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const j = JSON.parse(l);
    return { kind: 'raw', common: { method: j.method, msgId: String(j.msgId || 0) }, raw: Buffer.from(j.b64, 'base64') };
  });
  if (!all.length) throw new Error(`${file}: no messages`);
  const r = rng(`${seed}/recorded`);
  let order = [];
  return {
    count: all.length,
    next() {
      if (!order.length) {
        order = all.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = r.int(0, i);
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      return all[order.pop()];
    },
  };
}

// Counts of a corpus, for the manifest (what a reader checks the corpus by).
function kindOf(m) {
  if (m.kind === 'raw') return `raw:${m.common.method}`;
  if (m.kind === 'gift') return m.gift.type !== 1 ? 'gift:single' : m.repeatEnd ? 'gift:streak-end' : 'gift:streak';
  if (m.kind === 'social') return `social:${{ 1: 'follow', 3: 'share' }[m.action] || 'other'}`;
  if (m.kind === 'control') return `control:${m.action}`;
  return m.kind;
}
const bump = (counts, key) => { counts[key] = (counts[key] || 0) + 1; };

async function main() {
  const o = options(process.argv.slice(2));
  const lib = await L.load();
  const schema = o.schema || (lib.major === 1 ? 'v1' : 'v3');
  if (schema === 'v1' && lib.major !== 1) throw new Error('the v1 schema is 1.x\'s own .proto: it needs a 1.x ORACLE_LIB');
  if (o.messages && schema !== 'v3') throw new Error('--messages needs the v3 schema (TikTok\'s own frame layout)');
  const enc = await encoder(schema, lib.dir);
  const real = o.messages ? recorded(o.messages, o.seed) : null;

  fs.mkdirSync(o.out, { recursive: true });
  for (const f of fs.readdirSync(o.out)) if (/^\d+\.bin$/.test(f) || f === 'expected.jsonl') fs.unlinkSync(path.join(o.out, f));
  const expected = o.expected ? fs.createWriteStream(path.join(o.out, 'expected.jsonl')) : null;
  const sha = crypto.createHash('sha256');
  const stats = { frames: 0, msgFrames: 0, gzipFrames: 0, messages: 0, bytes: 0, byKind: {}, events: 0, byEvent: {}, errors: 0 };
  for (const { index, messages: generated, meta } of frames(o.seed, o.frames, o.gzip)) {
    const messages = real ? generated.map(() => real.next()) : generated;
    const buf = enc.frame(messages, meta);
    const name = `${String(index).padStart(6, '0')}.bin`;
    fs.writeFileSync(path.join(o.out, name), buf);
    sha.update(buf);
    stats.frames++;
    stats.bytes += buf.length;
    if (meta.payloadType === 'msg') {
      stats.msgFrames++;
      if (meta.gzip) stats.gzipFrames++;
    }
    stats.messages += messages.length;
    messages.forEach((m) => bump(stats.byKind, kindOf(m)));
    if (expected) {
      const events = await lib.decodeFrame(buf);
      for (const e of events) {
        stats.events++;
        bump(stats.byEvent, e.event);
        if (e.event === 'error') stats.errors++;
      }
      if (!expected.write(JSON.stringify({ frame: name, events }) + '\n')) await new Promise((r) => expected.once('drain', r));
    }
  }
  if (expected) await new Promise((r) => expected.end(r));
  const manifest = {
    generator: 'tests/oracle/gen.js', seed: o.seed, recordedMessages: real ? real.count : undefined, frames: o.frames, gzipFraction: o.gzip, schema, encoderSchema: enc.schema,
    library: o.expected ? { name: lib.name, version: lib.version } : null, node: process.version,
    framesSha256: sha.digest('hex'), stats,
  };
  fs.writeFileSync(path.join(o.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  process.stderr.write(`gen.js: ${o.out}: ${stats.frames} frames, ${stats.messages} messages, ${stats.events} events ` +
    `(${stats.errors} errors) from ${lib.name}@${lib.version}, ${schema} schema\n`);
  process.exit(0); // 2.x keeps an HTTP agent alive
}
main().catch((e) => { process.stderr.write(`gen.js: ${(e && e.stack) || e}\n`); process.exit(1); });
