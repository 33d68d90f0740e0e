"""What the store could not write at exit (a disk still full, a read-only file) is kept in a
recovery file, never dropped: ``<store>.recovery-<stamp>.json`` next to the store, or, when that
cannot be written either, in migtui's private folder (``$XDG_RUNTIME_DIR/migtui/recovery`` or
``/tmp/migtui-<uid>/recovery``) under a name derived from the store's path. The next
:meth:`Store.open` for writing imports every such file in one transaction, marks their runs
``incomplete`` and deletes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migtui.errors import MigtuiError, StoreError

if TYPE_CHECKING:
    from migtui.store import Store

VERSION = 1


@dataclass
class Unstored:
    """What a store could not write, and where it went instead."""

    samples: int
    snapshots: int
    events: int
    path: Path | None
    error: str

    def describe(self) -> str:
        what = f"{self.samples} samples" + (f", {self.events} events" if self.events else "") + \
               (f", {self.snapshots} table snapshots" if self.snapshots else "")
        where = (f"kept in {self.path}; the next open of the store imports them" if self.path
                 else "and the recovery file could not be written anywhere")
        return f"{what} were not stored ({self.error}); {where}"


def _fallback(store_path: Path) -> Path:
    from migtui.runtime_dir import runtime_dir

    return runtime_dir() / "recovery"


def _key(store_path: Path) -> str:
    return hashlib.sha256(os.fsencode(str(store_path.expanduser().absolute()))).hexdigest()[:20]


def recovery_files(store_path: Path) -> list[Path]:
    """The recovery files waiting for this store, oldest first."""
    store_path = store_path.expanduser().absolute()
    found = list(store_path.parent.glob(f"{store_path.name}.recovery-*.json"))
    fallback = _fallback(store_path)
    if fallback.is_dir():
        found += fallback.glob(f"{_key(store_path)}-recovery-*.json")
    return sorted(found, key=lambda p: p.name.rsplit("recovery-", 1)[-1])


def _epoch(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


def _dt(value: Any) -> Any:
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) else value


def save(store: "Store", error: str) -> Unstored:
    """Write the store's buffers to a recovery file and empty them (called when a flush at exit failed)."""
    with store._lock:
        payload = {
            "version": VERSION, "store": str(store.path.absolute()), "saved_at": time.time(), "error": error,
            "series": [list(r) for r in store._new_series],
            "segments": store._segments,
            "snapshots": [[_epoch(v) for v in row] for row in store._snapshots],
            "events": [[_epoch(v) for v in row] for row in store._events],
            "runs": [[run_id, _epoch(ended), status] for run_id, ended, status in store._run_updates],
        }
        unstored = Unstored(store._n_samples, len(store._snapshots), len(store._events), None, error)
        data = json.dumps(payload, separators=(",", ":"), default=str).encode()
        stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}"
        absolute = store.path.expanduser().absolute()
        for where in ("next to the store", "private folder"):
            try:
                if where == "next to the store":
                    target = absolute.parent / f"{absolute.name}.recovery-{stamp}.json"
                else:
                    from migtui.runtime_dir import private_dir

                    private_dir(_fallback(absolute).parent)
                    target = private_dir(_fallback(absolute)) / f"{_key(absolute)}-recovery-{stamp}.json"
                _write(target, data)
            except (OSError, MigtuiError):
                continue
            unstored.path = target
            break
        store._clear_buffers()
        store._run_updates.clear()
        return unstored


def _write(target: Path, data: bytes) -> None:
    tmp = target.with_name(target.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def _waiting_ends(store_path: Path) -> dict[str, datetime]:
    """Run id -> the end each waiting recovery file gives it (its recorded end, or when it was saved):
    what :func:`import_all` will write into ``runs``."""
    ends: dict[str, datetime] = {}
    for path in recovery_files(store_path):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("version") != VERSION:
                continue
            ended = {row[0]: _dt(row[1]) for row in payload["runs"]}
            runs = {seg[0] for seg in payload["segments"]} | {row[0] for row in payload["events"]} | set(ended)
            for run_id in runs:
                ends[run_id] = ended.get(run_id) or _dt(payload["saved_at"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            continue
    return ends


def settle_unended(store_path: Path, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``runs`` (rows of the ``runs`` table) as a store opened read-only must show them. DuckDB lets a
    reader in only when no process writes the file, so a run still marked ``running`` there has ended
    without its end being recorded: it reads ``incomplete`` with the end its recovery file keeps, or
    ``interrupted`` (its process died), which is what the next open for writing records. Every row gets
    ``end_recorded``."""
    waiting: dict[str, datetime] | None = None
    out = []
    for run in runs:
        run = {**run, "end_recorded": run["status"] != "running"}
        if not run["end_recorded"]:
            if waiting is None:
                waiting = _waiting_ends(store_path)
            end = waiting.get(run["run_id"])
            run.update(status="incomplete" if end is not None else "interrupted", ended_at=end)
        out.append(run)
    return out


def import_all(store: "Store") -> list[tuple[Path, int]]:
    """Import every recovery file of this store (one transaction each); returns (file, samples) of
    those imported. A file that cannot be imported yet stays for the next open."""
    done: list[tuple[Path, int]] = []
    for path in recovery_files(store.path):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("version") != VERSION:
                continue
        except (OSError, ValueError):
            continue
        with store._lock:
            store._new_series.extend(tuple(r) for r in payload["series"])
            store._segments.extend(payload["segments"])
            store._n_samples += sum(len(seg[2]) for seg in payload["segments"])
            store._snapshots.extend(tuple(_dt(v) if i == 1 else v for i, v in enumerate(row))
                                    for row in payload["snapshots"])
            store._events.extend(tuple(_dt(v) if i == 1 else v for i, v in enumerate(row))
                                 for row in payload["events"])
            runs = {run_id for seg in payload["segments"] for run_id in [seg[0]]}
            runs |= {row[0] for row in payload["events"]} | {row[0] for row in payload["runs"]}
            ended = {row[0]: _dt(row[1]) for row in payload["runs"]}
            n = store._n_samples
            try:
                store.flush()
                for run_id in sorted(r for r in runs if r):
                    store.con.execute("UPDATE runs SET status = 'incomplete', ended_at = coalesce(ended_at, ?) "
                                      "WHERE run_id = ?", [ended.get(run_id) or _dt(payload["saved_at"]), run_id])
            except StoreError:
                store._clear_buffers()
                continue
        done.append((path, n))
        try:
            path.unlink()
        except OSError:
            pass
    return done
