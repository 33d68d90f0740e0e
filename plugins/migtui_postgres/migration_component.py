"""The run component ``migration``: builds the :class:`~migtui_postgres.migration_tools.MigrationCollector`
source and applies its phase requests on the engine thread."""

from __future__ import annotations

import queue
from typing import Any, Sequence

from migtui.api import Event, Level, MigtuiError, Phase, RunComponent, RunContext, Sample, TableSnapshot
from migtui_postgres.migration_config import parse_migration_config
from migtui_postgres.migration_tools import SOURCE_NAME, MigrationCollector


class MigrationTools(RunComponent):
    """The run component ``migration`` (registered through ``migtui_run_components``): polls the
    :class:`MigrationCollector` as the source ``migration`` and applies its phase requests on the
    engine thread."""

    name = "migration"

    def __init__(self, run: RunContext, collector: MigrationCollector) -> None:
        self.run = run
        self.collector = collector

    def on_step(self, now: float, samples: Sequence[Sample], snapshots: Sequence[TableSnapshot]) -> None:
        order = [Phase.BASELINE, Phase.MIGRATION, Phase.POST]
        while True:
            try:
                req = self.collector.phase_requests.get_nowait()
            except queue.Empty:
                return
            if order.index(req.to) > order.index(self.run.phase):  # forward only
                self.run.set_phase(req.to, who="migtui", why=req.why)

    def status(self) -> dict[str, Any]:
        return {"tools": {t: dict(s.__dict__) for t, s in self.collector.states.items()},
                "running": self.collector.was_running, "progress": list(self.collector.last_progress)}

    def close(self) -> None:
        self.collector.close()


def build_component(run: RunContext) -> MigrationTools | None:
    """The ``migtui_run_components`` factory: None when migration-tool awareness is off."""
    config = run.config
    node = config.raw.get("migration")
    opts = parse_migration_config(node if node is not None else {}, "migration")
    if not opts["enabled"]:
        return None
    if not config.sources_of_type("postgres"):
        if node:
            run.emit(Event("error", SOURCE_NAME, "migration: needs a `type: postgres` source; migration-tool "
                           "awareness is off", Level.WARN))
        return None
    from migtui_postgres.pgconn import source_dsn

    name, dsn = source_dsn(config, opts["source"] or None, node=node, path="migration.source")
    from migtui_postgres import migration_application_name

    collector = MigrationCollector(opts, dsn, source=name, app_pattern=migration_application_name(config))
    try:
        run.add_source(collector, type="migration")
    except MigtuiError as exc:
        collector.close()
        run.emit(Event("error", SOURCE_NAME, f"{exc}; migration-tool awareness is off", Level.WARN))
        return None
    return MigrationTools(run, collector)
