-- The upper bound of a read of settled events (the gateway's pump, the stats rollup): the newest
-- visible seq, read in this statement's snapshot, and a fresh transaction id assigned after that
-- snapshot. Every transaction that may still commit a seq at or below max_seq got its xid before
-- this one (see gateway/listener.ts). Nothing is written, so the commit need not wait for a WAL flush.
select set_config('synchronous_commit', 'off', true) as sync_off,
       coalesce((select max(seq) from oriva.platform_events), 0) as max_seq,
       pg_current_xact_id()::text as fence
