-- A user's stored preference document with its revision; no row: they never saved one (the API
-- answers the defaults at revision 0). email_bounced_at: the address bounced (email is paused).
select document, revision, updated_at, email_bounced_at
from oriva.user_preferences
where user_id = :user_id
