-- name: xid_age
-- description: Transaction-ID wraparound headroom per database - age of datfrozenxid and datminmxid, their share of autovacuum_freeze_max_age, and the oldest backend xmin and xid ages (long transactions that hold back vacuum).
-- kind: metrics
-- min_version: 13
-- interval: 30s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- kinds: health higher_is_worse: datfrozenxid_age, datminmxid_age, freeze_max_age_pct
-- kinds: health higher_is_worse min_change=10000: oldest_backend_xmin_age, oldest_backend_xid_age
WITH /* migtui */ backends AS (
    SELECT datname,
           max(age(backend_xmin))::bigint AS xmin_age,
           max(age(backend_xid))::bigint  AS xid_age
    FROM pg_stat_activity
    WHERE pid <> pg_backend_pid()
    GROUP BY datname
)
SELECT
    d.datname::text                                                                       AS tag_datname,
    age(d.datfrozenxid)::bigint                                                           AS datfrozenxid_age,
    mxid_age(d.datminmxid)::bigint                                                        AS datminmxid_age,
    round(100.0 * age(d.datfrozenxid)
          / current_setting('autovacuum_freeze_max_age')::bigint, 2)::float8              AS freeze_max_age_pct,
    coalesce(b.xmin_age, 0)                                                               AS oldest_backend_xmin_age,
    coalesce(b.xid_age, 0)                                                                AS oldest_backend_xid_age
FROM pg_database d
LEFT JOIN backends b ON b.datname = d.datname
ORDER BY d.datname
