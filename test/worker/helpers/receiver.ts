// A webhook receiver on loopback (node:http) for worker tests: each path answers with a scripted
// handler; every request is recorded with its headers, body and arrival time. Closed in teardown.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../../../lib/listen.js';

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, count: number) => void;

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Receiver {
  url(path: string): string;
  port: number;
  on(path: string, handler: Handler): void;
  requests(path: string): ReceivedRequest[];
  waitFor(path: string, count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
}

export async function startReceiver(t: Teardown, host = '127.0.0.1'): Promise<Receiver> {
  const handlers = new Map<string, Handler>();
  const received = new Map<string, ReceivedRequest[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const list = received.get(path) ?? [];
      list.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      received.set(path, list);
      const handler = handlers.get(path) ?? ((_req, res) => res.writeHead(200).end('ok'));
      handler(req, res, list.length);
    });
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server, 0, host);
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const requests = (path: string) => received.get(path) ?? [];
  return {
    port,
    url: (path) => `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    on: (path, handler) => void handlers.set(path, handler),
    requests,
    waitFor: async (path, count, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (requests(path).length < count) {
        if (Date.now() > deadline) throw new Error(`${path}: ${requests(path).length} of ${count} requests after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return requests(path);
    },
  };
}
