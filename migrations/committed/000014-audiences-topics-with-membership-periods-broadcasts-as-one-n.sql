--! Previous: sha1:f1f4c13ea39d7529dcde41cc0d42dddf959e026e
--! Hash: sha1:753f070f4b20e35ffb3f61c84450814671255d8b
--! Message: Audiences: topics with membership periods, broadcasts as one notification without a user (feeds, counts, resume and the gateway compute recipients when they read), known users, per-recipient state written on first change, broadcast emails in pages

--! split: 1-current.sql
-- Audiences (DESIGN §11): topics an app keeps of its users, and broadcasts. A broadcast is one
-- oriva.platform_notifications row without a user_id, plus its oriva.broadcasts row (who it is
-- for), plus one broadcast.sent event: nothing per recipient. Who receives it is computed when it is
-- read (oriva.user_broadcasts: feeds and counts; oriva.broadcast_reaches: the gateway and resume).
-- A recipient's notification_state row is written only when they change its state (dismiss once,
-- for them); until then it is unread for them.

-- Every user the system knows, and since when: "all" reaches the users known when it was sent. Kept
-- by statement triggers on the tables that make a user known (addressed by a notification,
-- installed an app, set preferences, been put in a topic).
create table oriva.known_users (
  user_id oriva.user_id primary key,
  known_since timestamptz not null default now()
);
create index known_users_since_idx on oriva.known_users (known_since);
alter table oriva.known_users enable row level security;
alter table oriva.known_users force row level security;
create policy system_all on oriva.known_users to oriva_system using (true) with check (true);
grant select, insert, update, delete on oriva.known_users to oriva_system;

insert into oriva.known_users (user_id, known_since)
select user_id, min(at)
  from (select user_id, created_at as at from oriva.notification_state
        union all select user_id, installed_at from oriva.app_installations
        union all select user_id, updated_at from oriva.user_preferences) k
 group by user_id;

create function oriva.tg_known_users__remember() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  insert into oriva.known_users (user_id)
  select distinct n.user_id from new_rows n where n.user_id is not null
  order by 1
  on conflict (user_id) do nothing;
  return null;
end $$;

create trigger _800_remember_user after insert on oriva.notification_state
  referencing new table as new_rows for each statement execute function oriva.tg_known_users__remember();
create trigger _800_remember_user after insert on oriva.app_installations
  referencing new table as new_rows for each statement execute function oriva.tg_known_users__remember();
create trigger _800_remember_user after insert on oriva.user_preferences
  referencing new table as new_rows for each statement execute function oriva.tg_known_users__remember();

-- Topics: an app's named lists of its users. A row per membership period, so a broadcast reaches
-- the members of its topic when it was sent (added later: not; removed later: still).
create table oriva.topic_subscriptions (
  app_id text not null references oriva.apps(id) on delete cascade,
  topic text not null constraint topic_subscriptions_topic_check check (topic ~ '^[a-z0-9][a-z0-9_.:-]{0,63}$'),
  user_id oriva.user_id not null,
  subscribed_at timestamptz not null default now(),
  unsubscribed_at timestamptz,
  constraint topic_subscriptions_period_check check (unsubscribed_at is null or unsubscribed_at >= subscribed_at)
);
create unique index topic_subscriptions_current_key on oriva.topic_subscriptions (app_id, topic, user_id)
  where unsubscribed_at is null;
create index topic_subscriptions_user_idx on oriva.topic_subscriptions (user_id, app_id, topic, subscribed_at);
create index topic_subscriptions_topic_idx on oriva.topic_subscriptions (app_id, topic, subscribed_at);
alter table oriva.topic_subscriptions enable row level security;
alter table oriva.topic_subscriptions force row level security;
create policy api_tenant on oriva.topic_subscriptions to oriva_api
  using (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()))
  with check (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()));
create policy system_all on oriva.topic_subscriptions to oriva_system using (true) with check (true);
grant select, insert, update on oriva.topic_subscriptions to oriva_api;
grant select, insert, update, delete on oriva.topic_subscriptions to oriva_system;

create trigger _800_remember_user after insert on oriva.topic_subscriptions
  referencing new table as new_rows for each statement execute function oriva.tg_known_users__remember();

