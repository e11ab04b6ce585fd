// Throwaway Postgres servers and databases for the test suite and the benches: DATABASE_URL's
// server when set, else a fresh embedded one in a temp dir on a free port.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, stopEmbeddedPostgres } from '../database.js';
import { freePort } from '../listen.js';
import { migrateDatabase } from '../migrate.js';

/** A temp dir Postgres can use (it runs as another account when we are root). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export interface ScratchServer {
  /** Connection to a database that may create and drop others. */
  adminUrl: string;
  /** Set when an embedded Postgres was started here (releaseScratchServer stops it). */
  dataDir: string | null;
}

export async function scratchServer(prefix: string): Promise<ScratchServer> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, dataDir: null };
  const dataDir = scratchDir(prefix);
  const { adminUrl } = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
  return { adminUrl, dataDir };
}

/** Stop and delete an embedded scratch server (nothing to do for DATABASE_URL's). */
export async function releaseScratchServer(dataDir: string | null): Promise<void> {
  if (!dataDir) return;
  await stopEmbeddedPostgres(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
}

/** The same server as adminUrl, another database. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A new database (optionally a copy of a template). Names are ours, never user input. */
export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  await adminQuery(adminUrl, `create database ${name}${template ? ` template ${template}` : ''}`);
  return databaseUrl(adminUrl, name);
}

/** A new database migrated like the test template (committed migrations + migrations/current). */
export async function createMigratedDatabase(adminUrl: string, name: string): Promise<string> {
  await dropDatabase(adminUrl, name);
  const url = await createDatabase(adminUrl, name);
  await migrateDatabase(url, { includeCurrent: true });
  return url;
}

export function dropDatabase(adminUrl: string, name: string): Promise<void> {
  return adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}
