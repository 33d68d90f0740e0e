"""Panel declarations in .sql headers (migtui.sqlpanel): what they make, and one clear error per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.errors import CatalogError
from migtui.model import MetricSpec, TableSpec
from migtui.sqlcatalog import Catalog, load_catalog
from migtui.sqlpanel import catalog_panels

HEAD = """\
-- name: {name}
-- description: A test query.
-- kind: {kind}
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: none
-- rates: done
"""
BODY = "SELECT /* migtui */ 1 AS waiting, 2 AS done, 'x' AS who\n"


def load(tmp_path: Path, lines: str, *, kind: str = "metrics", name: str = "q") -> Catalog:
    (tmp_path / f"{name}.sql").write_text(HEAD.format(name=name, kind=kind) + lines + BODY)
    catalog = Catalog()
    catalog.add_dir(tmp_path, "test")
    return catalog


def test_show_lines_make_the_panel_metrics(tmp_path: Path) -> None:
    catalog = load(tmp_path, '-- panel: shipping\n-- show: waiting "parcels waiting" unit=s warn=1 critical=5\n'
                             '-- show: done_per_s\n')
    [panel] = catalog_panels([("q", catalog.get("q").display)], "db")
    assert (panel.kind, panel.title, panel.source) == ("shipping", "Shipping", "db")
    assert panel.metrics == (MetricSpec("q.waiting", "parcels waiting", "s", 1.0, 5.0),
                             MetricSpec("q.done_per_s", "done per s", ""))


def test_show_lines_declare_the_kind_of_each_metric(tmp_path: Path) -> None:
    catalog = load(tmp_path, '-- panel: shipping\n-- show: waiting "w" direction=higher_is_worse\n'
                             '-- show: done_per_s kind=progress\n')
    [panel] = catalog_panels([("q", catalog.get("q").display)], "db")
    assert [(m.kind, m.direction) for m in panel.metrics] == [("health", "higher_is_worse"), ("progress", "")]


def test_a_table_query_declares_title_drawing_and_columns(tmp_path: Path) -> None:
    catalog = load(tmp_path, "-- panel: schema\n-- render: tree\n-- title: Who waits\n-- columns: who, waiting\n",
                   kind="table")
    [panel] = catalog_panels([("q", catalog.get("q").display)], "db")
    assert panel.table_specs == (TableSpec("q", "Who waits", "tree", ("who", "waiting")),)


def test_no_panel_line_no_panel(tmp_path: Path) -> None:
    assert load(tmp_path, "").get("q").display is None


@pytest.mark.parametrize("lines, line, message", [
    ('-- show: waiting "w"\n', 9, "'show' needs a '-- panel: NAME' line"),
    ("-- panel: Schema!\n", 9, "panel must be a lower-case word"),
    ("-- panel: data\n-- render: pie\n", 10, "render must be one of metrics, table, tree, progress, wrap, got 'pie'"),
    ("-- panel: data\n", 9, "a metrics panel needs at least one '-- show:"),
    ('-- panel: data\n-- show: waiting "w" warn=lots\n', 10, "show: warn must be a number, got 'lots'"),
    ('-- panel: data\n-- show: waiting "w" colour=red\n', 10, "show: unknown option 'colour'"),
    ('-- panel: data\n-- show: waiting\n-- show: nope "n"\n', 11, "show: the query has no column 'nope'"),
    ("-- panel: data\n-- show: waiting lock waiters\n", 10, "show must look like"),
    ("-- panel: data\n-- show: waiting\n-- columns: who\n", 11, "columns are for render: table, tree, progress"),
    ('-- panel: data\n-- show: waiting "w" kind=vibes\n', 10,
     "show: kind must be one of health, progress, state, counter, got 'vibes'"),
    ('-- panel: data\n-- show: waiting "w" direction=up\n', 10, "show: direction must be one of higher_is_worse"),
    ('-- panel: data\n-- show: done_per_s kind=progress direction=either\n', 10,
     "show: direction is for kind=health metrics"),
])
def test_a_malformed_entry_names_file_and_line(tmp_path: Path, lines: str, line: int, message: str) -> None:
    with pytest.raises(CatalogError) as exc:
        load(tmp_path, lines)
    assert str(exc.value).startswith(f"{tmp_path / 'q.sql'}:{line}: ")
    assert message in str(exc.value)


def test_table_query_cannot_render_as_metrics(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"q\.sql:10: a kind: table query cannot render as metrics"):
        load(tmp_path, "-- panel: data\n-- render: metrics\n", kind="table")


def test_the_shipped_catalog_declares_the_schema_and_data_panels() -> None:
    catalog = load_catalog()
    panels = {p.kind: p for p in catalog_panels([(q.name, q.display) for q in catalog if q.display], "db")}
    assert set(panels) == {"schema", "data"}
    schema = panels["schema"]
    assert MetricSpec("activity_summary.waiting", "lock waiters", "", 1.0, 5.0, kind="health",
                      direction="higher_is_worse", min_change=1.0) in schema.metrics
    assert {t.name: t.render for t in schema.table_specs}["blocking_tree"] == "tree"
    assert {t.name: t.render for t in panels["data"].table_specs}["progress_copy"] == "progress"


def test_sql_list_json_says_each_query_s_cost_and_panel(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from migtui.cli import main

    try:
        main(["sql", "list", "--json"])
    except SystemExit as exc:
        assert not exc.code
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["table_activity"]["cost"], rows["table_activity"]["panel"]) == ("expensive", "data")
    assert (rows["blocking_tree"]["cost"], rows["blocking_tree"]["panel"]) == ("cheap", "schema")
    assert rows["server_info"]["panel"] is None