-- Uninstalling an app ends the user's memberships of its topics (the app can no longer reach them).
create function oriva.tg_app_installations__leave_topics() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  update oriva.topic_subscriptions t set unsubscribed_at = now()
    from old_rows o
   where t.app_id = o.app_id and t.user_id = o.user_id and t.unsubscribed_at is null;
  return null;
end $$;
create trigger _800_leave_topics after delete on oriva.app_installations
  referencing old table as old_rows for each statement execute function oriva.tg_app_installations__leave_topics();

-- Broadcasts: the notification row has no user; the event has no user (it is about an audience).
alter table oriva.platform_notifications alter column user_id drop not null;
alter table oriva.platform_notifications_archive alter column user_id drop not null;
alter table oriva.platform_events alter column user_id drop not null;
alter table oriva.platform_events_archive alter column user_id drop not null;

create table oriva.broadcasts (
  id uuid primary key references oriva.platform_notifications(id) on delete cascade,
  app_id text not null references oriva.apps(id) on delete cascade,
  topic text,  -- null: every user known when it was sent (platform apps only)
  sent_at timestamptz not null default now()
);
create index broadcasts_topic_idx on oriva.broadcasts (app_id, topic, sent_at);
create index broadcasts_all_idx on oriva.broadcasts (sent_at) where topic is null;
alter table oriva.broadcasts enable row level security;
alter table oriva.broadcasts force row level security;
create policy api_tenant on oriva.broadcasts to oriva_api
  using (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()))
  with check (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()));
create policy system_all on oriva.broadcasts to oriva_system using (true) with check (true);
grant select, insert, delete on oriva.broadcasts to oriva_api;
grant select, insert, update, delete on oriva.broadcasts to oriva_system;

-- Is this user in the audience of a broadcast (owner app, topic (null: all), when it was sent), and
-- do their preferences let it into their feed? The gateway and resume ask this per user.
create function oriva.broadcast_reaches(p_app text, p_topic text, p_sent_at timestamptz, p_type text, p_category text,
                                        p_user text) returns boolean
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select case when p_topic is null
                then exists (select 1 from oriva.known_users k where k.user_id = p_user and k.known_since <= p_sent_at)
                else exists (select 1 from oriva.topic_subscriptions t
                              where t.app_id = p_app and t.topic = p_topic and t.user_id = p_user
                                and t.subscribed_at <= p_sent_at
                                and (t.unsubscribed_at is null or t.unsubscribed_at > p_sent_at)) end
       and oriva.preference_suppression((select p.document from oriva.user_preferences p where p.user_id = p_user),
                                        p_app, p_type, p_category, 'in_app') is null
  $$;

-- The same question about a broadcast.* event (its event_data carries the audience and the type).
create function oriva.broadcast_event_reaches(p_app text, p_event_data jsonb, p_user text) returns boolean
  language sql stable
  as $$
    select oriva.broadcast_reaches(p_app, p_event_data #>> '{broadcast,audience,topic}',
                                   (p_event_data #>> '{broadcast,sent_at}')::timestamptz,
                                   p_event_data #>> '{notification,notification_type}',
                                   p_event_data #>> '{notification,category}', p_user)
  $$;

-- The broadcasts in a user's feed: those whose audience held the user when they were sent, that the
-- user's preferences let in (in_app), not retracted (a retracted broadcast is deleted).
create function oriva.user_broadcasts(p_user text) returns setof uuid
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select a.id
      from (select b.id, b.app_id
              from oriva.topic_subscriptions t
              join oriva.broadcasts b on b.app_id = t.app_id and b.topic = t.topic and b.sent_at >= t.subscribed_at
                                     and (t.unsubscribed_at is null or b.sent_at < t.unsubscribed_at)
             where t.user_id = p_user
            union all
            select b.id, b.app_id
              from oriva.known_users k
              join oriva.broadcasts b on b.topic is null and b.sent_at >= k.known_since
             where k.user_id = p_user) a
      join oriva.platform_notifications n on n.id = a.id
     where oriva.preference_suppression((select p.document from oriva.user_preferences p where p.user_id = p_user),
                                        n.app_id, n.notification_type, n.category, 'in_app') is null
  $$;
grant execute on function oriva.user_broadcasts(text) to oriva_api, oriva_system;
grant execute on function oriva.broadcast_reaches(text, text, timestamptz, text, text, text) to oriva_api, oriva_system;

-- A user token sees the broadcasts that reach its user (once per statement: an InitPlan).
create function oriva.acting_user_broadcasts() returns uuid[]
  language sql stable
  as $$ select coalesce(array(select oriva.user_broadcasts(oriva.acting_user_id())), '{}') $$;
grant execute on function oriva.acting_user_broadcasts() to oriva_api;

drop policy api_tenant on oriva.platform_notifications;
create policy api_tenant on oriva.platform_notifications to oriva_api
  using (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id())
         or (select oriva.acting_as_platform())
         or (user_id is null and (select oriva.acting_user_id()) is not null and id = any ((select oriva.acting_user_broadcasts())::uuid[])))
  with check (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id())
              or (select oriva.acting_as_platform()));

