-- These job pools of this process have stopped: forget their heartbeats and give back any
-- job they still hold.
select oriva.release_stopped_workers($1::text[])
