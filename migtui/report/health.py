"""Each series of a report gets its kind (from the declarations the run recorded at its start),
health series a verdict per phase (:func:`migtui.report.verdicts.judge`) and the others a timeline.
Values are read from DuckDB only for classified series, one query for the run and one for a
baseline taken from another run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np

from migtui.metrickinds import DEFAULT_TOLERANCE, DEFAULT_WINDOW, UNCLASSIFIED, classify
from migtui.report.verdicts import judge, timeline
from migtui.schema import parse_duration

_VALUES_SQL = """SELECT s.series_id, s.phase, epoch(s.ts), s.value FROM samples s
WHERE s.run_id = ? AND isfinite(s.value) AND s.series_id IN (SELECT unnest(?::INTEGER[]))"""
_BASE_VALUES_SQL = """SELECT r.source, r.metric, CAST(r.labels AS VARCHAR), s.value FROM samples s
JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id
WHERE s.run_id = ? AND s.phase = 'baseline' AND isfinite(s.value)"""


def _report_options(report: dict[str, Any]) -> dict[str, Any]:
    opts = (report["run"].get("config") or {}).get("report") or {}  # as written in the config file
    return {"tolerance": float(opts.get("tolerance", DEFAULT_TOLERANCE)),
            "window": parse_duration(opts.get("window", DEFAULT_WINDOW))}


def kind_rules(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The kind declarations the run recorded in its start event (none in stores of older versions)."""
    for e in events:
        if e["kind"] == "run" and "metric_kinds" in e["data"]:
            return list(e["data"]["metric_kinds"])
    return []


def judge_series(con: Any, report: dict[str, Any]) -> None:
    """Add ``kind``, ``direction``, ``unit``, ``verdicts`` (health) or ``timeline`` to each series."""
    rules = kind_rules(report["events"])
    opts = _report_options(report)
    run_id, base_run = report["run"]["run_id"], report["baseline_run"]
    t0 = datetime.fromisoformat(report["phases"][0]["start"]).timestamp()
    for s in report["series"]:
        k = classify(rules, s["source"], s["metric"])
        s.update(kind=k["kind"], direction=k["direction"], unit=k.get("unit") or "", min_change=k.get("min_change"),
                 tolerance=k.get("tolerance") if k.get("tolerance") is not None else opts["tolerance"])
    wanted = [s["series_id"] for s in report["series"] if s["kind"] != UNCLASSIFIED]
    values: dict[tuple[int, str], tuple[list[float], list[float]]] = {}
    if wanted:
        for sid, phase, ts, v in con.execute(_VALUES_SQL, [run_id, wanted]).fetchall():
            t, vs = values.setdefault((int(sid), phase), ([], []))
            t.append(float(ts))
            vs.append(float(v))
    base_other: dict[str, list[float]] = {}
    if base_run != run_id:
        for src, met, lab, v in con.execute(_BASE_VALUES_SQL, [base_run]).fetchall():
            base_other.setdefault(f"{src}\x1f{met}\x1f{json.dumps(json.loads(lab), sort_keys=True)}", []).append(float(v))

    def arr(sid: int, phase: str) -> tuple[np.ndarray, np.ndarray]:
        t, v = values.get((sid, phase), ([], []))
        return np.asarray(t, float), np.asarray(v, float)

    for s in report["series"]:
        sid = s["series_id"]
        if s["kind"] == "health":
            if base_run != run_id:
                key = f"{s['source']}\x1f{s['metric']}\x1f{json.dumps(s['labels'], sort_keys=True)}"
                base = np.asarray(base_other.get(key, []), float)
            else:
                base = arr(sid, "baseline")[1]
            s["verdicts"] = {}
            for phase, cmp_key in (("migration", "migration_vs_baseline"), ("post", "post_vs_baseline")):
                ts, vals = arr(sid, phase)
                v = judge(base, vals, ts, s[cmp_key].get("p_value"), s["direction"],
                          float(s["tolerance"]), opts["window"], s.get("min_change"))
                if "peak" in v:
                    v["peak"]["at"] = v["peak"]["start"] - t0
                s["verdicts"][phase] = v
        elif s["kind"] != UNCLASSIFIED:
            ts = np.concatenate([arr(sid, p)[0] for p in ("baseline", "migration", "post")])
            vals = np.concatenate([arr(sid, p)[1] for p in ("baseline", "migration", "post")])
            tl = timeline(ts, vals, s["kind"])
            for c in tl["changes"]:
                c["at"] = c["ts"] - t0
            s["timeline"] = tl
