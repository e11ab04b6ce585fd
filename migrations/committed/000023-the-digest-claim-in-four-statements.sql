--! Previous: sha1:df4727f4e2bdc9120fc0028f961935fb9aa9d883
--! Hash: sha1:57e5b1f547320f93b092e490a1bf1cbfce1be683
--! Message: The digest claim in four statements

--! split: 1-current.sql
-- The digest claim in four statements instead of eleven. After the per-user lock it reads the user's
-- unfinished email (resend it, or look again when another worker's lease ends) in one query, the
-- address, presence and quiet hours in one, then gathers what is due, records the email, moves every
-- delivery (sending, skipped with its reason, or held to the end of quiet hours) and builds the
-- listed items in a single statement (data-modifying CTEs) — one executor start-up, one run of the
-- deliveries' count trigger, instead of one per step. Behaviour is unchanged but for one step: the
-- final look for still-pending deliveries became "held for quiet hours → look again at their end";
-- a notification created while the claim runs schedules its own digest job (graphile-worker gives a
-- locked job's key to a new job). One connection, 3,000 claims, three alternating pairs: backend CPU
-- per claim 930–1,217 → 617–697 µs.
create or replace function oriva.email_digest_claim(p_user text, p_lease_ms integer, p_stale_ms integer) returns TABLE(email_id uuid, address text, resend boolean, attempts integer, items jsonb)
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
