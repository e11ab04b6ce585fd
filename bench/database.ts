// A database for one bench: a fresh embedded Postgres in a temp dir (or a new database on
// DATABASE_URL's server), migrated like the test template. synchronous_commit stays on.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, stopEmbeddedPostgres } from '../lib/database.js';
import { freePort } from '../lib/listen.js';
import { migrateDatabase } from '../lib/migrate.js';

export interface BenchDatabase {
  url: string;
  stop(): Promise<void>;
}


export async function benchDatabase(): Promise<BenchDatabase> {
  const name = `oriva_bench_${process.pid}`;
  let adminUrl: string;
  let dataDir: string | null = null;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'oriva-bench-'));
    chmodSync(dataDir, 0o755);
    adminUrl = (await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' })).adminUrl;
  }
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString(), { includeCurrent: true });
  return {
    url: url.toString(),
    stop: async () => {
      if (dataDir) {
        await stopEmbeddedPostgres(dataDir);
        rmSync(dataDir, { recursive: true, force: true });
      } else {
        const drop = new pg.Client(adminUrl);
        await drop.connect();
        await drop.query(`drop database if exists ${name} with (force)`);
        await drop.end();
      }
    },
  };
}
