'use strict';
// Loopback-only network guard for the oracle drivers. Loaded before the library, it wraps
// net.Socket#connect, which every TCP and TLS client of Node ends in (http, https, ws, axios,
// got, fetch): a connection to anything but 127.0.0.0/8, ::1, "localhost" or a unix socket is
// destroyed with an error before any DNS lookup or packet, so a test can never reach TikTok or
// a real sign server, even when an override of the library's hosts is missed.
// SPDX-License-Identifier: MIT
const net = require('node:net');

function loopback(host) {
  if (host === undefined || host === null || host === '' || host === 'localhost') return true;
  const h = String(host).replace(/^\[(.*)\]$/, '$1');
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^(0+:){7}0*1$/.test(h) || /^::ffff:127\./i.test(h);
  return false; // a name: refused rather than resolved
}

// The host a connect() call aims at; the forms are those of net.Socket#connect (options object,
// port [, host], unix path) plus the [options, callback] pair Node passes internally.
function target(args) {
  let a = args[0];
  if (Array.isArray(a)) a = a[0];
  if (a && typeof a === 'object') return a.path ? 'localhost' : a.host;
  if (typeof a === 'number' || /^\d+$/.test(String(a))) return typeof args[1] === 'string' ? args[1] : 'localhost';
  return 'localhost'; // a string that is not a port is a unix socket path
}

const proto = net.Socket.prototype;
if (!proto.connect.loopbackGuard) {
  const connect = proto.connect;
  const guarded = function (...args) {
    const host = target(args);
    if (loopback(host)) return connect.apply(this, args);
    process.stderr.write(`guard: refused a connection to ${host} (tests talk to loopback only)\n`);
    const err = Object.assign(new Error(`loopback guard: refused ${host}`), { code: 'ELOOPBACKONLY' });
    process.nextTick(() => this.destroy(err));
    return this;
  };
  guarded.loopbackGuard = true;
  proto.connect = guarded;
}

module.exports = { loopback };
