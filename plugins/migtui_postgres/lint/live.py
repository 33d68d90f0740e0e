"""Live evidence for lint results, read over the read-only monitoring connection (statement_timeout
and lock_timeout on every query; it never takes a lock on a user table): each locked relation's rows
and bytes from the catalog estimates (reltuples, relpages: no size function on a table someone may
hold locked), its reads and writes per second over a short sample, the sessions holding a lock the
statement's lock would queue behind, and a sentence saying what the statement would do now."""

from __future__ import annotations

import time
from fnmatch import fnmatchcase
from typing import Any, Sequence

from migtui.api import SourceError
from migtui_postgres.lint.locks import STRENGTH, conflicting
from migtui_postgres.pgconn import connect_monitor, scrub_query

_REL = ("SELECT /* migtui */ c.oid, c.reltuples::bigint, c.relpages::bigint * current_setting('block_size')::bigint "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %(rel)s AND "
        "CASE WHEN %(schema)s::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = %(schema)s END "
        "LIMIT 1")
_STATS = ("SELECT /* migtui */ relid, coalesce(seq_scan, 0) + coalesce(idx_scan, 0), n_tup_ins + n_tup_upd + n_tup_del "
          "FROM pg_stat_user_tables WHERE relid = ANY(%(oids)s)")
_STANDBYS = ("SELECT /* migtui */ coalesce(application_name, ''), coalesce(state, ''), "
             "extract(epoch FROM replay_lag) FROM pg_stat_replication ORDER BY 1")
_BLOCKERS = ("SELECT /* migtui */ a.pid, coalesce(a.state, ''), extract(epoch FROM now() - coalesce(a.xact_start, a.query_start)), "
             "coalesce(a.query, ''), string_agg(DISTINCT l.mode, ', '), coalesce(a.application_name, '') "
             "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE l.locktype = 'relation' AND l.relation = %(oid)s AND l.pid <> pg_backend_pid() "
             "AND l.mode = ANY(%(modes)s) GROUP BY 1, 2, 3, 4, 6 ORDER BY 3 DESC NULLS LAST")


