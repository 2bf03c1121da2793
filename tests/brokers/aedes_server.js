// aedes (npm, build/npm: make deps) as a broker on 127.0.0.1:PORT, for tests/brokers.
// Prints `listening PORT` once it accepts; a plain TCP server, in-memory state.
// SPDX-License-Identifier: MIT
'use strict';
const net = require('net');
const aedes = require('aedes')();

const port = Number(process.argv[2]);
const server = net.createServer(aedes.handle);
server.listen(port, '127.0.0.1', () => console.log('listening ' + port));
for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => aedes.close(() => server.close(() => process.exit(0))));
}
