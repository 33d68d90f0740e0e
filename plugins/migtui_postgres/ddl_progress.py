"""DDL progress for the ``migration`` source: ``pg_stat_progress_create_index / _cluster / _copy`` with the
rate and the ETA."""

from __future__ import annotations

import math
from typing import Any, Iterator

from migtui.api import Sample
from migtui_postgres.progress import RateTracker, j as _j

_DDL_SQL_12 = """
SELECT /* migtui */ pid, command, relid::regclass::text AS relation, phase,
       blocks_done, blocks_total, tuples_done, tuples_total, lockers_done, lockers_total,
       partitions_done, partitions_total
FROM pg_stat_progress_create_index WHERE datname = current_database()
UNION ALL
SELECT pid, command, relid::regclass::text, phase, heap_blks_scanned, heap_blks_total,
       heap_tuples_written, NULL, NULL, NULL, NULL, NULL
FROM pg_stat_progress_cluster WHERE datname = current_database()
"""
_DDL_SQL_COPY = """
UNION ALL
SELECT pid, 'COPY ' || command, relid::regclass::text, type, bytes_processed, bytes_total,
       tuples_processed, NULL, NULL, NULL, NULL, NULL
FROM pg_stat_progress_copy WHERE datname = current_database()
"""


def _pick_progress(row: tuple[Any, ...]) -> tuple[float, float, str]:
    """(done, total, unit) of a progress row: the first counter pair with a known total."""
    _pid, command, _rel, _phase, bd, bt, td, tt, ld, lt, pd, pt = row
    for done, total, unit in ((bd, bt, "blocks"), (td, tt, "tuples"), (ld, lt, "lockers"), (pd, pt, "partitions")):
        if total and done is not None:
            return float(done), float(total), unit
    if str(command).startswith("COPY"):
        return float(td or 0), math.nan, "tuples"
    return float(td or bd or 0), math.nan, "tuples" if td else "blocks"


def ddl_samples(c: Any, cur: Any, now: float) -> Iterator[Sample]:
    """DDL progress of index builds, CLUSTER/VACUUM FULL and COPY (``pg_stat_progress_*``) as samples; it
    keeps the collector ``c``'s rate trackers, the pids running DDL and the rows of the progress table."""
    major = c.server_version // 10000
    sql = _DDL_SQL_12 + (_DDL_SQL_COPY if major >= 14 else "")
    cur.execute(sql)
    rows = cur.fetchall()
    seen = set()
    progress_rows = []
    c.ddl_pids = {}
    for row in rows:
        pid, command, relation, phase = row[0], str(row[1]), str(row[2] or ""), str(row[3] or "")
        if not command.startswith("COPY"):
            c.ddl_pids[int(pid)] = f"{command} {relation}".strip()
        done, total, unit = _pick_progress(row)
        key = (pid, command, relation, phase, unit)
        seen.add(key)
        tracker = c.ddl_rates.setdefault(key, RateTracker(float(c.opts["rate_window"])))
        tracker.add(now, done)
        rate, eta = tracker.rate(), tracker.eta(total)
        pct = 100.0 * done / total if total and not math.isnan(total) else math.nan
        lab = {"pid": str(pid), "command": command, "relation": relation}
        yield Sample(now, c.name, "migration.ddl.percent", pct, lab)
        yield Sample(now, c.name, "migration.ddl.done", done, lab)
        yield Sample(now, c.name, "migration.ddl.total", total, lab)
        yield Sample(now, c.name, "migration.ddl.rows_per_s", rate, lab)
        yield Sample(now, c.name, "migration.ddl.eta_seconds", eta, lab)
        progress_rows.append(("ddl", f"{command} {relation} (pid {pid})", phase, done, _j(total), unit,
                              _j(pct), _j(rate), _j(eta)))
    for key in list(c.ddl_rates):
        if key not in seen:
            del c.ddl_rates[key]
    c.ddl_progress = progress_rows
