"""The statement text a report stores: literals masked, secrets redacted, each statement asked for
once; and the catalog header that runs a query at the start of each phase."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.errors import CatalogError
from migtui.sqlcatalog import load_catalog
from migtui_postgres.pgconn import mask_literals
from migtui_postgres.statement_text import TextCapture


@pytest.mark.parametrize("sql, masked", [
    ("ALTER ROLE bob PASSWORD 'hunter2'", "ALTER ROLE bob PASSWORD '***'"),
    ("SELECT 'it''s', E'a\\'b' FROM t WHERE k = $1", "SELECT '***', '***' FROM t WHERE k = $1"),
    ("DO $$BEGIN RAISE NOTICE 'x'; END$$", "DO '***'"),
    ("SELECT $body$ secret $body$, $1", "SELECT '***', $1"),
    ('SELECT "col\'s" -- don\'t\nFROM t', 'SELECT "col\'s" -- don\'t\nFROM t'),
    ("COPY t FROM PROGRAM 'curl https://x/?token=abc", "COPY t FROM PROGRAM '***'"),  # cut by text_chars
])
def test_literals_are_masked_and_the_rest_stays(sql: str, masked: str) -> None:
    assert mask_literals(sql) == masked


def test_each_statement_is_asked_for_once_and_its_text_is_cleaned() -> None:
    cap = TextCapture()
    cap.saw(["queryid", "calls"], [(1, 5), (2, 7), (None, 1)])
    assert cap.urgent(100.0, 120.0) and cap.params(500) == [1, 2]
    rows = cap.ran(100.0, ["queryid", "query"], [(1, "SELECT 'hunter2' /* token=abcdef123 */"), (2, "SELECT $1")])
    assert rows == [(1, "SELECT '***' /* token=*** */"), (2, "SELECT $1")]  # literals masked, comments redacted
    cap.saw(["queryid", "calls"], [(1, 6), (2, 8), (3, 1)])  # 2 was asked and 3 is new
    assert cap.pending() == [3] and not cap.urgent(110.0, 120.0) and cap.urgent(130.0, 120.0)
    assert cap.params(500) == [3]
    cap.ran(130.0, ["queryid", "query"], [])  # the server no longer has it: not asked again
    assert cap.pending() == [] and not cap.urgent(1000.0, 120.0)


def test_migtui_own_statements_leave_the_top_list_once_told_apart() -> None:
    cap = TextCapture()
    assert cap.exclude([7]) == [7]
    cap.ran(1.0, ["queryid", "migtui", "query"], [(5, True, None), (6, False, "SELECT $1"), (7, True, None)])
    assert cap.exclude([7]) == [7, 5]


def test_at_phase_start_is_read_and_a_bad_value_names_the_line(tmp_path: Path) -> None:
    assert load_catalog().get("statements_text").at_phase_start
    assert load_catalog().get("index_inventory").at_phase_start
    assert load_catalog().get("statements_top").at_phase_start
    assert not load_catalog().get("statements_info").at_phase_start
    (tmp_path / "q.sql").write_text("-- name: q\n-- description: d\n-- kind: table\n-- min_version: 13\n"
                                    "-- interval: 1s\n-- timeout: 1s\n-- privileges: none\n-- at_phase_start: often\n"
                                    "SELECT /* migtui */ 1\n")
    with pytest.raises(CatalogError, match=r"q\.sql:8: at_phase_start must be yes or no, got 'often'"):
        load_catalog([("test", tmp_path)])


def _executed_sql(path: Path) -> list[tuple[int, str]]:
    """The SQL text of every ``.execute(...)`` call in a module whose statement is written in the
    code: a string, an f-string or a module-level name bound to one (the catalog's files aside)."""
    import ast

    tree = ast.parse(path.read_text())

    def text(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        return None

    names = {t.id: text(n.value) for n in tree.body if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name) and text(n.value) is not None}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "execute" and node.args:
            arg = node.args[0]
            sql = names.get(arg.id) if isinstance(arg, ast.Name) else text(arg)
            if sql is not None:
                out.append((node.lineno, sql))
    return out


def test_every_statement_the_postgres_plugin_writes_is_marked_as_migtui_s_own() -> None:
    """pg_stat_statements tells migtui's statements apart by ``/* migtui */``: one without it shows
    in the report as the application's or the migration's (the lint panel's catalog reads did)."""
    root = Path(__file__).resolve().parents[2] / "plugins" / "migtui_postgres"
    found = [(f"{p.relative_to(root)}:{line}", sql) for p in sorted(root.rglob("*.py")) for line, sql in _executed_sql(p)]
    # the scan finds the plugin's statements: 40 in 12 modules (42 before 52c5efe merged lint's two
    # copies of the history-table check)
    assert len(found) >= 40 and len({where.rsplit(":", 1)[0] for where, _ in found}) >= 12
    assert [where for where, sql in found if "/* migtui */" not in sql] == []
