-- Has the newest committed migration (its hash) been applied?
select exists (select 1 from graphile_migrate.migrations where hash = $1) as current
