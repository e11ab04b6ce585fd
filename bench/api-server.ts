// The API server as the benches run it: in its own process, in production mode, rate limits out of
// the way; and the notification the API loads create. Shared by api.bench.ts and compare-trees.ts
// (which starts another checkout's server the same way).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../lib/listen.js';
import { fromRoot } from '../lib/paths.js';
import { BENCH_SECRETS_KEY } from './database.js';

export const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench-secret-00';
const UNLIMITED = '10000000';

export interface ApiServer {
  child: ChildProcess;
  url: string;
}

/** Start `<root>/server/main.ts` on DATABASE_URL databaseUrl and wait until it is ready. */
export async function spawnApiServer(databaseUrl: string, env: Record<string, string> = {}, root = fromRoot()): Promise<ApiServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts')], {
    cwd: root,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: BENCH_JWT_SECRET, SECRETS_KEY: BENCH_SECRETS_KEY,
      LOG_LEVEL: 'warn', NODE_ENV: 'production',
      RATE_LIMIT_NOTIFICATIONS: UNLIMITED, RATE_LIMIT_EVENTS: UNLIMITED, RATE_LIMIT_QUERIES: UNLIMITED, RATE_LIMIT_WEBHOOKS: UNLIMITED, ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return { child, url };
    if (i >= 200 || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new Error(`server did not become ready at ${url}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One notification as the API loads post it. */
export const benchNotification = (externalId: string, userId = 'bench_user') => ({
  external_id: externalId, user_id: userId, notification_type: 'session_reminder',
  title: 'Session starting in 10 minutes', body: 'Your session with Sarah starts soon', priority: 'high',
  action_url: 'workbuddy://session/789', context_data: { session_id: 'session_789' },
});
