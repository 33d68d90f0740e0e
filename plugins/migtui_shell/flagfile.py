"""``flag_file`` source: whether files exist, one labelled series per flag (gh-ost's
``--throttle-flag-file``: touch the file to throttle, remove it to let the migration go on)::

    sources:
      - type: flag_file
        name: flags
        interval: 200ms
        files: {throttle: /tmp/migtui-throttle}

Every flag emits ``flag.present`` (1 when the file exists, else 0) with the label ``flag: <name>``.
A file that cannot be checked (a folder without permission) is a collector error, never "absent".
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from migtui.api import Field, MetricSpec, PanelSpec, Sample, Schema, SourceError, validate

SCHEMA = Schema({
    "type": Field("str", required=True),
    "name": Field("str", doc="Source name (default: the type)."),
    "interval": Field("duration", default=1.0, minimum=0.1, doc="How often to look."),
    "timeout": Field("duration", default=2.0, minimum=0.1, doc="How long one look may take."),
    "files": Field("dict", items="path", required=True, doc="Flag name -> file path (relative to the config file)."),
}, doc="Flag files: 1 while a file exists (throttle on it with a trigger `flag.present above 0.5`).")


class FlagFileSource:
    def __init__(self, ctx: Any) -> None:
        opts = validate(SCHEMA, ctx.options, ctx.path)
        self.name = ctx.name
        self.interval = float(opts["interval"])
        self.timeout = float(opts["timeout"])
        self.files = {str(k): ctx.config.resolve_path(v) for k, v in opts["files"].items()}

    def collect(self, ctx: Any) -> Iterable[Sample]:
        out = []
        for flag, path in self.files.items():
            try:
                os.stat(path)
                present = 1.0
            except FileNotFoundError:
                present = 0.0
            except OSError as exc:
                raise SourceError(f"cannot check flag file {path}: {exc.strerror}") from None
            out.append(Sample(ctx.now, self.name, "flag.present", present, {"flag": flag}))
        return out

    metric_kinds = (MetricSpec("flag.present", "flag file present", kind="state"),)

    def panels(self) -> list[PanelSpec]:
        return []

    def close(self) -> None:
        return None


def build(ctx: Any) -> FlagFileSource:
    return FlagFileSource(ctx)
