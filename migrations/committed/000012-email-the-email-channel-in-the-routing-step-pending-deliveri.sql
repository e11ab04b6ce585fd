--! Previous: sha1:d46b1d1bdc615aa7266f4145cdf333f86a5bd0df
--! Hash: sha1:ad0305d513bb78c6bef8d1bdec2afccaff5755b5
--! Message: Email: the email channel in the routing step, pending deliveries and per-user digest jobs, claim and record, bouncing addresses; templates and their email parts

--! split: 1-current.sql
------------------------------------------------------------------------------------------------
-- Templates (DESIGN §10): per app and notification_type, Liquid sources for the title, the body,
-- and optionally the email subject and the email body (HTML). lib/templates.ts parses and renders
-- them; a create with template_data stores the rendered title and body like any notification, and
-- the rendered email parts in oriva.notification_email_content (used when the notification is
-- emailed on its own).
------------------------------------------------------------------------------------------------
create table if not exists oriva.notification_templates (
  app_id            text not null references oriva.apps (id) on delete cascade,
  notification_type text not null,
  title             text not null,
  body              text not null,
  email_subject     text,
  email_body        text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  primary key (app_id, notification_type)
);
alter table oriva.notification_templates enable row level security;
alter table oriva.notification_templates force row level security;
drop policy if exists api_tenant on oriva.notification_templates;
create policy api_tenant on oriva.notification_templates to oriva_api
  using (app_id = (select oriva.acting_app_id())) with check (app_id = (select oriva.acting_app_id()));
drop policy if exists system_all on oriva.notification_templates;
create policy system_all on oriva.notification_templates to oriva_system using (true) with check (true);
grant select, insert, update, delete on oriva.notification_templates to oriva_api, oriva_system;

create table if not exists oriva.notification_email_content (
  notification_id uuid primary key references oriva.platform_notifications (id) on delete cascade,
  app_id          text not null,
  subject         text,
  html            text
);
alter table oriva.notification_email_content enable row level security;
alter table oriva.notification_email_content force row level security;
drop policy if exists api_tenant on oriva.notification_email_content;
create policy api_tenant on oriva.notification_email_content to oriva_api
  using (app_id = (select oriva.acting_app_id())) with check (app_id = (select oriva.acting_app_id()));
drop policy if exists system_all on oriva.notification_email_content;
create policy system_all on oriva.notification_email_content to oriva_system using (true) with check (true);
grant select, insert on oriva.notification_email_content to oriva_api;
grant select, insert, update, delete on oriva.notification_email_content to oriva_system;

------------------------------------------------------------------------------------------------
-- Email (DESIGN §10): the channel for users who are not there. The routing step decides per
-- notification (preferences, address); the create statement schedules a digest per user (one
-- graphile-worker job keyed by user, so a burst coalesces); the worker's email_digest task claims
-- what is due (oriva.email_digest_claim) and sends it through SMTP.
------------------------------------------------------------------------------------------------

-- A permanent SMTP refusal (5xx) marks the address bouncing: the email channel pauses until the
-- user saves a different address (sql/preferences/save.sql clears it).
alter table oriva.user_preferences add column if not exists email_bounced_at timestamptz;

-- One row per email sent (or being sent) to a user: a digest of one or more notifications. Its id
-- is recorded before the SMTP call and becomes the Message-ID, so a resend after a crash is the
-- same message (at-least-once with a stable Message-ID). lease_until: a worker is sending it.
create table if not exists oriva.emails (
  id          uuid primary key default gen_random_uuid(),
  user_id     oriva.user_id not null,
  address     text not null,
  status      text not null default 'sending' check (status in ('sending', 'sent', 'failed', 'bouncing')),
  attempts    integer not null default 0,
  last_error  text,
  lease_until timestamptz,
  created_at  timestamptz not null default now(),
  sent_at     timestamptz
);
create index if not exists emails_user_idx on oriva.emails (user_id, created_at desc);

-- The email channel of one notification: pending until its digest runs (due_at: created + the
-- user's delay; urgent: at once; moved to the end of quiet hours), then sending/sent, skipped (with
-- why: online, read, dismissed, expired, no_address, bouncing), failed or bouncing.
create table if not exists oriva.email_deliveries (
  notification_id uuid primary key references oriva.platform_notifications (id) on delete cascade,
  app_id          text not null,
  user_id         oriva.user_id not null,
  status          text not null default 'pending'
                    check (status in ('pending', 'sending', 'sent', 'skipped', 'failed', 'bouncing')),
  reason          text,
  due_at          timestamptz not null,
  email_id        uuid references oriva.emails (id),
  updated_at      timestamptz not null default now()
);
create index if not exists email_deliveries_pending_idx on oriva.email_deliveries (user_id, due_at) where status = 'pending';
create index if not exists email_deliveries_email_idx on oriva.email_deliveries (email_id) where email_id is not null;

