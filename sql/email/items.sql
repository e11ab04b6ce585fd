-- The notifications one email lists, with their app's name and icon and the email parts their
-- template rendered (if any), most recent first.
select n.id, a.name as app_name, a.icon_url as app_icon, n.title, n.body, n.action_url, n.action_label,
       n.priority, n.category, n.created_at, c.subject as email_subject, c.html as email_html
from oriva.email_deliveries d
join oriva.platform_notifications n on n.id = d.notification_id
join oriva.apps a on a.id = n.app_id
left join oriva.notification_email_content c on c.notification_id = n.id
where d.email_id = :email_id
order by n.created_at desc, n.id