def connect(dsn: str) -> tuple[Any, int | None, str]:
    """``(connection, server major version, warning)``; an unreachable server is a warning."""
    try:
        conn = connect_monitor(dsn, statement_timeout=2.0, lock_timeout=0.2, connect_timeout=3.0)
    except SourceError as exc:
        return None, None, f"no live evidence and no catalog: {exc}; static results only"
    return conn, conn.info.server_version // 10000, ""


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s}s" if s < 120 else (f"{s // 60}m" if s < 7200 else f"{s // 3600}h")


def _queued(mode: str, reads: float | None, writes: float | None) -> float | None:
    """Queries a second that would wait behind a request for ``mode`` (reads wait only for
    AccessExclusiveLock; writes for ShareLock and stronger)."""
    if reads is None or writes is None:
        return None
    if mode == "AccessExclusiveLock":
        return reads + writes
    return writes if STRENGTH[mode] >= STRENGTH["ShareLock"] else 0.0


def attach(conn: Any, statements: list[dict[str, Any]], *, sample: float,
           own_sessions: Sequence[str] = ()) -> list[str]:
    """Fill each statement's ``live``; returns warnings (a read that failed). Sessions whose
    application_name matches a glob of ``own_sessions`` are the migration's own: its statements run
    in them, so their locks never block it (a running migration is not its own blocker)."""
    warnings: list[str] = []
    rels: dict[str, tuple[int, int, int] | None] = {}
    seen: dict[tuple[int, str], Any] = {}
    try:
        with conn.cursor() as cur:
            for st in statements:
                for lock in st["locks"]:
                    name = lock["relation"]
                    if name not in rels:
                        schema, _, rel = name.rpartition(".")
                        cur.execute(_REL, {"schema": schema or None, "rel": rel})
                        rels[name] = cur.fetchone()
            oids = [r[0] for r in rels.values() if r]
            cur.execute(_STANDBYS)
            standbys = [{"name": n, "state": s, "replay_lag_s": None if lag is None else round(float(lag), 1)}
                        for n, s, lag in cur.fetchall()]
            rates = _rates(cur, oids, sample)
            for st in statements:
                st["live"] = _evidence(cur, st, rels, rates, seen, tuple(own_sessions))
                if st["live"] is not None:
                    st["live"]["standbys"] = standbys
                    if standbys and st["rewrites"]:
                        worst = max((s["replay_lag_s"] or 0.0) for s in standbys)
                        size = sum(r["bytes"] for r in st["live"]["relations"] if r["relation"] in _rewritten(st))
                        st["live"]["message"] += (f"; the rewrite writes about {_bytes(size)} of WAL that "
                                                  f"{len(standbys)} standby(s) replay (replay lag now {worst:g}s)")
    except Exception as exc:  # noqa: BLE001 - a failed read leaves the static results
        from migtui_postgres.pgconn import first_line

        warnings.append(f"live evidence incomplete: {first_line(exc)}")
    return warnings


def _rewritten(st: dict[str, Any]) -> set[str]:
    """The relations a rewriting statement rewrites: those it locks AccessExclusive."""
    return {lk["relation"] for lk in st["locks"] if lk["mode"] == "AccessExclusiveLock"}


def _rates(cur: Any, oids: list[int], sample: float) -> dict[int, tuple[float, float]]:
    if not oids or sample <= 0:
        return {}
    cur.execute(_STATS, {"oids": oids})
    before = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    t0 = time.monotonic()
    time.sleep(sample)
    cur.execute(_STATS, {"oids": oids})
    elapsed = max(time.monotonic() - t0, 1e-3)
    out = {}
    for oid, reads, writes in cur.fetchall():
        if oid in before:
            out[oid] = ((reads - before[oid][0]) / elapsed, (writes - before[oid][1]) / elapsed)
    return out


def _evidence(cur: Any, st: dict[str, Any], rels: dict[str, Any], rates: dict[int, tuple[float, float]],
              seen: dict[tuple[int, str], Any], own_sessions: tuple[str, ...] = ()) -> dict[str, Any] | None:
    out = []
    for lock in st["locks"]:
        found = rels.get(lock["relation"])
        if not found:
            continue
        oid, rows, size = found
        reads, writes = rates.get(oid, (None, None))
        blockers = _blockers(cur, oid, lock["mode"], seen, own_sessions)
        out.append({"relation": lock["relation"], "mode": lock["mode"], "rows": max(int(rows), 0),
                    "bytes": int(size), "reads_per_s": _round(reads), "writes_per_s": _round(writes),
                    "queued_per_s": _round(_queued(lock["mode"], reads, writes)), "blockers": blockers})
    if not out:
        return None
    return {"relations": out, "risk": _risk(st, out), "message": _message(out)}


def _blockers(cur: Any, oid: int, mode: str, seen: dict[tuple[int, str], Any],
              own_sessions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The sessions holding a lock on ``oid`` that a request for ``mode`` would wait for, but the
    migration's own (read once per relation and mode: a file that alters one table many times asks once)."""
    key = (oid, mode)
    if key not in seen:
        cur.execute(_BLOCKERS, {"oid": oid, "modes": conflicting(mode)})
        seen[key] = [{"pid": pid, "state": state,
                       "xact_age_s": max(0.0, round(float(age), 1)) if age is not None else None,
                       "query": scrub_query(query, 200), "modes": modes}
                      for pid, state, age, query, modes, app in cur.fetchall()
                      if not any(fnmatchcase(app, glob) for glob in own_sessions)]
    return seen[key]


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def _risk(st: dict[str, Any], rels: list[dict[str, Any]]) -> str:
    strong = [r for r in rels if STRENGTH[r["mode"]] >= STRENGTH["ShareLock"]]
    if any(r["blockers"] for r in strong):
        return "high"
    if strong and (st["rewrites"] or st["scans"]) and any(r["rows"] >= 100_000 for r in strong):
        return "high"
    if any((r["queued_per_s"] or 0) > 0 or r["rows"] >= 10_000 for r in strong):
        return "medium"
    return "low"


def _message(rels: list[dict[str, Any]]) -> str:
    parts = []
    for r in rels:
        if STRENGTH[r["mode"]] < STRENGTH["ShareUpdateExclusiveLock"] and not r["blockers"]:
            continue
        size = f"{r['relation']} ({r['rows']:,} rows, {_bytes(r['bytes'])})"
        if r["blockers"]:
            b = r["blockers"][0]
            more = f" and {len(r['blockers']) - 1} more" if len(r["blockers"]) > 1 else ""
            text = f"{r['mode']} on {size} queues behind pid {b['pid']} ({b['state'] or 'backend'} {_ago(b['xact_age_s'])}){more}"
            if r["queued_per_s"]:
                text += f"; while it waits, about {r['queued_per_s']:g} queries a second on {r['relation']} queue behind it"
        else:
            text = f"{r['mode']} on {size}: no session holds a conflicting lock now"
            if r["queued_per_s"]:
                text += f"; while it is held, about {r['queued_per_s']:g} queries a second on {r['relation']} wait"
        parts.append(text)
    return "; ".join(parts)


def _bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
