"""Every metric of the shipped SQL catalog has a kind declared in its .sql header (``-- kinds:`` or
``show ... kind=``), so reports judge health metrics only; and the ``kinds`` header is checked.

The columns a statement returns are read from the statement itself (pglast, the PostgreSQL parser);
tests/integration/test_catalog_pg.py checks on real servers that every variant of a query returns
the same columns, so the base file's declarations cover the variants."""

from __future__ import annotations

import re
from pathlib import Path

import pglast
import pytest
from pglast import ast

from migtui.errors import CatalogError
from migtui.model import METRIC_KINDS
from migtui.plugins import PluginHost
from migtui.sqlcatalog import Catalog, Query, Variant, load_catalog
from tests.unit.test_sqlcatalog import write


def output_columns(variant: Variant) -> list[str]:
    """The names of the columns the statement returns, in order (``?`` for an unnamed expression)."""
    text = re.sub(r"(?<![:\w]):[A-Za-z_]\w*", "NULL", variant.text)  # :params -> NULL (not SQL)
    stmt = pglast.parse_sql(text)[0].stmt
    while getattr(stmt, "larg", None) is not None:  # UNION: the first branch names the columns
        stmt = stmt.larg
    names = []
    for target in stmt.targetList:
        if target.name:
            names.append(target.name)
        elif isinstance(target.val, ast.ColumnRef) and isinstance(target.val.fields[-1], ast.String):
            names.append(target.val.fields[-1].sval)
        else:
            names.append("?")
    return names


def stored_metrics(query: Query, variant: Variant) -> dict[str, str]:
    """Metric name (without the query's prefix) -> the column it comes from, as the postgres
    collector stores them: ``tag_*`` columns are labels, ``rates`` columns become ``<col>_per_s``,
    every other column is a metric of its own name, and each ``ratios`` output is one more."""
    out: dict[str, str] = {}
    for col in output_columns(variant):
        if col.startswith("tag_"):
            continue
        out[f"{col}_per_s" if col in query.rates else col] = col
    for ratio in query.ratios:
        out[ratio.out] = f"ratio {ratio.out}"
    return out


def whole_catalog() -> Catalog:
    """The built-in catalog and every installed plugin's ``migtui_sql_dirs`` folders."""
    host = PluginHost()
    return load_catalog([(plugin, Path(path)) for plugin, path, target in host.sql_dirs if target == "postgres"])


def test_every_metric_of_every_catalog_query_and_variant_has_a_kind() -> None:
    missing, checked = [], 0
    for query in whole_catalog():
        if query.kind != "metrics":
            continue  # a table query's rows are snapshots for panels, never metrics
        declared = {spec.metric.split(".", 1)[1]: spec for spec in query.kinds}
        for variant in query.variants:
            for metric, column in stored_metrics(query, variant).items():
                checked += 1
                assert metric != "?", f"{variant.path}: an output column has no name (give it AS name)"
                spec = declared.get(metric)
                if spec is None:
                    missing.append(f"{variant.path.name}: column {column} (metric {query.name}.{metric}) has no kind")
                else:
                    assert spec.kind in METRIC_KINDS
                    assert (spec.kind == "health") == bool(spec.direction), spec
    assert checked > 300
    assert not missing, "declare these in the base file's header ('-- kinds: ...'):\n" + "\n".join(missing)


def test_a_dba_s_reading_of_some_columns() -> None:
    """Spot checks of the declarations: counters and progress never get a verdict; waits, lag,
    dead tuples and idle transactions are health, higher is worse."""
    kinds = {spec.metric: (spec.kind, spec.direction) for q in whole_catalog() for spec in q.kinds}
    hiw = ("health", "higher_is_worse")
    assert kinds["lock_waits_summary.max_wait_seconds"] == hiw
    assert kinds["replication_lag.replay_lag_bytes"] == hiw
    assert kinds["long_running_summary.max_idle_in_transaction_seconds"] == hiw
    assert kinds["table_activity.n_dead_tup"] == hiw
    assert kinds["database_counters.cache_hit_ratio"] == ("health", "lower_is_worse")
    assert kinds["database_counters.tup_inserted_per_s"] == ("counter", "")
    assert kinds["progress_create_index.blocks_done"] == ("progress", "")
    assert kinds["server_info.server_version_num"] == ("state", "")


