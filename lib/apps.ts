// Creating apps and issuing keys: used by `npx oriva apps …`, `npm start` and the tests.
import { run, transaction, type Pool } from './db.js';
import { displayPrefix, generateApiKey, hashApiKey } from './keys.js';
import { sqlFile } from './sql.js';

export interface NewApp {
  id: string;
  name: string;
  iconUrl?: string | null;
  platform?: boolean;
}

export interface IssuedKey {
  app_id: string;
  api_key: string;
}

const insertApp = sqlFile('apps/insert');
const insertKey = sqlFile('apps/insert_key');
const revokeKeys = sqlFile('apps/revoke_keys');
const appExists = sqlFile('apps/exists');

export class AppNotFoundError extends Error {}

/** Create an app and its first key; the plaintext key exists only in the return value. */
export async function createApp(pool: Pool, app: NewApp): Promise<IssuedKey> {
  return transaction(pool, async (client) => {
    await run(client, insertApp, [app.id, app.name, app.iconUrl ?? null, app.platform ?? false]);
    const apiKey = generateApiKey();
    await run(client, insertKey, [app.id, hashApiKey(apiKey), displayPrefix(apiKey)]);
    return { app_id: app.id, api_key: apiKey };
  });
}

/** Issue a new key; the old ones stop working now, or after graceSeconds. */
export async function rotateKey(pool: Pool, appId: string, graceSeconds = 0): Promise<IssuedKey> {
  return transaction(pool, async (client) => {
    if ((await run(client, appExists, [appId])).length === 0) throw new AppNotFoundError(`no app with id ${JSON.stringify(appId)}`);
    await run(client, revokeKeys, [appId, graceSeconds]);
    const apiKey = generateApiKey();
    await run(client, insertKey, [appId, hashApiKey(apiKey), displayPrefix(apiKey)]);
    return { app_id: appId, api_key: apiKey };
  });
}
