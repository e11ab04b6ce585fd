-- Generated from the migrated database by `npx oriva schema-dump`: do not edit by hand.
-- Change the schema in migrations/current.sql, then regenerate this file.

create schema oriva;

create domain oriva.notification_category as text
  CHECK ((VALUE = ANY (ARRAY['security'::text, 'system'::text, 'social'::text, 'task'::text])));

create domain oriva.notification_status as text
  CHECK ((VALUE = ANY (ARRAY['unread'::text, 'read'::text, 'clicked'::text, 'dismissed'::text, 'expired'::text])));

create domain oriva.user_id as text
  CHECK ((((length(VALUE) >= 1) AND (length(VALUE) <= 128)) AND (btrim(VALUE, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@-'::text) = ''::text)));

create function oriva.act_as(p_app_id text, p_user_id text, p_platform boolean, p_key_hash bytea) returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  perform set_config('oriva.app_id', coalesce(p_app_id, ''), true),
          set_config('oriva.user_id', coalesce(p_user_id, ''), true),
          set_config('oriva.platform', case when p_platform then 'on' else 'off' end, true);
  return p_key_hash is null or exists (
    select 1
    from oriva.api_keys k
    join oriva.apps a on a.id = k.app_id
    where k.key_hash = p_key_hash
      and k.app_id = p_app_id
      and (k.revoked_at is null or k.revoked_at > now())
      and a.is_active
      and a.is_platform = p_platform);
end $$;

create function oriva.acting_app_id() returns text
  language sql stable
  as $$ select nullif(current_setting('oriva.app_id', true), '') $$;

create function oriva.acting_as_platform() returns boolean
  language sql stable
  as $$ select coalesce(current_setting('oriva.platform', true), '') = 'on' $$;

create function oriva.acting_user_broadcasts() returns uuid[]
  language sql stable
  as $$ select coalesce(array(select oriva.user_broadcasts(oriva.acting_user_id())), '{}') $$;

create function oriva.acting_user_id() returns text
  language sql stable
  as $$ select nullif(current_setting('oriva.user_id', true), '') $$;

create function oriva.add_job(identifier text, payload json, run_at timestamp with time zone, job_key text, max_attempts integer) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select graphile_worker.add_job(identifier, payload, run_at := run_at, job_key := job_key,
                                   max_attempts := max_attempts);
  $$;

create function oriva.app_reachable_users(app_id text, user_ids text[], install_required boolean) returns SETOF text
  language sql stable
  as $$
    select u.user_id
      from unnest(user_ids) as u (user_id)
     where not install_required
        or exists (select 1 from oriva.apps a where a.id = app_reachable_users.app_id and a.is_platform)
        or u.user_id in (select i.user_id from oriva.app_installations i
                          where i.app_id = app_reachable_users.app_id and i.user_id = any(user_ids))
  $$;

create function oriva.archive_event_partition(p_cutoff timestamp with time zone) returns bigint
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set TimeZone = utc
  set lock_timeout = 2s
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

create function oriva.broadcast_audience(p_app text, p_topic text, p_sent_at timestamp with time zone, p_type text, p_category text) returns TABLE(recipients integer, suppressed integer)
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

create function oriva.broadcast_event_reaches(p_app text, p_event_data jsonb, p_user text) returns boolean
  language sql stable
  as $$
    select oriva.broadcast_reaches(p_app, p_event_data #>> '{broadcast,audience,topic}',
                                   (p_event_data #>> '{broadcast,sent_at}')::timestamptz,
                                   p_event_data #>> '{notification,notification_type}',
                                   p_event_data #>> '{notification,category}', p_user)
  $$;

create function oriva.broadcast_reaches(p_app text, p_topic text, p_sent_at timestamp with time zone, p_type text, p_category text, p_user text) returns boolean
  language sql stable
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

create function oriva.create_event_partition(p_month date) returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set TimeZone = utc
  set lock_timeout = 2s
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

create function oriva.email_digest_claim(p_user text, p_lease_ms integer, p_stale_ms integer) returns TABLE(email_id uuid, address text, resend boolean, attempts integer, items jsonb)
  language plpgsql volatile
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_bounced timestamptz;
  v_online boolean;
  v_quiet boolean;
  v_until timestamptz;
  v_email uuid;
  v_address text;
  v_attempts integer;
  v_lease_until timestamptz;
  v_items jsonb;
  v_held boolean;
  v_lease interval := make_interval(secs => p_lease_ms / 1000.0);
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.email_digest:' || p_user, 0));

  select e.id, e.address, e.attempts, e.lease_until into v_email, v_address, v_attempts, v_lease_until
    from oriva.emails e
   where e.user_id = p_user and e.status = 'sending'
   order by (e.lease_until is null or e.lease_until < now()) desc,
            case when e.lease_until is null or e.lease_until < now() then e.created_at end,
            e.lease_until
   limit 1;
  if v_email is not null and (v_lease_until is null or v_lease_until < now()) then
    update oriva.emails set lease_until = now() + v_lease where id = v_email;
    return query select v_email, v_address, true, v_attempts, oriva.email_items(v_email);
    return;
  elsif v_email is not null then
    perform oriva.enqueue_email_digest(p_user, v_lease_until, false);
    return;
  end if;

  select p.document #>> '{email,address}', p.email_bounced_at,
         exists (select 1 from oriva.gateway_connections c join oriva.gateway_instances i on i.id = c.instance_id
                  where c.user_id = p_user and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0)),
         q.in_quiet, q.quiet_until
    into v_address, v_bounced, v_online, v_quiet, v_until
    from (values (p_user)) as u (user_id)
    left join oriva.user_preferences p on p.user_id = u.user_id
    cross join lateral oriva.quiet_hours_at(p.document -> 'quiet_hours', now()) q;

  with due as (
    select d.notification_id, n.app_id, n.title, n.body, n.action_url, n.action_label, n.priority, n.category, n.created_at,
           case when n.expires_at is not null and n.expires_at <= now() then 'expired'
                when not oriva.is_unread(st.status, null) then st.status
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
       for update of d
  ), email as (
    insert into oriva.emails (user_id, address, lease_until)
    select p_user, v_address, now() + v_lease where exists (select 1 from due where due.reason is null)
    returning id
  ), moved as (
    update oriva.email_deliveries d
       set status = case when due.reason is null then 'sending' when due.reason = 'quiet_hours' then 'pending' else 'skipped' end,
           reason = case when due.reason = 'quiet_hours' then null else due.reason end,
           due_at = case when due.reason = 'quiet_hours' then v_until else d.due_at end,
           email_id = case when due.reason is null then (select id from email) else d.email_id end,
           updated_at = now()
      from due
     where d.notification_id = due.notification_id and d.user_id = p_user
  )
  select (select id from email),
         coalesce(jsonb_agg(jsonb_build_object(
             'id', due.notification_id, 'app_name', a.name, 'app_icon', a.icon_url, 'title', due.title, 'body', due.body,
             'action_url', due.action_url, 'action_label', due.action_label, 'priority', due.priority,
             'category', due.category, 'created_at', due.created_at, 'email_subject', c.subject, 'email_html', c.html)
             order by due.created_at desc, due.notification_id) filter (where due.reason is null), '[]'),
         bool_or(due.reason = 'quiet_hours')
    into v_email, v_items, v_held
    from due
    join oriva.apps a on a.id = due.app_id
    left join oriva.notification_email_content c on c.notification_id = due.notification_id;

  if v_held then
    perform oriva.enqueue_email_digest(p_user, v_until, false);
  end if;
  if v_email is not null then
    return query select v_email, v_address, false, 0, v_items;
  end if;
end $$;

create function oriva.email_digest_record(p_email uuid, p_outcome text, p_error text, p_retry_at timestamp with time zone) returns void
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

create function oriva.email_digests_sent(p_emails uuid[]) returns void
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  with sent as (
    update oriva.emails
       set status = 'sent', attempts = attempts + 1, lease_until = null, sent_at = now()
     where id = any(p_emails) and status = 'sending'
    returning id
  )
  update oriva.email_deliveries d set status = 'sent', reason = null, updated_at = now()
    from sent
   where d.email_id = sent.id;

  perform oriva.enqueue_email_digest(u.user_id, greatest(pending.next_due, now()), false)
     from (select distinct e.user_id from oriva.emails e where e.id = any(p_emails)) u
     cross join lateral (select min(d.due_at) as next_due
                           from oriva.email_deliveries d
                          where d.user_id = u.user_id and d.status = 'pending') pending
    where pending.next_due is not null;
end $$;

create function oriva.email_items(p_email uuid) returns jsonb
  language sql stable
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
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

create function oriva.enqueue_broadcast_emails(broadcast_id uuid, after_user text) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select graphile_worker.add_job('broadcast_emails', json_build_object('broadcast_id', broadcast_id, 'after_user', after_user),
                                   job_key := 'broadcast_emails:' || broadcast_id)
  $$;

create function oriva.enqueue_email_digest(user_id text, run_at timestamp with time zone, urgent boolean) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select graphile_worker.add_job('email_digest', json_build_object('user_id', user_id), run_at := run_at,
                                   job_key := 'email_digest:' || user_id,
                                   job_key_mode := case when urgent then 'replace' else 'preserve_run_at' end)
  $$;

create function oriva.enqueue_notification_expiry(notification_id uuid, run_at timestamp with time zone) returns void
  language sql volatile
  set search_path = pg_catalog
  as $$
    select oriva.add_job('notification_expire', json_build_object('notification_id', notification_id), run_at,
                         'expire:' || notification_id::text)
  $$;

create function oriva.enqueue_webhook_attempts(webhook_ids uuid[], event_ids uuid[], attempts integer[], run_ats timestamp with time zone[]) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select count(*)
      from graphile_worker.add_jobs(array(
        select row('webhook_deliver',
                   json_build_object('webhook_id', d.webhook_id, 'event_id', d.event_id, 'delivery_id', d.delivery_id,
                                     'attempt', attempts[d.ord]),
                   null, run_ats[d.ord],
                   -- our own retry schedule lives in the task; graphile-worker's attempts only cover a
                   -- worker that crashed or lost its database in the middle of an attempt
                   3,
                   oriva.webhook_delivery_job_key(d.delivery_id), null, null)::graphile_worker.job_spec
          from (select distinct on (u.webhook_id, u.event_id) u.webhook_id, u.event_id,
                       oriva.webhook_delivery_id(u.webhook_id, u.event_id) as delivery_id, u.ord
                  from unnest(webhook_ids, event_ids) with ordinality as u (webhook_id, event_id, ord)
                 order by u.webhook_id, u.event_id, u.ord) d
         order by d.ord));
  $$;

create function oriva.enqueue_webhook_deliveries(webhook_ids uuid[], event_ids uuid[], attempt integer, run_at timestamp with time zone) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select oriva.enqueue_webhook_attempts(webhook_ids, event_ids, array_fill(attempt, array[cardinality(webhook_ids)]),
                                          array_fill(run_at, array[cardinality(webhook_ids)]));
  $$;

create function oriva.enqueue_webhook_delivery(webhook_id uuid, event_id uuid, attempt integer, run_at timestamp with time zone) returns void
  language sql volatile
  set search_path = pg_catalog
  as $$
    select oriva.enqueue_webhook_deliveries(array[webhook_id], array[event_id], attempt, run_at);
  $$;

create function oriva.ensure_event_partitions(p_months_ahead integer) returns SETOF text
  language sql volatile security definer
  set search_path = pg_catalog
  set TimeZone = utc
  as $$
    select made
      from generate_series(date_trunc('month', now()), date_trunc('month', now()) + make_interval(months => p_months_ahead),
                           interval '1 month') as month,
           oriva.create_event_partition(month::date) as made
     where made is not null
  $$;

create function oriva.event_audience_apps(app_id text, user_id text, event_category text) returns SETOF text
  language sql stable
  as $$
    select i.app_id
      from oriva.app_installations i
      join oriva.apps publisher on publisher.id = event_audience_apps.app_id and publisher.is_platform
     where i.user_id = event_audience_apps.user_id
       and i.app_id <> event_audience_apps.app_id
       and not oriva.is_reserved_category(event_audience_apps.event_category)
  $$;

create function oriva.failed_jobs(max_rows integer) returns TABLE(id bigint, task_identifier text, payload json, attempts smallint, last_error text, updated_at timestamp with time zone)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select j.id, t.identifier, j.payload, j.attempts, j.last_error, j.updated_at
      from graphile_worker._private_jobs j
      join graphile_worker._private_tasks t on t.id = j.task_id
     where j.attempts >= j.max_attempts
     order by j.updated_at desc
     limit max_rows
  $$;

create function oriva.gateway_admit(p_instance uuid, p_connection uuid, p_user text, p_app text, p_max integer, p_stale_ms integer) returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  live integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.gateway_connections:'
    || case when p_user is not null then p_user else 'app:' || p_app end, 0));
  select count(*) into live
  from oriva.gateway_connections c
  join oriva.gateway_instances i on i.id = c.instance_id
  where (c.user_id = p_user or c.app_id = p_app)
    and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0);
  if live >= p_max then
    return false;
  end if;
  insert into oriva.gateway_connections (id, instance_id, user_id, app_id)
  values (p_connection, p_instance, p_user, case when p_user is null then p_app end);
  return true;
end $$;

create function oriva.histogram_add(a jsonb, b jsonb) returns jsonb
  language sql immutable
  as $$
    select coalesce(jsonb_object_agg(bin, n), '{}'::jsonb)
      from (select bin, sum(n::bigint) as n
              from (select * from jsonb_each_text(coalesce(a, '{}'::jsonb))
                    union all
                    select * from jsonb_each_text(coalesce(b, '{}'::jsonb))) both_ (bin, n)
             group by bin) s
  $$;

create function oriva.in_feed(status text, expires_at timestamp with time zone) returns boolean
  language sql stable
  as $$ select status in ('unread', 'read', 'clicked') and (expires_at is null or expires_at > now()) $$;

create function oriva.is_reserved_category(event_category text) returns boolean
  language sql immutable
  as $$ select event_category in ('notification', 'app', 'webhook', 'broadcast', 'preferences') $$;

create function oriva.is_unread(status text, expires_at timestamp with time zone) returns boolean
  language sql stable
  as $$ select status = 'unread' and (expires_at is null or expires_at > now()) $$;

create function oriva.job_queue_summary() returns TABLE(task_identifier text, ready bigint, scheduled bigint, running bigint, retrying bigint, failed bigint, oldest_ready_at timestamp with time zone)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select t.identifier,
           count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at <= now()),
           count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at > now()),
           count(*) filter (where j.locked_at is not null),
           count(*) filter (where j.locked_at is null and j.attempts > 0 and j.attempts < j.max_attempts),
           count(*) filter (where j.attempts >= j.max_attempts),
           min(j.run_at) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at <= now())
      from graphile_worker._private_jobs j
      join graphile_worker._private_tasks t on t.id = j.task_id
     group by t.identifier
     order by t.identifier
  $$;

