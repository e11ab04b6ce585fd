-- Has every transaction older than the fence ($1) that could write an event ended? (A transaction of
-- another database, or of a role without access to schema oriva, never holds the release.) Asked in
-- its own statement, before the range is read: the read's snapshot is then taken after every such
-- transaction ended, so it sees each of their commits.
select oriva.writers_settled($1::xid8) as settled
