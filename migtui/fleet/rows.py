"""The fleet table's rows as plain values: one :class:`Row` per target, how they sort and filter.

Shared by the cockpit (:mod:`migtui.tui.fleet`) and the headless printer; no Textual, no Rich.
Cell text is built here from outside values and must still go through :mod:`migtui.safetext`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable

from migtui.fleet.poller import TargetState
from migtui.fleet.status import VERDICT_RANK
from migtui.model import fmt_age

COLUMNS = ("database", "phase", "progress", "eta", "throttle", "worst trigger", "lock waits", "lag",
           "verdict", "age")
SORT_KEYS = ("verdict", "database", "progress", "eta", "lag", "age")
"""What `s` cycles through; verdict sorts worst first (unreachable worst of all)."""
UNREACHABLE_RANK = 6


def _num(v: float | None) -> str:
    return "-" if v is None else (f"{v:.0f}" if v == int(v) else f"{v:.2f}")


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[str, ...]
    verdict: str
    """ok | warn | pause | rollback | inconclusive | unreachable | ? (styles the row)"""
    rank: int
    percent: float
    eta: float
    lag: float
    age: float
    error: str | None


def row_of(st: TargetState, now: float | None = None) -> Row:
    now = time.time() if now is None else now
    s = st.status
    age = None if st.fetched_at is None else now - (s.time if s and s.time else st.fetched_at)
    if st.error is not None:
        verdict, rank = "unreachable", UNREACHABLE_RANK
    elif s is None:
        verdict, rank = "waiting", 1
    else:
        verdict = s.verdict or "?"
        rank = VERDICT_RANK.get(verdict, 1)
    phase = s.phase if s and s.phase else "-"
    if st.error is not None:
        phase = st.error  # the error is the news of the row; the last known values stay beside it
    progress = "-" if not s or s.percent is None else f"{s.percent:.1f}%"
    throttle = "-" if not s or s.throttled is None else ("yes" + (f" ({s.throttle_reason})" if s.throttle_reason
                                                                   else "") if s.throttled else "no")
    worst = "-"
    if s and s.worst_trigger:
        w = s.worst_trigger
        worst = f"{w.name} {w.state}"
        if w.value is not None:
            worst += f" {_num(w.value)}"
        if isinstance(w.threshold, str):
            worst += f" ({w.threshold})"
        elif w.threshold is not None:
            worst += f"/{_num(w.threshold)}" if w.value is not None else f" (threshold {_num(w.threshold)})"
    cells = (st.target.name, phase, progress, fmt_age(s.eta_seconds) if s else "-", throttle, worst,
             _num(s.lock_waits) if s else "-", fmt_age(s.lag_seconds) if s else "-", verdict,
             fmt_age(age))
    inf = float("inf")
    return Row(st.target.name, cells, verdict, rank,
               s.percent if s and s.percent is not None else -1.0,
               s.eta_seconds if s and s.eta_seconds is not None else inf,
               s.lag_seconds if s and s.lag_seconds is not None else -1.0,
               age if age is not None else inf, st.error)


def arrange(rows: Iterable[Row], sort: str = "verdict", reverse: bool = False, text: str = "",
            problems_only: bool = False) -> list[Row]:
    """Filter (``text`` in any cell, case-insensitive; ``problems_only``: not ok) and sort.

    Default orders: verdict worst first, database A-Z, progress least first, ETA longest first, lag
    and age largest first; ``reverse`` flips it. Ties keep the database order."""
    needle = text.lower().strip()
    out = [r for r in rows
           if (not needle or any(needle in c.lower() for c in r.cells))
           and (not problems_only or r.verdict != "ok")]
    keys = {
        "verdict": lambda r: (-r.rank, r.key),
        "database": lambda r: r.key,
        "progress": lambda r: (r.percent, r.key),
        "eta": lambda r: (-r.eta if r.eta != float("inf") else float("inf"), r.key),
        "lag": lambda r: (-r.lag, r.key),
        "age": lambda r: (-r.age if r.age != float("inf") else float("-inf"), r.key),
    }
    out.sort(key=keys.get(sort, keys["verdict"]), reverse=reverse)
    return out
