// A client generated from /openapi.json with openapi-typescript compiles under strict tsc against a
// small app flow through openapi-fetch (create, batch, feed as a user, PATCH, register a webhook,
// list deliveries, replay), with no escape flag — and the same flow runs against the test server.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import t from 'tap';
import { fromRoot } from '../../lib/paths.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';

const run = promisify(execFile);
const db = await testDatabase(t);
const server = await startTestServer(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' });
const app = await createTestApp(db, { id: 'generated-app' });
const user = await userAuth('generated-user');

// Inside the repository (git-ignored), so the flow resolves openapi-fetch from node_modules.
const dir = fromRoot('.generated', `client-${process.pid}`);
mkdirSync(dir, { recursive: true });
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('generate, type-check under strict tsc, run', async (t) => {
  const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Record<string, unknown>;
  writeFileSync(join(dir, 'api.ts'), astToString(await openapiTS(document as never)));
  writeFileSync(join(dir, 'flow.ts'), readFileSync(fromRoot('test', 'server', 'generated-client', 'flow.ts.txt'), 'utf8'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [], skipLibCheck: false, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true },
    files: ['flow.ts'],
  }));
  const tsc = await run(process.execPath, [fromRoot('node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')]).then(
    () => ({ code: 0, out: '' }),
    (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
  );
  t.same(tsc, { code: 0, out: '' }, 'strict tsc accepts the flow against the generated types');

  const { flow } = (await import(join(dir, 'flow.ts'))) as { flow: (input: Record<string, string>) => Promise<Record<string, unknown>> };
  const result = await flow({ baseUrl: server.url, appKey: app.apiKey, userToken: user.token, appId: 'generated-app', userId: 'generated-user', hookUrl: 'http://127.0.0.1:9/hook' });
  t.match(result, {
    id: /^[0-9a-f-]{36}$/,
    outcomes: [/^created /, 'failed 409 conflict'],
    titles: ['Hello', 'Second'],
    readAt: null,
    total: 2,
    status: 'read',
    secret: /^whsec_/,
    attempts: 0,
    replayed: 0,
    refusal: 'forbidden',
  });
});
