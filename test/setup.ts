// Runs once before the suite (tap "before"): a Postgres for the run (DATABASE_URL's server, else a
// fresh embedded one on a free port) and one migrated template database that test files clone.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, stopEmbeddedPostgres } from '../lib/database.js';
import { freePort } from '../lib/listen.js';
import { migrateDatabase } from '../lib/migrate.js';
import { databaseUrl, writeRunState } from './helpers/run-state.js';


let adminUrl: string;
let embeddedDataDir: string | null = null;
if (process.env.DATABASE_URL) {
  adminUrl = process.env.DATABASE_URL;
} else {
  embeddedDataDir = mkdtempSync(join(tmpdir(), 'oriva-test-'));
  chmodSync(embeddedDataDir, 0o755); // Postgres runs as another account when we are root
  const db = await startEmbeddedPostgres({ dataDir: embeddedDataDir, port: await freePort(), database: 'postgres' });
  adminUrl = db.adminUrl;
}

const template = `oriva_template_${process.pid}`;
try {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  await admin.end();
  await migrateDatabase(databaseUrl(adminUrl, template), { includeCurrent: true });
} catch (err) {
  if (embeddedDataDir) await stopEmbeddedPostgres(embeddedDataDir);
  throw err;
}
writeRunState({ adminUrl, template, embeddedDataDir });
console.log(`# test database: template ${template} on ${embeddedDataDir ? 'embedded Postgres' : 'DATABASE_URL'}`);