create function oriva.log_bin(ms double precision) returns integer
  language sql immutable
  as $$ select case when ms <= 1 then 0 else ceil(ln(ms) / ln(1.1))::integer end $$;

create function oriva.notification_owner(p_id uuid) returns TABLE(app_id text, user_id text)
  language sql stable security definer
  set search_path = pg_catalog
  as $$ select n.app_id, n.user_id::text from oriva.platform_notifications n where n.id = p_id $$;

create function oriva.preference_routes(app_id text, user_ids text[], notification_types text[], categories text[]) returns TABLE(ord bigint, in_app_reason text, email_decision text, email_reason text)
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

create function oriva.preference_suppression(document jsonb, app_id text, notification_type text, category text, channel text) returns text
  language sql immutable
  as $$
    select case
      when document is null then null
      when document #> array['apps', app_id, 'muted'] = 'true' then 'muted_app'
      when document #> array['apps', app_id, 'types', notification_type, channel] = 'false' then 'type_off'
      when category = 'security' and channel = 'in_app' then null
      when document #> array['categories', category, channel] = 'false' then 'category_off'
      when document #> array['channels', channel] = 'false' then 'channel_off'
    end
  $$;

create function oriva.quiet_hours_at(quiet_hours jsonb, at timestamp with time zone) returns TABLE(in_quiet boolean, quiet_until timestamp with time zone)
  language sql stable
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
  with q as (
    select (quiet_hours->>'start')::time as starts, (quiet_hours->>'end')::time as ends, quiet_hours->>'timezone' as zone
    where jsonb_typeof(quiet_hours) = 'object'
  ),
  windows as (
    -- the windows that start on the local day of `at` and on the day before (one may still be open)
    select (day + q.starts) at time zone q.zone as opens,
           (day + case when q.ends > q.starts then 0 else 1 end + q.ends) at time zone q.zone as closes
    from q, lateral (values ((at at time zone q.zone)::date - 1), ((at at time zone q.zone)::date)) as d (day)
    where q.starts <> q.ends
  )
  select count(*) > 0, max(closes) from windows where opens <= at and at < closes
