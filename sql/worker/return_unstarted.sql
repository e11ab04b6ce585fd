-- This process stopped gracefully: forget its job pools' heartbeats and give back the jobs they still
-- hold, fetched ahead and never started, with the attempt their fetch counted undone.
select oriva.return_unstarted_jobs($1::text[])
