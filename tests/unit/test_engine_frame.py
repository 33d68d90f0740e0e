"""The engine publishes one immutable frame per tick or result; front ends render it."""

from __future__ import annotations

import dataclasses
import io
import textwrap
from pathlib import Path
from typing import Any

import pytest


def _plugin(values: list[float]) -> Any:
    from migtui.api import hookimpl
    from migtui.model import Sample

    class Collector:
        interval, timeout = 1.0, 5.0

        def __init__(self, name: str) -> None:
            self.name = name

        def collect(self, ctx: Any) -> list[Any]:
            return [Sample(ctx.now, self.name, "probe.value", values.pop(0) if values else 0.0)]

        def panels(self) -> list[Any]:
            return []

        def close(self) -> None:
            pass

    class Plugin:
        @hookimpl
        def migtui_source_types(self, register: Any) -> None:
            register("probe", lambda ctx: Collector(ctx.name))

    return Plugin()


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    path = tmp_path / "frame.yaml"
    path.write_text(textwrap.dedent("""
        name: frame
        interval: 1s
        sources: [{type: probe, name: probe}]
        triggers:
          - {name: probe_high, metric: probe.value, threshold: 10, action: warn}
    """))
    cfg = load_config(path)
    host = PluginHost(disabled=cfg["plugins"]["disable"], extra_plugins=[("probe", _plugin([1.0, 20.0, 30.0]))])
    eng = Engine(cfg, store=Store.open(tmp_path / "frame.duckdb"), host=host, phase="migration")
    try:
        yield eng
    finally:
        eng.close()


def test_a_published_frame_never_changes(engine: Any) -> None:
    from migtui.headless import HeadlessPrinter

    first = engine.tick(now=1000.0, wait=5).frame
    second = engine.tick(now=1001.0, wait=5).frame
    assert second.seq > first.seq and second is engine.frame
    (tail1,) = first.series.values()
    (tail2,) = second.series.values()
    assert [v for _, v in tail1.points] == [1.0]  # the first frame still shows what it showed
    assert [v for _, v in tail2.points] == [1.0, 20.0]
    assert [r["state"] for r in first.triggers] == ["ok"]
    assert [r["state"] for r in second.triggers] == ["firing"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.phase = second.phase  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.sources["probe"] = None  # type: ignore[index]
    # the headless status line is rendered from the frame
    out = io.StringIO()
    HeadlessPrinter(engine, out=out)
    engine.tick(now=1002.0, wait=5)
    assert "probe ok" in out.getvalue() and "probe_high firing" in out.getvalue()
