// The client's REST types and operation table (client/src/generated/openapi.ts) are what the
// generator writes from today's OpenAPI document: a route, field or response changed without
// `npm run generate:client` fails here, naming the command.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { GENERATED_FILE, generatedSource } from '../../client/generate.js';

t.test('client/src/generated/openapi.ts is current', async (t) => {
  const fresh = await generatedSource();
  const committed = readFileSync(GENERATED_FILE, 'utf8');
  t.ok(fresh === committed, 'stale: run `npm run generate:client` and commit client/src/generated/openapi.ts');
  t.match(committed, /createNotification: \{ method: 'POST', path: '\/api\/v1\/apps\/\{appId\}\/notifications', idempotencyKey: true \}/);
});
