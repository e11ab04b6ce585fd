--! Previous: sha1:d88838177117bf41407124bb05115b05362a58a4
--! Hash: sha1:3060587388a0d00619073a0597db190b41b8d85f
--! Message: NOTIFY carries a hint (the statement's newest seq); the table carries the event

--! split: 1-current.sql
-- NOTIFY carries a hint, the table carries the event (issue 12, item 5). The gateway reads every
-- event from the table and only the seq from a notification (for its commit → push lag), so the
-- trigger no longer serialises each whole event (up to ~7.9 KB) in the writer's transaction: one
-- notification per inserting statement, naming its newest seq.
create or replace function oriva.tg_platform_events__notify() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  perform pg_notify('oriva_events', json_build_object('seq', max(n.seq))::text)
  from new_events n
  having count(*) > 0;
  return null;
end $$;
