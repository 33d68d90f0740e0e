-- name: table_activity
-- description: Tuple activity, dead tuples and (auto)vacuum/analyze of user tables in this database - the tables named in tables, or the limit most written ones - with counters as rates; a batched backfill shows up batch by batch, a single huge UPDATE only when it commits.
-- kind: metrics
-- min_version: 13
-- interval: 30s
-- timeout: 2s
-- privileges: none
-- params: tables={}, limit=50
-- rates: n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_newpage_upd, n_tup_del, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch
-- locks: none (statistics views only)
-- changes: PG16 adds n_tup_newpage_upd, last_seq_scan and last_idx_scan
-- panel: data
-- show: n_dead_tup "dead tuples"
SELECT /* migtui */
    s.relid::regclass::text                                                       AS tag_relation,
    s.n_live_tup,
    s.n_dead_tup,
    round(s.n_dead_tup::numeric / nullif(s.n_live_tup + s.n_dead_tup, 0), 4)::float8 AS dead_ratio,
    s.n_tup_ins,
    s.n_tup_upd,
    s.n_tup_hot_upd,
    NULL::bigint                         AS n_tup_newpage_upd,
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
    extract(epoch FROM clock_timestamp() - greatest(s.last_vacuum, s.last_autovacuum))::float8   AS last_vacuum_seconds_ago,
    extract(epoch FROM clock_timestamp() - greatest(s.last_analyze, s.last_autoanalyze))::float8 AS last_analyze_seconds_ago,
    NULL::float8  AS last_seq_scan_seconds_ago,
    NULL::float8  AS last_idx_scan_seconds_ago
FROM pg_stat_user_tables s
WHERE true
      AND (cardinality(:tables::text[]) = 0
           OR s.relid IN (SELECT to_regclass(t.name)::oid FROM unnest(:tables::text[]) AS t(name)))
ORDER BY s.n_tup_ins + s.n_tup_upd + s.n_tup_del + s.n_dead_tup DESC, s.relid
LIMIT :limit::int