-- The unread count the gateway pushes and the feed shows: the user's own state rows (their own
-- notifications, and the broadcasts they changed), plus the broadcasts reaching them they never touched.
create function oriva.unread_broadcasts(p_user text) returns bigint
  language sql stable
  as $$
    select count(*)
      from oriva.user_broadcasts(p_user) b (id)
      join oriva.platform_notifications n on n.id = b.id
     where (n.expires_at is null or n.expires_at > now())
       and not exists (select 1 from oriva.notification_state s where s.notification_id = b.id and s.user_id = p_user)
  $$;
grant execute on function oriva.unread_broadcasts(text) to oriva_api, oriva_system;

-- The email channel for a broadcast: a pending delivery for each recipient with an address whose
-- preferences let email through, in pages of users (the worker's broadcast_emails task), and each
-- one's digest job. Returns the last user of the page (null: done).
create function oriva.schedule_broadcast_emails(p_broadcast uuid, p_after text, p_limit integer) returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_last text;
  v_ids uuid[];
  v_apps text[];
  v_users text[];
  v_urgent boolean[];
begin
  select max(r.user_id), array_agg(r.id), array_agg(r.app_id), array_agg(r.user_id), array_agg(r.urgent)
    into v_last, v_ids, v_apps, v_users, v_urgent
    from (select n.id, n.app_id, p.user_id::text as user_id, n.priority = 'urgent' as urgent
            from oriva.broadcasts b
            join oriva.platform_notifications n on n.id = b.id
            join oriva.user_preferences p on p.user_id > coalesce(p_after, '')
           where b.id = p_broadcast
             and p.document #>> '{email,address}' is not null and p.email_bounced_at is null
             and oriva.preference_suppression(p.document, n.app_id, n.notification_type, n.category, 'email') is null
             and oriva.broadcast_reaches(b.app_id, b.topic, b.sent_at, n.notification_type, n.category, p.user_id)
           order by p.user_id
           limit p_limit) r;
  perform oriva.schedule_emails(v_ids, v_apps, v_users, v_urgent);
  return v_last;
end $$;

create function oriva.enqueue_broadcast_emails(broadcast_id uuid, after_user text) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  as $$
    select graphile_worker.add_job('broadcast_emails', json_build_object('broadcast_id', broadcast_id, 'after_user', after_user),
                                   job_key := 'broadcast_emails:' || broadcast_id)
  $$;
grant execute on function oriva.enqueue_broadcast_emails(uuid, text) to oriva_api, oriva_system;

-- A digest's deliveries: a broadcast's state row is the recipient's own (others' are not theirs),
-- and a broadcast without one is unread for them.
create or replace function oriva.email_digest_claim(p_user text, p_lease_ms integer, p_stale_ms integer) returns TABLE(email_id uuid, address text, resend boolean, attempts integer, items jsonb)
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
  select min(e.lease_until) into v_next from oriva.emails e where e.user_id = p_user and e.status = 'sending';
  if v_next is not null then
    -- another worker holds this user's digest (sending it, or it died mid-send): look again when its
    -- lease ends — then it is sent (what is left gets scheduled) or it is resent from here
    perform oriva.enqueue_email_digest(p_user, v_next, false);
    return;
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
                      when not oriva.is_unread(st.status, null) then st.status
                      -- online: they see it live (unless in_app was suppressed: then no state row)
                      when v_online and st.status is not null then 'online'
                      when v_address is null then 'no_address'
                      when v_bounced is not null then 'bouncing'
                      when v_quiet and n.priority <> 'urgent' and n.category <> 'security' then 'quiet_hours'
                 end as reason
            from oriva.email_deliveries d
            join oriva.platform_notifications n on n.id = d.notification_id
            left join oriva.notification_state s on s.notification_id = d.notification_id and s.user_id = d.user_id
            cross join lateral (select case when n.user_id is null then coalesce(s.status, 'unread') else s.status end as status) st
           where d.user_id = p_user and d.status = 'pending'
             for update of d) x;

  update oriva.email_deliveries d
     set status = case when x.reason = 'quiet_hours' then 'pending' else 'skipped' end,
         reason = case when x.reason = 'quiet_hours' then null else x.reason end,
         due_at = case when x.reason = 'quiet_hours' then v_until else d.due_at end,
         updated_at = now()
    from unnest(v_ids, v_reasons) as x (notification_id, reason)
   where d.notification_id = x.notification_id and d.user_id = p_user and x.reason is not null;

  v_email := null;
  if array_position(v_reasons, null) is not null then
    insert into oriva.emails (user_id, address, lease_until) values (p_user, v_address, now() + v_lease)
    returning id into v_email;
    update oriva.email_deliveries d set status = 'sending', email_id = v_email, updated_at = now()
      from unnest(v_ids, v_reasons) as x (notification_id, reason)
     where d.notification_id = x.notification_id and d.user_id = p_user and x.reason is null;
  end if;

  select min(d.due_at) into v_next from oriva.email_deliveries d where d.user_id = p_user and d.status = 'pending';
  if v_next is not null then
    perform oriva.enqueue_email_digest(p_user, v_next, false);
  end if;
  if v_email is not null then
    return query select v_email, v_address, false, 0, oriva.email_items(v_email);
  end if;
