"""The post-migration checklist: health, performance against the baseline, queries and indexes,
integrity verification, errors, alerts and actions during the run, and the migration tools' final state."""

from __future__ import annotations

from typing import Any

from migtui.report.formatting import verdict_text
from migtui.report.statements_view import checklist_item
from migtui.report.statistics import MIN_SAMPLES
from migtui.report.verdicts import worst_first


def fired(e: dict[str, Any]) -> bool:
    """A trigger event that is a transition to firing."""
    to = e["data"].get("to") or e["data"].get("state")
    return to == "firing" if to else "-> firing" in e["message"]


def _item(name: str, status: str, evidence: str) -> dict[str, str]:
    return {"item": name, "status": status, "evidence": evidence}


def post_migration_checklist(report: dict[str, Any], con: Any = None) -> list[dict[str, str]]:
    """Health, performance vs baseline, integrity verification, errors/alerts/actions, migration tools."""
    items = []
    run = report["run"]
    has_post = report["phase_seconds"].get("post", 0) > 0 or any(
        s["stats"].get("post", {}).get("n") for s in report["series"])
    # health
    up = [s for s in report["series"] if s["metric"] == "pg.up"]
    post_up = [s["stats"].get("post") for s in up if s["stats"].get("post")]
    if run["status"] not in ("finished", "running"):
        items.append(_item("Health", "warn", f"the run ended as {run['status']}"))
    elif not has_post:
        items.append(_item("Health", "warn", "no post phase was recorded: health after the migration is unknown"))
    elif post_up and min(p["min"] for p in post_up if p.get("min") is not None) < 1:
        items.append(_item("Health", "fail", "the database was unreachable during the post phase"))
    else:
        n_post = sum(s["stats"].get("post", {}).get("n", 0) for s in report["series"])
        items.append(_item("Health", "pass", f"post phase {report['phase_seconds'].get('post', 0):.0f}s, "
                                             f"{n_post} samples; sources reachable"))
    # performance: health metrics only (progress, state and counters are meant to change)
    health = [s for s in report["series"] if s.get("kind") == "health"]
    judged = [s for s in health if any(v.get("verdict") in ("worse", "better", "same")
                                       for v in (s.get("verdicts") or {}).values())]
    worse = worst_first(judged, [e for e in report["triggers"] if fired(e)])
    if not judged:
        items.append(_item("Performance vs baseline", "warn",
                           f"not compared: need {len(health) and 'at least ' + str(MIN_SAMPLES) + ' samples per phase of'}"
                           f" health metrics ({len(health)} declared)" if health else
                           "not compared: no metric is declared a health metric"))
    elif worse:
        names = "; ".join(f"{s['metric']} {verdict_text(s)}" for s in worse[:5])
        items.append(_item("Performance vs baseline", "warn",
                           f"{len(worse)} of {len(judged)} health metrics worse than the baseline: {names}"))
    else:
        items.append(_item("Performance vs baseline", "pass",
                           f"{len(judged)} health metrics judged against the baseline, none worse"))
    # queries and indexes (pg_stat_statements, index_inventory), when measured
    queries = checklist_item(report) if "statements" in report else None
    if queries:
        items.append(queries)
    # integrity
    integ = [e for e in report["checks"] if e["data"].get("type") == "integrity" and e["data"].get("result") in
             ("pass", "fail", "error")]
    if not integ:
        items.append(_item("Integrity verification", "warn", "no integrity check compared baseline and post"))
    else:
        latest: dict[str, dict[str, Any]] = {}
        for e in integ:
            latest[e["data"].get("check", e["subject"])] = e
        bad = [n for n, e in latest.items() if e["data"]["result"] != "pass"]
        items.append(_item("Integrity verification", "fail" if bad else "pass",
                           (f"failed: {', '.join(bad)}; " if bad else "") + f"{len(latest) - len(bad)} of {len(latest)} passed"))
    # errors and alerts
    errs = [e for e in report["errors"] if e["level"] in ("warn", "error") and not e["data"].get("recovered")]
    firing = [e for e in report["triggers"] if fired(e)]
    items.append(_item("Errors and alerts during the run", "warn" if errs or firing or report["alerts"] else "pass",
                       f"{len(errs)} errors, {len(firing)} trigger firings, {len(report['alerts'])} alerts"))
    failed_actions = [e for e in report["actions"] if e["data"].get("ok") is False]
    done = [e for e in report["actions"] if e["data"].get("ok") and not e["data"].get("dry_run")]
    rollbacks = [e for e in done if e["data"].get("verb") == "rollback"]
    status = "fail" if failed_actions else ("warn" if rollbacks else "pass")
    items.append(_item("Actions", status, f"{len(done)} ran, {len(failed_actions)} failed"
                       + (f", {len(rollbacks)} rollback(s)" if rollbacks else "")))
    exits = [e for e in report["notes"] if e["data"].get("type") == "migration_command"
             and e["data"].get("change") == "exited"]
    if exits:  # `migtui run`: the command's exit code
        ex = exits[-1]["data"]
        how = f"exited with code {ex.get('exit_code')}" + (f" (stopped with {ex['stopped_by']})"
                                                            if ex.get("stopped_by") else "")
        items.append(_item("Migration command", "pass" if ex.get("exit_code") == 0 else "fail",
                           f"{ex.get('command', '')} {how} after {ex.get('seconds', 0):g}s".strip()))
    tools = [e for e in report["notes"] if e["data"].get("type") == "migration" and e["data"].get("change") == "state"]
    last_state: dict[str, str] = {}
    for e in tools:
        last_state[e["data"].get("tool", "")] = e["data"].get("state", "")
    bad_tools = {t: s for t, s in last_state.items() if s in ("dirty", "failed", "locked", "running")}
    if bad_tools:
        items.append(_item("Migration tools", "fail", ", ".join(f"{t} {s}" for t, s in bad_tools.items())))
    elif last_state:
        items.append(_item("Migration tools", "pass", "no tool left dirty, failed, locked or running"))
    return items
