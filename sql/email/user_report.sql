-- `oriva emails --user`: a user's pending email deliveries (oldest due first) and recent emails
-- (newest first), each with the notifications it listed.
select 'pending' as kind, d.due_at as at, null::uuid as email_id, null::text as status, null::integer as attempts,
       null::text as last_error, jsonb_agg(jsonb_build_object('notification_id', d.notification_id, 'app_id', d.app_id,
                                                              'title', n.title) order by n.created_at) as notifications
from oriva.email_deliveries d
join oriva.platform_notifications n on n.id = d.notification_id
where d.user_id = :user_id and d.status = 'pending'
group by d.due_at
union all
select 'email', coalesce(e.sent_at, e.created_at), e.id, e.status, e.attempts, e.last_error,
       coalesce((select jsonb_agg(jsonb_build_object('notification_id', d.notification_id, 'app_id', d.app_id, 'title', n.title)
                                  order by n.created_at)
                   from oriva.email_deliveries d join oriva.platform_notifications n on n.id = d.notification_id
                  where d.email_id = e.id), '[]')
from (select * from oriva.emails where user_id = :user_id order by created_at desc limit :limit) e
order by kind desc, at
