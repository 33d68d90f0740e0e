"""``migtui fleet watch --headless``: one line per refresh round (how many databases in each verdict,
how long the round took), one line per database whose verdict, phase or error changed, and one line
per finder (``--selector``) whose findings or error changed."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Callable

from migtui.fleet.discovery import FleetDiscovery, finder_line
from migtui.fleet.poller import FleetPoller
from migtui.fleet.rows import row_of
from migtui.safetext import one_line


FIRST_LIST_WAIT = 60.0
"""Seconds the headless printer waits for every finder's first list before its first round."""


def round_printer(write: Callable[[str], None],
                  discovery: FleetDiscovery | None = None) -> Callable[[FleetPoller, float], None]:
    seen: dict[str, tuple[str, str, str | None]] = {}
    finders_seen: dict[int, object] = {}

    def on_round(poller: FleetPoller, took: float) -> None:
        for i, st in enumerate(discovery.snapshot()[1] if discovery is not None else []):
            key = (st.error, st.found, st.notes, st.listed_at is None)
            if finders_seen.get(i) != key:
                finders_seen[i] = key
                write(one_line(finder_line(st)))
        _, states = poller.snapshot()
        rows = [row_of(st) for st in states.values()]
        counts = Counter(r.verdict for r in rows)
        parts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        write(f"round {poller.round_count}: {len(rows)} databases{', ' + parts if parts else ''}; "
              f"refresh {took * 1000:.0f} ms")
        for r in sorted(rows, key=lambda r: r.key):
            key = (r.verdict, r.cells[1], r.error)
            if seen.get(r.key) != key:
                seen[r.key] = key
                write(one_line(f"  {r.key}: {r.verdict} · {' · '.join(r.cells[1:-2])}"))

    return on_round


def run_headless(poller: FleetPoller, rounds: int | None, write: Callable[[str], None],
                 discovery: FleetDiscovery | None = None) -> None:
    """Poll on this thread's own loop until ``rounds`` rounds (or forever; Ctrl-C stops); the finders
    of ``discovery`` list on their own threads meanwhile."""
    poller.on_round = round_printer(write, discovery)
    if discovery is not None:
        discovery.start()
        # the first round reads what the finders found (a list ends within its request timeout; a
        # failed one is the finder's line of that round)
        discovery.wait_first_lists(FIRST_LIST_WAIT)
    try:
        asyncio.run(poller.run(rounds))
    except KeyboardInterrupt:
        pass
    finally:
        if discovery is not None:
            discovery.stop()
