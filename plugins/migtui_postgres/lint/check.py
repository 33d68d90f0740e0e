"""The "Pending migration" item of ``migtui check``: the config's ``migration.files`` linted against
the first postgres source, with live evidence (a one-second traffic sample)."""

from __future__ import annotations

import glob
from typing import Any

from migtui.api import CheckItem, Config

SAMPLE_S = 1.0


def _files(config: Config, patterns: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    found, missing = [], []
    for pattern in patterns:
        paths = sorted(glob.glob(str(config.resolve_path(pattern)), recursive=True))
        if not paths:
            missing.append(pattern)
        for p in paths:
            with open(p, encoding="utf-8", errors="replace") as fh:
                found.append((p, fh.read()))
    return found, missing


def pending_migration(config: Config) -> list[CheckItem]:
    from migtui_postgres.lint import lint
    from migtui_postgres.pgconn import postgres_sources

    patterns = (config.get("migration") or {}).get("files") or []
    if not patterns:
        return []
    files, missing = _files(config, patterns)
    if missing:
        return [CheckItem("migration", "Pending migration", "fail",
                          f"no file matches migration.files {', '.join(repr(m) for m in missing)}")]
    sources = postgres_sources(config)
    result = lint(files, dsn=sources[0][1] if sources else "", sample=SAMPLE_S)
    active = [(st, f) for st in result["statements"] for f in st["findings"] if not f.get("ignored")]
    errors = [(st, f) for st, f in active if f["severity"] == "error"]
    warns = [(st, f) for st, f in active if f["severity"] == "warn"]
    parse = result["errors"]
    status = "fail" if errors or parse else ("warn" if warns else "pass")
    parts = [f"{len(result['statements'])} statements in {len(files)} files: {len(errors) + len(parse)} errors, "
             f"{len(warns)} warnings"]
    for e in parse[:2]:
        parts.append(f"{e['file']}:{e['line']} does not parse: {e['message']}")
    for st, f in (errors or warns)[:3]:
        locks = ", ".join(f"{lk['mode']} on {lk['relation']}" for lk in st["locks"])
        parts.append(f"{f['rule']} at {st['file']}:{st['line']} ({locks})")
    blocked = [st for st in result["statements"] if st.get("live") and any(r["blockers"] for r in st["live"]["relations"])]
    if blocked:
        parts.append(f"now: {blocked[0]['file']}:{blocked[0]['line']} {blocked[0]['live']['message']}")
    parts.extend(result["warnings"])
    return [CheckItem("migration", "Pending migration", status, "; ".join(parts),
                      {"statements": result["statements"], "errors": parse})]
