-- Claim one user's digest (oriva.email_digest_claim: resend an unfinished one, or gather what is due
-- into a new email, skipping and holding the rest) with the notifications it lists — built in the
-- claim's own statement for a new email, by oriva.email_items for a resend, in the same shape
-- (test/db/email-claim.test.ts compares them). No row: nothing to send now.
select email_id, address, resend, attempts, items
from oriva.email_digest_claim(:user_id, :lease_ms, :stale_ms)
