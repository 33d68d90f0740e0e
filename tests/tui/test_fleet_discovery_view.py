"""The fleet cockpit with ``--selector`` as a user sees it: the finder's line under the summary (what
it found and left out), the pods' rows, and a refused list as a red line while the rows stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from migtui.fleet.discovery import FleetDiscovery, build_finders
from migtui.fleet.poller import FleetPoller
from migtui.fleet.targets import Finder
from migtui.tui.fleet import FleetApp
from migtui.tui.widgets.rowtable import RowTable
from tests.servers import k8s_api as k
from tests.servers.fleet_watch import StandInWatch
from tests.tui.conftest import rendered, wait_for


def rows(app: FleetApp) -> list[str]:
    return app.query_one("#fleet-table", RowTable).keys


async def test_the_finder_line_and_its_rows(tmp_path: Path) -> None:
    with k.FakeKubeAPI() as api, StandInWatch("orders", verdict="pause") as orders:
        api.add(k.watch_pod("migtui-watch-orders-db-7xk2p", "orders-db", orders.server.port),
                k.watch_pod("migtui-watch-users-db-1", "users-db", 1, phase="Pending"))
        kc = api.kubeconfig(tmp_path)
        finder = Finder("kubernetes", {"selector": "app.kubernetes.io/name=migtui", "kubeconfig": str(kc),
                                       "context": "fake", "request_timeout": "1s"}, "--selector", None, 0.3)
        poller = FleetPoller([], interval=0.3, timeout=1.0)
        app = FleetApp(poller, discovery=FleetDiscovery(poller, [], build_finders([finder])))
        async with app.run_test(size=(160, 30)) as pilot:
            line = app.query_one("#fleet-finders", Static)

            def text() -> Any:
                return " ".join(rendered(line).split())

            await wait_for(pilot, lambda: rows(app) == ["orders-db"], what="the pod's row")
            await wait_for(pilot, lambda: "1 watch, 1 left out (migtui-watch-users-db-1: Pending)" in text(),
                           what="the finder's line")
            assert text().startswith("kubernetes pods app.kubernetes.io/name=migtui in shop: 1 watch")
            api.forbid("list", "pods")
            await wait_for(pilot, lambda: "RBAC: list pods in namespace" in text(), what="the refused list")
            assert "keeping 1 watch listed" in text() and rows(app) == ["orders-db"]
            assert app.query_one("#fleet-table", RowTable).get_cell("orders-db", "verdict") == "pause"
