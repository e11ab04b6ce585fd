--! Previous: sha1:f065b2cab7dd0339d7fef666237957e12cdcf9b6
--! Hash: sha1:10b87ebe34edae6b228e5684b6143e562d651f6e
--! Message: The event log partitioned by month: platform_events partitioned by range of created_at (month partitions made ahead, a default partition so no write fails), keys (id, created_at) and (seq, created_at), archival of whole month partitions

--! split: 1-current.sql
-- The event log, oriva.platform_events, partitioned by month of created_at (issue 19, item 4).
--
-- Why: archival moved old events one row at a time (delete + insert, in batches): dead tuples and
-- index bloat in the busiest table, every day. Partitioned by month, a month past retention is
-- copied to oriva.platform_events_archive in one statement and its partition dropped.
--
-- The layout:
--   - oriva.platform_events is a partitioned parent (range on created_at); one partition per UTC
--     month, named platform_events_pYYYY_MM, made ahead of time by oriva.ensure_event_partitions
--     (the worker's event_partitions_ensure cron: this month and the next two).
--   - oriva.platform_events_default, the DEFAULT partition, takes any row no month partition covers,
--     so a write never fails for want of a partition (the cron not running for months, or a row
--     written with an old created_at). It is empty in normal operation; oriva.create_event_partition
--     moves its rows into a month partition when that month's partition is made, and archival moves
--     its rows past retention one batch at a time (sql/archive/move_events.sql).
--   - A partitioned table's unique constraints must include the partition key: the primary key is
--     (id, created_at) and the seq key (seq, created_at). Nothing relied on the narrower ones: no
--     foreign key references platform_events, no statement does `on conflict` on it, ids are
--     gen_random_uuid() and seq comes from one sequence (the _010_seq_after_xid trigger), so both
--     stay unique in fact. Lookups by id or seq still use these indexes (their leading column).
--   - Triggers, row-level security, policies and grants are on the parent, as before. Partitions
--     have no grants: oriva_api and oriva_system reach events only through the parent and its
--     policies (oriva_system alone may also read, lock and delete in the default partition, for archival;
--     its policy on the parent lets it see every row anyway).
--
-- The conversion below copies every row into the new table (ids, seq, tx_id, created_at kept), and
-- the sequence continues where it was. It holds an ACCESS EXCLUSIVE lock on platform_events for its
-- duration: no event is written meanwhile (writers wait, they do not fail).

------------------------------------------------------------------------------------------------
-- 1. Making partitions
------------------------------------------------------------------------------------------------

-- The partition for the UTC month holding p_month; returns its name when it was made here, null
-- when it already existed. Made as a plain table then attached: ATTACH PARTITION takes a SHARE
-- UPDATE EXCLUSIVE lock on the parent (reads and writes go on), where CREATE TABLE ... PARTITION OF
-- would take ACCESS EXCLUSIVE. Rows of that month already in the default partition move into it
-- first (attaching checks that the default partition holds none). Attaching locks the default
-- partition ACCESS EXCLUSIVE for that check, and every statement on platform_events that does not
-- prune it waits meanwhile: lock_timeout bounds that wait (an error, and the cron tries again; the
-- partitions are made two months ahead).
create or replace function oriva.create_event_partition(p_month date) returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set TimeZone = UTC
  set lock_timeout = '2s'
  as $$
declare
  month_start timestamptz := date_trunc('month', p_month::timestamptz);
  month_end timestamptz := month_start + interval '1 month';
  part text := 'platform_events_p' || to_char(month_start, 'YYYY_MM');
begin
  -- One maker (or archiver) of partitions at a time.
  perform pg_advisory_xact_lock(hashtext('oriva.platform_events partitions'));
  if to_regclass('oriva.' || part) is not null then
    return null;
  end if;
  execute format('create table oriva.%I (like oriva.platform_events including defaults including constraints)', part);
  execute format(
    'with moved as (delete from oriva.platform_events_default where created_at >= $1 and created_at < $2 returning *)
     insert into oriva.%I select * from moved', part)
    using month_start, month_end;
  execute format('alter table oriva.platform_events attach partition oriva.%I for values from (%L) to (%L)',
                 part, month_start, month_end);
  return part;
end $$;

-- This month's partition and the next p_months_ahead months'; returns the names of those it made.
create or replace function oriva.ensure_event_partitions(p_months_ahead integer default 2) returns setof text
  language sql volatile security definer
  set search_path = pg_catalog
  set TimeZone = UTC
  as $$
    select made
      from generate_series(date_trunc('month', now()), date_trunc('month', now()) + make_interval(months => p_months_ahead),
                           interval '1 month') as month,
           oriva.create_event_partition(month::date) as made
     where made is not null
  $$;

------------------------------------------------------------------------------------------------
-- 2. The conversion
------------------------------------------------------------------------------------------------

lock table oriva.platform_events in access exclusive mode;

-- The old table steps aside. Its indexes go now (their names are wanted for the new ones and it is
-- only read once more, whole); its identity sequence keeps counting until the copy is done.
alter table oriva.platform_events rename to platform_events_unpartitioned;
alter table oriva.platform_events_unpartitioned
  drop constraint platform_events_pkey,
  drop constraint platform_events_seq_key;
drop index oriva.platform_events_app_category_idx, oriva.platform_events_app_created_idx,
           oriva.platform_events_app_user_idx, oriva.platform_events_created_idx, oriva.platform_events_entity_idx,
           oriva.platform_events_user_seq_idx;
alter sequence oriva.platform_events_seq_seq rename to platform_events_unpartitioned_seq_seq;

-- The same columns, in the same order (oriva.record_events returns this row type).
create table oriva.platform_events (
  id uuid not null default gen_random_uuid(),
  seq bigint generated always as identity,
  tx_id xid8 not null default pg_current_xact_id(),
  app_id text not null,
  user_id oriva.user_id,
  event_category text not null,
  event_type text not null,
  entity_type text not null,
  entity_id text not null,
  event_data jsonb not null default '{}'::jsonb,
  ip_address inet,
  user_agent text,
  created_at timestamptz not null default now(),
  reaches_user boolean not null default true,
  constraint platform_events_entity_id_check check (length(entity_id) between 1 and 255),
  constraint platform_events_entity_type_check check (length(entity_type) between 1 and 64),
  constraint platform_events_event_category_check check (event_category ~ '^[a-z][a-z0-9_]{0,63}$'),
  constraint platform_events_event_type_check check (event_type ~ '^[a-z][a-z0-9_]{0,63}$'),
  constraint platform_events_user_agent_check check (user_agent is null or length(user_agent) <= 512),
  constraint platform_events_app_id_fkey foreign key (app_id) references oriva.apps (id) on delete cascade
) partition by range (created_at);

create table oriva.platform_events_default partition of oriva.platform_events default;

-- A partition for every month that holds events, and for this month and the next.
select oriva.create_event_partition(month)
  from (select distinct date_trunc('month', created_at at time zone 'UTC')::date as month
          from oriva.platform_events_unpartitioned) months;
select oriva.ensure_event_partitions(1);

-- Every event, as it was (no trigger exists yet on the new table: seq and tx_id are copied, not
-- made again, and nothing is enqueued or notified).
insert into oriva.platform_events
  (id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
   user_agent, created_at, reaches_user)
overriding system value
select id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
       user_agent, created_at, reaches_user
  from oriva.platform_events_unpartitioned;

-- seq continues after the last one handed out (not after the last one kept: archived seqs stay taken).
select setval('oriva.platform_events_seq_seq', last_value, is_called)
  from oriva.platform_events_unpartitioned_seq_seq;

-- Keys and indexes, built once over the copied rows (each partition gets its own).
alter table oriva.platform_events add constraint platform_events_pkey primary key (id, created_at);
alter table oriva.platform_events add constraint platform_events_seq_key unique (seq, created_at);
create index platform_events_app_category_idx on oriva.platform_events (app_id, event_category, event_type, seq desc);
create index platform_events_app_created_idx on oriva.platform_events (app_id, created_at desc, seq desc);
create index platform_events_app_user_idx on oriva.platform_events (app_id, user_id, seq desc);
create index platform_events_created_idx on oriva.platform_events (created_at);
create index platform_events_entity_idx on oriva.platform_events (entity_type, entity_id);
create index platform_events_user_seq_idx on oriva.platform_events (user_id, seq);

-- The triggers, unchanged: seq after the writer's xid (each row), webhook fan-out and the NOTIFY
-- hint (each statement, over its transition table, which holds the rows of every partition).
create trigger _010_seq_after_xid before insert on oriva.platform_events
  for each row execute function oriva.tg_platform_events__seq_after_xid();
create trigger _500_enqueue_webhooks after insert on oriva.platform_events
  referencing new table as new_events
  for each statement execute function oriva.tg_platform_events__enqueue_webhooks();
create trigger _900_notify after insert on oriva.platform_events
  referencing new table as new_events
  for each statement execute function oriva.tg_platform_events__notify();

-- Row-level security and grants on the parent, as before.
alter table oriva.platform_events enable row level security;
alter table oriva.platform_events force row level security;
create policy api_tenant on oriva.platform_events to oriva_api
  using (app_id = (select oriva.acting_app_id()) or user_id = (select oriva.acting_user_id())
         or (select oriva.acting_as_platform()))
  with check (app_id = (select oriva.acting_app_id()) or user_id = (select oriva.acting_user_id())
              or (select oriva.acting_as_platform()));
create policy system_all on oriva.platform_events to oriva_system using (true) with check (true);
grant select, insert, update, delete on oriva.platform_events to oriva_api, oriva_system;
-- Archival moves the default partition's old rows itself, in locked batches (sql/archive/move_events.sql).
grant select, update, delete on oriva.platform_events_default to oriva_system;

-- oriva.record_events returned the old table's row type: made again for the new one, unchanged.
drop function oriva.record_events(oriva.new_event[]);
create function oriva.record_events(events oriva.new_event[]) returns setof oriva.platform_events
  language plpgsql volatile
  as $$
begin
  return query
    with recorded as (
      insert into oriva.platform_events
        (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent,
         reaches_user)
      select e.app_id, e.user_id, e.event_category, e.event_type, e.entity_type, e.entity_id, e.event_data,
             e.ip_address, e.user_agent, coalesce(e.reaches_user, true)
        from unnest(events) with ordinality as e
       order by e.ordinality
      returning *
    )
    select * from recorded;
end $$;

drop table oriva.platform_events_unpartitioned;

------------------------------------------------------------------------------------------------
-- 3. Archival by partition
------------------------------------------------------------------------------------------------

-- Archive the oldest month partition that ends at or before p_cutoff: its rows are copied to
-- oriva.platform_events_archive in one statement (seq kept, so the gateway's archived_after still
-- sees that a resume point fell in it), then it is detached and dropped — all in this transaction,
-- so readers see the rows in one table or the other, never in both or neither. Returns the number of
-- rows moved, or null when no partition is old enough. Call it until it returns null.
--
-- Locks: SHARE on the partition while it is copied (reads go on; its month is over, so no insert is
-- routed there; a writer still in progress there is waited for, and its rows are copied), then
-- ACCESS EXCLUSIVE on platform_events for the detach and drop, held only until this transaction
-- commits (the copy is already done by then). Statements on platform_events queue behind that lock
-- request, so lock_timeout bounds the wait for it: past that, an error, nothing archived, and the
-- job is retried.
create or replace function oriva.archive_event_partition(p_cutoff timestamptz) returns bigint
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set TimeZone = UTC
  set lock_timeout = '2s'
  as $$
declare
  part text;
  moved bigint;
begin
  perform pg_advisory_xact_lock(hashtext('oriva.platform_events partitions'));
  select c.relname into part
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)') as upper_bound
   where i.inhparent = 'oriva.platform_events'::regclass
     and upper_bound[1]::timestamptz <= p_cutoff
   order by upper_bound[1]::timestamptz
   limit 1;
  if part is null then
    return null;
  end if;
  execute format('lock table oriva.%I in share mode', part);
  execute format(
    'insert into oriva.platform_events_archive
       (id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
        user_agent, created_at, reaches_user)
     select id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
            user_agent, created_at, reaches_user
       from oriva.%I
     on conflict (id) do nothing', part);
  get diagnostics moved = row_count;
  execute format('alter table oriva.platform_events detach partition oriva.%I', part);
  execute format('drop table oriva.%I', part);
  return moved;
end $$;

revoke all on function oriva.create_event_partition(date) from public;
revoke all on function oriva.ensure_event_partitions(integer) from public;
revoke all on function oriva.archive_event_partition(timestamptz) from public;
grant execute on function oriva.ensure_event_partitions(integer) to oriva_system;
grant execute on function oriva.archive_event_partition(timestamptz) to oriva_system;
