--! Previous: sha1:f387b47364e4fbb13bf54c8696ba14a419322f2a
--! Hash: sha1:03e449f1c24a87e0f0c3db43cf5815976831a860
--! Message: Worker pools that stop give back their jobs at once

--! split: 1-current.sql
-- A worker process knows for certain when one of its own job pools or workers has stopped (cleanly,
-- or because graphile-worker gave up on an inconsistent queue after losing Postgres). It forgets
-- their heartbeats and gives back anything they still hold at once, instead of waiting for the
-- stale-heartbeat sweep. Jobs that were finished hold no lock, so for a clean stop this is a no-op.
create or replace function oriva.release_stopped_workers(worker_ids text[]) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  delete from oriva.worker_heartbeats where worker_id = any(worker_ids);
  perform graphile_worker.force_unlock_workers(worker_ids);
end $$;
revoke all on function oriva.release_stopped_workers(text[]) from public;
grant execute on function oriva.release_stopped_workers(text[]) to oriva_system;
