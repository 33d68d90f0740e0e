"""Every metric a shipped plugin (and the demo's stand-ins) emits under a fixed name has a declared
kind: a :class:`MetricSpec` with ``kind=`` in the same package (a panel's metric or the collector's
``metric_kinds``), so no report calls it "unclassified". Metrics named by the user's config
(openmetrics gauges and rates, prometheus queries) take their kind from ``report.metrics``."""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "migtui_postgres": ROOT / "plugins" / "migtui_postgres",
    "migtui_http": ROOT / "plugins" / "migtui_http",
    "migtui_kubernetes": ROOT / "plugins" / "migtui_kubernetes",
    "migtui_shell": ROOT / "plugins" / "migtui_shell",
    "migtui-ab-growthbook": ROOT / "plugins" / "migtui-ab-growthbook",
    "migtui-flags-unleash": ROOT / "plugins" / "migtui-flags-unleash",
    "demo": ROOT / "migtui" / "demo",
}


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def emitted_and_declared(folder: Path) -> tuple[dict[str, str], list[str]]:
    """(metric name -> file:line of every ``Sample(..)`` / ``emit(..)`` with a literal name, the
    names or globs of every ``MetricSpec(..)`` that says ``kind=``)."""
    emitted: dict[str, str] = {}
    declared: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            kw = {k.arg: k.value for k in node.keywords}
            if fn == "Sample":
                name = _literal(kw.get("metric")) or (_literal(node.args[2]) if len(node.args) > 2 else None)
            elif fn == "emit":
                name = _literal(node.args[0]) if node.args else None
            elif fn == "MetricSpec" and "kind" in kw and (_literal(kw["kind"]) or ""):
                spec = _literal(node.args[0]) if node.args else _literal(kw.get("metric"))
                if spec:
                    declared.append(spec)
                continue
            else:
                continue
            if name and "." in name:
                emitted.setdefault(name, f"{path.relative_to(ROOT)}:{node.lineno}")
    return emitted, declared


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_fixed_metric_name_a_plugin_emits_has_a_kind(package: str) -> None:
    emitted, declared = emitted_and_declared(PACKAGES[package])
    assert emitted, f"no Sample(...) found in {package}: the scan is broken"
    missing = [f"{where}: {name}" for name, where in sorted(emitted.items())
               if not any(fnmatchcase(name, d) for d in declared)]
    assert not missing, ("these metrics have no MetricSpec(..., kind=...) (a panel's metric or the collector's "
                         "metric_kinds):\n" + "\n".join(missing))
