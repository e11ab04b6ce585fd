-- A user's stored preference document with its revision; no row: they never saved one (the API
-- answers the defaults at revision 0).
select document, revision, updated_at
from oriva.user_preferences
where user_id = :user_id
