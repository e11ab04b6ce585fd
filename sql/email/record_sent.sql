-- A batch of emails the SMTP server accepted (oriva.email_digests_sent).
select oriva.email_digests_sent(:email_ids::uuid[])
