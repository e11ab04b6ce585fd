// npm run worker: webhook delivery, expiry and archival (run N copies; SIGTERM drains).
import { exitOnStartupError, loadConfig } from '../lib/config.js';
import { resolveDatabase } from '../lib/database.js';
import { makeLogger } from '../lib/log.js';
import { stopOnSignals } from '../lib/process.js';
import { startWorker } from './worker.js';

try {
  const config = loadConfig();
  const log = makeLogger('worker', config.logLevel);
  const { url } = await resolveDatabase(config, { startEmbedded: false });
  const worker = await startWorker(config, url, log);
  log.info({ concurrency: config.workerConcurrency }, 'worker running');
  stopOnSignals(log, () => worker.close(), 30_000);
} catch (err) {
  exitOnStartupError('worker', err);
}
