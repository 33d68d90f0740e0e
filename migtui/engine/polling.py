"""Polling: launch the collectors that are due, take their results into the in-memory series, the
snapshots and the store's buffers, and track each source's health.

Each collector's ``collect`` runs in a worker thread under its :class:`~migtui.plugins.Guard`
(timeout, failure count, quarantine). A source is never launched while its previous poll is in
flight, so polls of one source never overlap.
"""

from __future__ import annotations

import math
import queue
import time
from typing import Any

from migtui.api import CollectContext
from migtui.engine.state import DUE_SLACK, Series, SourceState
from migtui.errors import MigtuiError
from migtui.model import Event, Level, Sample, TableSnapshot, labels_key
from migtui.plugins import Guard, GuardError
from migtui.redact import redact


class Polling:
    """Mixed into :class:`migtui.engine.Engine`: the poll half of the loop."""

    def _launch_due(self, now: float) -> int:
        ctx_base = dict(now=now, phase=self.phase, run=self.run_id, tick=self.tick_no)
        launched = 0
        for name, collector in self.collectors.items():
            st = self.sources[name]
            # a tick a few ms early (scheduling jitter) still polls: without the slack a source whose
            # interval equals the tick interval skipped every other tick
            if st.in_flight or now < st.next_due - DUE_SLACK * st.interval:
                continue
            guard = self.guards[name]
            if guard.quarantined:
                st.state = "quarantined"
                continue
            st.in_flight = True
            # keep the source's cadence: a poll launched a little early or late does not shift the next
            late = now - st.next_due
            st.next_due = st.next_due + st.interval if -st.interval < late < st.interval else now + st.interval
            self._pool.submit(self._collect_one, name, collector, guard, CollectContext(**ctx_base), st.timeout)
            launched += 1
        return launched

    def _collect_one(self, name: str, collector: Any, guard: Guard, ctx: CollectContext, timeout: float) -> None:
        started = time.monotonic()
        try:
            result = guard.call(lambda: list(collector.collect(ctx) or ()), timeout=timeout)
            self._results.put((name, started, result, None))
        except BaseException as exc:  # noqa: BLE001
            self._results.put((name, started, None, exc))
        self._wake.set()

    def _until_due(self, now: float) -> float:
        """Seconds until the next source is due (a source in flight or quarantined waits for its
        result or the next tick)."""
        due = [st.next_due - DUE_SLACK * st.interval - now for name, st in self.sources.items()
               if not st.in_flight and not self.guards[name].quarantined]
        return max(0.0, min(due)) if due else math.inf

    def _drain(self, now: float) -> tuple[list[Sample], list[TableSnapshot]]:
        samples: list[Sample] = []
        snaps: list[TableSnapshot] = []
        while True:
            try:
                name, started, result, exc = self._results.get_nowait()
            except queue.Empty:
                break
            st = self.sources[name]
            st.in_flight = False
            st.last_duration = time.monotonic() - started
            if exc is not None:
                self._source_failed(st, exc, now)
                continue
            good = 0
            for item in result:
                if isinstance(item, Sample):
                    samples.append(item)
                    good += 1
                elif isinstance(item, TableSnapshot):
                    snaps.append(item)
                    good += 1
                elif isinstance(item, Event):
                    self.emit(item)
                else:
                    try:
                        self.guards[name].record_garbage(f"returned {type(item).__name__}, not a Sample")
                    except GuardError as gexc:
                        self._source_failed(st, gexc, now)
                    break
            else:
                was = st.state
                st.state, st.last_ok = "ok", now
                st.samples += good
                if was in ("error", "stale", "quarantined"):
                    self.emit(Event("error", name, f"{name} recovered after {st.errors} failed polls", Level.INFO,
                                    {"source": name, "recovered": True, "gap_seconds": self._gap(st, now)}))
                    st.errors = 0
        return samples, snaps

    def _mark_stale(self, now: float) -> None:
        """After this tick's results are in: a source with no result for too long is stale."""
        for st in self.sources.values():
            if st.state == "ok" and st.last_ok is not None and now - st.last_ok > max(3 * st.interval, st.timeout + st.interval):
                st.state = "stale"

    def _gap(self, st: SourceState, now: float) -> float | None:
        return round(now - st.last_error_at, 3) if st.last_error_at else None

    def _source_failed(self, st: SourceState, exc: BaseException, now: float) -> None:
        message = redact(exc) if isinstance(exc, (GuardError, MigtuiError)) else f"{type(exc).__name__}: {redact(exc)}"
        first = st.state not in ("error", "quarantined")
        st.errors += 1
        st.failures += 1
        if first:
            st.last_error_at = now
        st.state = "quarantined" if self.guards[st.name].quarantined else "error"
        changed = message != st.last_error
        st.last_error = message
        if first or changed or st.state == "quarantined":
            self.emit(Event("error", st.name, message, Level.WARN,
                            {"source": st.name, "plugin": st.plugin, "failures": st.errors, "state": st.state}))

    def _ingest(self, now: float, samples: list[Sample], snaps: list[TableSnapshot]) -> None:
        """Append to the in-memory series and snapshots, and buffer for the store (flushed per tick)."""
        for s in samples:
            key = (s.source, s.metric, labels_key(s.labels))
            ser = self.series.get(key)
            if ser is None:
                ser = self.series[key] = Series(s.metric, dict(s.labels), s.source)
            ser.points.append((s.ts, s.value))
            self._frames.touched(key)
        for snap in snaps:
            # by name (the latest of any source: one database is the common case) and by source/name,
            # so that a primary's and a replica's blocking trees do not overwrite each other
            self.snapshots[snap.name] = snap
            self.snapshots[f"{snap.source}/{snap.name}"] = snap
        if self.store is not None:
            self.store.add_samples(self.run_id, self.phase, samples)
            for snap in snaps:
                # a table that did not change is stored again only once a minute
                digest = hash((tuple(snap.columns), repr(snap.rows)))
                last = self._stored_snapshots.get((snap.source, snap.name))
                if last is None or last[0] != digest or now - last[1] >= 60:
                    self._stored_snapshots[(snap.source, snap.name)] = (digest, now)
                    self.store.add_snapshot(self.run_id, self.phase, snap)
