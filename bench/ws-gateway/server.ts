// The reference for the gateway bench: a plain `ws` gateway as the seeds would write it. Same
// endpoint, same auth (user JWT or app API key), same NOTIFY channel; for each NOTIFY (a hint: the
// statement's newest seq; the benches write one event a statement) it reads that event and forwards
// it to the matching connections (no resume, no ordering guarantees: a pure fan-out baseline).
// Run: DATABASE_URL=… PORT=… JWT_SECRET=… node --import tsx bench/ws-gateway/server.ts
import { createServer } from 'node:http';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadConfig } from '../../lib/config.js';
import { toEventMessage, type EventRow } from '../../lib/events.js';
import { bearerOf, resolveCaller } from '../../lib/callers.js';

const config = loadConfig();
const url = process.env.DATABASE_URL!;
// No connect timeout (makePool's is 10 s): while it sends a fan-out burst its event loop is busy for
// seconds, and a read queued meanwhile must wait for it, not fail and crash the reference.
const pool = new pg.Pool({ connectionString: url, max: 8, options: '-c role=oriva_system' });
pool.on('error', () => {});
const byUser = new Map<string, Set<WebSocket>>();
const byApp = new Map<string, Set<WebSocket>>();

function add(index: Map<string, Set<WebSocket>>, key: string, ws: WebSocket): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(ws);
  ws.on('close', () => set.delete(ws));
}

const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ok"}');
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
server.on('upgrade', (req, socket, head) => {
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const bearer = bearerOf(req.headers.authorization) ?? query.get('auth');
  void (async () => {
    const caller = bearer ? await resolveCaller(pool, config, bearer) : null;
    if (!caller) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (caller.kind === 'user') add(byUser, caller.userId, ws);
      else add(byApp, caller.appId, ws);
      ws.send(JSON.stringify({ type: 'ready' }));
    });
  })();
});

const listener = new pg.Client({ connectionString: url });
await listener.connect();
listener.on('notification', (message) => void (async () => {
  const { seq } = JSON.parse(message.payload ?? '{}') as { seq: number };
  const row = (await pool.query<EventRow>('select * from oriva.platform_events where seq = $1', [seq])).rows[0];
  if (!row) return;
  const frame = JSON.stringify({ type: 'event', ...toEventMessage(row) });
  for (const ws of (row.user_id && byUser.get(row.user_id)) || []) ws.send(frame);
  for (const ws of byApp.get(row.app_id) ?? []) ws.send(frame);
})());
await listener.query('listen oriva_events');
server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => console.log('ws-gateway listening'));
const stop = () => {
  wss.clients.forEach((ws) => ws.terminate());
  server.close();
  void Promise.all([listener.end(), pool.end()]).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
