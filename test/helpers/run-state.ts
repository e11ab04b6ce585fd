// What test/setup.ts prepared for this run, shared with every test file through a small file.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fromRoot } from '../../lib/paths.js';

export interface RunState {
  /** A connection to the server that may create and drop databases. */
  adminUrl: string;
  /** The migrated template every test database is cloned from. */
  template: string;
  /** Set when setup started an embedded Postgres that teardown must stop. */
  embeddedDataDir: string | null;
}

// Keyed by the tap runner's pid (the parent of setup, teardown and every test file), so that two
// runs in one checkout do not share a template.
const FILE = fromRoot('.data', `test-run-${process.ppid}.json`);

export function writeRunState(state: RunState): void {
  mkdirSync(dirname(FILE), { recursive: true });
  writeFileSync(FILE, JSON.stringify(state, null, 2));
}

export function readRunState(): RunState {
  return JSON.parse(readFileSync(FILE, 'utf8')) as RunState;
}

export function removeRunState(): void {
  rmSync(FILE, { force: true });
}

