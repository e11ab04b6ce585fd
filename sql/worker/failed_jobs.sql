-- The newest jobs that failed for good.
select * from oriva.failed_jobs($1)
