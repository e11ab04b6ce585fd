-- Which of these app ids exist (a preference document names only real apps).
select id from oriva.apps where id = any(:app_ids::text[])
