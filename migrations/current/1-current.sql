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
