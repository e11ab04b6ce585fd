--! Previous: sha1:10b87ebe34edae6b228e5684b6143e562d651f6e
--! Hash: sha1:009249e352dcac27e45843b644290639ed578108
--! Message: Write-path checks without regular expressions: oriva.user_id and the event category and type checked as characters and length; notification_state's redundant foreign key to apps dropped

--! split: 1-current.sql
-- Write-path cost per row (issue 12's "the write path must not get slower", issue 19's batch):
-- a create of 100 notifications spent about a tenth of its database time in the regular-expression
-- engine and another few percent in a foreign-key check that a cascade already covers (measured
-- with perf on one backend). Nothing a row may hold changes.

-- A user id (oriva.user_id) is checked wherever one is written: the notification, its state row and
-- its event, three times per notification. A regular expression builds its matcher's states afresh
-- on every call; the same rule as characters and length is a plain scan. It accepts exactly the same
-- values as '^[A-Za-z0-9_.:@-]{1,128}$' (test/db/write-path-checks.test.ts compares the two).
alter domain oriva.user_id drop constraint user_id_check;
alter domain oriva.user_id add constraint user_id_check
  check (length(value) between 1 and 128
         and btrim(value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@-') = '');

-- An event's category and type: a lower-case letter, then up to 63 lower-case letters, digits or
-- underscores (as '^[a-z][a-z0-9_]{0,63}$').
alter table oriva.platform_events
  drop constraint platform_events_event_category_check,
  drop constraint platform_events_event_type_check;
alter table oriva.platform_events
  add constraint platform_events_event_category_check
    check (length(event_category) <= 64 and ascii(event_category) between ascii('a') and ascii('z')
           and btrim(event_category, 'abcdefghijklmnopqrstuvwxyz0123456789_') = ''),
  add constraint platform_events_event_type_check
    check (length(event_type) <= 64 and ascii(event_type) between ascii('a') and ascii('z')
           and btrim(event_type, 'abcdefghijklmnopqrstuvwxyz0123456789_') = '');

-- A state row's app is its notification's app (both are written from the same row), and deleting
-- an app deletes its notifications, which deletes their state rows (both cascades stay). Its own
-- foreign key to oriva.apps was a second check per row that guarded nothing more.
alter table oriva.notification_state drop constraint notification_state_app_id_fkey;
