-- name: connections
-- description: Connection saturation of the server - client backends against the slots usable by ordinary roles (max_connections minus superuser_reserved_connections, minus reserved_connections from PG16 on).
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- changes: PG16 adds reserved_connections (0 before 16)
-- panel: schema
-- show: used_ratio "connections used" unit=% warn=0.8 critical=0.95 kind=health direction=higher_is_worse
-- kinds: state: client_backends, this_database, migtui, max_connections, superuser_reserved, reserved, usable_slots
WITH /* migtui */ settings AS (
    SELECT current_setting('max_connections')::int                AS max_connections,
           current_setting('superuser_reserved_connections')::int AS superuser_reserved,
           0                                                      AS reserved
), backends AS (
    SELECT count(*) FILTER (WHERE backend_type = 'client backend')                 AS client_backends,
           count(*) FILTER (WHERE backend_type = 'client backend'
                              AND datname = current_database())                    AS this_database,
           count(*) FILTER (WHERE backend_type = 'client backend'
                              AND coalesce(application_name, '') = 'migtui')       AS migtui
    FROM pg_stat_activity
)
SELECT
    b.client_backends,
    b.this_database,
    b.migtui,
    s.max_connections,
    s.superuser_reserved,
    s.reserved,
    s.max_connections - s.superuser_reserved - s.reserved                                      AS usable_slots,
    round(b.client_backends::numeric / nullif(s.max_connections - s.superuser_reserved - s.reserved, 0), 4)::float8
                                                                                               AS used_ratio
FROM backends b, settings s
