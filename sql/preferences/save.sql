-- Store a user's (normalised, checked) preference document if its revision is still
-- :expected_revision (null: whatever it is; 0: never saved), one revision up. No row back: another
-- write got there first (the API answers 412). The row's trigger announces the change to the
-- gateways (oriva_preferences), which push preferences.updated to the user's connections.
with updated as (
  update oriva.user_preferences p
     set document = :document::jsonb, revision = p.revision + 1, updated_at = now(),
         -- a different address resumes a channel paused by bounces
         email_bounced_at = case when p.document #>> '{email,address}' is distinct from :document::jsonb #>> '{email,address}'
                                 then null else p.email_bounced_at end
   where p.user_id = :user_id
     and (:expected_revision::bigint is null or p.revision = :expected_revision)
  returning p.document, p.revision, p.updated_at, p.email_bounced_at
),
inserted as (
  insert into oriva.user_preferences (user_id, document)
  select :user_id, :document::jsonb
   where coalesce(:expected_revision::bigint, 0) = 0
     and not exists (select 1 from updated)
  on conflict (user_id) do nothing
  returning document, revision, updated_at, email_bounced_at
)
select document, revision, updated_at, email_bounced_at from updated
union all
select document, revision, updated_at, email_bounced_at from inserted