alter table oriva.emails enable row level security;
alter table oriva.emails force row level security;
drop policy if exists system_all on oriva.emails;
create policy system_all on oriva.emails to oriva_system using (true) with check (true);
alter table oriva.email_deliveries enable row level security;
alter table oriva.email_deliveries force row level security;
-- The owner app and platform apps read a notification's email status; only the system writes it.
drop policy if exists api_read on oriva.email_deliveries;
create policy api_read on oriva.email_deliveries for select to oriva_api
  using (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()));
drop policy if exists system_all on oriva.email_deliveries;
create policy system_all on oriva.email_deliveries to oriva_system using (true) with check (true);
grant select on oriva.email_deliveries to oriva_api;
grant select, insert, update, delete on oriva.emails, oriva.email_deliveries to oriva_system;

-- The digest job of one user (job key email_digest:<user>). A normal notification keeps an earlier
-- run_at (a burst coalesces into the first one's digest); an urgent one moves it to now.
create or replace function oriva.enqueue_email_digest(user_id text, run_at timestamptz, urgent boolean) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  as $$
    select graphile_worker.add_job('email_digest', json_build_object('user_id', user_id), run_at := run_at,
                                   job_key := 'email_digest:' || user_id,
                                   job_key_mode := case when urgent then 'replace' else 'preserve_run_at' end)
  $$;
revoke all on function oriva.enqueue_email_digest(text, timestamptz, boolean) from public;
grant execute on function oriva.enqueue_email_digest(text, timestamptz, boolean) to oriva_api, oriva_system;

-- The create statement's email step: a pending delivery per created notification whose email route
-- delivers, due after the user's delay (urgent: now), and one digest job per user. Arrays in item
-- order (the created rows are not visible to a function called by the statement that writes them).
-- Security definer: the acting app may not read the user's delay.
create or replace function oriva.schedule_emails(notification_ids uuid[], app_ids text[], user_ids text[],
                                                 urgent boolean[]) returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  scheduled integer;
begin
  if coalesce(cardinality(notification_ids), 0) = 0 then
    return 0;
  end if;
  with due as (
    insert into oriva.email_deliveries (notification_id, app_id, user_id, due_at)
    select n.id, n.app_id, n.user_id,
           case when n.urgent then now()
                else now() + make_interval(secs => coalesce((p.document #>> '{email,delay_seconds}')::integer, 300)) end
      from unnest(notification_ids, app_ids, user_ids, urgent) as n (id, app_id, user_id, urgent)
      left join oriva.user_preferences p on p.user_id = n.user_id
    returning user_id, due_at, due_at <= now() as now_due
  )
  select count(oriva.enqueue_email_digest(u.user_id, u.run_at, u.urgent)::text) into scheduled
    from (select user_id, min(due_at) as run_at, bool_or(now_due) as urgent from due group by user_id) u;
  return scheduled;
end $$;
revoke all on function oriva.schedule_emails(uuid[], text[], text[], boolean[]) from public;
grant execute on function oriva.schedule_emails(uuid[], text[], text[], boolean[]) to oriva_api, oriva_system;

-- The preference rule for a create, per item whose user has a document: why in_app is switched off
-- (or null), and the email channel's decision and reason — suppressed by the preferences, skipped
-- (no_address, bouncing) or delivered (digest). Users without a document: in_app delivers, email
-- skips (no address). Security definer: the acting app learns decisions, never documents.
create or replace function oriva.preference_routes(app_id text, user_ids text[], notification_types text[],
                                                   categories text[])
  returns table (ord bigint, in_app_reason text, email_decision text, email_reason text)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select r.ord, s.in_app,
           case when s.email is not null then 'suppress'
                when p.document #>> '{email,address}' is null or p.email_bounced_at is not null then 'skip'
                else 'deliver' end,
           case when s.email is not null then s.email
                when p.document #>> '{email,address}' is null then 'no_address'
                when p.email_bounced_at is not null then 'bouncing'
                else 'digest' end
      from unnest(user_ids, notification_types, categories) with ordinality as r (user_id, notification_type, category, ord)
      join oriva.user_preferences p on p.user_id = r.user_id
      cross join lateral (
        select oriva.preference_suppression(p.document, preference_routes.app_id, r.notification_type, r.category, 'in_app') as in_app,
               oriva.preference_suppression(p.document, preference_routes.app_id, r.notification_type, r.category, 'email') as email
      ) s
  $$;
revoke all on function oriva.preference_routes(text, text[], text[], text[]) from public;
grant execute on function oriva.preference_routes(text, text[], text[], text[]) to oriva_api, oriva_system;

-- The routing step with the email channel: refused with the rest (installation), suppressed by the
-- preferences, skipped without an address (or while it bounces), else delivered as a digest.
create or replace function oriva.route_notifications(app_id text, user_ids text[], notification_types text[],
                                                     categories text[], install_required boolean)
  returns setof oriva.route
  language sql stable
  as $$
    with recipients as (
      select r.ord, r.user_id, oriva.app_may_reach(route_notifications.app_id, r.user_id, install_required) as reachable
        from unnest(user_ids) with ordinality as r (user_id, ord)
    ),
    preferred as (
      select * from oriva.preference_routes(route_notifications.app_id, user_ids, notification_types, categories)
    ),
    app_webhooks as (
      select exists (select 1 from oriva.app_webhooks w
                      where w.app_id = route_notifications.app_id and w.is_active
                        and oriva.webhook_hears(w.subscribed_events, 'notification', 'created')) as heard
    )
    select r.ord, r.user_id, 'in_app',
           case when not r.reachable then 'refuse' when p.in_app_reason is not null then 'suppress' else 'deliver' end,
           case when not r.reachable then 'not_installed' else coalesce(p.in_app_reason, 'default') end
      from recipients r left join preferred p on p.ord = r.ord
    union all
    select r.ord, r.user_id, 'email',
           case when not r.reachable then 'refuse' else coalesce(p.email_decision, 'skip') end,
           case when not r.reachable then 'not_installed' else coalesce(p.email_reason, 'no_address') end
      from recipients r left join preferred p on p.ord = r.ord
    union all
    select r.ord, r.user_id, 'webhook',
           case when not r.reachable then 'refuse' when h.heard then 'deliver' else 'skip' end,
           case when not r.reachable then 'not_installed' when h.heard then 'subscribed' else 'no_subscribed_webhook' end
      from recipients r cross join app_webhooks h
  $$;

drop function if exists oriva.in_app_suppressions(text, text[], text[], text[]);

-- The notifications one email lists (most recent first), with their app's name and icon and the
-- email parts their template rendered: what the worker renders, returned with the claim.
create or replace function oriva.email_items(p_email uuid) returns jsonb
  language sql stable
  set search_path = pg_catalog
  as $$
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', n.id, 'app_name', a.name, 'app_icon', a.icon_url, 'title', n.title, 'body', n.body,
             'action_url', n.action_url, 'action_label', n.action_label, 'priority', n.priority,
             'category', n.category, 'created_at', n.created_at, 'email_subject', c.subject, 'email_html', c.html)
             order by n.created_at desc, n.id), '[]')
      from oriva.email_deliveries d
      join oriva.platform_notifications n on n.id = d.notification_id
      join oriva.apps a on a.id = n.app_id
      left join oriva.notification_email_content c on c.notification_id = n.id
     where d.email_id = p_email
  $$;

-- The digest of one user, claimed by the worker's email_digest task in one transaction. First a
-- digest claimed before and not finished (the worker died, or a temporary failure asked for a
-- retry): it is sent again, the same email id. Else the due pending deliveries: each is skipped
-- with why (no longer unread: its status; no longer in the feed; expired; the user is online on a
-- gateway; no address; the address bounces), held to the end of quiet hours (urgent and security
-- pass), or put in one new email (status sending, leased to this worker). Returns the email to send,
-- if any; a later pending delivery gets its own digest job.
create or replace function oriva.email_digest_claim(p_user text, p_lease_ms integer, p_stale_ms integer)
  returns table (email_id uuid, address text, resend boolean, attempts integer, items jsonb)
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_doc jsonb;
  v_bounced timestamptz;
  v_online boolean;
  v_quiet boolean;
  v_until timestamptz;
  v_email uuid;
  v_address text;
  v_next timestamptz;
  v_ids uuid[];
  v_attempts integer;
  v_reasons text[];
  v_lease interval := make_interval(secs => p_lease_ms / 1000.0);
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.email_digest:' || p_user, 0));

  select e.id, e.address, e.attempts into v_email, v_address, v_attempts
    from oriva.emails e
   where e.user_id = p_user and e.status = 'sending' and (e.lease_until is null or e.lease_until < now())
   order by e.created_at
   limit 1;
  if v_email is not null then
    update oriva.emails set lease_until = now() + v_lease where id = v_email;
    return query select v_email, v_address, true, v_attempts, oriva.email_items(v_email);
    return;
  end if;
  if exists (select 1 from oriva.emails e where e.user_id = p_user and e.status = 'sending') then
    return; -- another worker is sending this user's digest; when it is done it schedules what is left
  end if;

  select p.document, p.email_bounced_at into v_doc, v_bounced from oriva.user_preferences p where p.user_id = p_user;
  v_address := v_doc #>> '{email,address}';
  select exists (select 1 from oriva.gateway_connections c join oriva.gateway_instances i on i.id = c.instance_id
                  where c.user_id = p_user and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0))
    into v_online;
  select q.in_quiet, q.quiet_until into v_quiet, v_until from oriva.quiet_hours_at(v_doc -> 'quiet_hours', now()) q;

  select coalesce(array_agg(x.notification_id), '{}'), coalesce(array_agg(x.reason), '{}') into v_ids, v_reasons
    from (select d.notification_id,
                 case when n.expires_at is not null and n.expires_at <= now() then 'expired'
                      when not oriva.is_unread(s.status, null) then s.status
                      -- online: they see it live (unless in_app was suppressed: then no state row)
                      when v_online and s.status is not null then 'online'
                      when v_address is null then 'no_address'
                      when v_bounced is not null then 'bouncing'
                      when v_quiet and n.priority <> 'urgent' and n.category <> 'security' then 'quiet_hours'
                 end as reason
            from oriva.email_deliveries d
            join oriva.platform_notifications n on n.id = d.notification_id
            left join oriva.notification_state s on s.notification_id = d.notification_id
           where d.user_id = p_user and d.status = 'pending'
             for update of d) x;

  update oriva.email_deliveries d
     set status = case when x.reason = 'quiet_hours' then 'pending' else 'skipped' end,
         reason = case when x.reason = 'quiet_hours' then null else x.reason end,
         due_at = case when x.reason = 'quiet_hours' then v_until else d.due_at end,
         updated_at = now()
    from unnest(v_ids, v_reasons) as x (notification_id, reason)
   where d.notification_id = x.notification_id and x.reason is not null;

  v_email := null;
  if array_position(v_reasons, null) is not null then
    insert into oriva.emails (user_id, address, lease_until) values (p_user, v_address, now() + v_lease)
    returning id into v_email;
    update oriva.email_deliveries d set status = 'sending', email_id = v_email, updated_at = now()
      from unnest(v_ids, v_reasons) as x (notification_id, reason)
     where d.notification_id = x.notification_id and x.reason is null;
  end if;

  select min(d.due_at) into v_next from oriva.email_deliveries d where d.user_id = p_user and d.status = 'pending';
  if v_next is not null then
    perform oriva.enqueue_email_digest(p_user, v_next, false);
  end if;
  if v_email is not null then
    return query select v_email, v_address, false, 0, oriva.email_items(v_email);
  end if;
