// npm run gateway: the uWebSockets.js real-time gateway (run N copies; each LISTENs).
import { exitOnStartupError, loadConfig } from '../lib/config.js';
import { resolveDatabase } from '../lib/database.js';
import { makeLogger } from '../lib/log.js';
import { stopOnSignals } from '../lib/process.js';
import { startGateway } from './gateway.js';

try {
  const config = loadConfig();
  const log = makeLogger('gateway', config.logLevel);
  const { url } = await resolveDatabase(config, { startEmbedded: false });
  const gateway = await startGateway(config, url, log);
  log.info({ url: gateway.url }, 'gateway listening');
  stopOnSignals(log, () => gateway.close());
} catch (err) {
  exitOnStartupError('gateway', err);
}
