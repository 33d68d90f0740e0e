-- name: table_activity
-- description: Tuple activity, dead tuples and (auto)vacuum/analyze of user tables in this database - the tables named in tables, or the limit most written ones - with counters as rates; a batched backfill shows up batch by batch, a single huge UPDATE only when it commits.
-- kind: metrics
-- min_version: 13
-- interval: 30s
-- timeout: 2s
-- cost: expensive
-- privileges: none
-- params: tables={}, limit=50
-- rates: n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_newpage_upd, n_tup_del, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch
-- changes: PG16 adds n_tup_newpage_upd, last_seq_scan and last_idx_scan
-- panel: data
-- show: n_dead_tup "dead tuples" kind=health direction=higher_is_worse
-- locks: none (statistics functions and catalogs only, never pg_relation_size)
-- kinds: health higher_is_worse unit=%: dead_ratio
-- kinds: health higher_is_worse: n_mod_since_analyze
-- kinds: health higher_is_worse unit=/s: seq_tup_read_per_s
-- kinds: counter unit=/s: n_tup_ins_per_s, n_tup_upd_per_s, n_tup_hot_upd_per_s, n_tup_newpage_upd_per_s, n_tup_del_per_s, seq_scan_per_s, idx_scan_per_s, idx_tup_fetch_per_s
-- kinds: counter: n_live_tup, n_ins_since_vacuum, vacuum_count, autovacuum_count, analyze_count, autoanalyze_count
-- kinds: state unit=s: last_vacuum_seconds_ago, last_analyze_seconds_ago, last_seq_scan_seconds_ago, last_idx_scan_seconds_ago
WITH /* migtui */ top AS MATERIALIZED (
    -- the most written tables first, from four counters per table; every other statistic is read
    -- for these rows only (pg_stat_user_tables computes ~25 of them for every table, then sorts)
    SELECT c.oid AS relid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 't', 'm', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND (cardinality(:tables::text[]) = 0
           OR c.oid IN (SELECT to_regclass(x.name)::oid FROM unnest(:tables::text[]) AS x(name)))
    ORDER BY pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
             + pg_stat_get_tuples_deleted(c.oid) + pg_stat_get_dead_tuples(c.oid) DESC, c.oid
    LIMIT :limit::int
), s AS (
    SELECT
        t.relid,
        pg_stat_get_live_tuples(t.relid)                  AS n_live_tup,
        pg_stat_get_dead_tuples(t.relid)                  AS n_dead_tup,
        pg_stat_get_tuples_inserted(t.relid)              AS n_tup_ins,
        pg_stat_get_tuples_updated(t.relid)               AS n_tup_upd,
        pg_stat_get_tuples_hot_updated(t.relid)           AS n_tup_hot_upd,
        NULL::bigint                                      AS n_tup_newpage_upd,
        pg_stat_get_tuples_deleted(t.relid)               AS n_tup_del,
        pg_stat_get_mod_since_analyze(t.relid)            AS n_mod_since_analyze,
        pg_stat_get_ins_since_vacuum(t.relid)             AS n_ins_since_vacuum,
        pg_stat_get_numscans(t.relid)                     AS seq_scan,
        pg_stat_get_tuples_returned(t.relid)              AS seq_tup_read,
        ix.idx_scan,
        ix.idx_tup_fetch + pg_stat_get_tuples_fetched(t.relid) AS idx_tup_fetch,
        pg_stat_get_vacuum_count(t.relid)                 AS vacuum_count,
        pg_stat_get_autovacuum_count(t.relid)             AS autovacuum_count,
        pg_stat_get_analyze_count(t.relid)                AS analyze_count,
        pg_stat_get_autoanalyze_count(t.relid)            AS autoanalyze_count,
        greatest(pg_stat_get_last_vacuum_time(t.relid), pg_stat_get_last_autovacuum_time(t.relid))   AS last_vacuum,
        greatest(pg_stat_get_last_analyze_time(t.relid), pg_stat_get_last_autoanalyze_time(t.relid)) AS last_analyze,
        NULL::float8 AS last_seq_scan_seconds_ago,
        NULL::float8 AS last_idx_scan_seconds_ago
    FROM top t
    LEFT JOIN LATERAL (
        SELECT sum(pg_stat_get_numscans(i.indexrelid))::bigint          AS idx_scan,
               sum(pg_stat_get_tuples_fetched(i.indexrelid))::bigint    AS idx_tup_fetch
        FROM pg_index i
        WHERE i.indrelid = t.relid
    ) ix ON true
)
SELECT
    s.relid::regclass::text                                                       AS tag_relation,
    s.n_live_tup,
    s.n_dead_tup,
    round(s.n_dead_tup::numeric / nullif(s.n_live_tup + s.n_dead_tup, 0), 4)::float8 AS dead_ratio,
    s.n_tup_ins,
    s.n_tup_upd,
    s.n_tup_hot_upd,
    s.n_tup_newpage_upd,
    s.n_tup_del,
    s.n_mod_since_analyze,
    s.n_ins_since_vacuum,
    s.seq_scan,
    s.seq_tup_read,
    s.idx_scan,
    s.idx_tup_fetch,
    s.vacuum_count,
    s.autovacuum_count,
    s.analyze_count,
    s.autoanalyze_count,
    extract(epoch FROM clock_timestamp() - s.last_vacuum)::float8                 AS last_vacuum_seconds_ago,
    extract(epoch FROM clock_timestamp() - s.last_analyze)::float8                AS last_analyze_seconds_ago,
    s.last_seq_scan_seconds_ago,
    s.last_idx_scan_seconds_ago
FROM s
ORDER BY s.n_tup_ins + s.n_tup_upd + s.n_tup_del + s.n_dead_tup DESC, s.relid
