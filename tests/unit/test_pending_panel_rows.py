"""The panel "Pending migration" without a server: a file that does not parse is a row naming its
file and line next to the other files' statements (static findings, risk from their severity), and a
phase that does not exist in ``migration.lint_phases`` is one clear error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.api import CollectContext, Phase
from migtui.config import load_config
from migtui.errors import ConfigError


def _config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1_ok.sql").write_text("CREATE INDEX ON t (a);\n")
    (tmp_path / "m" / "2_bad.sql").write_text("SELECT 1;\nALTER TABLE WHERE;\n")
    cfg = tmp_path / "migtui.yaml"
    cfg.write_text("name: t\nsources:\n  - {type: postgres, name: db, dsn: 'postgresql://u@127.0.0.1:1/x'}\n"
                   "migration:\n  files: ['m/*.sql']\n" + extra)
    return cfg


def test_parse_error_is_a_row_and_static_findings_set_the_risk(tmp_path: Path) -> None:
    from migtui_postgres.lint.panel import COLUMNS, PendingCollector

    config = load_config(_config(tmp_path))
    collector = PendingCollector(config, "", interval=3, phases=["baseline"], sample=0)
    [snap] = collector.collect(CollectContext(now=1.0, phase=Phase.BASELINE, run="r", tick=1))
    rows = [dict(zip(COLUMNS, r)) for r in snap.rows]
    assert rows[0]["statement"] == "1_ok.sql:1" and rows[0]["risk"] == "error"
    assert "index-not-concurrent" in rows[0]["findings"] and rows[0]["blockers"] == "none"
    bad = next(r for r in rows if r["statement"] == "2_bad.sql:2")
    assert bad["risk"] == "error" and bad["findings"].startswith("parse-error")
    assert collector.collect(CollectContext(now=2.0, phase=Phase.MIGRATION, run="r", tick=2)) == []


def test_unknown_lint_phase_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"lint_phases.*unknown phase 'during'"):
        load_config(_config(tmp_path, "  lint_phases: [during]\n")).raw  # the section is checked on load
