-- name: relation_locks
-- description: Granted and waiting relation locks per table and lock mode in this database. With tables set (e.g. {orders,public.users}) every mode of those tables is reported, zeros included; with tables={} only user tables that have a lock stronger than AccessShare or a waiter.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 2s
-- privileges: none
-- params: tables={}
-- locks: none (reads pg_locks once; to_regclass takes no lock)
-- kinds: health higher_is_worse min_change=1: waiting
-- kinds: state: granted
WITH /* migtui */ locks AS MATERIALIZED (
    SELECT l.relation, l.mode, l.granted
    FROM pg_locks l
    WHERE l.locktype = 'relation'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.pid IS DISTINCT FROM pg_backend_pid()
), named AS (
    SELECT DISTINCT to_regclass(t.name)::oid AS relid
    FROM unnest(:tables::text[]) AS t(name)
    WHERE to_regclass(t.name) IS NOT NULL
), busy AS (
    SELECT DISTINCT l.relation AS relid
    FROM locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE cardinality(:tables::text[]) = 0
      AND c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'
      AND (l.mode <> 'AccessShareLock' OR NOT l.granted)
), modes(mode, strength) AS (
    VALUES ('AccessShareLock', 1), ('RowShareLock', 2), ('RowExclusiveLock', 3),
           ('ShareUpdateExclusiveLock', 4), ('ShareLock', 5), ('ShareRowExclusiveLock', 6),
           ('ExclusiveLock', 7), ('AccessExclusiveLock', 8)
), wanted AS (
    SELECT n.relid, m.mode, m.strength FROM named n CROSS JOIN modes m
    UNION
    SELECT b.relid, m.mode, m.strength FROM busy b CROSS JOIN modes m
    WHERE EXISTS (SELECT 1 FROM locks l WHERE l.relation = b.relid AND l.mode = m.mode)
)
SELECT
    w.relid::regclass::text                   AS tag_relation,
    w.mode                                    AS tag_mode,
    count(l.relation) FILTER (WHERE l.granted)     AS granted,
    count(l.relation) FILTER (WHERE NOT l.granted) AS waiting
FROM wanted w
LEFT JOIN locks l ON l.relation = w.relid AND l.mode = w.mode
GROUP BY w.relid, w.mode, w.strength
ORDER BY w.relid::regclass::text, w.strength
