-- What one send came to (oriva.email_digest_record): sent, retry at :retry_at, failed or bouncing.
select oriva.email_digest_record(:email_id, :outcome, :error, :retry_at)
