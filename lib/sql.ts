// Runtime SQL lives in sql/<area>/<name>.sql, one statement per file, so a DBA can read and EXPLAIN
// every statement the processes run. Each is sent as a named prepared statement.
import { readFileSync } from 'node:fs';
import { fromRoot } from './paths.js';

export interface NamedQuery {
  name: string;
  text: string;
}

const cache = new Map<string, NamedQuery>();

/** sqlFile('notifications/insert') reads sql/notifications/insert.sql once. */
export function sqlFile(name: string): NamedQuery {
  let query = cache.get(name);
  if (!query) {
    query = { name: name.replace(/\W/g, '_'), text: readFileSync(fromRoot('sql', `${name}.sql`), 'utf8') };
    cache.set(name, query);
  }
  return query;
}
