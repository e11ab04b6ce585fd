--! Previous: sha1:90858bdead230425164ea6b3b1a832fdb11e14ee
--! Hash: sha1:1c388ad3877248646e3395de6b0b19a036e6f517
--! Message: a graceful stop gives back the jobs fetched ahead with their attempt undone

--! split: 1-current.sql
-- A worker process that stops gracefully gives back the jobs its pools fetched ahead and never
-- started (graphile-worker's local queue), with the attempt that fetching counted undone — what
-- graphile-worker's own returnJobs does. graphile-worker 0.17.3 starts that query at its stop but
-- does not wait for it when the queue still holds jobs (it reports a failed shutdown instead), so the
-- heartbeat's release could unlock those jobs first, and each graceful stop (a deploy) would spend one
-- of a waiting job's attempts (three for a webhook delivery) without running it. Whichever of the two
-- runs first undoes the attempt; the other finds nothing locked. Called once the process's pools have
-- stopped, so every job they still hold was never started. (A pool that stopped on its own, or a dead
-- process, is released by oriva.release_stopped_workers / oriva.unlock_dead_workers: its attempts count.)
create or replace function oriva.return_unstarted_jobs(worker_ids text[]) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  delete from oriva.worker_heartbeats where worker_id = any(worker_ids);
  update graphile_worker._private_jobs as jobs
     set attempts = greatest(0, jobs.attempts - 1), locked_by = null, locked_at = null
   where jobs.locked_by = any(worker_ids);
  update graphile_worker._private_job_queues as job_queues
     set locked_by = null, locked_at = null
   where job_queues.locked_by = any(worker_ids);
end $$;
revoke all on function oriva.return_unstarted_jobs(text[]) from public;
grant execute on function oriva.return_unstarted_jobs(text[]) to oriva_system;
