-- Stop delivering to a webhook (410 Gone, or too many failures in a row), and record
-- webhook.disabled for its app in the same statement (not sent to the webhook itself).
-- $1 webhook id, $2 reason
with disabled as (
  update oriva.app_webhooks
     set is_active = false, disabled_reason = $2, updated_at = now()
   where id = $1 and is_active
  returning id, app_id, webhook_url, disabled_reason
)
select d.id, ev.seq
from disabled d cross join oriva.record_events(array(
  select row(app_id, null, 'webhook', 'disabled', 'webhook', id::text,
             jsonb_build_object('source', 'oriva_worker', 'webhook_id', id, 'url', webhook_url, 'reason', disabled_reason),
             null, null, false)::oriva.new_event
  from disabled)) ev
