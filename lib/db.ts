import pg from 'pg';
import { sqlFile, type NamedQuery } from './sql.js';

// Bigints (seq, counters) arrive as strings by default; they fit in a JS number for our ranges.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/**
 * oriva_api: the REST API's role, limited by row-level security to the acting app/user.
 * oriva_system: worker, gateway and CLI; sees every row, cannot change the schema.
 */
export type DbRole = 'oriva_api' | 'oriva_system';

export interface PoolOptions {
  role: DbRole;
  max?: number;
  applicationName?: string;
}

export function makePool(connectionString: string, { role, max = 10, applicationName = 'oriva' }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    // The role is switched in the startup packet, so no connection is ever used as the owner.
    options: `-c role=${role}`,
  });
  // An idle client losing its server (Postgres restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Who acts in a transaction; row-level security reads these through oriva.acting_*(). */
export interface Actor {
  appId?: string | null;
  userId?: string | null;
  platform?: boolean;
}

const setActor = sqlFile('session/set_actor');

/** Run fn in one transaction with the actor set for row-level security. */
export async function inTransaction<T>(pool: pg.Pool, actor: Actor, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query({ ...setActor, values: [actor.appId ?? '', actor.userId ?? '', actor.platform ? 'on' : 'off'] });
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Run one named statement and return its rows. */
export async function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: Queryable,
  query: NamedQuery,
  values: unknown[] = [],
): Promise<R[]> {
  const result = await db.query<R>({ name: query.name, text: query.text, values });
  return result.rows;
}
