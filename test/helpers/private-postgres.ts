// A Postgres of the test's own (fresh embedded cluster, migrated), for tests that restart or stop
// the server: the shared run cluster must never be restarted under other test files.
import { rmSync } from 'node:fs';
import { startEmbeddedPostgres, stopEmbeddedPostgres } from '../../lib/database.js';
import { scratchDir } from '../../lib/dev/scratch.js';
import { freePort } from '../../lib/listen.js';
import { migrateDatabase } from '../../lib/migrate.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface PrivatePostgres {
  url: string;
  port: number;
  /** Fast shutdown (every session is cut), then start again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}


export async function privatePostgres(t: Teardown): Promise<PrivatePostgres> {
  const dataDir = scratchDir('oriva-private');
  const port = await freePort();
  let running = false;
  const start = async () => {
    await startEmbeddedPostgres({ dataDir, port });
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    running = false;
    await stopEmbeddedPostgres(dataDir);
  };
  await start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/oriva`;
  t.teardown(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await migrateDatabase(url, { includeCurrent: true });
  return { url, port, start, stop, restart: async () => { await stop(); await start(); } };
}
