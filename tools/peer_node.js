#!/usr/bin/env node
'use strict';
// The Node stack make bench-e2e compares tiktok2mqtt with: what a user would otherwise glue
// together. tiktok-live-connector 1.2.3 follows every streamer in one process, and mqtt.js 5
// publishes each event as its JSON.stringify to <base>/<user>/<event> at QOS, nothing more.
//
//   SIM=http://127.0.0.1:PORT USERS=load00001,load00002 MQTT_URL=mqtt://127.0.0.1:1883 \
//     QOS=1 node tools/peer_node.js
//
// Environment: SIM (required: web, webcast and sign server), USERS (comma-separated) or
// PREFIX + COUNT (load00001 ... in the simulator's load mode), MQTT_URL, QOS (0 or 1),
// BASE_TOPIC (tiktok). The libraries come from make deps: tiktok-live-connector 1.2.3 from
// build/oracle/v1, mqtt.js 5 from build/npm. Prints
// {"connected":N} on stdout once every streamer is connected, and {"published":N} at the end
// (SIGTERM). Loopback only: tests/oracle/guard.js refuses any other connection.
// SPDX-License-Identifier: MIT
const path = require('node:path');
require('../tests/oracle/guard.js');

const ROOT = path.join(__dirname, '..', 'build', 'oracle', 'v1', 'node_modules');
const lib = require(path.join(ROOT, 'tiktok-live-connector'));
const config = require(path.join(ROOT, 'tiktok-live-connector', 'dist', 'lib', 'webcastConfig.js'));
const mqtt = require(path.join(__dirname, '..', 'build', 'npm', 'node_modules', 'mqtt'));

const SIM = (process.env.SIM || '').replace(/\/+$/, '');
if (!SIM) {
  process.stderr.write('peer_node.js: set SIM (e.g. http://127.0.0.1:8080)\n');
  process.exit(2);
}
const QOS = parseInt(process.env.QOS || '1', 10);
const BASE = process.env.BASE_TOPIC || 'tiktok';
let users = (process.env.USERS || '').split(',').filter(Boolean);
if (users.length === 0) {
  const n = parseInt(process.env.COUNT || '1', 10);
  const prefix = process.env.PREFIX || 'load';
  for (let i = 1; i <= n; i++) users.push(prefix + String(i).padStart(5, '0'));
}
// the library's hosts are module settings read at call time: point them at the simulator
config.TIKTOK_URL_WEB = SIM + '/';
config.TIKTOK_URL_WEBCAST = SIM + '/webcast/';
config.TIKTOK_HTTP_ORIGIN = SIM;
lib.signatureProvider.config.signProviderHost = SIM + '/';
lib.signatureProvider.config.signProviderFallbackHosts = [];

// what the library emits besides the events themselves
const CONTROL = new Set(['connected', 'disconnected', 'streamEnd', 'websocketConnected', 'error',
  'rawData', 'decodedData', 'websocketData']);

const client = mqtt.connect(process.env.MQTT_URL || 'mqtt://127.0.0.1:1883',
  { protocolVersion: 5, clean: true, clientId: 'peer-node-' + process.pid });
let published = 0;
let connected = 0;

client.on('connect', () => {
  for (const u of users) {
    const conn = new lib.WebcastPushConnection(u, { enableExtendedGiftInfo: false, requestOptions: { proxy: false } });
    const emit = conn.emit.bind(conn);
    conn.emit = (name, ...args) => {
      if (!CONTROL.has(name) && args.length === 1) {
        client.publish(`${BASE}/${u}/${name}`, JSON.stringify(args[0]), { qos: QOS });
        published++;
      }
      return emit(name, ...args);
    };
    conn.on('error', () => {});
    conn.connect().then(() => {
      if (++connected === users.length) process.stdout.write(JSON.stringify({ connected }) + '\n');
    }, (e) => process.stderr.write(`peer_node.js: ${u}: ${(e && e.message) || e}\n`));
  }
});
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ published }) + '\n');
  client.end(false, {}, () => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
