-- Remove one template of the acting app; no row: there was none.
delete from oriva.notification_templates where app_id = :app_id and notification_type = :notification_type
returning notification_type
