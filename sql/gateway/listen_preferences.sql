-- A user's preference document changed (the trigger of oriva.user_preferences): payload =
-- {"user_id", "revision", "updated_at"}.
listen oriva_preferences
