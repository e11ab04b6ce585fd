--! Previous: sha1:3060587388a0d00619073a0597db190b41b8d85f
--! Hash: sha1:15d7b4e3854c1f8c929863dbacdd3df22c465c84
--! Message: One gateway admission function for users and apps

--! split: 1-current.sql
-- One admission function for every connection, whoever it counts against (a user or, for app
-- connections, an app), instead of one copy per kind of holder.
drop function if exists oriva.gateway_admit(uuid, uuid, text, integer, integer);
drop function if exists oriva.gateway_admit_app(uuid, uuid, text, integer, integer);

-- Register connection p_connection on instance p_instance for user p_user or (p_user null) app
-- p_app, unless that holder already has p_max live connections (on instances that beat within
-- p_stale_ms). Serialised per holder by an advisory lock, so the limit holds across instances.
create or replace function oriva.gateway_admit(p_instance uuid, p_connection uuid, p_user text, p_app text,
                                               p_max integer, p_stale_ms integer)
  returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  live integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.gateway_connections:'
    || case when p_user is not null then p_user else 'app:' || p_app end, 0));
  select count(*) into live
  from oriva.gateway_connections c
  join oriva.gateway_instances i on i.id = c.instance_id
  where (c.user_id = p_user or c.app_id = p_app)
    and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0);
  if live >= p_max then
    return false;
  end if;
  insert into oriva.gateway_connections (id, instance_id, user_id, app_id)
  values (p_connection, p_instance, p_user, case when p_user is null then p_app end);
  return true;
end $$;
revoke all on function oriva.gateway_admit(uuid, uuid, text, text, integer, integer) from public;
grant execute on function oriva.gateway_admit(uuid, uuid, text, text, integer, integer) to oriva_system;
