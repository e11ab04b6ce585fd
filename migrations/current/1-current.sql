-- Real-time release waits only for our own writers (issue 10, "cluster-wide stall").
--
-- The gateway releases events up to a fence xid once no transaction older than the fence can still
-- commit an event. It used to wait for every older transaction of the whole cluster (the snapshot's
-- xmin), so an idle transaction in another database held every user's events. Only sessions of this
-- database whose role may use schema oriva can write oriva.platform_events; only they count now.
-- Security definer, so the owner sees its own sessions' backend_xid (every process of ours logs in as
-- the owner and switches role); prepared (two-phase) transactions of this database count too.
create or replace function oriva.writers_settled(fence xid8) returns boolean
  language sql volatile security definer
  set search_path = pg_catalog
as $$
  select pg_snapshot_xmin(pg_current_snapshot()) >= fence
      or (not exists (
            select 1 from pg_stat_activity a
            where a.datname = current_database()
              and a.backend_xid is not null
              and age(a.backend_xid) > age(fence::xid)
              and has_schema_privilege(a.usesysid, 'oriva', 'USAGE'))
          and not exists (
            select 1 from pg_prepared_xacts p
            where p.database = current_database()
              and age(p.transaction) > age(fence::xid)))
$$;
revoke all on function oriva.writers_settled(xid8) from public;
grant execute on function oriva.writers_settled(xid8) to oriva_system;
