// Migrations are graphile-migrate's committed files (migrations/committed); .gmrc's
// beforeAllMigrations hook installs graphile-worker's schema first. This module only runs them.
import { readFileSync, readdirSync } from 'node:fs';
import { delimiter } from 'node:path';
import { migrate, Logger } from 'graphile-migrate';
import { fromRoot } from './paths.js';

// graphile-migrate's progress lines are dropped; its errors and warnings reach stderr.
const quietLogger = new Logger(() => (level: string, message: string) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`graphile-migrate: ${message}\n`);
});

function gmrcSettings(): Record<string, unknown> {
  // .gmrc is JSON5-style JSON with block comments.
  const text = readFileSync(fromRoot('.gmrc'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  return JSON.parse(text) as Record<string, unknown>;
}

export async function migrateDatabase(connectionString: string): Promise<void> {
  // The hook runs `graphile-worker` from node_modules/.bin, whoever started us.
  const bin = fromRoot('node_modules', '.bin');
  if (!(process.env.PATH ?? '').split(delimiter).includes(bin)) {
    process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
  }
  const cwd = process.cwd();
  process.chdir(fromRoot());
  try {
    await migrate({ ...gmrcSettings(), connectionString, logger: quietLogger } as Parameters<typeof migrate>[0]);
  } finally {
    process.chdir(cwd);
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