$$;

create function oriva.rate_limit_take(p_key text, p_duration_ms bigint, p_max bigint, p_cost bigint) returns TABLE(remaining bigint, reset_at timestamp with time zone)
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

create function oriva.record_events(events oriva.new_event[]) returns SETOF oriva.platform_events
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

create function oriva.release_stopped_workers(worker_ids text[]) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  delete from oriva.worker_heartbeats where worker_id = any(worker_ids);
  perform graphile_worker.force_unlock_workers(worker_ids);
end $$;

create function oriva.return_unstarted_jobs(worker_ids text[]) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  delete from oriva.worker_heartbeats where worker_id = any(worker_ids);
  update graphile_worker._private_jobs as jobs
     set attempts = greatest(0, jobs.attempts - 1), locked_by = null, locked_at = null
   where jobs.locked_by = any(worker_ids);
  update graphile_worker._private_job_queues as job_queues
     set locked_by = null, locked_at = null
   where job_queues.locked_by = any(worker_ids);
end $$;

create function oriva.route_notifications(app_id text, user_ids text[], notification_types text[], categories text[], install_required boolean) returns SETOF oriva.route
  language sql stable
  as $$
    with recipients as (
      select r.ord, r.user_id,
             r.user_id in (select u from oriva.app_reachable_users(route_notifications.app_id, user_ids, install_required) u) as reachable
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

create function oriva.schedule_emails(notification_ids uuid[], app_ids text[], user_ids text[], urgent boolean[]) returns integer
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

create function oriva.state_change_event(app_id text, user_id text, notification_id uuid, external_id text, status text, previous_status text, source text, extra jsonb) returns oriva.new_event
  language sql immutable
  as $$
    select row(app_id, user_id, 'notification', status, 'notification', notification_id::text,
               jsonb_build_object('source', source, 'notification_id', notification_id, 'external_id', external_id,
                                  'status', status, 'previous_status', previous_status)
                 || jsonb_strip_nulls(extra),
               null, null, true)::oriva.new_event
  $$;

create function oriva.stats_roll_up(p_after bigint, p_upto bigint) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set TimeZone = UTC
  as $$
    with e as materialized (
      select seq, app_id, user_id, event_category, event_type, entity_id, event_data, created_at, reaches_user
        from oriva.platform_events
       where seq > p_after and seq <= p_upto
         and event_category in ('notification', 'broadcast')
         and event_type in ('created', 'sent', 'read', 'clicked', 'dismissed', 'expired')
    ),
    facts (app_id, created_at, notification_type, category, created, suppressed, delivered,
           read, clicked, dismissed, expired, read_ms) as (
      select e.app_id, e.created_at, e.event_data #>> '{notification,notification_type}',
             e.event_data #>> '{notification,category}',
             1, (not e.reaches_user)::int, e.reaches_user::int, 0, 0, 0, 0, null::double precision
        from e
       where e.event_category = 'notification' and e.event_type = 'created'
      union all
      select e.app_id, e.created_at, e.event_data #>> '{notification,notification_type}',
             e.event_data #>> '{notification,category}',
             1, a.suppressed, a.recipients - a.suppressed, 0, 0, 0, 0, null
        from e
       cross join lateral oriva.broadcast_audience(e.app_id, e.event_data #>> '{broadcast,audience,topic}',
                                                    (e.event_data #>> '{broadcast,sent_at}')::timestamptz,
                                                    e.event_data #>> '{notification,notification_type}',
                                                    e.event_data #>> '{notification,category}') a
       where e.event_category = 'broadcast' and e.event_type = 'sent'
      union all
      select n.app_id, n.created_at, n.notification_type, n.category, 0, 0, 0,
             (s.first_read_at = e.created_at)::int,
             (e.event_type = 'clicked')::int,
             (e.event_type = 'dismissed')::int,
             (e.event_type = 'expired')::int,
             case when s.first_read_at = e.created_at
                  then greatest(extract(epoch from e.created_at - n.created_at) * 1000, 0) end
        from e
        join oriva.platform_notifications n
          on n.id = case when e.event_category = 'notification' then e.entity_id::uuid end
        left join oriva.notification_state s on s.notification_id = n.id and s.user_id = e.user_id
       where e.event_category = 'notification' and e.event_type in ('read', 'clicked', 'dismissed', 'expired')
    ),
    binned as (
      select app_id, date_trunc('hour', created_at) as hour, notification_type, category, oriva.log_bin(read_ms) as bin,
             sum(created) as created, sum(suppressed) as suppressed, sum(delivered) as delivered, sum(read) as read,
             sum(clicked) as clicked, sum(dismissed) as dismissed, sum(expired) as expired, count(read_ms) as timed
        from facts
       group by 1, 2, 3, 4, 5
    )
    insert into oriva.notification_stats_hourly as s
      (app_id, hour, notification_type, category, created, suppressed, delivered, read, clicked, dismissed, expired,
       time_to_read)
    select app_id, hour, notification_type, category, sum(created), sum(suppressed), sum(delivered), sum(read),
           sum(clicked), sum(dismissed), sum(expired),
           coalesce(jsonb_object_agg(bin, timed) filter (where bin is not null), '{}'::jsonb)
      from binned
     group by app_id, hour, notification_type, category
     order by app_id, hour, notification_type, category
    on conflict (app_id, hour, notification_type, category) do update
       set created = s.created + excluded.created,
           suppressed = s.suppressed + excluded.suppressed,
           delivered = s.delivered + excluded.delivered,
           read = s.read + excluded.read,
           clicked = s.clicked + excluded.clicked,
           dismissed = s.dismissed + excluded.dismissed,
           expired = s.expired + excluded.expired,
           time_to_read = oriva.histogram_add(s.time_to_read, excluded.time_to_read)
  $$;

create function oriva.tg_announce_key_change() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  changed jsonb := to_jsonb(coalesce(new, old));
begin
  perform pg_notify('oriva_keys', coalesce(changed ->> 'app_id', changed ->> 'id'));
  return null;
end $$;

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

create function oriva.tg_email_deliveries__count() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set TimeZone = UTC
  as $$
begin
  if not exists (select 1 from new_rows d where d.status in ('sent', 'failed', 'bouncing')) then
    return null;
  end if;
  insert into oriva.notification_stats_hourly as s
    (app_id, hour, notification_type, category, emails_sent, emails_failed)
  select n.app_id, date_trunc('hour', n.created_at), n.notification_type, n.category,
         count(*) filter (where d.status = 'sent'), count(*) filter (where d.status <> 'sent')
    from new_rows d
    join old_rows o on o.notification_id = d.notification_id and o.user_id = d.user_id
    join oriva.platform_notifications n on n.id = d.notification_id
   where d.status in ('sent', 'failed', 'bouncing') and o.status not in ('sent', 'failed', 'bouncing')
   group by 1, 2, 3, 4
   order by 1, 2, 3, 4
  on conflict (app_id, hour, notification_type, category) do update
     set emails_sent = s.emails_sent + excluded.emails_sent,
         emails_failed = s.emails_failed + excluded.emails_failed;
  return null;
end $$;

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

create function oriva.tg_notification_state__first_read() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  new.first_read_at := now();
  return new;
end $$;

create function oriva.tg_platform_events__enqueue_webhooks() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform oriva.enqueue_webhook_deliveries(array_agg(d.webhook_id order by d.seq, d.webhook_id),
                                           array_agg(d.event_id order by d.seq, d.webhook_id), 1)
  from (select w.id as webhook_id, e.id as event_id, e.seq
        from new_events e
        join oriva.app_webhooks w
          on w.app_id = e.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
         and not (e.event_category = 'webhook' and e.entity_id = w.id::text)) d
  having count(*) > 0;
  if not exists (select 1 from new_events e where not oriva.is_reserved_category(e.event_category)) then
    return null;
  end if;
  perform oriva.enqueue_webhook_deliveries(array_agg(d.webhook_id order by d.seq, d.webhook_id),
                                           array_agg(d.event_id order by d.seq, d.webhook_id), 1)
  from (select w.id as webhook_id, e.id as event_id, e.seq
        from new_events e
        cross join lateral oriva.event_audience_apps(e.app_id, e.user_id, e.event_category) as hears (app_id)
        join oriva.app_webhooks w
          on w.app_id = hears.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
        where not oriva.is_reserved_category(e.event_category)) d
  having count(*) > 0;
  return null;
end $$;

create function oriva.tg_platform_events__notify() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  perform pg_notify('oriva_events', json_build_object('seq', max(n.seq))::text)
  from new_events n
  having count(*) > 0;
  return null;
end $$;

create function oriva.tg_platform_events__seq_after_xid() returns trigger
  language plpgsql volatile
  as $$
declare
  -- first: the transaction's id (assigned here if this row is its first write)
  v_xid xid8 := pg_catalog.pg_current_xact_id();
begin
  -- then the seq (the identity default's value is replaced: seq stays monotonic, never dense)
  new.seq := pg_catalog.nextval('oriva.platform_events_seq_seq'::regclass);
  return new;
end $$;

create function oriva.tg_user_preferences__announce() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  perform pg_notify('oriva_preferences', json_build_object('user_id', new.user_id, 'revision', new.revision,
                                                             'updated_at', new.updated_at)::text);
  return null;
end $$;

create function oriva.tg_webhook_delivery_log__count() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set TimeZone = UTC
  as $$
begin
  insert into oriva.webhook_stats_hourly as s (app_id, hour, ok, failed, latency)
  select app_id, hour, sum(ok), sum(failed), coalesce(jsonb_object_agg(bin, timed) filter (where bin is not null), '{}'::jsonb)
    from (select app_id, date_trunc('hour', delivered_at) as hour, oriva.log_bin(response_time_ms) as bin,
                 count(*) filter (where success) as ok, count(*) filter (where not success) as failed,
                 count(response_time_ms) as timed
            from new_rows
           group by 1, 2, 3) b
   group by app_id, hour
   order by app_id, hour
  on conflict (app_id, hour) do update
     set ok = s.ok + excluded.ok,
         failed = s.failed + excluded.failed,
         latency = oriva.histogram_add(s.latency, excluded.latency);
  return null;
end $$;

create function oriva.unlock_dead_workers(stale_after interval) returns text[]
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  dead text[];
begin
  select coalesce(array_agg(distinct j.locked_by), '{}') into dead
    from graphile_worker._private_jobs j
   where j.locked_by is not null
     and j.locked_at < now() - stale_after
     and not exists (select 1 from oriva.worker_heartbeats h
                      where h.worker_id = j.locked_by and h.beat_at > now() - stale_after);
  if cardinality(dead) > 0 then
    perform graphile_worker.force_unlock_workers(dead);
  end if;
  delete from oriva.worker_heartbeats where beat_at < now() - greatest(stale_after * 10, interval '1 hour');
  return dead;
end $$;

create function oriva.unread_broadcasts(p_user text) returns bigint
  language sql stable
  as $$
    select count(*)
      from oriva.user_broadcasts(p_user) b (id)
      join oriva.platform_notifications n on n.id = b.id
     where (n.expires_at is null or n.expires_at > now())
       and not exists (select 1 from oriva.notification_state s where s.notification_id = b.id and s.user_id = p_user)
  $$;

create function oriva.user_broadcasts(p_user text) returns SETOF uuid
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

create function oriva.user_quiet_hours_at(user_id text, at timestamp with time zone) returns TABLE(in_quiet boolean, quiet_until timestamp with time zone)
  language sql stable
  set search_path = pg_catalog
  as $$
  select w.in_quiet, w.quiet_until
  from (select (select p.document->'quiet_hours' from oriva.user_preferences p where p.user_id = user_quiet_hours_at.user_id) as doc) u,
       oriva.quiet_hours_at(u.doc, at) w
$$;

create function oriva.webhook_delivery_id(webhook_id uuid, event_id uuid) returns text
  language sql immutable
  set search_path = pg_catalog
  as $$
    select 'msg_' || left(encode(sha256(convert_to(webhook_id::text || ':' || event_id::text, 'UTF8')), 'hex'), 32)
  $$;

create function oriva.webhook_delivery_job_key(delivery_id text) returns text
  language sql immutable
  set search_path = pg_catalog
  as $$ select 'webhook_deliver:' || delivery_id $$;

create function oriva.webhook_health_check(p_window interval, p_min_attempts integer, p_max_failure_rate numeric) returns TABLE(webhook_id uuid, app_id text, url text, alert text, attempts bigint, failed bigint, last_error text)
  language sql volatile security definer
  set search_path = pg_catalog
  as $$
    with health as (
      select l.webhook_id, count(*) as attempts, count(*) filter (where not l.success) as failed,
             (array_agg(coalesce(l.error_message, 'HTTP ' || l.status_code) order by l.delivered_at desc)
                filter (where not l.success))[1] as last_error
        from oriva.webhook_delivery_log l
       where l.delivered_at > now() - p_window
       group by l.webhook_id
    ),
    failing as (
      update oriva.app_webhooks w set failing_since = now()
        from health h
       where w.id = h.webhook_id and w.failing_since is null and w.is_active
         and h.attempts >= p_min_attempts and h.failed > h.attempts * p_max_failure_rate
      returning w.id, w.app_id, w.webhook_url, 'failing' as alert, h.attempts, h.failed, h.last_error
    ),
    recovered as (
      update oriva.app_webhooks w set failing_since = null
        from health h
       where w.id = h.webhook_id and w.failing_since is not null
         and (h.failed = 0 or (h.attempts >= p_min_attempts and h.failed <= h.attempts * p_max_failure_rate))
      returning w.id, w.app_id, w.webhook_url, 'recovered' as alert, h.attempts, h.failed, h.last_error
    )
    select * from failing union all select * from recovered
  $$;

create function oriva.webhook_hears(subscribed_events text[], event_category text, event_type text) returns boolean
  language sql immutable
  as $$ select subscribed_events && array['*', event_category || '.*', event_category || '.' || event_type] $$;

create function oriva.webhook_owner(p_id uuid) returns text
  language sql stable security definer
  set search_path = pg_catalog
  as $$ select w.app_id from oriva.app_webhooks w where w.id = p_id $$;

create function oriva.writers_settled(fence xid8) returns boolean
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

create table oriva.api_keys (
  id uuid default gen_random_uuid() not null,
  app_id text not null,
  key_hash bytea not null,
  prefix text not null,
  created_at timestamp with time zone default now() not null,
  revoked_at timestamp with time zone
);
alter table oriva.api_keys add constraint api_keys_key_hash_check CHECK ((octet_length(key_hash) = 32));
alter table oriva.api_keys add constraint api_keys_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.api_keys add constraint api_keys_pkey PRIMARY KEY (id);
alter table oriva.api_keys add constraint api_keys_key_hash_key UNIQUE (key_hash);
CREATE INDEX api_keys_app_idx ON oriva.api_keys USING btree (app_id);
CREATE TRIGGER _900_announce_key_change AFTER DELETE OR UPDATE OF revoked_at ON oriva.api_keys FOR EACH ROW EXECUTE FUNCTION oriva.tg_announce_key_change();
grant DELETE, INSERT, SELECT, UPDATE on oriva.api_keys to oriva_system;

create table oriva.app_installations (
  user_id oriva.user_id not null,
  app_id text not null,
  installed_at timestamp with time zone default now() not null
);
alter table oriva.app_installations add constraint app_installations_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.app_installations add constraint app_installations_pkey PRIMARY KEY (user_id, app_id);
CREATE INDEX app_installations_app_idx ON oriva.app_installations USING btree (app_id, installed_at, user_id);
CREATE TRIGGER _800_leave_topics AFTER DELETE ON oriva.app_installations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_app_installations__leave_topics();
CREATE TRIGGER _800_remember_user AFTER INSERT ON oriva.app_installations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_known_users__remember();
alter table oriva.app_installations enable row level security;
alter table oriva.app_installations force row level security;
create policy api_install on oriva.app_installations to oriva_api
  with check ((((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy api_read on oriva.app_installations to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy api_uninstall on oriva.app_installations to oriva_api
  using ((((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.app_installations to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.app_installations to oriva_system;

create table oriva.app_webhooks (
  id uuid default gen_random_uuid() not null,
  app_id text not null,
  webhook_url text not null,
  webhook_secret text not null,
  previous_secret text,
  previous_secret_expires_at timestamp with time zone,
  subscribed_events text[] not null,
  is_active boolean default true not null,
  disabled_reason text,
  last_delivery_at timestamp with time zone,
  last_success_at timestamp with time zone,
  last_failure_at timestamp with time zone,
  consecutive_failures integer default 0 not null,
  total_deliveries bigint default 0 not null,
  total_failures bigint default 0 not null,
  max_retries integer default 5 not null,
  retry_backoff_seconds integer default 1 not null,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  failing_since timestamp with time zone
);
alter table oriva.app_webhooks add constraint app_webhooks_max_retries_check CHECK (((max_retries >= 0) AND (max_retries <= 20)));
alter table oriva.app_webhooks add constraint app_webhooks_retry_backoff_seconds_check CHECK (((retry_backoff_seconds >= 1) AND (retry_backoff_seconds <= 3600)));
alter table oriva.app_webhooks add constraint app_webhooks_subscribed_events_check CHECK (((cardinality(subscribed_events) >= 1) AND (cardinality(subscribed_events) <= 100)));
alter table oriva.app_webhooks add constraint app_webhooks_webhook_url_check CHECK ((length(webhook_url) <= 2048));
alter table oriva.app_webhooks add constraint app_webhooks_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.app_webhooks add constraint app_webhooks_pkey PRIMARY KEY (id);
CREATE INDEX app_webhooks_app_idx ON oriva.app_webhooks USING btree (app_id) WHERE is_active;
alter table oriva.app_webhooks enable row level security;
alter table oriva.app_webhooks force row level security;
create policy api_tenant on oriva.app_webhooks to oriva_api
  using ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)))
  with check ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)));
create policy platform_read on oriva.app_webhooks to oriva_api
  using (( SELECT oriva.acting_as_platform() AS acting_as_platform));
create policy system_all on oriva.app_webhooks to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.app_webhooks to oriva_system;

create table oriva.apps (
  id text not null,
  name text not null,
  icon_url text,
  is_platform boolean default false not null,
  is_active boolean default true not null,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null
);
alter table oriva.apps add constraint apps_icon_url_check CHECK (((icon_url IS NULL) OR (length(icon_url) <= 2048)));
alter table oriva.apps add constraint apps_id_check CHECK ((id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'::text));
alter table oriva.apps add constraint apps_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100)));
alter table oriva.apps add constraint apps_pkey PRIMARY KEY (id);
CREATE TRIGGER _900_announce_key_change AFTER DELETE OR UPDATE OF is_active, is_platform ON oriva.apps FOR EACH ROW EXECUTE FUNCTION oriva.tg_announce_key_change();
grant DELETE, INSERT, SELECT, UPDATE on oriva.apps to oriva_system;

create table oriva.broadcasts (
  id uuid not null,
  app_id text not null,
  topic text,
  sent_at timestamp with time zone default now() not null,
  expired_at timestamp with time zone
);
alter table oriva.broadcasts add constraint broadcasts_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.broadcasts add constraint broadcasts_id_fkey FOREIGN KEY (id) REFERENCES oriva.platform_notifications(id) ON DELETE CASCADE;
alter table oriva.broadcasts add constraint broadcasts_pkey PRIMARY KEY (id);
CREATE INDEX broadcasts_all_idx ON oriva.broadcasts USING btree (sent_at) WHERE (topic IS NULL);
CREATE INDEX broadcasts_topic_idx ON oriva.broadcasts USING btree (app_id, topic, sent_at);
alter table oriva.broadcasts enable row level security;
alter table oriva.broadcasts force row level security;
create policy api_tenant on oriva.broadcasts to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)))
  with check (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.broadcasts to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.broadcasts to oriva_system;

create table oriva.email_deliveries (
  notification_id uuid not null,
  app_id text not null,
  user_id oriva.user_id not null,
  status text default 'pending'::text not null,
  reason text,
  due_at timestamp with time zone not null,
  email_id uuid,
  updated_at timestamp with time zone default now() not null
);
alter table oriva.email_deliveries add constraint email_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'skipped'::text, 'failed'::text, 'bouncing'::text])));
alter table oriva.email_deliveries add constraint email_deliveries_email_id_fkey FOREIGN KEY (email_id) REFERENCES oriva.emails(id);
alter table oriva.email_deliveries add constraint email_deliveries_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES oriva.platform_notifications(id) ON DELETE CASCADE;
alter table oriva.email_deliveries add constraint email_deliveries_pkey PRIMARY KEY (notification_id, user_id);
CREATE INDEX email_deliveries_email_idx ON oriva.email_deliveries USING btree (email_id) WHERE (email_id IS NOT NULL);
CREATE INDEX email_deliveries_pending_idx ON oriva.email_deliveries USING btree (user_id, due_at) WHERE (status = 'pending'::text);
CREATE TRIGGER _800_count AFTER UPDATE ON oriva.email_deliveries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_email_deliveries__count();
alter table oriva.email_deliveries enable row level security;
alter table oriva.email_deliveries force row level security;
create policy api_read on oriva.email_deliveries to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.email_deliveries to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.email_deliveries to oriva_system;

