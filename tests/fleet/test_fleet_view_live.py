"""The fleet view reads a real headless watch's --http endpoints: its row (verdict, worst trigger with
the watch's own threshold text, phase) and its /metrics as panels, next to a watch that is down."""

from __future__ import annotations

from typing import Any

from migtui.fleet.metrics import parse_panels
from migtui.fleet.poller import FleetPoller
from migtui.fleet.rows import COLUMNS, row_of
from migtui.fleet.targets import Target, metrics_url_for
from tests.conftest import wait_until
from tests.fleet.conftest import LiveWatch
from tests.servers.fleet_watch import closed_port_url


def test_fleet_view_reads_a_live_watch(live_watch: LiveWatch) -> None:
    live_url, dead_url = live_watch.url + "/status", closed_port_url()
    poller = FleetPoller([Target("orders", live_url, metrics_url_for(live_url)),
                          Target("down", dead_url, metrics_url_for(dead_url))], interval=0.3, timeout=2.0)
    poller.start()
    try:
        def paused() -> Any:
            live_watch.endpoint.metrics.observe(0.08, n=500)
            rows = {k: row_of(st) for k, st in poller.snapshot()[1].items()}
            return rows if rows["orders"].verdict == "pause" and rows["down"].verdict == "unreachable" else None

        rows = wait_until(paused, "the live watch's row to read pause, the dead one unreachable")
        live = dict(zip(COLUMNS, rows["orders"].cells))
        assert live["phase"] == "baseline"
        assert live["worst trigger"].startswith("busy firing ") and live["worst trigger"].endswith("(> 1)")
        assert "unreachable" in rows["down"].cells[1]
        panels = parse_panels(poller.fetch_text(metrics_url_for(live_url), poller.targets[0]).result(10))
        names = {s.name for series in panels.values() for s in series}
        assert "migtui_trigger_state" in names and "migtui_phase" in names
    finally:
        poller.stop()
