// Runs once after the suite (tap "after"): drop the template; stop the embedded Postgres.
import { dropDatabase, releaseScratchServer } from '../lib/dev/scratch.js';
import { readRunState, removeRunState } from './helpers/run-state.js';

const { adminUrl, template, embeddedDataDir } = readRunState();
if (embeddedDataDir) await releaseScratchServer(embeddedDataDir);
else await dropDatabase(adminUrl, template);
removeRunState();