create table oriva.emails (
  id uuid default gen_random_uuid() not null,
  user_id oriva.user_id not null,
  address text not null,
  status text default 'sending'::text not null,
  attempts integer default 0 not null,
  last_error text,
  lease_until timestamp with time zone,
  created_at timestamp with time zone default now() not null,
  sent_at timestamp with time zone
);
alter table oriva.emails add constraint emails_status_check CHECK ((status = ANY (ARRAY['sending'::text, 'sent'::text, 'failed'::text, 'bouncing'::text])));
alter table oriva.emails add constraint emails_pkey PRIMARY KEY (id);
CREATE INDEX emails_user_idx ON oriva.emails USING btree (user_id, created_at DESC);
alter table oriva.emails enable row level security;
alter table oriva.emails force row level security;
create policy system_all on oriva.emails to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.emails to oriva_system;

create table oriva.gateway_connections (
  id uuid not null,
  instance_id uuid not null,
  user_id oriva.user_id,
  opened_at timestamp with time zone default now() not null,
  app_id text
);
alter table oriva.gateway_connections add constraint gateway_connections_one_holder CHECK ((num_nonnulls(user_id, app_id) = 1));
alter table oriva.gateway_connections add constraint gateway_connections_instance_id_fkey FOREIGN KEY (instance_id) REFERENCES oriva.gateway_instances(id) ON DELETE CASCADE;
alter table oriva.gateway_connections add constraint gateway_connections_pkey PRIMARY KEY (id);
CREATE INDEX gateway_connections_app_idx ON oriva.gateway_connections USING btree (app_id) WHERE (app_id IS NOT NULL);
CREATE INDEX gateway_connections_instance_idx ON oriva.gateway_connections USING btree (instance_id);
CREATE INDEX gateway_connections_user_idx ON oriva.gateway_connections USING btree (user_id);
grant DELETE, INSERT, SELECT, UPDATE on oriva.gateway_connections to oriva_system;

