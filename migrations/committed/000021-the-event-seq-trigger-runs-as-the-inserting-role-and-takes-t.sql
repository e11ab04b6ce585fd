--! Previous: sha1:f6e773eb3cfbc038aac29e063340fcd678011ce2
--! Hash: sha1:3e4d73f54d2d2a9bb9be3a532fafbce855dbc459
--! Message: The event seq trigger runs as the inserting role and takes the transaction id in an expression

--! split: 1-current.sql
-- The event seq trigger, cheaper (it runs once per event row: on the batch create path, 100 times
-- per statement). It ran as its owner (security definer with a fixed search_path: a GUC change on
-- every call) and took the transaction id through a query (perform). Now it runs as the inserting
-- role, which is granted use of the sequence, and takes the transaction id in an expression. What it
-- guarantees is unchanged: the transaction has its id before the row's seq is allocated, so a
-- transaction holding seq s already had its xid when s was allocated (gap-free resume,
-- gateway/listener.ts). Idempotent.
grant usage on sequence oriva.platform_events_seq_seq to oriva_api, oriva_system;

create or replace function oriva.tg_platform_events__seq_after_xid() returns trigger
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
