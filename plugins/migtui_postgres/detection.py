"""Seeing a migration that a tool launched, while it runs, from what the server offers.

A migration tool is often invisible between two polls: Alembic with ``transaction_per_migration``
holds a lock on ``alembic_version`` only for an instant, an ``autocommit_block`` (a batched backfill,
then ``CREATE INDEX CONCURRENTLY``) holds none, and Django's ``atomic = False`` migrations run every
statement in autocommit. Two things here close the gap:

:class:`CatalogWatch`: evidence that survives the moment. A fingerprint of the user catalog (how
many relations, the newest relation's oid, the total number of columns) is read each poll; when it
changed, DDL ran since the last poll (a new index, table, view or sequence is named; added and
dropped columns and relations are counted), even one that took 0.45 s between two polls 1 s apart.

:class:`SessionTracker`: the migration's own sessions. A session is the migration's once it
showed it (a *strong* sign): it holds a lock on a history table or a tool's advisory lock, holds or
waits for an AccessExclusiveLock, builds an index (a progress row), runs a DDL statement, its last
statement was the DDL that changed the catalog since the last poll, or its application_name
matches. It stays the migration's while it is connected: a tool's process keeps its connection for
the whole run, so the migration is seen running through its quiet parts (a backfill between
batches, a Python step) and ends when the process disconnects. When a tool's history changed and no
session showed a strong sign, the few sessions (at most :data:`MAX_GUESSES`) that connected shortly
before and were active since the last poll are taken as the history's writer (a *weak* sign); they
count only while they are not idle for longer than ``finish_after``.

All of it reads ``pg_stat_activity`` and ``pg_class`` only: no table is opened, no lock is taken.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

MAX_GUESSES = 3
"""At most this many sessions are taken as a history's writer by timing alone; more is no guess."""

_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*\n|/\*.*?\*/)+", re.S)
_DDL = re.compile(r"^(?:ALTER|CREATE|DROP|REINDEX|CLUSTER|RENAME|VACUUM\s+(?:\(\s*)?FULL)\b", re.I)
_TEMP = re.compile(r"^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?TEMP(?:ORARY)?\b", re.I)


def is_ddl(query: str) -> bool:
    """Whether a statement is schema DDL (``CREATE TEMP TABLE`` is not; comments are skipped)."""
    text = _COMMENTS.sub("", str(query or ""), count=1)
    return bool(_DDL.match(text)) and not _TEMP.match(text)


_USER_RELS = """
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relpersistence <> 't' AND c.relkind <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"""

CATALOG_SQL = ("SELECT /* migtui */ count(*)::bigint, coalesce(max(c.oid::bigint), 0), "
               "coalesce(sum(c.relnatts), 0)::bigint" + _USER_RELS)
NEW_RELATIONS_SQL = ("SELECT /* migtui */ c.oid::bigint, quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
                     "c.relkind::text, c.relnatts, i.indisvalid, i.indrelid::regclass::text" + _USER_RELS.replace(
                         "WHERE", "LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE") +
                     " AND c.oid::bigint > %s ORDER BY c.oid LIMIT 20")

_KINDS = {"r": "table", "p": "table", "i": "index", "I": "index", "v": "view", "m": "materialized view",
          "S": "sequence", "f": "foreign table", "c": "type"}


class CatalogWatch:
    """Notices DDL that ran between two polls (see the module docstring)."""

    def __init__(self) -> None:
        self.last: tuple[int, int, int] | None = None

    def changes(self, cur: Any) -> list[str]:
        """What changed in the user catalog since the last call (nothing on the first)."""
        cur.execute(CATALOG_SQL)
        count, max_oid, natts = (int(v) for v in cur.fetchone())
        last, self.last = self.last, (count, max_oid, natts)
        if last is None or last == self.last:
            return []
        out: list[str] = []
        new_natts = 0
        if max_oid > last[1]:
            cur.execute(NEW_RELATIONS_SQL, [last[1]])
            for _oid, name, kind, rel_natts, valid, table in cur.fetchall():
                new_natts += int(rel_natts or 0)
                what = _KINDS.get(kind, "relation")
                if what == "index":
                    out.append(f"new index {name} on {table}" + ("" if valid else " (not valid yet)"))
                else:
                    out.append(f"new {what} {name}")
        gone = last[0] + len(out) - count
        if gone > 0:
            out.append(f"{gone} relation{'s' if gone > 1 else ''} dropped")
        cols = natts - last[2] - new_natts
        if cols and gone <= 0:
            out.append(f"{abs(cols)} column{'s' if abs(cols) > 1 else ''} {'added' if cols > 0 else 'dropped'}")
        return out or ["the catalog changed"]


