// npm run server: the REST API alone (run N copies behind a load balancer).
import { exitOnStartupError, loadConfig } from '../lib/config.js';
import { resolveDatabase } from '../lib/database.js';
import { makeLogger } from '../lib/log.js';
import { stopOnSignals } from '../lib/process.js';
import { startServer } from './server.js';

try {
  const config = loadConfig();
  const log = makeLogger('server', config.logLevel);
  const { url } = await resolveDatabase(config, { startEmbedded: false });
  const server = await startServer(config, url, log);
  log.info({ url: server.url }, 'REST API listening');
  stopOnSignals(log, () => server.close());
} catch (err) {
  exitOnStartupError('server', err);
}
