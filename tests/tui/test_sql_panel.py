"""A plugin's own .sql file gets a panel in the cockpit with no Python: its header says where and how.

The plugin contributes one folder through ``migtui_sql_dirs``; its only file declares a new panel
(``shipping``) with one metric, a title, a unit and a warn threshold. The real cockpit (Pilot),
over a real PostgreSQL, then has a "Shipping" tab drawing that metric from the live query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migtui.hookspecs import hookimpl
from migtui.tui.app import MigtuiApp
from tests.tui.conftest import rendered, wait_for

pytestmark = pytest.mark.pg

SQL = """\
-- name: parcels_waiting
-- description: Parcels waiting to ship (a plugin's own query).
-- kind: metrics
-- min_version: 13
-- interval: 500ms
-- timeout: 1s
-- privileges: none
-- panel: shipping
-- show: parcels "parcels waiting" unit=/s warn=5
SELECT /* migtui */ 7 AS parcels
"""


class ShippingPlugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def migtui_sql_dirs(self, register: Any) -> None:
        register(self.folder)


async def test_a_plugin_sql_file_gets_its_own_panel(pg, tmp_path: Path) -> None:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    folder = tmp_path / "shipping_sql"
    folder.mkdir()
    (folder / "parcels_waiting.sql").write_text(SQL)
    cfg = tmp_path / "cockpit.yaml"
    cfg.write_text(f"name: tui-plugin-sql\ninterval: 500ms\nsources:\n  - type: postgres\n    name: db\n"
                   f"    dsn: \"{pg.dsn}\"\n    include: [parcels_waiting, activity_summary]\n")
    host = PluginHost(extra_plugins=[("shipping", ShippingPlugin(folder))])
    engine = Engine(load_config(cfg), store=Store.open(tmp_path / "s.duckdb"), host=host, headless=False)
    try:
        app = MigtuiApp(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            assert "tab-shipping" in app.tab_ids
            tabs = app.query_one("TabbedContent")
            await pilot.press(str(app.tab_ids.index("tab-shipping") + 1))
            await wait_for(pilot, lambda: tabs.active == "tab-shipping", what="the shipping tab")
            assert "Shipping · db" in rendered(app.query_one("#panel-shipping #title-0"))
            # the live value with its unit, drawn in the warn state its header declares (7 >= 5)
            await wait_for(pilot, lambda: all(p in rendered(app.query_one("#panel-shipping #metrics-0"))
                                              for p in ("parcels waiting", "7/s", "warn")),
                           what="the plugin's metric in its panel")
    finally:
        engine.close()