@pytest.mark.parametrize("line, error", [
    ("-- kinds: health sideways: one", "direction must be one of higher_is_worse, lower_is_worse, either"),
    ("-- kinds: gauge: one", "kind must be one of health, progress, state, counter, got 'gauge'"),
    ("-- kinds: counter higher_is_worse: one", "a direction is for health metrics"),
    ("-- kinds: counter: two", "the query has no column 'two'"),
    ("-- kinds: counter one", "kinds must look like"),
    ("-- kinds: counter: one, One!", "got 'One!'"),
])
def test_a_bad_kinds_line_names_file_and_line(tmp_path: Path, line: str, error: str) -> None:
    path = write(tmp_path, "q.sql", extra=line + "\n")
    with pytest.raises(CatalogError) as err:
        Catalog().add_dir(tmp_path, "test")
    assert str(err.value).startswith(f"{path}:8: ") and error in str(err.value), str(err.value)


def test_a_metric_declared_twice_or_kinds_on_a_table_query_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", extra='-- panel: data\n-- show: one "one" kind=state\n-- kinds: counter: one\n')
    with pytest.raises(CatalogError, match=rf"^{re.escape(str(path))}:10: kinds: 'one' already has a kind \(state\)"):
        Catalog().add_dir(tmp_path, "test")
    path.unlink()
    path = write(tmp_path, "t.sql", kind="table", extra="-- kinds: counter: one\n")
    with pytest.raises(CatalogError, match=rf"^{re.escape(str(path))}:8: kinds are for kind: metrics queries"):
        Catalog().add_dir(tmp_path, "test")


def test_kinds_lines_give_the_metrics_their_kind_direction_and_unit(tmp_path: Path) -> None:
    write(tmp_path, "q.sql", "SELECT /* migtui */ 1 AS waits, 2 AS rows_done, 3 AS n",
          extra="-- rates: n\n-- kinds: health higher_is_worse unit=s: waits\n-- kinds: progress: rows_done, n_per_s\n")
    catalog = Catalog()
    catalog.add_dir(tmp_path, "test")
    specs = {s.metric: (s.kind, s.direction, s.unit) for s in catalog.get("q").kinds}
    assert specs == {"q.waits": ("health", "higher_is_worse", "s"), "q.rows_done": ("progress", "", ""),
                     "q.n_per_s": ("progress", "", "")}


def test_min_change_on_a_kinds_line_and_its_errors(tmp_path: Path) -> None:
    write(tmp_path, "q.sql", "SELECT /* migtui */ 1 AS waits, 2 AS n",
          extra="-- kinds: health higher_is_worse unit=s min_change=1: waits\n-- kinds: state: n\n")
    catalog = Catalog()
    catalog.add_dir(tmp_path, "test")
    assert {s.metric: s.min_change for s in catalog.get("q").kinds} == {"q.waits": 1.0, "q.n": None}
    for line, error in (("-- kinds: counter min_change=1: waits", "min_change is a number >= 0 for health"),
                        ("-- kinds: health min_change=x: waits", "got 'x'"),
                        ("-- kinds: health floor=1: waits", "unknown option 'floor'; known: unit, min_change")):
        folder = tmp_path / str(abs(hash(line)))
        folder.mkdir()
        path = write(folder, "q.sql", "SELECT /* migtui */ 1 AS waits", extra=line + "\n")
        with pytest.raises(CatalogError) as err:
            Catalog().add_dir(folder, "test")
        assert str(err.value).startswith(f"{path}:8: ") and error in str(err.value), str(err.value)
    sessions = {s.metric: s.min_change for q in whole_catalog() for s in q.kinds}
    assert sessions["activity_summary.active"] == 1 and sessions["lock_waits_summary.max_wait_seconds"] == 1


def test_the_config_overrides_min_change_and_refuses_it_on_a_counter() -> None:
    from migtui.metrickinds import check_override, classify, declared_kinds

    rules = declared_kinds([], {"db/activity_summary.active": {"kind": "health", "direction": "higher_is_worse",
                                                                "min_change": 2}},
                           [("db", [s for q in whole_catalog() for s in q.kinds])])
    assert classify(rules, "db", "activity_summary.active")["min_change"] == 2
    assert classify(rules, "db", "lock_waits_summary.waiting")["min_change"] == 1
    with pytest.raises(ValueError, match="min_change is for health metrics"):
        check_override({"kind": "counter", "min_change": 1})
