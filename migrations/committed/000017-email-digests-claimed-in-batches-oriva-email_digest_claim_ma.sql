--! Previous: sha1:f065b2cab7dd0339d7fef666237957e12cdcf9b6
--! Hash: sha1:c3cb5d496194e768af476db41cc1899acb565f81
--! Message: Email digests claimed in batches (oriva.email_digest_claim_many): the claims of digest jobs running at the same moment in one statement and one commit

--! split: 1-current.sql
-- Email digests claimed in batches: the worker gathers the claims of the digest jobs running at the
-- same moment into one statement (one transaction, one commit), each still claimed by
-- oriva.email_digest_claim under its user's lock. Users are claimed in the order given (the worker
-- sorts them, so two batches lock users in the same order); each row says which entry it answers.
create or replace function oriva.email_digest_claim_many(p_users text[], p_lease_ms integer, p_stale_ms integer)
  returns table (entry integer, email_id uuid, address text, resend boolean, attempts integer, items jsonb)
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  for i in 1 .. coalesce(array_length(p_users, 1), 0) loop
    return query select i, c.email_id, c.address, c.resend, c.attempts, c.items
                   from oriva.email_digest_claim(p_users[i], p_lease_ms, p_stale_ms) c;
  end loop;
end $$;
grant execute on function oriva.email_digest_claim_many(text[], integer, integer) to oriva_system;
