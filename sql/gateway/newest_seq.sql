-- The newest seq any event has had (live or archived): a resume point beyond it was never handed out.
select greatest((select max(seq) from oriva.platform_events), (select max(seq) from oriva.platform_events_archive), 0) as seq