end $$;

-- A broadcast's email deliveries are one per recipient: the key is the notification and the user.
alter table oriva.email_deliveries drop constraint email_deliveries_pkey;
alter table oriva.email_deliveries add constraint email_deliveries_pkey primary key (notification_id, user_id);

-- A broadcast's audience, counted now: its recipients (the audience when it was sent) and how many of
-- them keep it out of their feed by their preferences.
create function oriva.broadcast_audience(p_app text, p_topic text, p_sent_at timestamptz, p_type text, p_category text)
  returns table (recipients integer, suppressed integer)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select count(*)::int,
           count(*) filter (where oriva.preference_suppression(p.document, p_app, p_type, p_category, 'in_app') is not null)::int
      from (select k.user_id from oriva.known_users k where p_topic is null and k.known_since <= p_sent_at
            union all
            select t.user_id from oriva.topic_subscriptions t
             where p_topic is not null and t.app_id = p_app and t.topic = p_topic
               and t.subscribed_at <= p_sent_at and (t.unsubscribed_at is null or t.unsubscribed_at > p_sent_at)) r
      left join oriva.user_preferences p on p.user_id = r.user_id
  $$;
grant execute on function oriva.broadcast_audience(text, text, timestamptz, text, text) to oriva_api, oriva_system;
grant execute on function oriva.broadcast_event_reaches(text, jsonb, text) to oriva_api, oriva_system;

-- When a broadcast expired (its broadcast.expired was recorded, once).
alter table oriva.broadcasts add column expired_at timestamptz;

-- A delivery already scheduled stays as it is (a broadcast's email page run again after a crash).
create or replace function oriva.schedule_emails(notification_ids uuid[], app_ids text[], user_ids text[], urgent boolean[]) returns integer
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
    on conflict (notification_id, user_id) do nothing
    returning user_id, due_at, due_at <= now() as now_due
  )
  select count(oriva.enqueue_email_digest(u.user_id, u.run_at, u.urgent)::text) into scheduled
    from (select user_id, min(due_at) as run_at, bool_or(now_due) as urgent from due group by user_id) u;
  return scheduled;
end $$;
