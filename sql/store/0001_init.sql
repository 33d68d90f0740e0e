-- migtui store schema, version 1. Long, narrow tables appended in time order; no indexes.
CREATE TABLE runs (
    run_id      VARCHAR NOT NULL,      -- e.g. 20261121T080102-ab12
    name        VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    status      VARCHAR NOT NULL,      -- running | finished | interrupted
    host        VARCHAR,
    version     VARCHAR,               -- migtui version
    baseline_of VARCHAR,               -- run whose baseline this run compares with (NULL = its own)
    config      JSON                   -- redacted config snapshot
);

CREATE TABLE series (
    run_id    VARCHAR NOT NULL,
    series_id INTEGER NOT NULL,        -- unique within a run
    source    VARCHAR NOT NULL,
    metric    VARCHAR NOT NULL,
    labels    JSON NOT NULL            -- {"table": "orders"}; {} when none
);

CREATE TABLE samples (
    run_id    VARCHAR NOT NULL,
    series_id INTEGER NOT NULL,
    ts        TIMESTAMPTZ NOT NULL,
    phase     VARCHAR NOT NULL,
    value     DOUBLE                   -- NaN allowed
);

CREATE TABLE snapshots (
    run_id  VARCHAR NOT NULL,
    ts      TIMESTAMPTZ NOT NULL,
    phase   VARCHAR NOT NULL,
    source  VARCHAR NOT NULL,
    name    VARCHAR NOT NULL,
    columns JSON NOT NULL,
    rows    JSON NOT NULL
);

CREATE TABLE events (
    run_id  VARCHAR NOT NULL,
    ts      TIMESTAMPTZ NOT NULL,
    phase   VARCHAR NOT NULL,
    kind    VARCHAR NOT NULL,          -- phase trigger alert action note error run baseline check
    subject VARCHAR NOT NULL,
    level   VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    data    JSON
);

CREATE TABLE baselines (
    run_id      VARCHAR NOT NULL,      -- the run these statistics were computed from
    phase       VARCHAR NOT NULL,      -- the phase they cover (normally baseline)
    computed_at TIMESTAMPTZ NOT NULL,
    source      VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,
    labels      JSON NOT NULL,
    n           BIGINT NOT NULL,
    mean        DOUBLE,
    stddev      DOUBLE,
    min         DOUBLE,
    p50         DOUBLE,
    p95         DOUBLE,
    p99         DOUBLE,
    max         DOUBLE
);

-- every sample with its series, for reports and ad-hoc queries
CREATE VIEW samples_v AS
SELECT s.run_id, s.ts, s.phase, r.source, r.metric, r.labels, s.value
FROM samples s JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id;
