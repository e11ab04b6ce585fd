-- REST API: idempotency keys, the Postgres-backed rate-limit counters koa-ratelimit uses, and the
-- owner look-ups that let the API answer 403 (not 404) for another tenant's object.
-- Idempotent: safe to run again on top of itself.

------------------------------------------------------------------------------------------------
-- Idempotency-Key: the stored response of a successful POST, per app and key, kept 24 hours.
------------------------------------------------------------------------------------------------
create table if not exists oriva.idempotency_keys (
  app_id        text not null references oriva.apps (id) on delete cascade,
  key           text not null check (length(key) between 1 and 255),
  request_hash  text not null,
  response_status integer,
  response_body jsonb,
  created_at    timestamptz not null default now(),
  primary key (app_id, key)
);
create index if not exists idempotency_keys_created_idx on oriva.idempotency_keys (created_at);

grant select, insert, update, delete on oriva.idempotency_keys to oriva_api;
grant select, insert, update, delete on oriva.idempotency_keys to oriva_system;
alter table oriva.idempotency_keys enable row level security;
alter table oriva.idempotency_keys force row level security;
drop policy if exists api_tenant on oriva.idempotency_keys;
create policy api_tenant on oriva.idempotency_keys to oriva_api
  using (app_id = oriva.acting_app_id()) with check (app_id = oriva.acting_app_id());
drop policy if exists system_all on oriva.idempotency_keys;
create policy system_all on oriva.idempotency_keys to oriva_system using (true) with check (true);

------------------------------------------------------------------------------------------------
-- Rate limits shared by every server process: one counter per key and window. A window starts at
-- the first hit after the previous one ended (like koa-ratelimit's memory driver). The counter is
-- written with synchronous_commit off: losing the last hits of a crash is fine for a rate limit,
-- and a hot key then holds its row lock for microseconds, not a WAL flush.
------------------------------------------------------------------------------------------------
create unlogged table if not exists oriva.rate_limit_counters (
  key          text primary key,
  window_start timestamptz not null,
  window_end   timestamptz not null,
  hits         bigint not null
);
create index if not exists rate_limit_counters_end_idx on oriva.rate_limit_counters (window_end);
revoke all on oriva.rate_limit_counters from oriva_api;

-- Take `cost` hits on `key`. Returns the hits that were left before this call (0: limited; the
-- hits are then not counted) and when the window ends.
create or replace function oriva.rate_limit_take(p_key text, p_duration_ms bigint, p_max bigint, p_cost bigint default 1)
  returns table (remaining bigint, reset_at timestamptz)
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  now_ts timestamptz := clock_timestamp();
  counter oriva.rate_limit_counters;
begin
  perform set_config('synchronous_commit', 'off', true);
  insert into oriva.rate_limit_counters as c (key, window_start, window_end, hits)
  values (p_key, now_ts, now_ts + make_interval(secs => p_duration_ms / 1000.0), 0)
  on conflict (key) do update
    set window_start = case when c.window_end <= now_ts then excluded.window_start else c.window_start end,
        window_end   = case when c.window_end <= now_ts then excluded.window_end else c.window_end end,
        hits         = case when c.window_end <= now_ts then 0 else c.hits end
  returning * into counter;
  remaining := greatest(p_max - counter.hits, 0);
  reset_at := counter.window_end;
  if remaining >= p_cost then
    update oriva.rate_limit_counters set hits = hits + p_cost where key = p_key;
  else
    remaining := 0;
  end if;
  return next;
end $$;
revoke all on function oriva.rate_limit_take(text, bigint, bigint, bigint) from public;
grant execute on function oriva.rate_limit_take(text, bigint, bigint, bigint) to oriva_api;

------------------------------------------------------------------------------------------------
-- Who owns an object, whatever row-level security lets the caller see: only used after a scoped
-- query found nothing, to tell "not yours" (403) from "does not exist" (404).
------------------------------------------------------------------------------------------------
create or replace function oriva.notification_owner(p_id uuid)
  returns table (app_id text, user_id text)
  language sql stable security definer
  set search_path = pg_catalog
  as $$ select n.app_id, n.user_id::text from oriva.platform_notifications n where n.id = p_id $$;
revoke all on function oriva.notification_owner(uuid) from public;
grant execute on function oriva.notification_owner(uuid) to oriva_api;

create or replace function oriva.webhook_owner(p_id uuid)
  returns text
  language sql stable security definer
  set search_path = pg_catalog
  as $$ select w.app_id from oriva.app_webhooks w where w.id = p_id $$;
revoke all on function oriva.webhook_owner(uuid) from public;
grant execute on function oriva.webhook_owner(uuid) to oriva_api;

------------------------------------------------------------------------------------------------
-- The feed's counts (unread_count, total) from notification_state alone: expires_at is copied
-- from the notification when the state row is created (it never changes afterwards), so counting
-- a user's 10,000 notifications is an index-only scan instead of 10,000 joins.
------------------------------------------------------------------------------------------------
alter table oriva.notification_state add column if not exists expires_at timestamptz;
update oriva.notification_state s set expires_at = n.expires_at
  from oriva.platform_notifications n
 where n.id = s.notification_id and s.expires_at is distinct from n.expires_at;
drop index if exists oriva.notification_state_user_status_app_idx;
create index if not exists notification_state_counts_idx
  on oriva.notification_state (user_id, status, app_id) include (expires_at);
