// Migrations are graphile-migrate's committed files (migrations/committed); .gmrc's
// beforeAllMigrations hook installs graphile-worker's schema first. This module only runs them.
import { readFileSync, readdirSync } from 'node:fs';
import { delimiter } from 'node:path';
import { migrate, watch, Logger } from 'graphile-migrate';
import { fromRoot } from './paths.js';
// graphile-migrate keeps its pools open for a while after migrate() returns; close them so the
// caller can stop the database (or exit) at once. Not in the package index, hence the deep import.
import { clearAllPools } from 'graphile-migrate/dist/pgReal.js';

// graphile-migrate's progress lines are dropped; its errors and warnings reach stderr.
const quietLogger = new Logger(() => (level: string, message: string) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`graphile-migrate: ${message}\n`);
});

function gmrcSettings(): Record<string, unknown> {
  // .gmrc is JSON5-style JSON with block comments.
  const text = readFileSync(fromRoot('.gmrc'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Run the committed migrations. With includeCurrent (the test suite's template only), also apply the
 * work-in-progress migrations/current/ files, as `graphile-migrate watch --once` does. A test that
 * upgrades a database from an older schema passes migrationsFolder: a copy holding the migrations up
 * to that point.
 */
export async function migrateDatabase(connectionString: string, { includeCurrent = false, migrationsFolder }: { includeCurrent?: boolean; migrationsFolder?: string } = {}): Promise<void> {
  // The hook runs `graphile-worker` from node_modules/.bin, whoever started us.
  const bin = fromRoot('node_modules', '.bin');
  if (!(process.env.PATH ?? '').split(delimiter).includes(bin)) {
    process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
  }
  const cwd = process.cwd();
  process.chdir(fromRoot());
  try {
    const settings = { ...gmrcSettings(), ...(migrationsFolder && { migrationsFolder }), connectionString, logger: quietLogger } as Parameters<typeof migrate>[0];
    await (includeCurrent ? watch(settings, true) : migrate(settings));
  } finally {
    process.chdir(cwd);
    clearAllPools();
  }
}

/** The hash of the newest committed migration: /readyz compares it with the database. */
export function latestMigrationHash(): string | null {
  const files = readdirSync(fromRoot('migrations', 'committed')).filter((f) => f.endsWith('.sql')).sort();
  const last = files.at(-1);
  if (!last) return null;
  const match = /^--! Hash: (\S+)/m.exec(readFileSync(fromRoot('migrations', 'committed', last), 'utf8'));
  return match?.[1] ?? null;
}
