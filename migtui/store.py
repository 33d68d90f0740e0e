"""The local DuckDB store: runs, samples, snapshots, events and baselines.

One writer connection, owned here (opened, and its schema migrated, by :mod:`migtui.store_file`).
Samples, snapshots and events are buffered and appended once per tick as Arrow batches in one
transaction (never row by row). Secrets never get here: callers pass redacted config snapshots and
events are redacted on the way in.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from migtui import __version__
from migtui.errors import StoreError
from migtui.model import Event, Level, Phase, Sample, TableSnapshot, labels_key
from migtui.redact import redact, redact_obj
from migtui.safetext import json_default
from migtui.store_file import check_schema, connect, migrate
from migtui.store_recovery import Unstored, import_all, settle_unended
from migtui.store_recovery import save as save_recovery

MAX_BUFFERED_SAMPLES = 2_000_000
"""When writes fail (disk full), keep at most this many samples in memory, dropping the oldest."""


def new_run_id(now: float | None = None) -> str:
    stamp = datetime.fromtimestamp(now or time.time(), timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(2)}"


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=json_default, separators=(",", ":"))


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, timezone.utc)


class Store:
    """Open with :meth:`open`; write with the ``add_*`` methods and :meth:`flush`; close at the end."""

    def __init__(self, path: Path, con: Any, *, read_only: bool) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only
        self._lock = threading.RLock()
        self._series: dict[tuple[str, str, Any], int] = {}
        self._series_next: dict[str, int] = {}
        self._new_series: list[tuple[str, int, str, str, str]] = []
        # buffered samples as segments of one (run, phase): [run_id, phase, series_ids, epoch_seconds, values]
        self._segments: list[list[Any]] = []
        self._n_samples = 0
        self._snapshots: list[tuple[Any, ...]] = []
        self._events: list[tuple[Any, ...]] = []
        self._run_updates: list[tuple[str, datetime, str]] = []  # (run_id, ended_at, status) not written yet
        self.samples_written = 0
        self.dropped_samples = 0
        self.last_error: str | None = None
        self.imported: list[tuple[Path, int]] = []
        """Recovery files imported by :meth:`open` (file, samples)."""
        self.unstored: Unstored | None = None
        """What :meth:`close` (or :meth:`save_recovery`) could not write, and where it was kept."""

    # ------------------------------------------------------------------ open / schema

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: bool = False,
             memory_limit: str | None = None) -> "Store":
        """Open (creating and migrating) a store. ``memory_limit`` caps DuckDB's memory, mostly its
        cache of the file's blocks (default ``MIGTUI_STORE_MEMORY`` or 512MB): a monitor must not
        take most of the operator's machine in an 8-hour window. Large queries spill to disk."""
        p = Path(path)
        con = connect(p, read_only=read_only, memory_limit=memory_limit)
        store = cls(p, con, read_only=read_only)
        if read_only:
            check_schema(con, p)
        else:
            store.migrate()
        store._load_series_ids()
        if not read_only:
            store.imported = import_all(store)
        return store

    def migrate(self) -> list[str]:
        """Apply the numbered schema files not applied yet; returns their names."""
        with self._lock:
            return migrate(self.con, self.path)

    def _load_series_ids(self) -> None:
        rows = self.con.execute("SELECT run_id, series_id, source, metric, labels FROM series").fetchall()
        for run_id, series_id, source, metric, labels in rows:
            key = (run_id, source, metric, labels_key(json.loads(labels)))
            self._series[key] = series_id  # type: ignore[index]
            self._series_next[run_id] = max(self._series_next.get(run_id, 0), series_id + 1)

    def cursor(self) -> Any:
        """A cursor for reads from another thread."""
        return self.con.cursor()

    # ------------------------------------------------------------------ runs

    def create_run(self, name: str, config: dict[str, Any] | None = None, *, baseline_of: str | None = None,
                   now: float | None = None) -> str:
        run_id = new_run_id(now)
        with self._lock:
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, NULL, 'running', ?, ?, ?, ?)",
                [run_id, name, _ts(now or time.time()), socket.gethostname(), __version__, baseline_of,
                 to_json(redact_obj(config or {}))])
        return run_id

    def finish_run(self, run_id: str, status: str = "finished", now: float | None = None) -> None:
        """Mark a run ended. When the write fails (disk full) the update is kept with the buffered
        writes: the next flush, or the recovery file, carries it."""
        with self._lock:
            update = (run_id, _ts(now or time.time()), status)
            try:
                self.con.execute("UPDATE runs SET ended_at = ?, status = ? WHERE run_id = ?", [update[1], status, run_id])
            except Exception as exc:  # noqa: BLE001 - disk full, read-only file, ...
                self._run_updates.append(update)
                self.last_error = f"{self.path}: write failed: {str(exc).splitlines()[0]}"

    def runs(self) -> list[dict[str, Any]]:
        cur = self.cursor()
        rows = cur.execute("""
            SELECT r.run_id, r.name, r.started_at, r.ended_at, r.status, r.baseline_of,
                   (SELECT count(*) FROM samples s WHERE s.run_id = r.run_id) AS samples,
                   (SELECT count(*) FROM events e WHERE e.run_id = r.run_id) AS events
            FROM runs r ORDER BY r.started_at""").fetchall()
        cols = ["run_id", "name", "started_at", "ended_at", "status", "baseline_of", "samples", "events"]
        return self.settled([dict(zip(cols, r)) for r in rows])

    def settled(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``runs`` rows as they honestly read: opened read-only, a run still marked ``running`` ended
        without a recorded end (:func:`migtui.store_recovery.settle_unended`); for the writer, as stored."""
        return settle_unended(self.path, runs) if self.read_only else [{**r, "end_recorded": r["status"] != "running"}
                                                                         for r in runs]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run by id, or ``latest``."""
        runs = self.runs()
        if not runs:
            raise StoreError(f"{self.path}: the store holds no runs yet")
        if run_id == "latest":
            return runs[-1]
        for r in runs:
            if r["run_id"] == run_id:
                return r
        raise StoreError(f"{self.path}: no run {run_id!r}; `migtui runs --store {self.path}` lists them")

    def interrupted_runs(self) -> list[str]:
        """Runs still marked running (their process died): mark them interrupted."""
        with self._lock:
            rows = self.con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall()
            self.con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ buffered writes

    def _series_id(self, run_id: str, source: str, metric: str, labels: Any) -> int:
        key = (run_id, source, metric, labels_key(labels))
        sid = self._series.get(key)  # type: ignore[arg-type]
        if sid is None:
            sid = self._series_next.get(run_id, 0)
            self._series_next[run_id] = sid + 1
            self._series[key] = sid  # type: ignore[index]
            self._new_series.append((run_id, sid, source, metric, to_json(dict(labels or {}))))
        return sid

    def add_samples(self, run_id: str, phase: Phase | str, samples: Iterable[Sample]) -> int:
        phase = Phase(phase).value
        # hot path (once per tick, hundreds of samples): plain lists of ints and floats, converted to
        # Arrow columns in one go by flush(); no datetime objects per sample
        ids: list[int] = []
        tss: list[float] = []
        vals: list[float] = []
        series = self._series
        with self._lock:
            for s in samples:
                labels = s.labels
                key = (run_id, s.source, s.metric, labels_key(labels) if labels else ())
                sid = series.get(key)  # type: ignore[arg-type]
                if sid is None:
                    sid = self._series_id(run_id, s.source, s.metric, labels)
                ids.append(sid)
                tss.append(s.ts)
                vals.append(float(s.value))
            n = len(ids)
            if not n:
                return 0
            last = self._segments[-1] if self._segments else None
            if last is not None and last[0] == run_id and last[1] == phase:
                last[2].extend(ids)
                last[3].extend(tss)
                last[4].extend(vals)
            else:
                self._segments.append([run_id, phase, ids, tss, vals])
            self._n_samples += n
            overflow = self._n_samples - MAX_BUFFERED_SAMPLES
            if overflow > 0:
                self._drop_oldest(overflow)
        return n

    def _drop_oldest(self, count: int) -> None:
        self.dropped_samples += count
        self._n_samples -= count
        while count > 0 and self._segments:
            seg = self._segments[0]
            if len(seg[2]) <= count:
                count -= len(seg[2])
                self._segments.pop(0)
            else:
                for col in seg[2:]:
                    del col[:count]
                count = 0

    def add_snapshot(self, run_id: str, phase: Phase | str, snap: TableSnapshot) -> None:
        with self._lock:
            self._snapshots.append((run_id, _ts(snap.ts), Phase(phase).value, snap.source, snap.name,
                                    to_json(list(snap.columns)), redact(to_json([list(r) for r in snap.rows]))))

    def add_event(self, event: Event) -> None:
        with self._lock:
            self._events.append((event.run, _ts(event.ts), Phase(event.phase).value, event.kind,
                                 redact(event.subject), Level(event.level).value, redact(event.message),
                                 redact(to_json(event.data or {}))))

    @property
    def pending(self) -> int:
        return self._n_samples + len(self._snapshots) + len(self._events) + len(self._run_updates)

    def flush(self) -> int:
        """Write everything buffered in one transaction. On failure nothing is lost from the buffer
        (up to :data:`MAX_BUFFERED_SAMPLES`) and StoreError is raised; the next flush retries."""
        with self._lock:
            if not self.pending and not self._new_series:
                return 0
            n = self._n_samples
            # One statement per (run, phase) segment; a lone INSERT commits by itself, anything more
            # goes in one explicit transaction (BEGIN/COMMIT cost as much as the insert itself).
            statements = (len(self._segments) + bool(self._new_series) + bool(self._snapshots) + bool(self._events)
                          + len(self._run_updates))
            explicit = statements > 1
            try:
                if explicit:
                    self.con.execute("BEGIN")
                if self._new_series:
                    self._insert_series(self._new_series)
                for run_id, phase, ids, tss, vals in self._segments:
                    self._insert_samples(run_id, phase, ids, tss, vals)
                if self._snapshots:
                    self.con.executemany("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?)", self._snapshots)
                if self._events:
                    self.con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._events)
                for run_id, ended, status in self._run_updates:
                    self.con.execute("UPDATE runs SET ended_at = ?, status = ? WHERE run_id = ?", [ended, status, run_id])
                if explicit:
                    self.con.execute("COMMIT")
            except Exception as exc:  # noqa: BLE001 - disk full, read-only file, ...
                if explicit:
                    try:
                        self.con.execute("ROLLBACK")
                    except Exception:  # noqa: BLE001
                        pass
                self.last_error = f"{self.path}: write failed: {str(exc).splitlines()[0]}"
                raise StoreError(self.last_error) from None
            self._clear_buffers()
            self._run_updates.clear()
            self.samples_written += n
            self.last_error = None
            return n

    def _clear_buffers(self) -> None:
        self._new_series.clear()
        self._segments.clear()
        self._n_samples = 0
        self._snapshots.clear()
        self._events.clear()

    def save_recovery(self) -> Unstored | None:
        """Write what is buffered; what still cannot be written goes to a recovery file (see
        migtui/store_recovery.py) instead of being dropped. Returns what was not stored, or None."""
        with self._lock:
            if self.read_only or self.con is None or not self.pending:
                return None
            try:
                self.flush()
                return None
            except StoreError as exc:
                self.unstored = save_recovery(self, str(exc))
                return self.unstored

    def _insert_series(self, rows: list[tuple[str, int, str, str, str]]) -> None:
        """New series in one bulk INSERT (a first tick brings hundreds; row-by-row took ~0.5 ms each)."""
        import pyarrow as pa

        cols = list(zip(*rows))
        _migtui_series = pa.table({  # noqa: F841 - read by DuckDB's replacement scan below
            "run_id": pa.array(cols[0], pa.string()),
            "series_id": pa.array(cols[1], pa.int32()),
            "source": pa.array(cols[2], pa.string()),
            "metric": pa.array(cols[3], pa.string()),
            "labels": pa.array(cols[4], pa.string()),
        })
        self.con.execute("INSERT INTO series SELECT run_id, series_id, source, metric, labels FROM _migtui_series")

    def _insert_samples(self, run_id: str, phase: str, ids: list[int], tss: list[float], vals: list[float]) -> None:
        """One bulk INSERT of a segment from Arrow columns (run and phase are parameters, not columns)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        # epoch seconds -> microseconds exactly as datetime.fromtimestamp rounds them (whole seconds,
        # then the fraction scaled and rounded half to even)
        seconds = pa.array(tss, pa.float64())
        whole = pc.floor(seconds)
        frac_us = pc.round(pc.multiply(pc.subtract(seconds, whole), 1_000_000.0), round_mode="half_to_even")
        micros = pc.add(pc.multiply(whole.cast(pa.int64()), 1_000_000), frac_us.cast(pa.int64()))
        _migtui_batch = pa.table({  # noqa: F841 - read by DuckDB's replacement scan below
            "series_id": pa.array(ids, pa.int32()),
            "ts": micros.cast(pa.timestamp("us", tz="UTC")),
            "value": pa.array(vals, pa.float64()),
        })
        self.con.execute("INSERT INTO samples SELECT ?, series_id, ts, ?, value FROM _migtui_batch", [run_id, phase])

    # ------------------------------------------------------------------ reads

    def events(self, run_id: str, kinds: Sequence[str] | None = None) -> list[Event]:
        cur = self.cursor()
        sql = "SELECT run_id, ts, phase, kind, subject, level, message, data FROM events WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kinds:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params += list(kinds)
        sql += " ORDER BY ts"
        out = []
        for run, ts, phase, kind, subject, level, message, data in cur.execute(sql, params).fetchall():
            out.append(Event(kind=kind, subject=subject, message=message, level=Level(level),
                             data=json.loads(data) if data else {}, ts=ts.timestamp(), run=run, phase=Phase(phase)))
        return out

    def latest_run_named(self, name: str, *, exclude: str | None = None) -> str | None:
        row = self.cursor().execute(
            "SELECT run_id FROM runs WHERE name = ? AND run_id IS DISTINCT FROM ? ORDER BY started_at DESC LIMIT 1",
            [name, exclude]).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            if self.con is None:
                return
            self.save_recovery()
            try:
                self.con.close()
            finally:
                self.con = None