create table oriva.gateway_instances (
  id uuid not null,
  started_at timestamp with time zone default now() not null,
  heartbeat_at timestamp with time zone default now() not null
);
alter table oriva.gateway_instances add constraint gateway_instances_pkey PRIMARY KEY (id);
grant DELETE, INSERT, SELECT, UPDATE on oriva.gateway_instances to oriva_system;

create table oriva.idempotency_keys (
  app_id text not null,
  key text not null,
  request_hash text not null,
  response_status integer,
  response_body jsonb,
  created_at timestamp with time zone default now() not null
);
alter table oriva.idempotency_keys add constraint idempotency_keys_key_check CHECK (((length(key) >= 1) AND (length(key) <= 255)));
alter table oriva.idempotency_keys add constraint idempotency_keys_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.idempotency_keys add constraint idempotency_keys_pkey PRIMARY KEY (app_id, key);
CREATE INDEX idempotency_keys_created_idx ON oriva.idempotency_keys USING btree (created_at);
alter table oriva.idempotency_keys enable row level security;
alter table oriva.idempotency_keys force row level security;
create policy api_tenant on oriva.idempotency_keys to oriva_api
  using ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)))
  with check ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)));
create policy system_all on oriva.idempotency_keys to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.idempotency_keys to oriva_system;

