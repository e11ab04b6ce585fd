-- Which app owns a webhook, past row-level security (only to tell 403 from 404).
select oriva.webhook_owner($1) as app_id
