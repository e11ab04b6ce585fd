-- Archive the oldest month partition of platform_events that ends at or before $1 (the retention
-- cutoff): its rows copied to the archive in one statement, the partition detached and dropped, in
-- one transaction. moved is the number of rows, null when no partition is that old.
select oriva.archive_event_partition($1) as moved
