"""The "Pending migration" item of ``migtui check``: the config's pending migration (``migration.files``,
``migration.command`` of a known tool, or a tool detected on the server: :mod:`.resolve`) linted
against the first postgres source, with live evidence (a one-second traffic sample)."""

from __future__ import annotations

from typing import Any

from migtui.api import CheckItem, Config

SAMPLE_S = 1.0
NAME = "Pending migration"


def summary(result: dict[str, Any], base: str = "") -> tuple[str, list[str]]:
    """``(status, evidence parts)`` of an analysis (:func:`.resolve.analyse`): fail on an error finding,
    a file that does not parse or a pending SQL that cannot be had; warn on a warning. Files under
    ``base`` (the config's folder) are named relative to it."""
    from migtui_postgres.lint.resolve import shown_path

    active = [(st, f) for st in result["statements"] for f in st["findings"] if not f.get("ignored")]
    errors = [(st, f) for st, f in active if f["severity"] == "error"]
    warns = [(st, f) for st, f in active if f["severity"] == "warn"]
    parse = result["errors"]
    status = "fail" if errors or parse or result["error"] else ("warn" if warns else "pass")
    parts = [f"{result['origin']}: " + (result["error"] if result["error"] and not result["statements"] else
             f"{len(result['statements'])} statements: {len(errors) + len(parse)} errors, {len(warns)} warnings")]
    if result["error"] and result["statements"]:
        parts.append(result["error"])
    for e in parse[:2]:
        parts.append(f"{shown_path(e['file'], base)}:{e['line']} does not parse: {e['message']}")
    for st, f in (errors or warns)[:3]:
        locks = ", ".join(f"{lk['mode']} on {lk['relation']}" for lk in st["locks"])
        parts.append(f"{f['rule']} at {shown_path(st['file'], base)}:{st['line']} ({locks})")
    blocked = [st for st in result["statements"] if st.get("live") and any(r["blockers"] for r in st["live"]["relations"])]
    if blocked:
        parts.append(f"now: {shown_path(blocked[0]['file'], base)}:{blocked[0]['line']} {blocked[0]['live']['message']}")
    parts.extend(result.get("notes") or ())
    parts.extend(result["warnings"])
    return status, parts


def pending_migration(config: Config) -> list[CheckItem]:
    from migtui_postgres.lint.resolve import analyse
    from migtui_postgres.pgconn import postgres_sources

    sources = postgres_sources(config)
    result = analyse(config, dsn=sources[0][1] if sources else "", sample=SAMPLE_S)
    if result is None:
        return []
    status, parts = summary(result, str(config.resolve_path(".")))
    return [CheckItem("migration", NAME, status, "; ".join(parts),
                      {"origin": result["origin"], "statements": result["statements"], "errors": result["errors"]})]
