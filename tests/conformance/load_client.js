#!/usr/bin/env node
'use strict';
// Load-mode smoke client for tests/conformance: one WebSocket per room id of ROOM_IDS_FILE to
// the simulator's push server, counting the frames each receives, until every socket is closed
// (the rooms end) or TIMEOUT_MS passes. Prints one JSON line:
//   {"rooms":N,"opened":N,"closed":N,"with_frames":N,"frames":N,"bytes":N,"codes":{...},"ms":N}
//   ORACLE_LIB=build/oracle/v2/node_modules/tiktok-live-connector \
//     node load_client.js ws://127.0.0.1:PORT ROOM_IDS_FILE TIMEOUT_MS
// Loopback only: tests/oracle/guard.js refuses any other connection; `ws` is the library's own.
// SPDX-License-Identifier: MIT
const fs = require('node:fs');

require('../oracle/guard.js');
const WebSocket = require(require.resolve('ws', { paths: [process.env.ORACLE_LIB] }));

const [base, idsFile, timeoutArg] = process.argv.slice(2);
const ids = fs.readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const st = { rooms: ids.length, opened: 0, closed: 0, with_frames: 0, frames: 0, bytes: 0, codes: {}, ms: 0 };
const t0 = Date.now();
let finished = false;

function done() {
  if (finished) return;
  finished = true;
  st.ms = Date.now() - t0;
  process.stdout.write(JSON.stringify(st) + '\n', () => process.exit(0));
}

for (const id of ids) {
  const ws = new WebSocket(`${base}/webcast/im/push/?room_id=${id}&compress=gzip`, { perMessageDeflate: false });
  let got = 0;
  ws.on('open', () => st.opened++);
  ws.on('message', (data) => {
    st.frames++;
    st.bytes += data.length;
    if (got++ === 0) st.with_frames++;
  });
  ws.on('close', (code) => {
    st.closed++;
    st.codes[code] = (st.codes[code] || 0) + 1;
    if (st.closed === ids.length) done();
  });
  ws.on('error', () => {});
}
setTimeout(done, parseInt(timeoutArg || '20000', 10)).unref();
