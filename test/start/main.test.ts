// `npm start` on a machine with no Postgres: embedded Postgres + migrations + server + worker +
// gateway, ready in < 30 s, prints URLs and demo credentials; Ctrl-C leaves no process behind; a
// second start reuses the data.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { scratchDir } from '../../lib/dev/scratch.js';
import { freePort } from '../../lib/listen.js';
import { finished, startChild } from '../helpers/spawn.js';

const dataDir = scratchDir('oriva-start');
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const pgPort = await freePort();

const env = { ORIVA_DATA_DIR: dataDir, ORIVA_PG_PORT: String(pgPort), PORT: '0', GATEWAY_PORT: '0', WORKER_METRICS_PORT: '0', LOG_LEVEL: undefined };

async function startStack() {
  const began = Date.now();
  const child = startChild('start/main.ts', [], env);
  const done = finished(child, 90_000);
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('Press Ctrl-C')) resolve();
    });
    child.on('exit', () => reject(new Error(`npm start exited early: ${stdout}`)));
  });
  return { child, done, stdout, readyMs: Date.now() - began };
}

const field = (stdout: string, label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(stdout)?.[1] ?? '';

function postgresProcesses(): string[] {
  try {
    return execFileSync('pgrep', ['-af', dataDir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

t.test('first start: ready, reachable, and stopped cleanly by Ctrl-C', async (t) => {
  const { child, done, stdout, readyMs } = await startStack();
  t.ok(readyMs < 30_000, `ready in ${readyMs} ms`);
  const api = field(stdout, 'API');
  t.match(api, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
  t.match(field(stdout, 'Gateway'), /^ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/events\/stream$/);
  t.equal(field(stdout, 'Demo app id'), 'demo-app');
  t.match(field(stdout, 'Demo API key'), /^oriva_sk_/);
  t.match(field(stdout, 'User token'), /^eyJ/);
  const page = field(stdout, 'Web page');
  t.match(page, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const html = await fetch(page);
  t.equal(html.status, 200, 'the notification center page is served');
  t.match(await html.text(), /<title>[^<]*Notifications/);
  const admin = field(stdout, 'Admin');
  t.equal(admin, page.replace(/\/$/, '/admin'), 'the admin console URL');
  t.equal((await fetch(admin)).status, 200, 'the admin console is served');
  const me = await fetch(`${api}/me`, { headers: { authorization: `Bearer ${field(stdout, 'Platform key')}` } });
  t.same(((await me.json()) as { caller: unknown }).caller, { kind: 'app', app_id: 'oriva-core', name: 'Oriva Core', platform: true }, 'the printed platform key signs in to the console');
  const workerMetrics = field(stdout, 'Worker metrics');
  t.match(workerMetrics, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/, 'the worker metrics URL, with the bound port');
  const metrics = await fetch(workerMetrics);
  t.equal(metrics.status, 200, "the worker's /metrics is served, as by npm run worker");
  const metricsText = await metrics.text();
  t.match(metricsText, /# TYPE oriva_webhook_deliveries_total counter/);
  t.match(metricsText, /process_resident_memory_bytes [1-9]/);
  const gatewayMetrics = await fetch(field(stdout, 'Gateway').replace(/^ws(.*)\/api\/v1\/events\/stream$/, 'http$1/metrics'));
  t.match(await gatewayMetrics.text(), /oriva_gateway_listening 1/);
  const ready = await fetch(api.replace('/api/v1', '/readyz'));
  t.equal(ready.status, 200);
  t.same(await ready.json(), { status: 'ready' });
  t.ok(postgresProcesses().length > 0, 'the embedded Postgres runs');

  // Without SMTP_URL, email goes to the local catcher, shown at the dev outbox the stdout names.
  const outbox = field(stdout, 'Dev outbox');
  t.match(outbox, /^http:\/\/127\.0\.0\.1:\d+\/dev\/outbox$/);
  const user = { authorization: `Bearer ${field(stdout, 'User token')}`, 'content-type': 'application/json' };
  const app = { authorization: `Bearer ${field(stdout, 'Demo API key')}`, 'content-type': 'application/json' };
  const prefs = await fetch(`${api}/users/demo-user/preferences`, { method: 'PATCH', headers: user, body: JSON.stringify({ email: { address: 'demo@example.com', delay_seconds: 0 } }) });
  t.equal(prefs.status, 200, await prefs.clone().text());
  const sent = await fetch(`${api}/apps/demo-app/notifications`, {
    method: 'POST', headers: app, body: JSON.stringify({ external_id: 'outbox-1', user_id: 'demo-user', notification_type: 'test', title: 'Straight to the outbox', body: 'Hello <b>there</b>' }),
  });
  t.equal(sent.status, 201);
  let caught = '';
  for (let i = 0; i < 100 && !caught.includes('Straight to the outbox'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    caught = await (await fetch(outbox)).text();
  }
  t.match(caught, 'Demo App: Straight to the outbox', 'the email is in the dev outbox');
  t.match(caught, 'Hello &lt;b&gt;there&lt;/b&gt;', 'escaped');
  t.match(caught, 'To demo@example.com');

  child.kill('SIGINT');
  const exit = await done;
  t.equal(exit.code, 0, exit.stderr);
  t.same(postgresProcesses(), [], 'no Postgres process left');
  const probe = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`, connectionTimeoutMillis: 1000 });
  probe.on('error', () => {});
  await t.rejects(probe.connect(), 'nothing listens on the Postgres port');
});

t.test('second start reuses the data directory', async (t) => {
  t.ok(existsSync(join(dataDir, 'pg', 'PG_VERSION')));
  const { child, done, stdout } = await startStack();
  const key = field(stdout, 'Demo API key');
  const api = field(stdout, 'API');
  // The demo app from the first run still exists; it got a fresh key that works.
  const response = await fetch(`${api}/apps/demo-app/events?limit=1`, { headers: { authorization: `Bearer ${key}` } });
  t.equal(response.status, 200, 'the printed key authenticates');
  child.kill('SIGINT');
  t.equal((await done).code, 0);
  t.same(postgresProcesses(), []);
});
