-- Add the settled events with seq in ($1, $2] to the hourly stats (oriva.stats_roll_up), and move
-- the watermark to $2 — in the transaction that holds it (sql/stats/progress.sql).
with added as (select oriva.stats_roll_up($1, $2))
update oriva.stats_progress
   set rolled_up_seq = $2, rolled_up_at = now()
  from added
 where singleton and rolled_up_seq = $1
returning rolled_up_seq
