"""Every sample config loads as it is, and every source, alerter and action in it builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.api import BuildContext
from migtui.config import load_config
from migtui.plugins import PluginHost
from tests.conftest import ROOT

SAMPLES = sorted((ROOT / "sample_configs").glob("*.yaml"))
ENV = {"MIGTUI_DSN": "postgresql://monitor@127.0.0.1:5432/shop", "MIGTUI_API_METRICS_URL": "http://127.0.0.1:9464/metrics"}


def test_there_are_sample_configs() -> None:
    assert {p.name for p in SAMPLES} >= {"postgres.yaml", "seed-triggers.yaml", "api.yaml", "kubernetes.yaml"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_config_loads_and_builds(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    cfg = load_config(path)
    host = PluginHost(disabled=cfg["plugins"]["disable"])
    built = {}
    for item in cfg["sources"]:
        obj = host.build("source", item, BuildContext(config=cfg, item=item, sources=built))
        built[item.name] = obj
    for item in cfg["alerters"]:
        host.build("alerter", item, BuildContext(config=cfg, item=item, sources=built))
    for verb, items in cfg["actions"].items():
        for item in items:
            action = host.build("action", item, BuildContext(config=cfg, item=item, sources=built), verb=verb)
            assert action.describe  # it can say what it would do
    for obj in built.values():
        obj.close()
