-- The acting app's templates for these notification types (row-level security: its own only).
select notification_type, title, body, email_subject, email_body, created_at, updated_at
from oriva.notification_templates
where app_id = :app_id and notification_type = any(:notification_types::text[])
