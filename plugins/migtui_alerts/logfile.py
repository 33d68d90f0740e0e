"""The ``log`` alerter: one JSON line per alert appended to a file."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Mapping, Sequence

from migtui.api import Alert, BuildContext, DeliveryResult, Field, Level, Schema, redact, safetext, validate
from migtui_alerts.delivery import COMMON_FIELDS, LEVELS, iso


class LogAlerter:
    """Appends one JSON line per alert to a file."""

    stateful = False

    def __init__(self, name: str, path: str, opts: Mapping[str, Any]) -> None:
        self.name = name
        self.path = path
        self.min_level = Level(opts.get("min_level") or "info")
        self.send_resolved = bool(opts.get("send_resolved", True))
        self._lock = threading.Lock()

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult:
        lines = []
        for a in alerts:
            if not a.test and Level(a.level).rank < self.min_level.rank:
                continue
            if a.status == "resolved" and not self.send_resolved and not a.test:
                continue
            lines.append(safetext.json_text({
                "ts": iso(time.time()), "status": a.status, "key": a.key, "level": Level(a.level).value,
                "summary": redact(a.summary), "run": a.run,
                "phase": str(getattr(a.phase, "value", a.phase)), "labels": a.labels,
                "annotations": {k: redact(v) for k, v in a.annotations.items()},
                "starts_at": iso(a.starts_at), "ends_at": iso(a.ends_at) if a.ends_at else None,
                "value": a.value, "test": a.test}))
        if not lines:
            return DeliveryResult(True, f"{self.name}: nothing at or above {self.min_level.value}", 0)
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with self._lock, open(self.path, "a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
        except OSError as exc:
            return DeliveryResult(False, f"{self.name}: cannot write {self.path}: {exc.strerror or exc}")
        return DeliveryResult(True, f"{self.name}: wrote {len(lines)} alert(s) to {self.path}")

    def close(self) -> None:
        pass


LOG_SCHEMA = Schema({
    **COMMON_FIELDS,
    "min_level": Field("str", default="info", choices=LEVELS, doc="alerts below this level are not sent"),
    "path": Field("path", required=True, doc="JSON-lines file (relative to the config)"),
})


def make_log(ctx: BuildContext) -> LogAlerter:
    opts = validate(LOG_SCHEMA, ctx.options, ctx.path)
    return LogAlerter(ctx.name, str(ctx.config.resolve_path(opts["path"])), opts)