create table oriva.known_users (
  user_id oriva.user_id not null,
  known_since timestamp with time zone default now() not null
);
alter table oriva.known_users add constraint known_users_pkey PRIMARY KEY (user_id);
CREATE INDEX known_users_since_idx ON oriva.known_users USING btree (known_since);
alter table oriva.known_users enable row level security;
alter table oriva.known_users force row level security;
create policy system_all on oriva.known_users to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.known_users to oriva_system;

create table oriva.notification_email_content (
  notification_id uuid not null,
  app_id text not null,
  subject text,
  html text
);
alter table oriva.notification_email_content add constraint notification_email_content_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES oriva.platform_notifications(id) ON DELETE CASCADE;
alter table oriva.notification_email_content add constraint notification_email_content_pkey PRIMARY KEY (notification_id);
alter table oriva.notification_email_content enable row level security;
alter table oriva.notification_email_content force row level security;
create policy api_tenant on oriva.notification_email_content to oriva_api
  using ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)))
  with check ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)));
create policy system_all on oriva.notification_email_content to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.notification_email_content to oriva_system;

create table oriva.notification_state (
  id uuid default gen_random_uuid() not null,
  notification_id uuid not null,
  app_id text not null,
  user_id oriva.user_id not null,
  status oriva.notification_status default 'unread'::text not null,
  sent_at timestamp with time zone,
  delivered_at timestamp with time zone,
  read_at timestamp with time zone,
  clicked_at timestamp with time zone,
  dismissed_at timestamp with time zone,
  expired_at timestamp with time zone,
  dismissed_from text,
  click_action text,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  expires_at timestamp with time zone,
  first_read_at timestamp with time zone
);
alter table oriva.notification_state add constraint notification_state_click_action_check CHECK (((click_action IS NULL) OR (length(click_action) <= 255)));
alter table oriva.notification_state add constraint notification_state_dismissed_from_check CHECK (((dismissed_from IS NULL) OR (length(dismissed_from) <= 64)));
alter table oriva.notification_state add constraint notification_state_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES oriva.platform_notifications(id) ON DELETE CASCADE;
alter table oriva.notification_state add constraint notification_state_pkey PRIMARY KEY (id);
alter table oriva.notification_state add constraint notification_state_notification_user_key UNIQUE (notification_id, user_id);
CREATE INDEX notification_state_counts_idx ON oriva.notification_state USING btree (user_id, status, app_id) INCLUDE (expires_at);
CREATE TRIGGER _100_first_read BEFORE INSERT OR UPDATE OF status ON oriva.notification_state FOR EACH ROW WHEN ((((new.status)::text = ANY (ARRAY['read'::text, 'clicked'::text])) AND (new.first_read_at IS NULL))) EXECUTE FUNCTION oriva.tg_notification_state__first_read();
CREATE TRIGGER _800_remember_user AFTER INSERT ON oriva.notification_state REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_known_users__remember();
alter table oriva.notification_state enable row level security;
alter table oriva.notification_state force row level security;
create policy api_tenant on oriva.notification_state to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)))
  with check (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.notification_state to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.notification_state to oriva_system;

create table oriva.notification_stats_hourly (
  app_id text not null,
  hour timestamp with time zone not null,
  notification_type text not null,
  category text not null,
  created bigint default 0 not null,
  suppressed bigint default 0 not null,
  delivered bigint default 0 not null,
  read bigint default 0 not null,
  clicked bigint default 0 not null,
  dismissed bigint default 0 not null,
  expired bigint default 0 not null,
  emails_sent bigint default 0 not null,
  emails_failed bigint default 0 not null,
  time_to_read jsonb default '{}'::jsonb not null
);
alter table oriva.notification_stats_hourly add constraint notification_stats_hourly_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.notification_stats_hourly add constraint notification_stats_hourly_pkey PRIMARY KEY (app_id, hour, notification_type, category);
CREATE INDEX notification_stats_hourly_hour_idx ON oriva.notification_stats_hourly USING btree (hour);
alter table oriva.notification_stats_hourly enable row level security;
alter table oriva.notification_stats_hourly force row level security;
create policy api_read on oriva.notification_stats_hourly to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.notification_stats_hourly to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.notification_stats_hourly to oriva_system;

create table oriva.notification_templates (
  app_id text not null,
  notification_type text not null,
  title text not null,
  body text not null,
  email_subject text,
  email_body text,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null
);
alter table oriva.notification_templates add constraint notification_templates_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.notification_templates add constraint notification_templates_pkey PRIMARY KEY (app_id, notification_type);
alter table oriva.notification_templates enable row level security;
alter table oriva.notification_templates force row level security;
create policy api_tenant on oriva.notification_templates to oriva_api
  using ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)))
  with check ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)));
create policy system_all on oriva.notification_templates to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.notification_templates to oriva_system;

