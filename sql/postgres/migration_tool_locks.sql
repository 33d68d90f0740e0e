-- name: migration_tool_locks
-- description: Advisory locks of known migration tools in this database (held and waiting), one row per tool, zeros when idle - Flyway, Prisma, Sqitch, Rails, golang-migrate, goose and Atlas.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 2s
-- privileges: none
-- locks: none (reads pg_locks once)
-- source: reference/postgres-sql.md section 5; keys are (classid::bigint << 32) | objid for the bigint form (objsubid = 1)
-- changes: Rails keys are 2053462845 * crc32(database) and golang-migrate keys uint32(crc32(schema NUL table NUL database) * 1486364155); crc32 is computed here in SQL (PG18 has crc32() but 13-17 do not)
-- kinds: health higher_is_worse min_change=1: waiting
-- kinds: state: held
WITH RECURSIVE /* migtui */ crc_inputs(tool, input) AS (
    VALUES ('rails',          convert_to(current_database(), 'UTF8')),
           ('golang-migrate', convert_to(current_database(), 'UTF8')),
           ('golang-migrate', convert_to(current_schema(), 'UTF8') || '\x00'::bytea
                              || convert_to('schema_migrations', 'UTF8') || '\x00'::bytea
                              || convert_to(current_database(), 'UTF8')),
           ('golang-migrate', convert_to('public', 'UTF8') || '\x00'::bytea
                              || convert_to('schema_migrations', 'UTF8') || '\x00'::bytea
                              || convert_to(current_database(), 'UTF8'))
), crc(tool, input, i, c) AS (
    SELECT tool, input, 0, 4294967295::bigint FROM crc_inputs
    UNION ALL
    SELECT crc.tool, crc.input, crc.i + 1,
           CASE WHEN x.v & 1 = 1 THEN (x.v >> 1) # 3988292384 ELSE x.v >> 1 END
    FROM crc
    CROSS JOIN LATERAL (SELECT CASE WHEN crc.i % 8 = 0 THEN crc.c # get_byte(crc.input, crc.i / 8)
                                    ELSE crc.c END AS v) x
    WHERE crc.i < length(crc.input) * 8
), keys(tool, lo, hi) AS (
    SELECT 'flyway', 77431708279161 - 2147483648, 77431708279161 + 2147483647
    UNION ALL SELECT 'prisma', 72707369, 72707369
    UNION ALL SELECT 'sqitch', 75474063, 75474063
    UNION ALL SELECT 'goose', 4097083626, 4097083626
    UNION ALL SELECT 'goose', 5887940537704921958, 5887940537704921958
    UNION ALL SELECT 'atlas', 2686470616, 2686470616
    UNION ALL
    SELECT tool, k, k
    FROM (SELECT tool,
                 CASE tool WHEN 'rails' THEN (c # 4294967295) * 2053462845
                           ELSE ((c # 4294967295) * 1486364155) % 4294967296 END AS k
          FROM crc
          WHERE i = length(input) * 8) computed
), tools(tool) AS (
    VALUES ('flyway'), ('prisma'), ('sqitch'), ('rails'), ('golang-migrate'), ('goose'), ('atlas')
), advisory AS MATERIALIZED (
    SELECT (l.classid::bigint << 32) | l.objid::bigint AS key, l.granted
    FROM pg_locks l
    WHERE l.locktype = 'advisory'
      AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
)
SELECT
    t.tool                                                           AS tag_tool,
    count(m.key) FILTER (WHERE m.granted)                            AS held,
    count(m.key) FILTER (WHERE NOT m.granted)                        AS waiting
FROM tools t
LEFT JOIN (
    SELECT k.tool, a.key, a.granted
    FROM advisory a
    JOIN (SELECT DISTINCT tool, lo, hi FROM keys) k ON a.key BETWEEN k.lo AND k.hi
) m ON m.tool = t.tool
GROUP BY t.tool
ORDER BY t.tool
