// A proxy on loopback in front of the gateway that passes plain HTTP (the long-poll) and can refuse
// WebSocket upgrades, as a corporate proxy does. Closed in teardown.
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { listen } from '../../lib/listen.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface UpgradeProxy {
  port: number;
  /** Refuse upgrades with 403 (true) or pass them (false). */
  blockUpgrades(block: boolean): void;
}

/** `target()` is read for each request, so the gateway behind it may restart on another port. */
export async function startUpgradeProxy(t: Teardown, target: () => number): Promise<UpgradeProxy> {
  let blocked = false;
  const proxy = createServer((req, res) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: target(), path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  proxy.on('upgrade', (req, socket, head) => {
    if (blocked) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(target(), '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)];
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  proxy.on('connection', (socket) => t.teardown(() => socket.destroy()));
  const port = await listen(proxy, 0, '127.0.0.1');
  t.teardown(() => new Promise((resolve) => proxy.close(resolve)));
  return { port, blockUpgrades: (block) => (blocked = block) };
}
