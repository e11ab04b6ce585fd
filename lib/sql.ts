// Runtime SQL lives in sql/<area>/<name>.sql, one statement per file, so a DBA can read and EXPLAIN
// every statement the processes run. Each is sent as a named prepared statement.
//
// A statement with more than a few parameters names them — `:app_id` in the file, as psql's
// variables are written — and is called with one object (sqlStatement + run): the order of the
// values is then the file's business, not an unchecked contract with the caller. Short statements
// keep positional `$1`…`$4` (sqlFile).
import { readFileSync } from 'node:fs';
import { fromRoot } from './paths.js';

export interface NamedQuery {
  name: string;
  text: string;
}

/** A statement with named parameters: P is the object its caller passes, R one row it returns. */
export interface Statement<P extends object, R = Record<string, unknown>> extends NamedQuery {
  /** Parameter names in $n order ($1 is params[0]). */
  params: readonly (keyof P & string)[];
  /** Never set: carries the row type to run(). */
  row?: R;
}

const cache = new Map<string, NamedQuery>();

function read(name: string): NamedQuery {
  let query = cache.get(name);
  if (!query) {
    query = { name: name.replace(/\W/g, '_'), text: readFileSync(fromRoot('sql', `${name}.sql`), 'utf8') };
    cache.set(name, query);
  }
  return query;
}

/** sqlFile('notifications/owner') reads sql/notifications/owner.sql once: a statement with positional parameters. */
export function sqlFile(name: string): NamedQuery {
  const query = read(name);
  if (bindNames(query.text).params.length > 0) throw new Error(`sql/${name}.sql names its parameters: load it with sqlStatement`);
  return query;
}

/**
 * Rewrites `:name` outside comments, string literals and `::` casts to `$n`, one number per
 * distinct name, in order of first use.
 */
export function bindNames(sql: string): { text: string; params: string[] } {
  const params: string[] = [];
  const text = sql.replace(/--[^\n]*|'(?:[^']|'')*'|::|:([a-z_][a-z0-9_]*)/g, (token, param: string | undefined) => {
    if (param === undefined) return token;
    let index = params.indexOf(param);
    if (index < 0) index = params.push(param) - 1;
    return `$${index + 1}`;
  });
  return { text, params };
}

/** sqlStatement<{ app_id: string }, Row>('notifications/create'): the file's `:app_id` bound by name. */
export function sqlStatement<P extends object, R = Record<string, unknown>>(name: string): Statement<P, R> {
  const source = read(name);
  if (/\$\d/.test(source.text.replace(/--[^\n]*|'(?:[^']|'')*'/g, ''))) {
    throw new Error(`sql/${name}.sql mixes positional ($n) parameters into a named statement`);
  }
  const { text, params } = bindNames(source.text);
  return { name: source.name, text, params: params as (keyof P & string)[] };
}

/** The positional values of a named statement, refusing a missing or unknown name. */
export function valuesOf<P extends object>(statement: Statement<P, unknown>, args: P): unknown[] {
  const given = args as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!statement.params.includes(key as keyof P & string)) throw new Error(`${statement.name}: no parameter :${key}`);
  }
  return statement.params.map((param) => {
    if (given[param] === undefined) throw new Error(`${statement.name}: parameter :${param} is missing (pass null for none)`);
    return given[param];
  });
}
