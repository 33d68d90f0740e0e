"""The import rules of the layout, checked on the tree as it is (nothing here can pass by listing a
module that no longer exists: the modules come from the files, and every name a test lists must be
a file).

- plugins (bundled and the example third-party ones) import nothing from migtui but ``migtui.api``;
- nothing outside ``migtui/tui/`` imports Textual (imported for real in a subprocess, and scanned);
- the core (``migtui/``) imports neither psycopg nor the postgres plugin;
- ``migtui --help`` loads no heavy client library.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CORE = ROOT / "migtui"
PLUGINS = ROOT / "plugins"

PLUGIN_PACKAGES = ["plugins/migtui_postgres", "plugins/migtui_http", "plugins/migtui_kubernetes",
                   "plugins/migtui_alerts", "plugins/migtui_shell",
                   "plugins/migtui-flags-unleash/migtui_flags_unleash", "plugins/migtui-ab-growthbook/migtui_ab_growthbook"]
"""Every plugin package the scan must see (a renamed or lost package fails the test)."""

CORE_PG_EXEMPT = {
    "migtui/testing.py": "pytest fixtures that create real PostgreSQL databases for the test suite",
    "migtui/demo": "the demo plays a PostgreSQL shop, its workload and its migration on an embedded server",
}
"""Core files allowed to reach psycopg or migtui_postgres, with the reason; each must exist."""

MOVED = {"migtui.pause": "migtui_postgres.pause"}
"""Core modules that only say where their content went (importing them raises ImportError naming it)."""


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = list(rel.with_suffix("").parts)
    if parts[0] == "plugins":
        parts = parts[1:]
        if "-" in parts[0]:  # an example plugin: plugins/<dist>/<package>/...
            parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import statement (top level or inside functions), relative
    imports resolved, plus string literals that name a module for a dynamic import
    (``importlib.import_module("x")``, ``"x:attr"`` converters, lists of module names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            if node.module is None or node.level:
                out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            m = re.fullmatch(r"([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?::\w+)?", node.value)
            dynamic = m is not None and ("." in node.value or ":" in node.value or node.value in ("psycopg", "textual"))
            if dynamic and m.group(1).split(".")[0] in ("migtui", "migtui_postgres", "psycopg", "textual"):
                out.append((node.lineno, m.group(1)))
    return out


def _py_files(*roots: Path) -> list[Path]:
    return sorted(p for r in roots for p in r.rglob("*.py") if "__pycache__" not in p.parts)


def _is(mod: str, *names: str) -> bool:
    return any(mod == n or mod.startswith(n + ".") for n in names)


def test_the_lists_in_this_file_name_existing_files() -> None:
    for rel in [*PLUGIN_PACKAGES, *CORE_PG_EXEMPT]:
        assert (ROOT / rel).exists(), f"{rel} is listed in {Path(__file__).name} but does not exist"
    for old, new in MOVED.items():
        assert (ROOT / (old.replace(".", "/") + ".py")).exists(), old


def test_plugins_import_only_the_api_from_migtui() -> None:
    files = _py_files(PLUGINS)
    scanned = {str(p.parent.relative_to(ROOT)) for p in files if p.name == "__init__.py"}
    assert set(PLUGIN_PACKAGES) <= scanned, f"plugin packages not found: {set(PLUGIN_PACKAGES) - scanned}"
    bad = []
    for path in files:
        rel = str(path.relative_to(ROOT))
        for line, mod in _imports(path):
            if _is(mod, "migtui") and not _is(mod, "migtui.api"):
                bad.append(f"{rel}:{line}: imports {mod} (plugins import only migtui.api)")
    assert not bad, "\n".join(bad)


def test_nothing_outside_tui_imports_textual() -> None:
    files = [p for p in _py_files(CORE, PLUGINS) if CORE / "tui" not in p.parents]
    bad = [f"{p.relative_to(ROOT)}:{line}: imports {mod}" for p in files for line, mod in _imports(p)
           if _is(mod, "textual")]
    assert not bad, "\n".join(bad)
    modules = sorted({_module_name(p) for p in files} - {"migtui.__main__", *MOVED})
    assert "migtui.engine" in modules or "migtui.engine.loop" in modules
    examples = [str(p.parent) for p in PLUGINS.glob("*/pyproject.toml")]
    code = (
        "import importlib, json, sys\n"
        f"sys.path[:0] = {examples!r}\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps(sorted(k for k in sys.modules if k == 'textual' or k.startswith('textual.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, f"importing the non-tui modules failed:\n{out.stderr[-3000:]}"
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [], "textual was imported by a module outside migtui/tui"


def test_core_imports_neither_psycopg_nor_the_postgres_plugin() -> None:
    bad = []
    for path in _py_files(CORE):
        rel = path.relative_to(ROOT)
        if any(str(rel) == e or str(rel).startswith(e + "/") for e in CORE_PG_EXEMPT):
            continue
        bad += [f"{rel}:{line}: {mod}" for line, mod in _imports(path) if _is(mod, "psycopg", "migtui_postgres")]
    assert not bad, "core reaches PostgreSQL directly (use a plugin hook):\n" + "\n".join(bad)


def test_a_moved_module_names_its_new_home() -> None:
    for old, new in MOVED.items():
        out = subprocess.run([sys.executable, "-c", f"import {old}"], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode != 0 and "ImportError" in out.stderr and new in out.stderr, out.stderr[-500:]
        out = subprocess.run([sys.executable, "-c", f"import {new}"], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 0, out.stderr[-500:]


def test_help_does_not_import_heavy_clients() -> None:
    code = ("import sys\nfrom migtui.cli import cli\n"
            "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('LOADED=' + ','.join(m for m in ('kubernetes', 'textual', 'duckdb', 'psycopg', 'httpx') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED="
