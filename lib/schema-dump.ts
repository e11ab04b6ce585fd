// sql/schema.sql is this dump of the migrated `oriva` schema, so every schema change is a
// readable diff. It is built from the catalogs (the embedded Postgres ships no pg_dump) and is
// regenerated with `npx oriva schema-dump > sql/schema.sql`; a test fails when it is stale.
// A partitioned table is shown with its partition key and its DEFAULT partition; its other
// partitions (platform_events' months) are made at run time, so they are not part of the schema.
import type { Queryable } from './db.js';

const TABLES = `
  select c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity,
         case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partkey
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'oriva' and c.relkind in ('r', 'p') and not c.relispartition order by c.relname`;

const DEFAULT_PARTITIONS = `
  select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
  where i.inhparent = $1 and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' order by c.relname`;

const COLUMNS = `
  select a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull,
         pg_get_expr(d.adbin, d.adrelid) as default_expr, a.attidentity, a.attgenerated
  from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped order by a.attnum`;

// contype 'n' (not-null constraints, Postgres 18+) is already shown on the column.
const CONSTRAINTS = `
  select conname, pg_get_constraintdef(oid) as def from pg_constraint
  where conrelid = $1 and contype <> 'n' order by contype, conname`;

const INDEXES = `
  select pg_get_indexdef(i.indexrelid) as def from pg_index i
  join pg_class c on c.oid = i.indexrelid
  where i.indrelid = $1 and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
  order by c.relname`;

const POLICIES = `
  select polname, array(select rolname from pg_roles where oid = any(polroles) order by rolname)::text[] as roles,
         pg_get_expr(polqual, polrelid) as using_expr, pg_get_expr(polwithcheck, polrelid) as check_expr
  from pg_policy where polrelid = $1 order by polname`;

const TRIGGERS = `select pg_get_triggerdef(oid) as def from pg_trigger where tgrelid = $1 and not tgisinternal order by tgname`;

const GRANTS = `
  select grantee, string_agg(privilege_type, ', ' order by privilege_type) as privileges
  from information_schema.role_table_grants
  where table_schema = 'oriva' and table_name = $1 and grantee like 'oriva\\_%'
  group by grantee order by grantee`;

const FUNCTIONS = `
  select p.proname, pg_get_function_identity_arguments(p.oid) as args, pg_get_function_result(p.oid) as result,
         p.provolatile, p.prosecdef, l.lanname, p.prosrc, p.proconfig
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
  where n.nspname = 'oriva' order by p.proname`;

const DOMAINS = `
  select t.typname, format_type(t.typbasetype, t.typtypmod) as base,
         array(select pg_get_constraintdef(k.oid) from pg_constraint k where k.contypid = t.oid order by k.conname) as checks
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
  where n.nspname = 'oriva' and t.typtype = 'd' order by t.typname`;

const VOLATILITY: Record<string, string> = { i: 'immutable', s: 'stable', v: 'volatile' };

export async function dumpSchema(db: Queryable): Promise<string> {
  const out: string[] = [
    '-- Generated from the migrated database by `npx oriva schema-dump`: do not edit by hand.',
    '-- Change the schema in migrations/current.sql, then regenerate this file.',
    '',
    'create schema oriva;',
    '',
  ];
  for (const d of (await db.query(DOMAINS)).rows) {
    out.push(`create domain oriva.${d.typname} as ${d.base}${d.checks.map((c: string) => `\n  ${c}`).join('')};`, '');
  }
  for (const f of (await db.query(FUNCTIONS)).rows) {
    const config = (f.proconfig ?? []).map((c: string) => `\n  set ${c.replace('=', ' = ')}`).join('');
    out.push(
      `create function oriva.${f.proname}(${f.args}) returns ${f.result}`,
      `  language ${f.lanname} ${VOLATILITY[f.provolatile]}${f.prosecdef ? ' security definer' : ''}${config}`,
      `  as $$${f.prosrc}$$;`,
      '',
    );
  }
  for (const table of (await db.query(TABLES)).rows) {
    const name = `oriva.${table.relname}`;
    const columns = (await db.query(COLUMNS, [table.oid])).rows.map((c) => {
      let line = `  ${c.attname} ${c.type}`;
      if (c.attidentity === 'a') line += ' generated always as identity';
      else if (c.attgenerated === 's') line += ` generated always as (${c.default_expr}) stored`;
      else if (c.default_expr) line += ` default ${c.default_expr}`;
      if (c.attnotnull) line += ' not null';
      return line;
    });
    out.push(`create table ${name} (`, columns.join(',\n'), table.partkey ? `) partition by ${table.partkey.toLowerCase()};` : ');');
    for (const k of (await db.query(CONSTRAINTS, [table.oid])).rows) out.push(`alter table ${name} add constraint ${k.conname} ${k.def};`);
    for (const i of (await db.query(INDEXES, [table.oid])).rows) out.push(`${i.def};`);
    for (const t of (await db.query(TRIGGERS, [table.oid])).rows) out.push(`${t.def};`);
    if (table.relrowsecurity) out.push(`alter table ${name} enable row level security;`);
    if (table.relforcerowsecurity) out.push(`alter table ${name} force row level security;`);
    for (const p of (await db.query(POLICIES, [table.oid])).rows) {
      out.push(
        `create policy ${p.polname} on ${name} to ${p.roles.join(', ') || 'public'}` +
          (p.using_expr ? `\n  using (${p.using_expr})` : '') +
          (p.check_expr ? `\n  with check (${p.check_expr})` : '') +
          ';',
      );
    }
    for (const g of (await db.query(GRANTS, [table.relname])).rows) out.push(`grant ${g.privileges} on ${name} to ${g.grantee};`);
    if (table.partkey) {
      for (const d of (await db.query(DEFAULT_PARTITIONS, [table.oid])).rows) {
        out.push(`create table oriva.${d.relname} partition of ${name} default;`);
        for (const g of (await db.query(GRANTS, [d.relname])).rows) out.push(`grant ${g.privileges} on oriva.${d.relname} to ${g.grantee};`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}
