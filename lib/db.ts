import pg from 'pg';
import { unauthorized } from './errors.js';
import { valuesOf, type NamedQuery, type Statement } from './sql.js';

// Bigints (seq, counters) arrive as strings by default; they fit in a JS number for our ranges.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** 401 for an actor whose key was revoked (or app disabled) since it was identified. */
export const revokedCredentials = () => unauthorized('Invalid, expired or revoked credentials');

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/**
 * oriva_api: the REST API's role, limited by row-level security to the acting app/user.
 * oriva_system: worker, gateway and CLI; sees every row, cannot change the schema.
 */
export type DbRole = 'oriva_api' | 'oriva_system';

/**
 * Session limits of our own connections, set in the startup packet. A transaction left idle holds back
 * real-time release (gateway/listener.ts) and vacuum, so it is ended after IDLE_TRANSACTION_TIMEOUT_MS;
 * the API's statements are bounded too. (Not `alter role … set`: that applies to the login role only,
 * and every session of ours logs in as the owner and switches role.)
 */
export const IDLE_TRANSACTION_TIMEOUT_MS = 60_000;
export const API_STATEMENT_TIMEOUT_MS = 30_000;

export function sessionLimits(role: DbRole | null): string {
  const limits = `-c idle_in_transaction_session_timeout=${IDLE_TRANSACTION_TIMEOUT_MS}`;
  return role === 'oriva_api' ? `${limits} -c statement_timeout=${API_STATEMENT_TIMEOUT_MS}` : limits;
}

export interface PoolOptions {
  role: DbRole;
  max?: number;
  applicationName?: string;
}

export function makePool(connectionString: string, { role, max = 10, applicationName = 'oriva' }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Keep connections for a while: a new one costs a connect and a fresh parse and plan of every
    // prepared statement, which shows as a latency spike when load rises again (pg's default is 10 s).
    idleTimeoutMillis: 300_000,
    application_name: applicationName,
    // A database that never answers a connect is an error (503 in the API), not a request that hangs.
    connectionTimeoutMillis: 10_000,
    // The role is switched in the startup packet, so no connection is ever used as the owner.
    options: `-c role=${role} ${sessionLimits(role)}`,
  });
  // An idle client losing its server (Postgres restart) must not crash the process.
  pool.on('error', () => {});
  // Nor may a client in use: pg fails its queries *and* emits 'error' on it, and pg-pool listens
  // only while a client is idle — Postgres stopping mid-transaction was an uncaught exception. The
  // failed query is the caller's error; the pool drops the dead client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Who acts in a transaction; row-level security reads these through oriva.acting_*(). */
export interface Actor {
  appId?: string | null;
  userId?: string | null;
  platform?: boolean;
  /** The digest of the API key the app called with: the transaction checks that it is still live. */
  keyHash?: Buffer | null;
}

/**
 * oriva.act_as() as literals escaped by the driver — after `begin` in the same round trip when it opens
 * the transaction (a simple query of several statements): the round trip saved is most of what a short
 * transaction costs.
 */
function actAsText(client: pg.PoolClient, actor: Actor, options: TransactionOptions & { begin: boolean }): string {
  const text = (value: string | null | undefined) => (value ? client.escapeLiteral(value) : 'null');
  const key = actor.keyHash ? `'\\x${actor.keyHash.toString('hex')}'::bytea` : 'null';
  const plans = options.genericPlans ? 'set local plan_cache_mode = force_generic_plan; ' : '';
  const begin = options.begin ? `begin; ${plans}` : '';
  return `${begin}select oriva.act_as(${text(actor.appId)}, ${text(actor.userId)}, ${actor.platform ? 'true' : 'false'}, ${key}) as live`;
}

/**
 * Set the row-level-security actor of the open transaction (or open it with `begin`): true when the
 * actor's API key is still live. A group-committed transaction (server/group-commit.ts) switches
 * actor between its members' writes.
 */
export async function actAs(client: pg.PoolClient, actor: Actor, options: TransactionOptions & { begin: boolean }): Promise<boolean> {
  const results = (await client.query(actAsText(client, actor, options))) as unknown as pg.QueryResult<{ live: boolean }> | pg.QueryResult<{ live: boolean }>[];
  const last = Array.isArray(results) ? results[results.length - 1] : results;
  return last?.rows[0]?.live === true;
}

export interface TransactionOptions {
  /**
   * Run the prepared statements with their generic plan (the REST API's writes). The write statements
   * are written to serve every call (batches as arrays, optional values as nulls), so a plan made for
   * one call's values is no better than the generic one — but Postgres' default keeps re-planning them
   * while the generic cost estimate looks higher, and planning the create statement costs more than
   * running it: on one connection a one-notification create took 1.39 ms planned per call and 0.66 ms
   * with the generic plan. Reads keep the default: an optional filter (e.g. the event log's entity_id)
   * picks its index only in a plan made for the call's values.
   */
  genericPlans?: boolean;
}

/**
 * Run fn in one transaction with the actor set for row-level security (the REST API). An actor whose
 * API key was revoked (or whose app was disabled) since it was identified gets 401 before fn runs.
 */
export function inTransaction<T>(pool: pg.Pool, actor: Actor, fn: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return runTransaction(pool, async (client) => {
    if (!(await actAs(client, actor, { ...options, begin: true }))) throw revokedCredentials();
  }, fn);
}

/**
 * Run fn in one transaction with no actor set (worker, CLI and gateway: the oriva_system role), or
 * with actors fn sets itself through actAs (the REST API's shared creates, server/group-commit.ts).
 */
export function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return runTransaction(pool, async (client) => {
    await client.query(options.genericPlans ? 'begin; set local plan_cache_mode = force_generic_plan' : 'begin');
  }, fn);
}

async function runTransaction<T>(pool: pg.Pool, begin: (client: pg.PoolClient) => Promise<void>, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await begin(client);
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

/** Run one statement and return its rows: positional values, or one object for a statement with named parameters. */
export async function run<P extends object, R extends pg.QueryResultRow>(db: Queryable, query: Statement<P, R>, args: P): Promise<R[]>;
export async function run<R extends pg.QueryResultRow = pg.QueryResultRow>(db: Queryable, query: NamedQuery, values?: unknown[]): Promise<R[]>;
export async function run<R extends pg.QueryResultRow>(db: Queryable, query: NamedQuery, args: unknown[] | object = []): Promise<R[]> {
  const values = Array.isArray(args) ? args : valuesOf(query as Statement<object, unknown>, args);
  const result = await db.query<R>({ name: query.name, text: query.text, values });
  return result.rows;
}