end $$;
revoke all on function oriva.email_digest_claim(text, integer, integer) from public;
grant execute on function oriva.email_digest_claim(text, integer, integer) to oriva_system;

-- What one attempt to send an email came to: sent; retry at p_retry_at (a temporary failure: SMTP
-- 4xx, refused, dropped or timed out); failed (no retry left); bouncing (a permanent 5xx: the
-- user's email channel pauses, visible in their preferences). Schedules what is still pending.
create or replace function oriva.email_digest_record(p_email uuid, p_outcome text, p_error text, p_retry_at timestamptz)
  returns void
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_user text;
  v_next timestamptz;
begin
  update oriva.emails
     set status = case p_outcome when 'sent' then 'sent' when 'retry' then 'sending' else p_outcome end,
         attempts = attempts + 1,
         last_error = coalesce(p_error, last_error),
         lease_until = null,
         sent_at = case when p_outcome = 'sent' then now() end
   where id = p_email and status = 'sending'
  returning user_id into v_user;
  if v_user is null then
    return;
  end if;
  if p_outcome <> 'retry' then
    update oriva.email_deliveries set status = p_outcome, reason = left(p_error, 500), updated_at = now()
     where email_id = p_email;
  end if;
  if p_outcome = 'bouncing' then
    update oriva.user_preferences set email_bounced_at = now() where user_id = v_user;
  end if;
  if p_outcome = 'retry' then
    perform oriva.enqueue_email_digest(v_user, p_retry_at, false);
  else
    select min(d.due_at) into v_next from oriva.email_deliveries d where d.user_id = v_user and d.status = 'pending';
    if v_next is not null then
      perform oriva.enqueue_email_digest(v_user, greatest(v_next, now()), false);
    end if;
  end if;
end $$;
revoke all on function oriva.email_digest_record(uuid, text, text, timestamptz) from public;
grant execute on function oriva.email_digest_record(uuid, text, text, timestamptz) to oriva_system;
