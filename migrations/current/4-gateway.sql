-- Real-time gateway (issue 5). Idempotent: the test suite and `graphile-migrate watch` re-run it.

------------------------------------------------------------------------------------------------
-- Gap-free resume needs: "a transaction holding seq s already had its xid when s was allocated".
-- The identity default (seq) is evaluated before the tx_id default assigns the xid, so an
-- event insert that is its transaction's first write would take its seq with no xid yet. This
-- trigger allocates the seq again after making sure the xid exists. The identity value taken
-- by the default is skipped (seq stays monotonic, never dense). See gateway/listener.ts.
------------------------------------------------------------------------------------------------
create or replace function oriva.tg_platform_events__seq_after_xid() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform pg_current_xact_id();
  new.seq := nextval('oriva.platform_events_seq_seq'::regclass);
  return new;
end $$;
drop trigger if exists _010_seq_after_xid on oriva.platform_events;
create trigger _010_seq_after_xid before insert on oriva.platform_events
  for each row execute function oriva.tg_platform_events__seq_after_xid();

-- "Is this resume point older than what can be replayed?" = is there an archived event after it.
create index if not exists platform_events_archive_seq_idx on oriva.platform_events_archive (seq);

------------------------------------------------------------------------------------------------
-- Connection registry: WebSocket connections per user across every gateway instance.
-- An instance heartbeats; one that stops (crash) no longer counts once its heartbeat is stale,
-- and the next heartbeat of any instance deletes it with its connections.
------------------------------------------------------------------------------------------------
create table if not exists oriva.gateway_instances (
  id           uuid primary key,
  started_at   timestamptz not null default now(),
  heartbeat_at timestamptz not null default now()
);

create table if not exists oriva.gateway_connections (
  id          uuid primary key,
  instance_id uuid not null references oriva.gateway_instances (id) on delete cascade,
  user_id     oriva.user_id not null,
  opened_at   timestamptz not null default now()
);
create index if not exists gateway_connections_user_idx on oriva.gateway_connections (user_id);
create index if not exists gateway_connections_instance_idx on oriva.gateway_connections (instance_id);

-- Register a connection unless the user already has max_per_user live ones. Serialized per user by
-- a transaction-level advisory lock, so two instances admitting at once cannot both pass.
create or replace function oriva.gateway_admit(p_instance uuid, p_connection uuid, p_user text,
                                               p_max integer, p_stale_ms integer)
  returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  live integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.gateway_connections:' || p_user, 0));
  select count(*) into live
  from oriva.gateway_connections c
  join oriva.gateway_instances i on i.id = c.instance_id
  where c.user_id = p_user
    and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0);
  if live >= p_max then
    return false;
  end if;
  insert into oriva.gateway_connections (id, instance_id, user_id) values (p_connection, p_instance, p_user);
  return true;
end $$;

grant select, insert, update, delete on oriva.gateway_instances, oriva.gateway_connections to oriva_system;
revoke all on function oriva.gateway_admit(uuid, uuid, text, integer, integer) from public;
grant execute on function oriva.gateway_admit(uuid, uuid, text, integer, integer) to oriva_system;
