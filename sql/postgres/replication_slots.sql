-- name: replication_slots
-- description: Replication slots and the WAL they retain - bytes behind the current position, safe_wal_size, wal_status as a level (0 reserved, 1 extended, 2 unreserved, 3 lost), xmin ages and, from PG17, how long an inactive slot has been idle.
-- kind: metrics
-- min_version: 13
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- locks: none
-- changes: PG17 adds inactive_since, invalidation_reason, failover and synced
-- kinds: health higher_is_worse unit=B: retained_bytes, confirmed_flush_lag_bytes
-- kinds: health lower_is_worse unit=B: safe_wal_size_bytes
-- kinds: health higher_is_worse: wal_status_level, xmin_age, catalog_xmin_age
-- kinds: health higher_is_worse unit=s: inactive_seconds
-- kinds: state: active, is_temporary
WITH /* migtui */ pos AS (
    SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END AS lsn
)
SELECT
    s.slot_name::text                                                    AS tag_slot_name,
    s.slot_type                                                          AS tag_slot_type,
    coalesce(s.database::text, '')                                       AS tag_database,
    s.active,
    s.temporary                                                          AS is_temporary,
    pg_wal_lsn_diff(pos.lsn, s.restart_lsn)                              AS retained_bytes,
    pg_wal_lsn_diff(pos.lsn, s.confirmed_flush_lsn)                      AS confirmed_flush_lag_bytes,
    s.safe_wal_size                                                      AS safe_wal_size_bytes,
    CASE s.wal_status WHEN 'reserved' THEN 0 WHEN 'extended' THEN 1
                      WHEN 'unreserved' THEN 2 WHEN 'lost' THEN 3 END    AS wal_status_level,
    age(s.xmin)::bigint                                                  AS xmin_age,
    age(s.catalog_xmin)::bigint                                          AS catalog_xmin_age,
    NULL::float8                                                         AS inactive_seconds
FROM pg_replication_slots s, pos
