-- Make the month partitions of platform_events for this month and the next $1 months that do not
-- exist yet (rows of those months already in the default partition move into them); one row per
-- partition made.
select oriva.ensure_event_partitions($1) as made
