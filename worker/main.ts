// npm run worker: webhook delivery, expiry and archival (run N copies; SIGTERM drains in-flight
// jobs). WORKER_CONCURRENCY jobs at a time; Prometheus metrics on WORKER_METRICS_PORT (/metrics).
import { exitOnStartupError, loadConfig } from '../lib/config.js';
import { resolveDatabase } from '../lib/database.js';
import { makeLogger } from '../lib/log.js';
import { stopOnSignals } from '../lib/process.js';
import { startMetricsServer } from './metrics.js';
import { startWorker } from './worker.js';

try {
  const config = loadConfig();
  const log = makeLogger('worker', config.logLevel);
  const { url } = await resolveDatabase(config, { startEmbedded: false });
  const worker = await startWorker(config, url, log);
  const metrics = await startMetricsServer(worker.metrics, config.workerMetricsPort, config.host).catch(async (err) => {
    await worker.close();
    throw err;
  });
  log.info({ concurrency: config.workerConcurrency, metrics: `http://${config.host}:${metrics.port}/metrics` }, 'worker running');
  stopOnSignals(log, async () => {
    await worker.close();
    await metrics.close();
  }, 30_000);
} catch (err) {
  exitOnStartupError('worker', err);
}
