--! Previous: sha1:ad0305d513bb78c6bef8d1bdec2afccaff5755b5
--! Hash: sha1:f1f4c13ea39d7529dcde41cc0d42dddf959e026e
--! Message: Email: sent emails recorded in batches; a claim held by another worker reschedules the digest for when its lease ends

--! split: 1-current.sql
-- Emails sent at about the same time are recorded together (worker/email/sent-batch.ts): one
-- statement marks them sent with their deliveries, then schedules what is still pending for their
-- users (a notification that arrived while the email was being sent, one held by quiet hours).
create or replace function oriva.email_digests_sent(p_emails uuid[]) returns void
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

  perform oriva.enqueue_email_digest(p.user_id, greatest(p.next_due, now()), false)
     from (select d.user_id, min(d.due_at) as next_due
             from oriva.email_deliveries d
            where d.status = 'pending'
              and d.user_id in (select e.user_id from oriva.emails e where e.id = any(p_emails))
            group by d.user_id) p;
end $$;
revoke all on function oriva.email_digests_sent(uuid[]) from public;
grant execute on function oriva.email_digests_sent(uuid[]) to oriva_system;

-- The digest of one user, claimed by the worker's email_digest task in one transaction (as in
-- 000012, but a claim held by another worker reschedules the digest for when its lease ends, so a
-- worker that died mid-send, or whose recording failed, does not leave the email unsent). First a
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
