// Runs once after the suite (tap "after"): drop the template; stop the embedded Postgres.
import { rmSync } from 'node:fs';
import pg from 'pg';
import { stopEmbeddedPostgres } from '../lib/database.js';
import { readRunState, removeRunState } from './helpers/run-state.js';

const { adminUrl, template, embeddedDataDir } = readRunState();
if (embeddedDataDir) {
  await stopEmbeddedPostgres(embeddedDataDir);
  rmSync(embeddedDataDir, { recursive: true, force: true });
} else {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`drop database if exists ${template} with (force)`);
  await admin.end();
}
removeRunState();
