"""The cockpit shows the throttle: THROTTLED with its reason and duration in the header while an
HTTP endpoint answers 429, and each throttle trigger's utilization (value / limit) next to its value."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from migtui.tui.app import MigtuiApp
from migtui.tui.widgets import CockpitHeader, TriggersView
from tests.integration.test_throttle_ctl import _config
from tests.servers.throttle_gate import ThrottleGate
from tests.tui.conftest import rendered, wait_for


@pytest.fixture
def gate() -> Iterator[ThrottleGate]:
    with ThrottleGate() as g:
        yield g


async def test_header_shows_throttled_with_reason_and_triggers_show_utilization(
        make_engine: Any, gate: ThrottleGate, tmp_path: Path) -> None:
    engine = make_engine(_config(gate, tmp_path / "paused"))
    app = MigtuiApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        header = app.query_one(CockpitHeader)
        await wait_for(pilot, lambda: "%" in next((ln for ln in rendered(app.query_one(TriggersView)).splitlines()
                                                   if "slow-gate" in ln), ""), what="slow-gate's utilization")
        assert "THROTTLED" not in rendered(header)
        gate.status = 429
        await wait_for(pilot, lambda: "THROTTLED" in rendered(header), what="THROTTLED in the header")
        assert "gate: probe.up = 0" in rendered(header)
        gate.status = 200
        await wait_for(pilot, lambda: "THROTTLED" not in rendered(header), what="the release")
