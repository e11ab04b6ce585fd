// Boot the real processes in-process on port 0 against a test database; closed in teardown.
import { createApp, type NewApp } from '../../lib/apps.js';
import { loadConfig, type Config } from '../../lib/config.js';
import { makeLogger } from '../../lib/log.js';
import { signUserToken } from '../../lib/tokens.js';
import { startServer, type ServerHandle } from '../../server/server.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../worker/worker.js';
import { startGateway, type GatewayHandle } from '../../gateway/gateway.js';
import type { TestDatabase } from './db.js';
import { TEST_SECRETS_KEY } from './secrets-key.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';
export { TEST_SECRETS_KEY };

/**
 * The configuration a test process runs with; env overrides as strings, like the real thing.
 * INSTALL_REQUIRED is off here: the suites of part one write to users who never installed their
 * test apps, and their subject is something else. test/server/installations.test.ts and the other
 * installation tests turn it on (the default in production) and test the rule itself.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    INSTALL_REQUIRED: 'false', ...env,
  });
}

export const testLogger = (name: string, config: Config) => makeLogger(name, config.logLevel);

export async function startTestServer(t: Teardown, db: TestDatabase, env: Record<string, string> = {}): Promise<ServerHandle> {
  const config = testConfig(env);
  const server = await startServer(config, db.url, testLogger('server', config), 0);
  t.teardown(() => server.close());
  return server;
}

export async function startTestWorker(t: Teardown, db: TestDatabase, env: Record<string, string> = {}, options: WorkerOptions = {}): Promise<WorkerHandle> {
  const config = testConfig(env);
  const worker = await startWorker(config, db.url, testLogger('worker', config), options);
  t.teardown(() => worker.close());
  return worker;
}

export async function startTestGateway(t: Teardown, db: TestDatabase, env: Record<string, string> = {}): Promise<GatewayHandle> {
  const config = testConfig(env);
  const gateway = await startGateway(config, db.url, testLogger('gateway', config), 0);
  t.teardown(() => gateway.close());
  return gateway;
}

export interface TestApp {
  appId: string;
  apiKey: string;
  /** { authorization: 'Bearer oriva_sk_…' } */
  auth: Record<string, string>;
}

let appCounter = 0;

/** An app with a live key; ids default to test-app-1, test-app-2, … */
export async function createTestApp(db: TestDatabase, app: Partial<NewApp> = {}): Promise<TestApp> {
  const id = app.id ?? `test-app-${++appCounter}`;
  const issued = await createApp(db.system, { id, name: app.name ?? `Test App ${id}`, iconUrl: app.iconUrl ?? null, platform: app.platform ?? false });
  return { appId: issued.app_id, apiKey: issued.api_key, auth: { authorization: `Bearer ${issued.api_key}` } };
}

/** A user JWT signed with the test secret, and the matching Authorization header. */
export async function userAuth(userId: string, ttlSeconds = 3600): Promise<{ token: string; auth: Record<string, string> }> {
  const token = await signUserToken(TEST_JWT_SECRET, userId, ttlSeconds);
  return { token, auth: { authorization: `Bearer ${token}` } };
}
