-- Store (or replace) one template of the acting app. inserted: true when it is new.
insert into oriva.notification_templates as t (app_id, notification_type, title, body, email_subject, email_body)
values (:app_id, :notification_type, :title, :body, :email_subject, :email_body)
on conflict (app_id, notification_type) do update
  set title = excluded.title, body = excluded.body, email_subject = excluded.email_subject,
      email_body = excluded.email_body, updated_at = now()
returning notification_type, title, body, email_subject, email_body, created_at, updated_at, (xmax = 0) as inserted