create table oriva.notification_transitions (
  from_status oriva.notification_status not null,
  to_status oriva.notification_status not null
);
alter table oriva.notification_transitions add constraint notification_transitions_pkey PRIMARY KEY (from_status, to_status);
grant SELECT on oriva.notification_transitions to oriva_system;

create table oriva.platform_events (
  id uuid default gen_random_uuid() not null,
  seq bigint generated always as identity not null,
  tx_id xid8 default pg_current_xact_id() not null,
  app_id text not null,
  user_id oriva.user_id,
  event_category text not null,
  event_type text not null,
  entity_type text not null,
  entity_id text not null,
  event_data jsonb default '{}'::jsonb not null,
  ip_address inet,
  user_agent text,
  created_at timestamp with time zone default now() not null,
  reaches_user boolean default true not null
) partition by range (created_at);
alter table oriva.platform_events add constraint platform_events_entity_id_check CHECK (((length(entity_id) >= 1) AND (length(entity_id) <= 255)));
alter table oriva.platform_events add constraint platform_events_entity_type_check CHECK (((length(entity_type) >= 1) AND (length(entity_type) <= 64)));
alter table oriva.platform_events add constraint platform_events_event_category_check CHECK (((length(event_category) <= 64) AND ((ascii(event_category) >= ascii('a'::text)) AND (ascii(event_category) <= ascii('z'::text))) AND (btrim(event_category, 'abcdefghijklmnopqrstuvwxyz0123456789_'::text) = ''::text)));
alter table oriva.platform_events add constraint platform_events_event_type_check CHECK (((length(event_type) <= 64) AND ((ascii(event_type) >= ascii('a'::text)) AND (ascii(event_type) <= ascii('z'::text))) AND (btrim(event_type, 'abcdefghijklmnopqrstuvwxyz0123456789_'::text) = ''::text)));
alter table oriva.platform_events add constraint platform_events_user_agent_check CHECK (((user_agent IS NULL) OR (length(user_agent) <= 512)));
alter table oriva.platform_events add constraint platform_events_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.platform_events add constraint platform_events_pkey PRIMARY KEY (id, created_at);
alter table oriva.platform_events add constraint platform_events_seq_key UNIQUE (seq, created_at);
CREATE INDEX platform_events_app_category_idx ON ONLY oriva.platform_events USING btree (app_id, event_category, event_type, seq DESC);
CREATE INDEX platform_events_app_created_idx ON ONLY oriva.platform_events USING btree (app_id, created_at DESC, seq DESC);
CREATE INDEX platform_events_app_user_idx ON ONLY oriva.platform_events USING btree (app_id, user_id, seq DESC);
CREATE INDEX platform_events_created_idx ON ONLY oriva.platform_events USING btree (created_at);
CREATE INDEX platform_events_entity_idx ON ONLY oriva.platform_events USING btree (entity_type, entity_id);
CREATE INDEX platform_events_user_seq_idx ON ONLY oriva.platform_events USING btree (user_id, seq);
CREATE TRIGGER _010_seq_after_xid BEFORE INSERT ON oriva.platform_events FOR EACH ROW EXECUTE FUNCTION oriva.tg_platform_events__seq_after_xid();
CREATE TRIGGER _500_enqueue_webhooks AFTER INSERT ON oriva.platform_events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_platform_events__enqueue_webhooks();
CREATE TRIGGER _900_notify AFTER INSERT ON oriva.platform_events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_platform_events__notify();
alter table oriva.platform_events enable row level security;
alter table oriva.platform_events force row level security;
create policy api_tenant on oriva.platform_events to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)))
  with check (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.platform_events to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.platform_events to oriva_system;
create table oriva.platform_events_default partition of oriva.platform_events default;
grant DELETE, SELECT, UPDATE on oriva.platform_events_default to oriva_system;

create table oriva.platform_events_archive (
  id uuid not null,
  seq bigint not null,
  tx_id xid8 not null,
  app_id text not null,
  user_id oriva.user_id,
  event_category text not null,
  event_type text not null,
  entity_type text not null,
  entity_id text not null,
  event_data jsonb not null,
  ip_address inet,
  user_agent text,
  created_at timestamp with time zone not null,
  archived_at timestamp with time zone default now() not null,
  reaches_user boolean default true not null
);
alter table oriva.platform_events_archive add constraint platform_events_archive_pkey PRIMARY KEY (id);
CREATE INDEX platform_events_archive_seq_idx ON oriva.platform_events_archive USING btree (seq);
grant DELETE, INSERT, SELECT, UPDATE on oriva.platform_events_archive to oriva_system;

create table oriva.platform_notifications (
  id uuid default gen_random_uuid() not null,
  app_id text not null,
  external_id text not null,
  user_id oriva.user_id,
  notification_type text not null,
  title text not null,
  body text not null,
  action_url text,
  action_label text,
  image_url text,
  icon_url text,
  context_data jsonb default '{}'::jsonb not null,
  priority text default 'normal'::text not null,
  priority_rank smallint generated always as (
CASE priority
    WHEN 'urgent'::text THEN 3
    WHEN 'high'::text THEN 2
    WHEN 'normal'::text THEN 1
    ELSE 0
END) stored,
  expires_at timestamp with time zone,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  category oriva.notification_category default 'system'::text not null
);
alter table oriva.platform_notifications add constraint platform_notifications_action_label_check CHECK (((action_label IS NULL) OR (length(action_label) <= 100)));
alter table oriva.platform_notifications add constraint platform_notifications_action_url_check CHECK (((action_url IS NULL) OR (length(action_url) <= 2048)));
alter table oriva.platform_notifications add constraint platform_notifications_body_check CHECK (((length(body) >= 1) AND (length(body) <= 1000)));
alter table oriva.platform_notifications add constraint platform_notifications_external_id_check CHECK (((length(external_id) >= 1) AND (length(external_id) <= 255)));
alter table oriva.platform_notifications add constraint platform_notifications_icon_url_check CHECK (((icon_url IS NULL) OR (length(icon_url) <= 2048)));
alter table oriva.platform_notifications add constraint platform_notifications_image_url_check CHECK (((image_url IS NULL) OR (length(image_url) <= 2048)));
alter table oriva.platform_notifications add constraint platform_notifications_notification_type_check CHECK (((length(notification_type) >= 1) AND (length(notification_type) <= 64)));
alter table oriva.platform_notifications add constraint platform_notifications_priority_check CHECK ((priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'urgent'::text])));
alter table oriva.platform_notifications add constraint platform_notifications_title_check CHECK (((length(title) >= 1) AND (length(title) <= 200)));
alter table oriva.platform_notifications add constraint platform_notifications_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.platform_notifications add constraint platform_notifications_pkey PRIMARY KEY (id);
alter table oriva.platform_notifications add constraint platform_notifications_app_external_key UNIQUE (app_id, external_id);
CREATE INDEX platform_notifications_app_user_idx ON oriva.platform_notifications USING btree (app_id, user_id, created_at DESC);
CREATE INDEX platform_notifications_created_idx ON oriva.platform_notifications USING btree (created_at);
CREATE INDEX platform_notifications_expires_idx ON oriva.platform_notifications USING btree (expires_at) WHERE (expires_at IS NOT NULL);
CREATE INDEX platform_notifications_feed_idx ON oriva.platform_notifications USING btree (user_id, priority_rank DESC, created_at DESC, id DESC);
CREATE INDEX platform_notifications_text_idx ON oriva.platform_notifications USING gin (to_tsvector('simple'::regconfig, ((title || ' '::text) || body)));
alter table oriva.platform_notifications enable row level security;
alter table oriva.platform_notifications force row level security;
create policy api_tenant on oriva.platform_notifications to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform) OR ((user_id IS NULL) AND (( SELECT oriva.acting_user_id() AS acting_user_id) IS NOT NULL) AND (id = ANY (( SELECT oriva.acting_user_broadcasts() AS acting_user_broadcasts)::uuid[])))))
  with check (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.platform_notifications to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.platform_notifications to oriva_system;

create table oriva.platform_notifications_archive (
  id uuid not null,
  app_id text not null,
  external_id text not null,
  user_id oriva.user_id,
  notification_type text not null,
  title text not null,
  body text not null,
  action_url text,
  action_label text,
  image_url text,
  icon_url text,
  context_data jsonb not null,
  priority text not null,
  priority_rank smallint,
  expires_at timestamp with time zone,
  created_at timestamp with time zone not null,
  updated_at timestamp with time zone not null,
  status text,
  archived_at timestamp with time zone default now() not null,
  category text default 'system'::text not null
);
alter table oriva.platform_notifications_archive add constraint platform_notifications_archive_pkey PRIMARY KEY (id);
grant DELETE, INSERT, SELECT, UPDATE on oriva.platform_notifications_archive to oriva_system;

create table oriva.rate_limit_counters (
  key text not null,
  window_start timestamp with time zone not null,
  window_end timestamp with time zone not null,
  hits bigint not null
);
alter table oriva.rate_limit_counters add constraint rate_limit_counters_pkey PRIMARY KEY (key);
CREATE INDEX rate_limit_counters_end_idx ON oriva.rate_limit_counters USING btree (window_end);

create table oriva.stats_progress (
  singleton boolean default true not null,
  rolled_up_seq bigint default 0 not null,
  rolled_up_at timestamp with time zone
);
alter table oriva.stats_progress add constraint stats_progress_singleton CHECK (singleton);
alter table oriva.stats_progress add constraint stats_progress_pkey PRIMARY KEY (singleton);
alter table oriva.stats_progress enable row level security;
alter table oriva.stats_progress force row level security;
create policy api_read on oriva.stats_progress to oriva_api
  using (true);
create policy system_all on oriva.stats_progress to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.stats_progress to oriva_system;

create table oriva.topic_subscriptions (
  app_id text not null,
  topic text not null,
  user_id oriva.user_id not null,
  subscribed_at timestamp with time zone default now() not null,
  unsubscribed_at timestamp with time zone
);
alter table oriva.topic_subscriptions add constraint topic_subscriptions_period_check CHECK (((unsubscribed_at IS NULL) OR (unsubscribed_at >= subscribed_at)));
alter table oriva.topic_subscriptions add constraint topic_subscriptions_topic_check CHECK ((topic ~ '^[a-z0-9][a-z0-9_.:-]{0,63}$'::text));
alter table oriva.topic_subscriptions add constraint topic_subscriptions_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX topic_subscriptions_current_key ON oriva.topic_subscriptions USING btree (app_id, topic, user_id) WHERE (unsubscribed_at IS NULL);
CREATE INDEX topic_subscriptions_topic_idx ON oriva.topic_subscriptions USING btree (app_id, topic, subscribed_at);
CREATE INDEX topic_subscriptions_user_idx ON oriva.topic_subscriptions USING btree (user_id, app_id, topic, subscribed_at);
CREATE TRIGGER _800_remember_user AFTER INSERT ON oriva.topic_subscriptions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_known_users__remember();
alter table oriva.topic_subscriptions enable row level security;
alter table oriva.topic_subscriptions force row level security;
create policy api_tenant on oriva.topic_subscriptions to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)))
  with check (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.topic_subscriptions to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.topic_subscriptions to oriva_system;

create table oriva.user_preferences (
  user_id oriva.user_id not null,
  document jsonb not null,
  revision bigint default 1 not null,
  updated_at timestamp with time zone default now() not null,
  email_bounced_at timestamp with time zone
);
alter table oriva.user_preferences add constraint user_preferences_pkey PRIMARY KEY (user_id);
CREATE TRIGGER _800_remember_user AFTER INSERT ON oriva.user_preferences REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_known_users__remember();
CREATE TRIGGER _900_announce AFTER INSERT OR UPDATE ON oriva.user_preferences FOR EACH ROW EXECUTE FUNCTION oriva.tg_user_preferences__announce();
alter table oriva.user_preferences enable row level security;
alter table oriva.user_preferences force row level security;
create policy api_own on oriva.user_preferences to oriva_api
  using ((((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)))
  with check ((((user_id)::text = ( SELECT oriva.acting_user_id() AS acting_user_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.user_preferences to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.user_preferences to oriva_system;

create table oriva.webhook_delivery_log (
  id uuid default gen_random_uuid() not null,
  webhook_id uuid not null,
  app_id text not null,
  event_id uuid,
  delivery_id text not null,
  event_type text not null,
  payload jsonb not null,
  status_code integer,
  response_body text,
  response_headers jsonb,
  delivery_attempt integer default 1 not null,
  delivered_at timestamp with time zone default now() not null,
  response_time_ms integer,
  success boolean not null,
  error_message text
);
alter table oriva.webhook_delivery_log add constraint webhook_delivery_log_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.webhook_delivery_log add constraint webhook_delivery_log_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES oriva.app_webhooks(id) ON DELETE CASCADE;
alter table oriva.webhook_delivery_log add constraint webhook_delivery_log_pkey PRIMARY KEY (id);
CREATE INDEX webhook_delivery_log_delivered_idx ON oriva.webhook_delivery_log USING btree (delivered_at);
CREATE INDEX webhook_delivery_log_delivery_idx ON oriva.webhook_delivery_log USING btree (delivery_id);
CREATE INDEX webhook_delivery_log_webhook_idx ON oriva.webhook_delivery_log USING btree (webhook_id, delivered_at DESC);
CREATE TRIGGER _800_count AFTER INSERT ON oriva.webhook_delivery_log REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION oriva.tg_webhook_delivery_log__count();
alter table oriva.webhook_delivery_log enable row level security;
alter table oriva.webhook_delivery_log force row level security;
create policy api_tenant on oriva.webhook_delivery_log to oriva_api
  using ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)))
  with check ((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)));
create policy platform_read on oriva.webhook_delivery_log to oriva_api
  using (( SELECT oriva.acting_as_platform() AS acting_as_platform));
create policy system_all on oriva.webhook_delivery_log to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.webhook_delivery_log to oriva_system;

create table oriva.webhook_stats_hourly (
  app_id text not null,
  hour timestamp with time zone not null,
  ok bigint default 0 not null,
  failed bigint default 0 not null,
  latency jsonb default '{}'::jsonb not null
);
alter table oriva.webhook_stats_hourly add constraint webhook_stats_hourly_app_id_fkey FOREIGN KEY (app_id) REFERENCES oriva.apps(id) ON DELETE CASCADE;
alter table oriva.webhook_stats_hourly add constraint webhook_stats_hourly_pkey PRIMARY KEY (app_id, hour);
CREATE INDEX webhook_stats_hourly_hour_idx ON oriva.webhook_stats_hourly USING btree (hour);
alter table oriva.webhook_stats_hourly enable row level security;
alter table oriva.webhook_stats_hourly force row level security;
create policy api_read on oriva.webhook_stats_hourly to oriva_api
  using (((app_id = ( SELECT oriva.acting_app_id() AS acting_app_id)) OR ( SELECT oriva.acting_as_platform() AS acting_as_platform)));
create policy system_all on oriva.webhook_stats_hourly to oriva_system
  using (true)
  with check (true);
grant DELETE, INSERT, SELECT, UPDATE on oriva.webhook_stats_hourly to oriva_system;

create table oriva.worker_heartbeats (
  worker_id text not null,
  hostname text not null,
  pid integer not null,
  started_at timestamp with time zone default now() not null,
  beat_at timestamp with time zone default now() not null
);
alter table oriva.worker_heartbeats add constraint worker_heartbeats_pkey PRIMARY KEY (worker_id);
grant DELETE, INSERT, SELECT, UPDATE on oriva.worker_heartbeats to oriva_system;
