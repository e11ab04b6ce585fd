-- The rollup's watermark, held for this transaction: one rollup at a time adds each event once.
select rolled_up_seq from oriva.stats_progress where singleton for update
