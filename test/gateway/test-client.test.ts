// The test client (helpers.ts) says why an open failed, and opens again only when the socket was
// dropped right after an accepted upgrade (uWebSockets issue #1928): against a small uWS server
// that drops the first upgraded socket and refuses upgrades that carry no credentials.
import t from 'tap';
import uws from 'uWebSockets.js';
import { STREAM_PATH } from '../../gateway/protocol.js';
import { Client } from './helpers.js';

let upgrades = 0;
const app = uws.App();
app.ws(STREAM_PATH, {
  upgrade: (res, req, context) => {
    if (!req.getHeader('authorization')) {
      res.writeStatus('401 Unauthorized').end('{"error":"missing_credentials"}');
      return;
    }
    upgrades += 1;
    res.upgrade({ drop: upgrades === 1 }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    setImmediate(() => {
      if ((ws.getUserData() as { drop: boolean }).drop) ws.close(); // no close frame: the client sees 1006
      else ws.send(JSON.stringify({ type: 'ready', seq: 0 }));
    });
  },
});
const listening = await new Promise<uws.us_listen_socket>((resolve, reject) =>
  app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(socket) : reject(new Error('no port')))));
t.teardown(() => uws.us_listen_socket_close(listening));
const server = { url: `ws://127.0.0.1:${uws.us_socket_local_port(listening)}` };

t.test('a socket dropped right after an accepted upgrade is opened once more', async (t) => {
  const client = await Client.open(t, server, { headers: { authorization: 'Bearer x' } });
  t.equal(upgrades, 2, 'the first upgraded socket was dropped, the second reached ready');
  t.same(client.messages, [{ type: 'ready', seq: 0 }]);
});

t.test('a refused upgrade fails at once with its status and body, not opened again', async (t) => {
  const before = upgrades;
  await t.rejects(Client.open(t, server), { message: 'closed before ready (1006; upgrade answered 401: {"error":"missing_credentials"})' });
  t.equal(upgrades, before, 'no upgrade was accepted');
});
