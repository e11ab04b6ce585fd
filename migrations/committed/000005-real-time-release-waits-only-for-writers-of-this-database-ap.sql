--! Previous: sha1:03e449f1c24a87e0f0c3db43cf5815976831a860
--! Hash: sha1:d88838177117bf41407124bb05115b05362a58a4
--! Message: Real-time release waits only for writers of this database; app WebSocket connections are registered and capped per app

--! split: 1-current.sql
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

-- WebSocket connections per app, across instances (issue 10): an app connection is registered like a
-- user's, holding app_id instead of user_id, and oriva.gateway_admit_app caps them.
alter table oriva.gateway_connections alter column user_id drop not null;
alter table oriva.gateway_connections add column if not exists app_id text;
alter table oriva.gateway_connections drop constraint if exists gateway_connections_one_holder;
alter table oriva.gateway_connections add constraint gateway_connections_one_holder check (num_nonnulls(user_id, app_id) = 1);
create index if not exists gateway_connections_app_idx on oriva.gateway_connections (app_id) where app_id is not null;

create or replace function oriva.gateway_admit_app(p_instance uuid, p_connection uuid, p_app text,
                                                   p_max integer, p_stale_ms integer)
  returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  live integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.gateway_connections:app:' || p_app, 0));
  select count(*) into live
  from oriva.gateway_connections c
  join oriva.gateway_instances i on i.id = c.instance_id
  where c.app_id = p_app
    and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0);
  if live >= p_max then
    return false;
  end if;
  insert into oriva.gateway_connections (id, instance_id, app_id) values (p_connection, p_instance, p_app);
  return true;
end $$;
revoke all on function oriva.gateway_admit_app(uuid, uuid, text, integer, integer) from public;
grant execute on function oriva.gateway_admit_app(uuid, uuid, text, integer, integer) to oriva_system;
