-- name: migration_tables_detect
-- description: Which migration tools keep their history table in this database (present 1 or 0 per tool) - found through the catalogs in any schema, so no table is opened or locked.
-- kind: metrics
-- min_version: 13
-- interval: 60s
-- timeout: 1s
-- cost: moderate
-- privileges: none
-- locks: none (pg_class, pg_namespace and pg_attribute only)
-- source: reference/postgres-sql.md section 5; schema_migrations with a dirty column is golang-migrate, without it Rails
-- kinds: state: present
WITH /* migtui */ probes(tool, schema_name, table_name, with_column, without_column) AS (
    VALUES ('alembic',        NULL,     'alembic_version',        NULL,    NULL),
           ('flyway',         NULL,     'flyway_schema_history',  NULL,    NULL),
           ('django',         NULL,     'django_migrations',      NULL,    NULL),
           ('rails',          NULL,     'schema_migrations',      NULL,    'dirty'),
           ('golang-migrate', NULL,     'schema_migrations',      'dirty', NULL),
           ('prisma',         NULL,     '_prisma_migrations',     NULL,    NULL),
           ('goose',          NULL,     'goose_db_version',       NULL,    NULL),
           ('sqitch',         'sqitch', 'changes',                NULL,    NULL),
           ('liquibase',      NULL,     'databasechangelog',      NULL,    NULL),
           ('atlas',          NULL,     'atlas_schema_revisions', NULL,    NULL),
           ('pgroll',         'pgroll', 'migrations',             NULL,    NULL)
)
SELECT
    p.tool                                                          AS tag_tool,
    EXISTS (
        SELECT 1
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = p.table_name
          AND c.relkind IN ('r', 'p')
          AND (p.schema_name IS NULL OR n.nspname = p.schema_name)
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_temp%'
          AND (p.with_column IS NULL OR EXISTS (
                SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = p.with_column AND NOT a.attisdropped))
          AND (p.without_column IS NULL OR NOT EXISTS (
                SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = p.without_column AND NOT a.attisdropped))
    )::int                                                          AS present
FROM probes p
ORDER BY p.tool
