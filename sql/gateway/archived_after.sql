-- Has an event after this resume point been archived (so it cannot be replayed from the live table)?
select exists (select 1 from oriva.platform_events_archive where seq > $1) as archived
