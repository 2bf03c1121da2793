#!/usr/bin/env node
'use strict';
// The real tiktok-live-connector connection class against our simulator: connects as a user of the
// library would, and prints every event it emits as one JSON line ({event, data}; the rendering of
// decode.js). Exits about 1 s after 'disconnected', or after CLIENT_TIMEOUT_MS.
//
//   TIKTOK_BASE=http://127.0.0.1:PORT WEBCAST_BASE=http://127.0.0.1:PORT node tests/oracle/client.js
//
// Environment:
//   TIKTOK_BASE, WEBCAST_BASE  (required) what stands in for www.tiktok.com and webcast.tiktok.com
//   SIGN_BASE          the sign server (default WEBCAST_BASE)
//   ORACLE_LIB         the library (default 1.2.3 of build/oracle; see library.js)
//   UNIQUE_ID          the streamer (default the_host); ROOM_ID skips the room-id lookup
//   EXTENDED_GIFTS=1   enableExtendedGiftInfo;  FETCH_ROOM_INFO=0  fetchRoomInfoOnConnect off
//   CLIENT_TIMEOUT_MS  default 60000;  TLS_INSECURE=1 accepts a self-signed https/wss simulator
// The WebSocket URL is the one the simulator hands out (1.x: im/fetch's wsUrl; 2.x: the sign
// server's pushServer). guard.js refuses every connection that is not loopback.
// SPDX-License-Identifier: MIT
const path = require('node:path');
const L = require('./library.js');

function base(name, fallback) {
  const v = process.env[name] || fallback;
  if (!v) {
    process.stderr.write(`client.js: set ${name} (e.g. http://127.0.0.1:8080)\n`);
    process.exit(2);
  }
  return v.replace(/\/+$/, '');
}
const WEB = base('TIKTOK_BASE');
const WEBCAST = base('WEBCAST_BASE');
const SIGN = base('SIGN_BASE', WEBCAST);
const UNIQUE_ID = process.env.UNIQUE_ID || 'the_host';
const TIMEOUT_MS = parseInt(process.env.CLIENT_TIMEOUT_MS || '60000', 10);
if (process.env.TLS_INSECURE === '1') process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const options = {
  enableExtendedGiftInfo: process.env.EXTENDED_GIFTS === '1',
  fetchRoomInfoOnConnect: process.env.FETCH_ROOM_INFO !== '0',
};

const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

// 1.x reads its hosts at call time from the module webcastConfig, and its sign server from
// signatureProvider.config: both are writable, and we write our bases there.
function connection1(dir) {
  const lib = require(dir);
  const config = require(path.join(dir, 'dist', 'lib', 'webcastConfig.js'));
  config.TIKTOK_URL_WEB = WEB + '/';
  config.TIKTOK_URL_WEBCAST = WEBCAST + '/webcast/';
  config.TIKTOK_HTTP_ORIGIN = WEB;
  lib.signatureProvider.config.signProviderHost = SIGN + '/';
  lib.signatureProvider.config.signProviderFallbackHosts = [];
  return new lib.WebcastPushConnection(UNIQUE_ID, { ...options, requestOptions: { proxy: false } });
}

// 2.x takes its hosts as options (host:port only) and the sign server from SignConfig. It picks
// the scheme itself, https for loopback hosts: a got hook puts back the scheme of our base URLs.
async function connection2(dir) {
  const lib = await L.importFile(path.join(dir, 'dist', 'index.js'));
  lib.SignConfig.basePath = SIGN;
  lib.SignConfig.baseOptions = { ...lib.SignConfig.baseOptions, proxy: false };
  const web = new URL(WEB);
  const webcast = new URL(WEBCAST);
  const scheme = (req) => {
    const u = req.url;
    if (u && u.host === web.host) u.protocol = web.protocol;
    else if (u && u.host === webcast.host) u.protocol = webcast.protocol;
  };
  return new lib.TikTokLiveConnection(UNIQUE_ID, {
    ...options,
    webConfigOverrides: { TIKTOK_HOST_WEB: web.host, TIKTOK_HOST_WEBCAST: webcast.host },
    webClientOptions: { hooks: { beforeRequest: [scheme] } },
  });
}

async function main() {
  const pkg = L.pkgOf(L.LIB);
  process.stderr.write(`client.js: ${pkg.name}@${pkg.version} web=${WEB} webcast=${WEBCAST} sign=${SIGN}\n`);
  const conn = parseInt(pkg.version, 10) === 1 ? connection1(L.LIB) : await connection2(L.LIB);
  // websocketConnected's argument is the socket itself: only its name is printed
  L.tap(conn, (name, args) => print(name === 'websocketConnected' ? { event: name } : L.render(name, args)));
  let leaving = false;
  const leave = (code) => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(code), 300); // lets stdout drain
  };
  conn.on('disconnected', () => setTimeout(() => leave(0), 1000)); // late events still print
  setTimeout(() => { print({ event: '$timeout', data: { ms: TIMEOUT_MS } }); leave(0); }, TIMEOUT_MS).unref();
  try {
    await conn.connect(process.env.ROOM_ID || undefined);
  } catch (err) {
    print({ event: '$connectFailed', data: { message: String((err && err.message) || err) } });
    leave(1);
  }
}
main().catch((e) => { process.stderr.write(`client.js: ${(e && e.stack) || e}\n`); process.exit(1); });
