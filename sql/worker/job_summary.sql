-- Queue depth per task (ready, scheduled, running, retrying, failed) for `oriva jobs`.
select * from oriva.job_queue_summary()
