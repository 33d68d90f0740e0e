"""The examples of docs/plugins.md run as written, so they cannot rot: the plugin example registers
a source type that builds from a config (and refuses a wrong key the way the docs say), and the
test-kit example passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migtui.api import BuildContext
from migtui.config import load_config
from migtui.errors import ConfigError
from migtui.plugins import PluginHost

PAGE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _example(marker: str) -> str:
    text = PAGE.read_text()
    at = text.index(marker)
    start = text.rindex("```python\n", 0, at) + len("```python\n")
    return text[start:text.index("```", at)]


def test_the_documented_test_kit_example_passes(make_engine: Any) -> None:
    scope: dict[str, Any] = {}
    exec(compile(_example("from migtui.testing import function_sources"), str(PAGE), "exec"), scope)  # noqa: S102
    [test] = [v for k, v in scope.items() if k.startswith("test_")]
    test(make_engine)


def test_the_documented_plugin_example_builds_from_a_config(tmp_path: Path) -> None:
    plugin: dict[str, Any] = {}
    exec(compile(_example("def migtui_source_types"), str(PAGE), "exec"), plugin)  # noqa: S102
    module = type("queue_plugin", (), {"migtui_source_types": staticmethod(plugin["migtui_source_types"])})
    host = PluginHost(load_entry_points=False, extra_plugins=[("queue", module)])
    assert host.types[("source", "queue_depth")].schema is plugin["SCHEMA"]

    (tmp_path / "good.yaml").write_text("sources:\n  - {type: queue_depth, name: jobs, url: http://127.0.0.1:1/stats}\n")
    cfg = load_config(tmp_path / "good.yaml")
    [item] = cfg["sources"]
    collector = host.build("source", item, BuildContext(config=cfg, item=item))
    assert (collector.name, collector.interval) == ("jobs", 5.0)
    assert [p.title for p in collector.panels()] == ["Queue"]

    (tmp_path / "bad.yaml").write_text("sources:\n  - type: queue_depth\n    url: http://127.0.0.1:1/stats\n    intervall: 5s\n")
    cfg = load_config(tmp_path / "bad.yaml")
    [item] = cfg["sources"]
    with pytest.raises(ConfigError) as err:
        host.build("source", item, BuildContext(config=cfg, item=item))
    assert "bad.yaml:4" in str(err.value) and "did you mean 'interval'" in str(err.value)
