"""Snapshot tests of whole cockpit screens (pytest-textual-snapshot).

Deterministic by construction: the only source is the in-process ``fixed`` test collector, the
engine's clock is fixed and its thread is not started (the test ticks it by hand), and times are
printed in UTC. The triggers and the baseline are the engine's own (its trigger runtime and baseline
keeper over the fixed values; see ``fixed_plugin.TRIGGERS``).
Review the SVG report before ``--snapshot-update``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from migtui.tui.app import MigtuiApp
from tests.tui.fixed_plugin import fixed_engine


@pytest.fixture
def cockpit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    engine = fixed_engine(tmp_path)
    try:
        yield MigtuiApp(engine, start_engine=False)
    finally:
        engine.close()
    monkeypatch.undo()
    time.tzset()


def test_main_screen_80x24(cockpit: MigtuiApp, snap_compare: Any) -> None:
    assert snap_compare(cockpit, terminal_size=(80, 24))


def test_main_screen_160x48(cockpit: MigtuiApp, snap_compare: Any) -> None:
    assert snap_compare(cockpit, terminal_size=(160, 48))


def test_api_panel_with_baselines_80x24(cockpit: MigtuiApp, snap_compare: Any) -> None:
    assert snap_compare(cockpit, terminal_size=(80, 24), press=["3"])


def test_frozen_data_panel_160x48(cockpit: MigtuiApp, snap_compare: Any) -> None:
    assert snap_compare(cockpit, terminal_size=(160, 48), press=["2", "f"])


def test_help_screen_80x24(cockpit: MigtuiApp, snap_compare: Any) -> None:
    assert snap_compare(cockpit, terminal_size=(80, 24), press=["question_mark"])
