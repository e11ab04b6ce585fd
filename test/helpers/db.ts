// One database per test file, cloned from the migrated template: files run in parallel and never
// share rows. Everything opened here is closed in teardown.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { makePool, type DbRole, type Pool } from '../../lib/db.js';
import { createDatabase, dropDatabase } from '../../lib/dev/scratch.js';
import { readRunState } from './run-state.js';

export interface TestDatabase {
  name: string;
  /** Connects as the login that owns the schema (like the worker and migrations). */
  url: string;
  /** oriva_system: sees every row; for setup and for checking what was written. */
  system: Pool;
  /** The login role itself (owner of the schema, like migrations): for catalog-level checks. */
  owner: Pool;
  /** A pool of the given runtime role, closed in teardown. */
  pool(role: DbRole): Pool;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function testDatabase(t: Teardown): Promise<TestDatabase> {
  const { adminUrl, template } = readRunState();
  const name = `oriva_t_${randomBytes(6).toString('hex')}`;
  const url = await createDatabase(adminUrl, name, template);
  const pools: Pool[] = [];
  const pool = (role: DbRole) => {
    const p = makePool(url, { role, max: 5, applicationName: 'oriva-test' });
    pools.push(p);
    return p;
  };
  const system = pool('oriva_system');
  const owner = new pg.Pool({ connectionString: url, max: 2 });
  owner.on('error', () => {});
  pools.push(owner);
  t.teardown(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await dropDatabase(adminUrl, name);
  });
  return { name, url, system, owner, pool };
}
