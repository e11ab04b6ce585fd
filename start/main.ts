// npm start: the whole stack in one process for trying it out. Embedded Postgres (unless
// DATABASE_URL is set) + migrations + REST API + worker (its /metrics on WORKER_METRICS_PORT, as
// `npm run worker`) + gateway, a demo app and a demo user token.
// Ctrl-C stops everything, Postgres included.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, rotateKey } from '../lib/apps.js';
import { installApp } from '../lib/installations.js';
import { DEV_SECRETS_KEY_FILE, exitOnStartupError, loadConfig } from '../lib/config.js';
import { generateSecretsKey } from '../lib/secrets.js';
import { resolveDatabase } from '../lib/database.js';
import { makePool } from '../lib/db.js';
import { startMailCatcher } from '../lib/dev/mail-catcher.js';
import { freePort } from '../lib/listen.js';
import { makeLogger } from '../lib/log.js';
import { migrateDatabase } from '../lib/migrate.js';
import { stopOnSignals } from '../lib/process.js';
import { signUserToken } from '../lib/tokens.js';
import { startServer } from '../server/server.js';
import { startMetricsServer } from '../worker/metrics.js';
import { startWorker } from '../worker/worker.js';
import { startGateway } from '../gateway/gateway.js';

const DEMO_APP = { id: 'demo-app', name: 'Demo App' };
/** A platform app, so that the admin console (/admin) has a key to sign in with. */
const DEMO_PLATFORM_APP = { id: 'oriva-core', name: 'Oriva Core', platform: true };
const DEMO_USER = 'demo-user';

/**
 * Without SECRETS_KEY, npm start keeps a generated one in its data dir (made once, reused by every
 * later start and by the lone npm run server|worker|gateway, which read the same file).
 */
function ensureDevSecretsKey(dataDir: string): void {
  const file = join(dataDir, DEV_SECRETS_KEY_FILE);
  if (existsSync(file)) return;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${generateSecretsKey('dev1')}\n`, { mode: 0o600 });
}

try {
  const started = Date.now();
  if (!process.env.SECRETS_KEY) ensureDevSecretsKey(process.env.ORIVA_DATA_DIR || '.data');
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    // dev only: webhooks may target this machine
    WEBHOOK_ALLOWLIST: '127.0.0.1,localhost,::1',
    ...process.env,
  });
  const log = makeLogger('oriva', config.logLevel);
  const db = await resolveDatabase(config);
  const stops: Array<() => Promise<void>> = [() => db.stop()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((err) => log.error({ err }, 'stop failed'));
  };
  stopOnSignals(log, stopAll, 20_000);
  try {
    await migrateDatabase(db.url);
    const pool = makePool(db.url, { role: 'oriva_system', max: 2, applicationName: 'oriva-start' });
    const createOrRotate = (app: { id: string; name: string; platform?: boolean }) => createApp(pool, app).catch((err: { code?: string }) => {
      if (err.code === '23505') return rotateKey(pool, app.id); // a second start: fresh key
      throw err;
    });
    const demo = await createOrRotate(DEMO_APP);
    const platform = await createOrRotate(DEMO_PLATFORM_APP);
    // The demo user installed the demo app (INSTALL_REQUIRED: otherwise the app could not reach them).
    await installApp(pool, { user_id: DEMO_USER, app_id: DEMO_APP.id, source: 'oriva_core' });
    await pool.end();
    const token = await signUserToken(config.jwtSecret, DEMO_USER, 24 * 3600);

    // The notification center page, served by the API server, connects to the gateway from the browser.
    const pagePort = config.port || (await freePort());
    const pageOrigins = [`http://${config.host}:${pagePort}`, `http://127.0.0.1:${pagePort}`, `http://localhost:${pagePort}`];
    // Without SMTP_URL, email goes to a local mail catcher the page shows as the dev outbox.
    const catcher = config.email.smtpUrl ? null : await startMailCatcher(0, '127.0.0.1');
    if (catcher) stops.push(() => catcher.close());
    const gateway = await startGateway({ ...config, allowedOrigins: [...new Set([...config.allowedOrigins, ...pageOrigins])] }, db.url, log);
    stops.push(() => gateway.close());
    const server = await startServer(config, db.url, log, pagePort, {
      demo: { appId: demo.app_id, apiKey: demo.api_key, userId: DEMO_USER, userToken: token, gatewayUrl: gateway.url, outbox: catcher ?? undefined },
    });
    stops.push(() => server.close());
    const email = {
      ...config.email,
      smtpUrl: config.email.smtpUrl ?? catcher!.url,
      publicUrl: process.env.PUBLIC_URL ? config.email.publicUrl : server.url,
    };
    const worker = await startWorker({ ...config, email }, db.url, log);
    stops.push(() => worker.close());
    const workerMetrics = await startMetricsServer(worker.metrics, config.workerMetricsPort, config.host);
    stops.push(() => workerMetrics.close());

    process.stdout.write(
      [
        '',
        `Oriva Events & Notifications is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
        `  Web page:     ${server.url}/   (notification center; demo user token prefilled)`,
        `  Admin:        ${server.url}/admin   (admin console; sign in with the platform key below)`,
        `  API:          ${server.url}/api/v1   (health: ${server.url}/readyz)`,
        `  Gateway:      ${gateway.url}/api/v1/events/stream`,
        `  Metrics:      ${server.url}/metrics (API), ${gateway.url.replace(/^ws/, 'http')}/metrics (gateway)`,
        `  Worker metrics: http://${config.host}:${workerMetrics.port}/metrics   (WORKER_METRICS_PORT)`,
        catcher ? `  Dev outbox:   ${server.url}/dev/outbox   (no SMTP_URL: emails are caught locally)` : `  Email:        SMTP ${new URL(email.smtpUrl).host}`,
        `  Database:     ${db.owned ? 'embedded Postgres, data in ' + config.dataDir : db.url.replace(/:[^:@/]*@/, ':***@')}`,
        `  Demo app id:  ${demo.app_id}`,
        `  Demo API key: ${demo.api_key}`,
        `  Platform key: ${platform.api_key}   (${platform.app_id}, a platform app)`,
        `  Demo user:    ${DEMO_USER}`,
        `  User token:   ${token}`,
        '',
        'Press Ctrl-C to stop everything.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
} catch (err) {
  exitOnStartupError('npm start', err);
}
