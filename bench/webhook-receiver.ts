// The webhooks bench's receiver, in its own process (like a real endpoint, it does not share the
// worker's CPU): a keep-alive HTTP server on loopback that answers 200 at once (400 without a
// signature) and records when each webhook-id arrived. Over IPC: 'count' → {count}, 'arrivals' →
// {arrivals: [webhook-id, ms since the epoch][]}, 'clear', 'stop'.
import { createServer } from 'node:http';
import { listen } from '../lib/listen.js';

const arrivals = new Map<string, number>();
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    arrivals.set(req.headers['webhook-id'] as string, Date.now());
    if (!req.headers['webhook-signature']) res.writeHead(400);
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
const port = await listen(server, 0, '127.0.0.1');
process.send!({ port });
process.on('message', (message: string) => {
  if (message === 'count') process.send!({ count: arrivals.size });
  if (message === 'arrivals') process.send!({ arrivals: [...arrivals] });
  if (message === 'clear') {
    arrivals.clear();
    process.send!({ cleared: true });
  }
  if (message === 'stop') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
