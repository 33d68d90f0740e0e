-- name: backends_per_core
-- description: Active client backends of the whole server (running a statement, not waiting for their client) per CPU core of its host; above 1 the CPUs are oversubscribed (a throttle signal). cpu_cores comes from params; when unset and the source connects to this machine (a Unix socket, localhost, 127.0.0.1, ::1) migtui sets it from this host's core count; otherwise the per-core value is absent.
-- kind: metrics
-- min_version: 13
-- interval: 2s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- params: cpu_cores=0
-- locks: none
-- kinds: health higher_is_worse min_change=1: active
-- kinds: health higher_is_worse min_change=0.5: active_per_core
-- kinds: state: cpu_cores
SELECT /* migtui */
    count(*) FILTER (WHERE backend_type = 'client backend' AND state = 'active'
                       AND wait_event_type IS DISTINCT FROM 'Client')                         AS active,
    nullif(:cpu_cores::int, 0)                                                                 AS cpu_cores,
    (count(*) FILTER (WHERE backend_type = 'client backend' AND state = 'active'
                        AND wait_event_type IS DISTINCT FROM 'Client'))::float8
        / nullif(:cpu_cores::int, 0)                                                           AS active_per_core
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
