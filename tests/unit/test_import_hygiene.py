"""The engine, store, triggers, SQL catalog and plugin API never import Textual."""

from __future__ import annotations

import subprocess
import sys

HEADLESS_MODULES = ["migtui.engine", "migtui.store", "migtui.sqlcatalog", "migtui.hookspecs", "migtui.api",
                    "migtui.plugins", "migtui.config", "migtui.headless", "migtui.triggers", "migtui.triggers.baseline",
                    "migtui.actions", "migtui.alerting", "migtui.report", "migtui_postgres", "migtui.cli",
                    "migtui.demo.orchestrator", "migtui.control", "migtui_postgres.migration_tools", "migtui_postgres.preflight"]


def test_headless_modules_do_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {HEADLESS_MODULES!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if e.name != m: raise\n"
        "bad = sorted(k for k in sys.modules if k == 'textual' or k.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual imported by a headless module: {out.stdout}"


def test_help_does_not_import_heavy_clients() -> None:
    code = ("import sys\nfrom migtui.cli import cli\n"
            "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('LOADED=' + ','.join(m for m in ('kubernetes', 'textual', 'duckdb', 'psycopg', 'httpx') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED="
