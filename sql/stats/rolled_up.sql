-- When the stats last caught up with the event log (null: never).
select rolled_up_at from oriva.stats_progress where singleton
