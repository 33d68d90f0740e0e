"""The SQL catalog loader and the shipped catalog (sql/postgres): headers, variants, params.

Running every query against real servers, and checking that the variants of a query return the
same columns there, is in tests/integration/test_catalog_pg.py.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from migtui.errors import CatalogError
from migtui.sqlcatalog import TAG, Catalog, _strip_literals, builtin_sql_dir, load_catalog, parse_file
from migtui.sqlparams import convert_param_default, param_defaults

SQL_DIR = builtin_sql_dir()
SHIPPED = sorted(SQL_DIR.glob("*.sql"))

HEADER = """\
-- name: {name}
-- description: A test query.
-- kind: {kind}
-- min_version: {min_version}
-- interval: 5s
-- timeout: 1s
-- privileges: none
"""


def write(folder: Path, filename: str, body: str = "SELECT /* migtui */ 1 AS one", *, name: str | None = None,
          kind: str = "metrics", min_version: int = 13, extra: str = "") -> Path:
    stem = filename.split(".")[0]
    path = folder / filename
    path.write_text(HEADER.format(name=name or stem, kind=kind, min_version=min_version) + extra + body + "\n")
    return path


# ---------------------------------------------------------------------------------------------- shipped catalog


def test_every_shipped_file_parses_and_belongs_to_a_query() -> None:
    catalog = load_catalog()
    loaded = sorted(v.path.name for q in catalog for v in q.variants)
    assert loaded == [p.name for p in SHIPPED]
    assert len(catalog) >= 35
    for query in catalog:
        assert query.kind in ("metrics", "table")
        assert query.description and query.privileges is not None
        assert 0 < query.timeout <= 2, f"{query.name}: timeouts are 1-2s"
        assert query.interval >= 2, query.name
        for variant in query.variants:
            assert TAG in variant.text, variant.path.name


def test_shipped_names_are_unique_and_match_their_files() -> None:
    names: dict[str, Path] = {}
    for path in SHIPPED:
        header, _variant, tag = parse_file(path)
        assert header["name"] == path.name.split(".")[0]
        if tag is None:
            assert header["name"] not in names, f"{path.name} and {names.get(header['name'])}"
            names[header["name"]] = path
    catalog = load_catalog()
    assert sorted(q.name for q in catalog) == sorted(names)


def test_shipped_catalog_covers_a_migration_window() -> None:
    names = {q.name for q in load_catalog()}
    expected = {
        "activity_summary", "long_running", "idle_in_transaction", "long_running_summary", "lock_waits",
        "lock_waits_summary", "blocking_tree", "relation_locks", "migration_tool_locks", "connections",
        "progress_create_index", "progress_cluster", "progress_vacuum", "progress_analyze", "progress_copy",
        "progress_basebackup", "replication_lag", "replication_slots", "standby_replay", "wal_position",
        "wal_stats", "checkpoints", "archiver", "database_counters", "table_activity", "table_sizes_approx",
        "index_usage", "invalid_indexes", "invalid_indexes_list", "xid_age", "statements_top",
        "migration_tables_detect",
    }
    assert expected <= names, expected - names


def test_shipped_queries_are_harmless_by_construction() -> None:
    """No exact size function (they take AccessShareLock and queue behind a waiting ALTER TABLE),
    no pgstattuple, and pg_blocking_pids only next to a wait_event_type = 'Lock' filter."""
    forbidden = re.compile(r"\b(pg_relation_size|pg_total_relation_size|pg_table_size|pg_indexes_size|"
                           r"pg_database_size|pg_tablespace_size|pgstattuple\w*|pgrowlocks|pg_stat_file)\s*\(", re.I)
    writes = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|ALTER|CREATE|DROP|TRUNCATE|LOCK|COPY|VACUUM|ANALYZE|SET|"
                        r"FOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE))\b|pg_advisory|pg_cancel|pg_terminate|nextval", re.I)
    for path in SHIPPED:
        text = path.read_text()
        assert not forbidden.search(text), f"{path.name}: {forbidden.search(text).group(0)}"
        _, variant, _ = parse_file(path)
        code = _strip_literals(variant.text)
        assert re.match(r"(SELECT|WITH)\b", code, re.I), path.name
        assert not writes.search(code), f"{path.name}: {writes.search(code).group(0)}"
        if "pg_blocking_pids" in code:
            assert "wait_event_type = 'Lock'" in variant.text, path.name


def test_shipped_variants_keep_the_base_header() -> None:
    for query in load_catalog():
        base = query.variants[0]
        assert base.path.name == f"{query.name}.sql"
        assert base.min_version >= 13, query.name  # io_stats needs 16 (pg_stat_io)
        for variant in query.variants[1:]:
            header, _, tag = parse_file(variant.path)
            assert tag is not None
            assert header["kind"] == query.kind
            assert header.get("params", "") == (parse_file(base.path)[0].get("params", "")), variant.path.name
            assert header.get("rates", "") == parse_file(base.path)[0].get("rates", ""), variant.path.name
            if tag.startswith("pg"):
                assert variant.min_version > base.min_version


def test_shipped_metric_queries_label_with_tag_columns() -> None:
    """tag_* columns are the labels; a query with several rows per tick must have at least one."""
    multi_row = {"relation_locks", "migration_tool_locks", "progress_create_index", "progress_vacuum",
                 "replication_lag", "replication_slots", "table_activity", "table_sizes_approx", "index_usage",
                 "xid_age", "migration_tables_detect"}
    catalog = load_catalog()
    for name in multi_row:
        for variant in catalog.get(name).variants:
            assert re.search(r"\bAS tag_\w+", variant.text), variant.path.name


# ---------------------------------------------------------------------------------------------- params


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("-3", -3), ("0.5", 0.5), ("{}", []), ("{orders, public.users}", ["orders", "public.users"]),
    ('{"a b",c}', ["a b", "c"]), ("'x'", "x"), ("true", True), ("False", False), ("null", None), ("10s", "10s"),
])
def test_param_defaults_convert_to_python_values(text: str, value: object) -> None:
    assert convert_param_default(text) == value


def test_shipped_param_defaults() -> None:
    catalog = load_catalog()
    assert param_defaults(catalog.get("relation_locks")) == {"tables": []}
    assert param_defaults(catalog.get("long_running")) == {"min_seconds": 5, "limit": 50}
    assert param_defaults(catalog.get("table_activity")) == {"tables": [], "limit": 50}
    assert param_defaults(catalog.get("activity_summary")) == {}
    for query in catalog:
        defaults = param_defaults(query)
        for variant in query.variants:
            assert set(variant.params) <= set(defaults), variant.path.name


def test_params_become_psycopg_placeholders_and_percent_is_escaped(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", "SELECT /* migtui */ x::text, 'a%b' AS lit, 7 % 3 AS m, "
                                    "cardinality(:tables::text[]) AS n WHERE y > :min_seconds::float8",
                 extra="-- params: min_seconds=5, tables={}\n")
    _, variant, _ = parse_file(path)
    assert variant.params == ("tables", "min_seconds")
    assert "%(tables)s::text[]" in variant.sql and "%(min_seconds)s::float8" in variant.sql
    assert "'a%%b'" in variant.sql and "7 %% 3" in variant.sql and "x::text" in variant.sql


# ---------------------------------------------------------------------------------------------- malformed files


def _error(path: Path) -> str:
    catalog = Catalog()
    with pytest.raises(CatalogError) as info:
        catalog.add_dir(path.parent, "test")
    return str(info.value)


def test_missing_header_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql")
    path.write_text(path.read_text().replace("-- kind: metrics\n", ""))
    assert _error(path).startswith(f"{path}:1: header is missing '-- kind: ...'")


def test_bad_kind_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", kind="chart")
    message = _error(path)
    assert message.startswith(f"{path}:3: kind must be metrics or table")
    assert "'chart'" in message


def test_name_must_match_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "lock_waits.sql", name="lockwaits")
    assert _error(path).startswith(f"{path}:1: name 'lockwaits' does not match the file name 'lock_waits'")


def test_variant_min_version_must_match_its_suffix(tmp_path: Path) -> None:
    write(tmp_path, "q.sql")
    variant = write(tmp_path, "q.pg17.sql", min_version=16)
    assert _error(variant).startswith(f"{variant}:4: a .pg17.sql variant must say min_version: 17, not 16")


def test_undeclared_param_is_refused_with_the_line_using_it(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", "SELECT /* migtui */ 1\nFROM pg_stat_activity\nWHERE pid > :min_pid",
                 extra="-- params: limit=5\n")
    # header: 8 lines (7 + params), SELECT on 9, WHERE on 11
    assert _error(path).startswith(f"{path}:11: parameter :min_pid is used but not declared")


def test_statement_without_the_migtui_tag_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", "SELECT 1 AS one")
    assert _error(path).startswith(f"{path}:8: the statement must contain /* migtui */")


def test_two_statements_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", "SELECT /* migtui */ 1;\nSELECT 2")
    assert _error(path).startswith(f"{path}:8: one statement per file")


def test_semicolons_in_literals_and_a_trailing_semicolon_are_fine(tmp_path: Path) -> None:
    write(tmp_path, "q.sql", "SELECT /* migtui */ 'a;b' AS x -- c;d\n;")
    catalog = Catalog()
    catalog.add_dir(tmp_path, "test")
    assert catalog.get("q").variants[0].text.rstrip().endswith("'a;b' AS x -- c;d")


def test_unknown_and_repeated_header_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", extra="-- intervall: 5s\n")
    assert _error(path).startswith(f"{path}:8: unknown header key 'intervall'")
    path.unlink()
    path = write(tmp_path, "q.sql", extra="-- interval: 6s\n")
    assert _error(path).startswith(f"{path}:8: header key 'interval' given twice")


def test_bad_durations_and_file_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql")
    path.write_text(path.read_text().replace("-- timeout: 1s", "-- timeout: soon"))
    assert _error(path).startswith(f"{path}:6: timeout:")
    path.unlink()
    bad = tmp_path / "Lock-Waits.sql"
    bad.write_text("SELECT /* migtui */ 1")
    assert _error(bad).startswith(f"{bad}: file name must be")


def test_variant_without_base_and_name_clash_are_refused(tmp_path: Path) -> None:
    variant = write(tmp_path, "q.pg16.sql", min_version=16)
    assert _error(variant).startswith(f"{variant}: variant of 'q' has no base file")
    other = tmp_path / "other"
    other.mkdir()
    write(other, "activity_summary.sql")
    catalog = load_catalog()
    with pytest.raises(CatalogError, match="clashes with"):
        catalog.add_dir(other, "plugin x")


# ---------------------------------------------------------------------------------------------- variant choice


def test_variant_is_chosen_by_server_version(tmp_path: Path) -> None:
    write(tmp_path, "q.sql")
    write(tmp_path, "q.pg16.sql", min_version=16)
    write(tmp_path, "q.pg17.sql", min_version=17)
    catalog = Catalog()
    catalog.add_dir(tmp_path, "test")
    q = catalog.get("q")
    pick = lambda version: (q.variant_for(version) or None) and q.variant_for(version).path.name  # noqa: E731
    assert pick(12) is None
    assert pick(13) == "q.sql"
    assert pick(150004) == "q.sql"
    assert pick(16) == "q.pg16.sql"
    assert pick(170002) == "q.pg17.sql"
    assert pick(180001) == "q.pg17.sql"


def test_variant_is_chosen_by_extension_version_not_server_version(tmp_path: Path) -> None:
    ext = "-- extension: pg_stat_statements >= 1.8\n"
    write(tmp_path, "s.sql", extra=ext)
    write(tmp_path, "s.ext1_11.sql", extra=ext)
    catalog = Catalog()
    catalog.add_dir(tmp_path, "test")
    q = catalog.get("s")
    assert q.extension == "pg_stat_statements" and q.ext_min == (1, 8)
    assert q.variant_for(17) is None, "extension not installed"
    assert q.variant_for(17, {"pg_stat_statements": (1, 7)}) is None, "extension too old"
    assert q.variant_for(17, {"pg_stat_statements": (1, 10)}).path.name == "s.sql"  # an un-updated PG17
    assert q.variant_for(15, {"pg_stat_statements": (1, 11)}).path.name == "s.ext1_11.sql"
    assert q.variant_for(18, {"pg_stat_statements": (1, 12)}).path.name == "s.ext1_11.sql"


def test_shipped_statements_top_follows_the_extension_version() -> None:
    q = load_catalog().get("statements_top")
    picks = {ver: q.variant_for(17, {"pg_stat_statements": ver}) for ver in [(1, 7), (1, 8), (1, 9), (1, 10), (1, 11), (1, 12)]}
    assert {ver: v and v.path.name for ver, v in picks.items()} == {
        (1, 7): None, (1, 8): "statements_top.sql", (1, 9): "statements_top.ext1_9.sql",
        (1, 10): "statements_top.ext1_9.sql", (1, 11): "statements_top.ext1_11.sql",
        (1, 12): "statements_top.ext1_11.sql"}


def test_shipped_server_variants_are_picked_per_major_version() -> None:
    catalog = load_catalog()
    expect = {
        "checkpoints": {13: "checkpoints.sql", 16: "checkpoints.sql", 17: "checkpoints.pg17.sql",
                        18: "checkpoints.pg18.sql"},
        "progress_vacuum": {15: "progress_vacuum.sql", 17: "progress_vacuum.pg17.sql", 18: "progress_vacuum.pg18.sql"},
        "connections": {15: "connections.sql", 16: "connections.pg16.sql"},
        "wal_stats": {13: None, 14: "wal_stats.sql", 18: "wal_stats.pg18.sql"},
        "progress_copy": {13: None, 14: "progress_copy.sql", 17: "progress_copy.pg17.sql"},
        "database_counters": {13: "database_counters.sql", 14: "database_counters.pg14.sql",
                              18: "database_counters.pg18.sql"},
    }
    for name, versions in expect.items():
        q = catalog.get(name)
        for version, filename in versions.items():
            v = q.variant_for(version)
            assert (v.path.name if v else None) == filename, (name, version)


def test_catalog_get_suggests_a_close_name() -> None:
    with pytest.raises(CatalogError, match="did you mean 'lock_waits'"):
        load_catalog().get("lock_wait")


def test_header_example_in_the_docstring_parses(tmp_path: Path) -> None:
    import migtui.sqlcatalog as mod

    example = textwrap.dedent(mod.__doc__.split("::", 1)[1].split("Header keys", 1)[0]).strip()
    example = example.replace("...", "pid FROM pg_stat_activity")
    (tmp_path / "lock_waits.sql").write_text(example + "\n")
    _, variant, _ = parse_file(tmp_path / "lock_waits.sql")
    assert variant.params == ("min_wait_seconds",)
