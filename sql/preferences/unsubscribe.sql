-- One-click unsubscribe (a verified token; the transaction acts as its user): switch email off at
-- :path of the stored document (channels.email, or categories.<c>.email), one revision up. The row's
-- trigger announces the change (preferences.updated). No row: the user has no stored document.
update oriva.user_preferences
   set document = jsonb_set(document, :path::text[], 'false'::jsonb), revision = revision + 1, updated_at = now()
 where user_id = :user_id
returning revision
