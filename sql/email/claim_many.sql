-- Claim the digests of several users at once (oriva.email_digest_claim_many: for each user, resend
-- an unfinished email, or gather what is due into a new one, skipping and holding the rest), each
-- with the notifications it lists. `entry` is the user's position in :user_ids (from 1); a user with
-- nothing to send now has no row.
select entry, email_id, address, resend, attempts, items
from oriva.email_digest_claim_many(:user_ids::text[], :lease_ms, :stale_ms)
