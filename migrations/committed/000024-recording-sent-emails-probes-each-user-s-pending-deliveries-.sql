--! Previous: sha1:57e5b1f547320f93b092e490a1bf1cbfce1be683
--! Hash: sha1:93d53952cdf3f40cde73dceeaf00f0f92c4d5206
--! Message: Recording sent emails probes each user's pending deliveries through the index

--! split: 1-current.sql
-- Recording sent emails (oriva.email_digests_sent) looks for each user's deliveries still pending
-- (to schedule their digest) through the pending index, one probe per user of the batch. The join
-- it replaces was planned as a scan of every pending delivery: about 590 µs per batch of about six
-- emails in the email bench, a third of what recording the batch cost.
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

  perform oriva.enqueue_email_digest(u.user_id, greatest(pending.next_due, now()), false)
     from (select distinct e.user_id from oriva.emails e where e.id = any(p_emails)) u
     cross join lateral (select min(d.due_at) as next_due
                           from oriva.email_deliveries d
                          where d.user_id = u.user_id and d.status = 'pending') pending
    where pending.next_due is not null;
end $$;
