-- Who owns a notification, past row-level security (only to tell 403 from 404).
select app_id, user_id from oriva.notification_owner($1)
