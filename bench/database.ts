// A database for one bench: a fresh embedded Postgres in a temp dir (or a new database on
// DATABASE_URL's server), migrated like the test template. synchronous_commit stays on.
import { createMigratedDatabase, dropDatabase, releaseScratchServer, scratchServer } from '../lib/dev/scratch.js';
import { generateSecretsKey } from '../lib/secrets.js';

/** Benches run their processes as production does, which needs a SECRETS_KEY: a fresh one per run. */
export const BENCH_SECRETS_KEY = generateSecretsKey('bench');

export interface BenchDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function benchDatabase(): Promise<BenchDatabase> {
  const name = `oriva_bench_${process.pid}`;
  const { adminUrl, dataDir } = await scratchServer('oriva-bench');
  const url = await createMigratedDatabase(adminUrl, name);
  return {
    url,
    stop: async () => {
      if (dataDir) await releaseScratchServer(dataDir);
      else await dropDatabase(adminUrl, name);
    },
  };
}
