"""The headless front end: a status line per tick and a line per event (or JSON lines)."""

from __future__ import annotations

import math
import sys
import time
from datetime import datetime
from typing import IO

from migtui.engine import Engine, EngineUpdate, Frame
from migtui.model import Level, fmt_elapsed
from migtui.safetext import json_text, visible

_LEVEL_MARK = {Level.INFO: " ", Level.WARN: "!", Level.ERROR: "E", Level.PAUSE: "P", Level.ROLLBACK: "R"}


class HeadlessPrinter:
    """Subscribe to an engine and print. ``as_json``: one JSON object per event, nothing else."""

    def __init__(self, engine: Engine, *, as_json: bool = False, out: IO[str] | None = None,
                 status_every: float = 0.0) -> None:
        self.engine = engine
        self.as_json = as_json
        self.out = out or sys.stdout
        self.status_every = status_every
        self._last_status = 0.0
        self._samples = 0
        """Samples received since the last status line (results arrive between ticks too)."""
        engine.subscribe(self.on_update)

    def on_update(self, update: EngineUpdate) -> None:
        lines = []
        for ev in update.events:
            if self.as_json:
                lines.append(json_text(ev.as_json()))
            else:
                t = datetime.fromtimestamp(ev.ts).strftime("%H:%M:%S")
                line = f"{t} {_LEVEL_MARK.get(Level(ev.level), ' ')} {ev.kind:<7} {ev.subject}: {ev.message}"
                lines.append(visible(line, keep_newlines=True))
        self._samples += len(update.samples)
        if not self.as_json and update.kind == "tick" and time.monotonic() - self._last_status >= self.status_every:
            self._last_status = time.monotonic()
            lines.append(visible(self.status_line(update)))
            self._samples = 0
        if lines:
            try:
                self.out.write("\n".join(lines) + "\n")
                self.out.flush()
            except BrokenPipeError:
                pass

    def status_line(self, update: EngineUpdate) -> str:
        f: Frame = update.frame if update.frame is not None else self.engine.frame
        t = datetime.fromtimestamp(update.now).strftime("%H:%M:%S")
        elapsed = update.now - f.started_at
        parts = [f"{t}   [{update.phase.value}] {f.name} +{fmt_elapsed(elapsed)} tick {update.tick}"]
        for st in f.sources.values():
            mark = {"ok": "ok", "starting": "..", "stale": "stale", "error": "ERR", "quarantined": "QUAR"}.get(st.state, st.state)
            parts.append(f"{st.name} {mark}")
        parts.append(f"{self._samples} samples")
        summary = summarize(f)
        if summary:
            parts.append(summary)
        throttle = f.throttle or {}
        if throttle.get("throttled"):
            since = throttle.get("since") or update.now
            parts.append(f"THROTTLED {fmt_elapsed(update.now - since)}: {throttle.get('reason', '')}")
        if f.store_path is not None and not f.store_ok:
            parts.append("store: NOT WRITING")
        return " | ".join(parts)


def summarize(frame: Frame) -> str:
    """A few key values for the status line, and the trigger states when the run has triggers."""
    bits = []
    for metric, label, fmt in (("activity_summary.waiting", "waiting", "{:.0f}"),
                               ("activity_summary.sessions", "sessions", "{:.0f}"),
                               ("error_rate", "err", "{:.3f}"),
                               ("response_time_p95", "p95", "{:.0f}ms")):
        latest = [(ser.source, v) for ser, _, v in frame.latest(metric) if not math.isnan(v)]
        live = [v for src, v in latest if src not in frame.sources or frame.sources[src].state in ("ok", "starting")]
        if live:
            bits.append(f"{label} {fmt.format(max(live))}")
        elif latest:  # only old values, of sources that cannot be polled now: never shown as current
            bits.append(f"{label} stale")
    if frame.trigger_summary:
        bits.append(frame.trigger_summary)
    return " ".join(bits)


