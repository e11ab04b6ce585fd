--! Previous: sha1:3e4d73f54d2d2a9bb9be3a532fafbce855dbc459
--! Hash: sha1:df4727f4e2bdc9120fc0028f961935fb9aa9d883
--! Message: The digest claim's statements run with their generic plans

--! split: 1-current.sql
-- The digest claim's statements run with their generic plans. Each is planned for "this user"
-- (equality on user_id, an email id), so a plan made for one call's values is no better than the
-- generic one; but under Postgres' default the PL/pgSQL statements were planned again on every call
-- — about a quarter of the claim's cost (one connection, 3,000 claims: 1,233–1,633 µs of backend
-- CPU per claim before, 933–1,093 µs after). The same reasoning as the API's write transactions
-- (lib/db.ts, TransactionOptions.genericPlans). Idempotent.
alter function oriva.email_digest_claim(text, integer, integer) set plan_cache_mode = force_generic_plan;
alter function oriva.email_items(uuid) set plan_cache_mode = force_generic_plan;
alter function oriva.quiet_hours_at(jsonb, timestamptz) set plan_cache_mode = force_generic_plan;
