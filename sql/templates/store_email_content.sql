-- The rendered email parts of notifications created from templates (one array per column).
insert into oriva.notification_email_content (notification_id, app_id, subject, html)
select id, :app_id, subject, html
from unnest(:notification_ids::uuid[], :subjects::text[], :htmls::text[]) as c (id, subject, html)
