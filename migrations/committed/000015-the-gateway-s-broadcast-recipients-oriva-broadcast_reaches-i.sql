--! Previous: sha1:753f070f4b20e35ffb3f61c84450814671255d8b
--! Hash: sha1:0ec92900113d73c21babfd5c68af359ea33dca67
--! Message: The gateway's broadcast recipients: oriva.broadcast_reaches inlinable (invoker, no settings)

--! split: 1-current.sql
-- The gateway asks oriva.broadcast_reaches for every connected user (sql/gateway/broadcast_recipients.sql):
-- as a plain SQL function (no security definer, no search_path setting) the planner inlines it into
-- that query instead of calling it once per user. Its callers run as oriva_system (the gateway, resume,
-- and oriva.schedule_broadcast_emails, itself a definer), which read these tables anyway.
alter function oriva.broadcast_reaches(text, text, timestamptz, text, text, text) security invoker reset all;
