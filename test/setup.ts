// Runs once before the suite (tap "before"): a Postgres for the run (DATABASE_URL's server, else a
// fresh embedded one on a free port) and one migrated template database that test files clone.
import { createMigratedDatabase, releaseScratchServer, scratchServer } from '../lib/dev/scratch.js';
import { writeRunState } from './helpers/run-state.js';

const { adminUrl, dataDir } = await scratchServer('oriva-test');
const template = `oriva_template_${process.pid}`;
try {
  await createMigratedDatabase(adminUrl, template);
} catch (err) {
  await releaseScratchServer(dataDir);
  throw err;
}
writeRunState({ adminUrl, template, embeddedDataDir: dataDir });
console.log(`# test database: template ${template} on ${dataDir ? 'embedded Postgres' : 'DATABASE_URL'}`);
