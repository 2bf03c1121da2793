'use strict';
// The real tiktok-live-connector as a test oracle: finds an installed version, loads it, and runs a
// WebSocket frame through the library's own decode path, collecting what it emits. Nothing of the
// library is re-implemented here; we only call it and render its events as JSON.
//
// Where the library is: ORACLE_LIB (a .../node_modules/tiktok-live-connector directory), else
// ORACLE_DIR/v1/... (1.2.3); ORACLE_DIR defaults to build/oracle of this checkout, which
// `make deps` fills (v1 = 1.2.3, v2 = 2.5.0).
// SPDX-License-Identifier: MIT
require('./guard.js');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ORACLE_DIR = path.resolve(process.env.ORACLE_DIR || path.join(__dirname, '..', '..', 'build', 'oracle'));
const libDir = (v) => path.join(ORACLE_DIR, v, 'node_modules', 'tiktok-live-connector');
const LIB = path.resolve(process.env.ORACLE_LIB || libDir('v1'));

const pkgOf = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
const importFile = (f) => import(pathToFileURL(f).href);

// tiktok-live-proto, the schema package 2.x decodes with (and our v3 frames are encoded with).
function protoDir(lib) {
  const cands = [process.env.ORACLE_PROTO, path.join(lib, 'node_modules', 'tiktok-live-proto'),
    path.join(path.dirname(lib), 'tiktok-live-proto'), path.join(ORACLE_DIR, 'v2', 'node_modules', 'tiktok-live-proto')];
  const hit = cands.find((d) => d && fs.existsSync(path.join(d, 'dist', 'node', 'v3.js')));
  if (!hit) throw new Error('tiktok-live-proto not found (make deps installs it with 2.5.0; or set ORACLE_PROTO)');
  return hit;
}

// JSON of an emitted value. 1.x leaves some uint64 as protobufjs Long objects: we print them as the
// decimal string Long#toString() gives, the conversion 1.x applies itself to the ids it converts.
// BigInt -> decimal string, bytes -> base64; undefined members vanish as in JSON.stringify. The
// replacer looks at this[key], the value before toJSON() (Buffer and Long have one) changed it.
function replacer(key, value) {
  const v = this[key];
  if (typeof v === 'bigint') return v.toString();
  if (v && typeof v === 'object') {
    if (v.__isLong__ === true) return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  }
  return value;
}
const toJson = (v) => JSON.stringify(v, replacer);

// One emit as an event line: {event, data} for one argument, {event, args} for several. An 'error'
// carries an exception object: we keep its info and message, which is what a user of the library sees.
function render(name, args) {
  if (name === 'error') {
    const e = args[0] || {};
    const ex = e.exception;
    return { event: name, data: { info: e.info, exception: ex ? String(ex.message || ex) : null } };
  }
  const s = toJson(args.length === 1 ? args[0] : args);
  const v = s === undefined ? null : JSON.parse(s);
  return args.length === 1 ? { event: name, data: v } : { event: name, args: v };
}

// rawData / decodedData / websocketData repeat the other events byte for byte: left out.
const REPEATS = new Set(['rawData', 'decodedData', 'websocketData']);

// Calls onEvent(name, args) for every emit of conn (but the repeats), then lets it go on.
function tap(conn, onEvent) {
  const emit = conn.emit.bind(conn);
  conn.emit = (name, ...args) => {
    if (!REPEATS.has(name)) onEvent(name, args);
    return emit(name, ...args);
  };
  conn.on('error', () => {}); // both versions emit 'error' only when someone listens
  return conn;
}

// What the library's WebSocket client does with a frame that fails to decode: an 'error' event.
const decodeError = (err) => ({ event: 'error', data: { info: 'Websocket message decoding failed', exception: String((err && err.message) || err) } });

// Loads the library at dir (default LIB). Returns {dir, name, version, major, module, conn, onEvent,
// decode(buf): runs the frame through the decode path (throws what it throws),
// decodeFrame(buf): the events it emitted for that frame, as JSON-ready objects}.
async function load(dir = LIB) {
  const pkg = pkgOf(dir);
  const o = { dir, name: pkg.name, version: pkg.version, major: parseInt(pkg.version, 10) };
  let sink = null; // the events of the frame under decodeFrame
  o.onEvent = null; // a benchmark's hook: sees every emit, rendered or not
  const collect = (name, args) => {
    if (o.onEvent) o.onEvent(name, args);
    if (sink) sink.push(render(name, args));
  };
  if (o.major === 1) {
    // 1.x: decodeProtobufMessage('WebcastWebsocketMessage') is what its WebSocket handler calls for
    // every binary message (push frame -> gunzip -> WebcastResponse -> messages -> events), less the ack.
    o.module = require(dir);
    o.conn = tap(new o.module.WebcastPushConnection('oracle_offline', { processInitialData: true }), collect);
    o.decode = (buf) => o.conn.decodeProtobufMessage('WebcastWebsocketMessage', buf);
  } else {
    // 2.x: deserializeWebSocketMessage + processProtoMessageFetchResult, the steps of its
    // WebcastWebSocketClient's message handler, less the ack.
    o.module = await importFile(path.join(dir, 'dist', 'index.js'));
    o.conn = tap(new o.module.TikTokLiveConnection('oracle_offline', { processInitialData: true }), collect);
    o.decode = async (buf) => {
      const frame = await o.module.deserializeWebSocketMessage(buf);
      if (frame.protoMessageFetchResult) await o.conn.processProtoMessageFetchResult(frame.protoMessageFetchResult);
    };
  }
  o.decodeFrame = async (buf) => {
    const events = (sink = []);
    try {
      await o.decode(buf);
    } catch (err) {
      events.push(decodeError(err)); // the frame's later messages are lost, as in the real client
    }
    sink = null;
    return events;
  };
  return o;
}

// The frame files of a corpus directory (NNNNNN.bin), in order.
const frameFiles = (dir) => fs.readdirSync(dir).filter((f) => /^\d+\.bin$/.test(f)).sort();

module.exports = { ORACLE_DIR, LIB, libDir, pkgOf, importFile, protoDir, toJson, render, tap, load, frameFiles };
