import { createServer } from 'node:http';
import type { Config } from '../lib/config.js';
import { makePool } from '../lib/db.js';
import { listen } from '../lib/listen.js';
import type { Logger } from '../lib/log.js';
import { makeApp, type AppDeps } from './app.js';

export interface ServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The REST API on `port` (0 picks a free one). */
export async function startServer(config: Config, databaseUrl: string, log: Logger, port = config.port, extra: Pick<AppDeps, 'demo'> = {}): Promise<ServerHandle> {
  const pool = makePool(databaseUrl, { role: 'oriva_api', max: 20, applicationName: 'oriva-server' });
  const app = makeApp({ config, pool, log, ...extra });
  const handle = app.callback(); // Koa answers its own errors: the promise never rejects
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  let bound: number;
  try {
    bound = await listen(server, port, config.host);
  } catch (err) {
    await pool.end();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host}:${bound}`,
    port: bound,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await pool.end();
      })()),
  };
}
