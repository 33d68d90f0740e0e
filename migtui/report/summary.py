"""The first screen of a report: are we OK? One outcome (ok, degraded, rolled back, failed) with the
three facts that decided it, what ran, and the worst moment."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from migtui.model import fmt_elapsed
from migtui.report.checklist import fired
from migtui.report.formatting import fmt_duration, fmt_metric, time_of_day, verdict_text
from migtui.report.statements_view import slower_text
from migtui.report.verdicts import worst_first

OUTCOMES = ("ok", "degraded", "rolled back", "failed")


def _command(report: dict[str, Any]) -> dict[str, Any] | None:
    exits = [e for e in report["notes"] if e["data"].get("type") == "migration_command"
             and e["data"].get("change") == "exited"]
    return exits[-1]["data"] if exits else None


def what_ran(report: dict[str, Any]) -> dict[str, Any]:
    """The migration command or tool, revisions, start, end, exit code."""
    cmd = _command(report)
    tools: dict[str, dict[str, Any]] = {}
    for e in report["notes"]:
        d = e["data"]
        if d.get("type") == "migration" and d.get("tool"):
            t = tools.setdefault(d["tool"], {})
            for k in ("state", "current", "applied", "version", "revision"):
                if d.get(k) not in (None, ""):
                    t[k] = d[k]
    mig = [p for p in report["phases"] if p["phase"] == "migration"]
    return {"command": (cmd or {}).get("command"), "exit_code": (cmd or {}).get("exit_code"),
            "seconds": (cmd or {}).get("seconds"), "tools": tools,
            "start": mig[0]["start"] if mig else None, "end": mig[-1]["end"] if mig else None}


def worst_moment(con: Any, report: dict[str, Any]) -> dict[str, Any]:
    """The longest lock wait with its blocking tree as stored, and the highest p95 with its time."""
    run_id = report["run"]["run_id"]
    t0 = datetime.fromisoformat(report["phases"][0]["start"]).timestamp()
    out: dict[str, Any] = {"lock_wait": None, "p95": None}
    best = None
    for ts, columns, rows in con.execute("SELECT epoch(ts), columns, rows FROM snapshots WHERE run_id = ? "
                                         "AND name = 'blocking_tree' ORDER BY ts", [run_id]).fetchall():
        cols = json.loads(columns)
        if "wait_seconds" not in cols:
            continue
        i = cols.index("wait_seconds")
        data = json.loads(rows)
        waits = [r[i] for r in data if isinstance(r[i], (int, float))]
        if waits and (best is None or max(waits) > best[0]):
            best = (max(waits), ts, cols, data)
    if best:
        keep = [c for c in ("depth", "pid", "blocked_by", "application_name", "mode", "relation", "wait_seconds",
                            "query") if c in best[2]]
        idx = [best[2].index(c) for c in keep]
        out["lock_wait"] = {"seconds": best[0], "at": best[1] - t0, "columns": keep,
                            "tree": [[r[i] for i in idx] for r in best[3][:20]]}
    p95s = [s for s in report["series"] if s["metric"].endswith("p95") and s.get("kind") == "health"]
    for s in p95s:
        row = con.execute("SELECT max(value), epoch(arg_max(ts, value)) FROM samples WHERE run_id = ? AND "
                          "series_id = ? AND isfinite(value)", [run_id, s["series_id"]]).fetchone()
        if row and row[0] is not None and (out["p95"] is None or row[0] > out["p95"]["value"]):
            out["p95"] = {"metric": s["metric"], "source": s["source"], "value": float(row[0]),
                          "unit": s.get("unit", ""), "at": float(row[1]) - t0}
    return out


def outcome(report: dict[str, Any]) -> dict[str, Any]:
    """ok | degraded | rolled back | failed, and the three facts that decided it, most severe first:
    what failed (the run, the migration command, a failed checklist item), a rollback, the health
    metrics that got worse (largest effect first; on a tie, one a trigger fired on first), the
    application statements that got slower after the migration (most extra time first), trigger
    firings and actions; then the facts of a run that went well (how many metrics were judged, how
    the command or run ended)."""
    run = report["run"]
    cmd = _command(report)
    health = [s for s in report["series"] if s.get("kind") == "health"]
    firings = [e for e in report["triggers"] if fired(e)]
    worse = worst_first(health, firings)
    rollbacks = [e for e in report["actions"] if e["data"].get("verb") == "rollback" and e["data"].get("ok")
                 and not e["data"].get("dry_run")]
    failed_items = [i for i in report["checklist"] if i["status"] == "fail"]
    failed_cmd = bool(cmd and cmd.get("exit_code") != 0)
    slower = (report.get("statements") or {}).get("slower") or []
    if run["status"] in ("failed", "interrupted") or failed_cmd or failed_items:
        verdict = "failed"
    elif rollbacks:
        verdict = "rolled back"
    elif worse or slower:
        verdict = "degraded"
    else:
        verdict = "ok"
    cmd_fact = f"migration command exited {cmd.get('exit_code')} after {cmd.get('seconds', 0):g}s" if cmd else ""
    decisive = [f"run {run['status']}"] if run["status"] in ("failed", "interrupted") else []
    decisive += [cmd_fact] if failed_cmd else []
    decisive += [f"{i['item']}: {i['evidence']}" for i in failed_items]
    decisive += [f"rolled back by {e['data'].get('who', '?')} at {time_of_day(e['ts'])}"
                 + (f" ({e['data']['why']})" if e["data"].get("why") else "") for e in rollbacks[:1]]
    done = [e for e in report["actions"] if e["data"].get("ok") and not e["data"].get("dry_run")]
    acts = ", ".join(f"{e['data'].get('verb', e['subject'])} by {e['data'].get('who', '?')}" for e in done[:3])
    events = (f"{len(firings)} trigger firings, {len(done)} actions" + (f" ({acts})" if acts else "")
              if firings or done else "")
    facts = decisive[:3]
    room = 3 - len(facts)
    if worse and room:
        shown = worse[:max(1, room - 1) if events else room]
        facts += [f"{s['metric']} {verdict_text(s)}" for s in shown]
        if len(worse) > len(shown):
            facts[-1] += f" (+{len(worse) - len(shown)} more worse)"
    if slower and len(facts) < 3:
        facts.append(f"{len(slower)} application statement(s) slower after: {slower_text(slower[0])}")
    judged = [s for s in health if any(v.get("verdict") not in ("no data", None)
                                       for v in (s.get("verdicts") or {}).values())]
    quiet = [] if worse else [f"{len(judged)} health metrics judged, none worse than the baseline" if judged
                              else "no health metric had enough samples to judge"]
    end = [] if failed_cmd or run["status"] in ("failed", "interrupted") else [cmd_fact or f"run {run['status']}"]
    for fact in [*quiet, events, *end]:
        if fact and len(facts) < 3:
            facts.append(fact)
    return {"verdict": verdict, "facts": facts}


def what_ran_text(report: dict[str, Any]) -> list[str]:
    """What ran, as plain lines (each format escapes them)."""
    w = report["what_ran"]
    lines = []
    if w["command"]:
        lines.append(f"Command: {w['command']} exited {w['exit_code']} after {fmt_duration(w['seconds'])}")
    for tool, t in w["tools"].items():
        lines.append(f"Tool {tool}: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    if w["start"]:
        lines.append(f"Migration phase: {w['start'][:19].replace('T', ' ')} to {time_of_day(w['end'])} UTC")
    return lines or ["No migration command, tool or phase was recorded."]


def worst_text(report: dict[str, Any]) -> tuple[str, str]:
    """The worst moment's two sentences as plain text (empty when not recorded): the highest p95,
    and the longest lock wait (its tree follows as a table)."""
    wm = report["worst_moment"]
    p, lw = wm["p95"], wm["lock_wait"]
    return ((f"Highest p95: {fmt_metric(p['value'], p['unit'])} ({p['metric']} of {p['source']}) at "
             f"{fmt_elapsed(p['at'])}") if p else "",
            f"Longest lock wait: {lw['seconds']:g} s at {fmt_elapsed(lw['at'])}; the blocking tree as stored:"
            if lw else "")
