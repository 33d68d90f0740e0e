"""The hooks through which the host reaches database specifics: a plugin owns a config section
(validated with file, line and key), adds preflight items (a failing one is isolated and named), and
implements ``role-sql`` for its source type. The plugin here is written the way a third party
would: it imports only :mod:`migtui.api`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from migtui.api import CheckItem, ConfigError, Field, Schema, hookimpl, validate
from migtui.config import load_config
from migtui.plugins import PluginHost
from migtui.preflight import run_preflight


class Canary:
    """Owns ``canary:`` and checks it in preflight."""

    @hookimpl
    def migtui_config_sections(self, register: Any) -> None:
        schema = Schema({"percent": Field("float", default=5.0, minimum=0.0, doc="Traffic share.")})
        register("canary", Field(lambda value, parent, key, path: validate(schema, value, path), default=dict,
                                 doc="Canary rollout."))

    @hookimpl
    def migtui_preflight_checks(self, register: Any) -> None:
        def check(config: Any) -> list[CheckItem]:
            pct = config["canary"]["percent"]
            return [CheckItem("canary", "Canary share", "pass" if pct <= 10 else "warn", f"{pct:g}% of traffic")]

        register("canary", check)


class Broken:
    @hookimpl
    def migtui_preflight_checks(self, register: Any) -> None:
        def check(config: Any) -> list[CheckItem]:
            raise RuntimeError("the vendor API is down")

        register("vendor", check)

    @hookimpl
    def migtui_config_sections(self, register: Any) -> None:
        register("sources", Field("dict"))  # a core key: refused, the plugin is marked failed


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "hooks.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_a_plugin_section_is_validated_with_the_file_and_line(tmp_path: Path) -> None:
    host = PluginHost(load_entry_points=False, extra_plugins=[("canary", Canary())])
    ok = load_config(_config(tmp_path, "name: hooks\ncanary:\n  percent: 2.5\n"), host=host)
    assert ok["canary"] == {"percent": 2.5}
    path = _config(tmp_path, "name: hooks\ncanary:\n  percent: lots\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, host=host)
    assert f"{path}:3" in str(err.value) and "canary.percent" in str(err.value)
    with pytest.raises(ConfigError, match="canary: unknown key"):  # without the plugin the key is unknown
        load_config(path, host=PluginHost(load_entry_points=False))


def test_preflight_runs_plugin_checks_and_isolates_a_failing_one(tmp_path: Path) -> None:
    host = PluginHost(load_entry_points=False, extra_plugins=[("canary", Canary()), ("broken", Broken())])
    broken = next(i for i in host.list() if i.name == "broken")
    assert broken.status == "failed" and "core key" in broken.error
    config = load_config(_config(tmp_path, "name: hooks\ncanary: {percent: 20}\n"), host=host)
    items = {i.name: i for i in run_preflight(config, host, store_path=tmp_path / "none.duckdb", alerts=False,
                                              actions=False)}
    assert items["Canary share"].status == "warn" and items["Canary share"].evidence == "20% of traffic"
    vendor = items["vendor (plugin broken)"]
    assert vendor.status == "fail" and "the vendor API is down" in vendor.evidence
    assert items["Baseline"].status == "warn"  # the host's own items still run


def test_role_sql_names_the_hook_when_no_plugin_implements_the_type() -> None:
    proc = subprocess.run([sys.executable, "-m", "migtui", "role-sql", "--type", "mysql"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0
    assert "migtui_role_sql" in proc.stderr and "'mysql'" in proc.stderr and "postgres" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "migtui", "role-sql"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "GRANT pg_monitor TO migtui_monitor;" in proc.stdout


class Queue:
    """An action type offered for ``drain`` whenever the config has a ``queue`` source."""

    @hookimpl
    def migtui_action_types(self, register: Any) -> None:
        from migtui.api import ActionResult

        class Drain:
            def __init__(self, ctx: Any, verb: str) -> None:
                self.name, self.verb, self.confirm = ctx.name, verb, False
                self.source = ctx.options["source"]

            def describe(self, request: Any) -> str:
                return f"drain {self.source}"

            def run(self, request: Any) -> Any:
                return ActionResult(True, f"drained {self.source}")

        register("queue_drain", Drain, verbs=("pause", "drain"), implicit_for="queue")


def test_an_implicit_action_type_is_offered_for_a_source_of_its_type(make_engine: Any) -> None:
    from migtui.api import ActionError
    from migtui.testing import function_sources

    host = PluginHost(load_entry_points=False,
                      extra_plugins=[("queue", Queue()), function_sources(queue=lambda ctx, n: [])])
    engine = make_engine("sources: [{type: queue, name: jobs}]\n", host=host)
    assert "drain" in engine.parts.actions.verbs()
    [result] = engine.request_action("drain", who="test").result(timeout=30)
    assert result.ok and result.message == "drained jobs"

    without = make_engine("sources: []\n", host=host)
    with pytest.raises(ActionError, match="no action is configured for 'drain'; it needs a queue source"):
        without.request_action("drain", who="test")
