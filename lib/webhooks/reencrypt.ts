// Bring every stored webhook secret under the current SECRETS_KEY: plaintext secrets from before
// encryption, and secrets encrypted with a key that is being rotated out. Run by `npx oriva secrets
// reencrypt` and whenever a worker starts; idempotent, and safe next to concurrent rotations.
import { run, type Queryable } from '../db.js';
import { decryptSecret, encryptSecret, type Keyring } from '../secrets.js';
import { sqlFile, sqlStatement } from '../sql.js';

const toReencrypt = sqlFile('webhooks/secrets_to_reencrypt');
const reencryptSecret = sqlStatement<{
  id: string; webhook_secret: string; previous_secret: string | null; read_secret: string; read_previous_secret: string | null;
}, { id: string }>('webhooks/reencrypt_secret');

interface StoredSecrets {
  id: string;
  app_id: string;
  webhook_secret: string;
  previous_secret: string | null;
}

/** How many webhooks were re-encrypted. Throws SecretsKeyError when a secret's key is not configured. */
export async function reencryptWebhookSecrets(db: Queryable, ring: Keyring): Promise<number> {
  const rows = await run<StoredSecrets>(db, toReencrypt, [`enc:v1:${ring.primaryId}:`]);
  let changed = 0;
  for (const row of rows) {
    const again = (stored: string) => encryptSecret(ring, decryptSecret(ring, stored, row.app_id), row.app_id);
    const updated = await run(db, reencryptSecret, {
      id: row.id, webhook_secret: again(row.webhook_secret), previous_secret: row.previous_secret === null ? null : again(row.previous_secret),
      read_secret: row.webhook_secret, read_previous_secret: row.previous_secret,
    });
    changed += updated.length;
  }
  return changed;
}