SESSIONS_SQL = """
SELECT /* migtui */ a.pid, extract(epoch FROM a.backend_start)::float8, coalesce(a.state, ''),
       extract(epoch FROM clock_timestamp() - a.state_change)::float8,
       extract(epoch FROM clock_timestamp() - a.backend_start)::float8,
       coalesce(a.application_name, ''), left(coalesce(a.query, ''), 200), t.now,
       (to_jsonb(a) ->> 'query_id')::bigint  -- PostgreSQL 14+, with compute_query_id; NULL before
FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) t
LEFT JOIN pg_stat_activity a
  ON a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
 AND coalesce(a.application_name, '') NOT LIKE 'migtui%%'"""


@dataclass
class Session:
    pid: int
    started: float
    state: str
    idle_for: float
    age: float
    app: str
    query: str
    query_id: int | None = None
    """Its current or last statement's ``queryid`` (as pg_stat_statements has it), when known."""


@dataclass
class Tracked:
    started: float
    why: str
    strong: bool


class SessionTracker:
    """Remembers the migration's sessions across polls (see the module docstring)."""

    def __init__(self, *, app_pattern: str, finish_after: float) -> None:
        self.app_pattern = app_pattern
        self.finish_after = finish_after
        self.known: dict[int, Tracked] = {}
        self.last_poll: float | None = None
        """The server's clock at the previous poll."""
        self._before: tuple[float, bool] = (0.0, False)
        """The previous poll's gap and whether the catalog changed then (a DDL that ended between the
        catalog read and the session read of one poll is seen in the catalog one poll later)."""

    def poll(self, cur: Any, *, signs: dict[int, str], history_changed: str, catalog_changed: bool
             ) -> list[tuple[Session, str]]:
        """The migration's sessions now, each with why. ``signs``: pid -> a strong sign seen this poll
        (history-table lock, advisory lock, DDL lock, index build); ``history_changed``: the tool whose
        history changed this poll, or ""; ``catalog_changed``: DDL ran since the last poll."""
        cur.execute(SESSIONS_SQL)
        rows = cur.fetchall()
        server_now = float(rows[0][7])  # the server's clock: no skew with migtui's
        since = None if self.last_poll is None else server_now - self.last_poll
        self.last_poll = server_now
        (gap_before, changed_before), self._before = self._before, (since or 0.0, catalog_changed)
        ddl_window = (since + gap_before) if since is not None and (catalog_changed or changed_before) else None
        sessions = {int(r[0]): Session(int(r[0]), float(r[1]), r[2], float(r[3] or 0), float(r[4] or 0), r[5], r[6],
                                       r[8]) for r in rows if r[0] is not None}
        for pid in [p for p, t in self.known.items() if p not in sessions or sessions[p].started != t.started]:
            del self.known[pid]  # disconnected (or the pid was reused)
        for pid, s in sessions.items():
            why = signs.get(pid, "")
            if not why and self.app_pattern and s.app and fnmatch.fnmatchcase(s.app, self.app_pattern):
                why = f"application_name {s.app} matches {self.app_pattern}"
            if not why and s.state == "active" and is_ddl(s.query):
                why = "runs DDL"
            if not why and ddl_window is not None and s.idle_for <= ddl_window and is_ddl(s.query):
                why = "ran the DDL that changed the catalog"
            if why:
                self.known[pid] = Tracked(s.started, why, True)
        if history_changed and since is not None and not any(t.strong for t in self.known.values()):
            window = since + self.finish_after
            guesses = [s for s in sessions.values() if s.age <= window and s.idle_for <= since
                       and s.pid not in self.known]
            if 0 < len(guesses) <= MAX_GUESSES:
                for s in guesses:
                    self.known[s.pid] = Tracked(s.started, f"connected just before {history_changed}'s history "
                                                "changed (its writer, by timing)", False)
        out = []
        for pid, t in self.known.items():
            s = sessions[pid]
            if t.strong or s.state != "idle" or s.idle_for < self.finish_after:
                out.append((s, t.why))
        return out
