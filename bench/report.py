"""The short Markdown table of bench/results/latest.json."""

from __future__ import annotations

from typing import Any

GOAL_LINT = 5_000


def _g(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _status(d: Any) -> str | None:
    if not isinstance(d, dict):
        return "not measured"
    s = d.get("status")
    return s if isinstance(s, str) and s.startswith("not measured") else None


def _met(v: Any) -> str:
    return "yes" if v is True else "**no**" if v is False else "-"


def _n(v: Any, fmt: str = "{:,.0f}") -> str:
    if v is None:
        return "-"
    try:
        return fmt.format(v)
    except (TypeError, ValueError):
        return str(v)


def _rows(res: dict[str, Any]) -> list[list[str]]:
    f = res.get("figures", {})
    rows: list[list[str]] = []

    def na(label: str, goal: str, d: Any) -> None:
        rows.append([label, _status(d) or "not measured", "", "", goal, "-"])

    live = f.get("live")
    ov = _g(live, "overhead")
    if live is not None:
        if _status(ov) or ov is None:
            na("1. Server time per refresh, 2 s", "ratio <= 1", ov or live)
        else:
            mm, pm = ov["migtui_metrics"], ov["pg_activity_shows"]
            if "ratio_cold_migtui_over_pg_activity" in ov:
                rows.append([f"1a. Server time per refresh, 2 s, cold (first {ov['cold_window_s']:g} s from launch, "
                             "pg_stat_statements)",
                             f"{_n(ov['migtui_cold_server_ms_per_tick'], '{:.2f}')} ms/tick",
                             f"{_n(ov['pg_activity_cold_server_ms_per_refresh'], '{:.2f}')} ms",
                             _n(ov["ratio_cold_migtui_over_pg_activity"], "{:.2f}"), "ratio <= 1.0",
                             _met(ov.get("met_cold"))])
            steady = "1b. Server time per refresh, 2 s, steady state" if "met_steady" in ov else \
                "1. Server time per refresh, 2 s (pg_stat_statements)"
            rows.append([steady,
                         f"{ov['migtui_server_ms_per_tick']:.2f} ms/tick; {_n(mm.get('distinct_series'))} series, "
                         f"{_n(mm.get('samples_per_tick_mean'), '{:,.0f}')} samples/tick",
                         f"{ov['pg_activity_server_ms_per_refresh']:.2f} ms; {_n(pm.get('header_figures'))} header "
                         f"figures + {_n(pm.get('table_columns'))} cols x {_n(pm.get('table_rows_shown'))} rows",
                         _n(ov["ratio_migtui_over_pg_activity"], "{:.2f}"),
                         "ratio <= 0.3" if "met_steady" in ov else "ratio <= 1",
                         _met(ov.get("met_steady", ov["met"]))])
        cl = _g(live, "client") or {}
        for key, label, goal, met in (
                ("migtui_headless_1s", "2a. Client CPU, headless, 1 s", "< 2% of a core", cl.get("met_headless")),
                ("migtui_tui_1s", "2b. Client CPU, cockpit in tmux, 1 s", "<= 2x pg_activity", cl.get("met_tui"))):
            d = cl.get(key) or {}
            p = cl.get("pg_activity_1s") or {}
            if _status(d):
                na(label, goal, d)
                continue
            r = cl.get("ratio_headless_over_pg_activity_cpu" if "headless" in key else "ratio_tui_over_pg_activity_cpu")
            rows.append([label,
                         f"{d['cpu_s_per_min']:.2f} CPU s/min ({d['cpu_pct_of_one_core']:.1f}% core), "
                         f"peak RSS {d['peak_rss_mib']:.0f} MiB",
                         (f"{p['cpu_s_per_min']:.2f} CPU s/min ({p['cpu_pct_of_one_core']:.1f}%), "
                          f"peak RSS {p['peak_rss_mib']:.0f} MiB") if "cpu_s_per_min" in p else (_status(p) or "-"),
                         _n(r, "{:.2f}"), goal, _met(met)])
    st = f.get("store")
    if st is not None:
        if _status(st):
            na("3. Store", ">= 500k samples/s, <= 16 B", st)
        else:
            bulk = _g(st, "bulk_10_ticks_per_flush", "samples_per_s")
            rows.append(["3a. Store: samples/s, 500-sample ticks, flush per tick",
                         f"{_n(st['samples_per_s'])}/s ({_n(_g(st, 'tick_shaped', 'ms_per_tick'), '{:.2f}')} ms/tick); "
                         f"10 ticks per flush: {_n(bulk)}/s", "", "", ">= 500,000/s", _met(st["met_rate"])])
            rows.append(["3b. Store: bytes on disk per sample", f"{_n(st['bytes_per_sample'], '{:.2f}')} B", "", "",
                         "<= 16 B", _met(st["met_bytes"])])
    lr = f.get("longrun")
    if lr is not None:
        if _status(lr):
            na("4. Long run", "", lr)
        else:
            r = lr["rss_mib"]
            rest = lr.get("rss_minus_duckdb_buffers_mib") or {}
            rows.append([f"4a. Long run ({lr['simulated_hours']:g} h, {_n(lr['samples'])} samples): RSS after warm-up",
                         f"{r['after_warmup']:.0f} -> {r['end']:.0f} MiB ({r['growth_pct']:+.0f}%; trend "
                         f"{_n(r.get('trend_mib_per_simulated_hour'), '{:+.1f}')} MiB/h); without DuckDB's buffer pool "
                         f"{_n(rest.get('trend_mib_per_simulated_hour'), '{:+.1f}')} MiB/h", "", "", "flat",
                         _met(lr["rss_flat"])])
            b = lr.get("baseline") or {}
            if _status(b):
                na("4b. Baseline statistics", "< 1 s", b)
            else:
                rows.append(["4b. Baseline statistics (whole run / baseline phase)",
                             f"{_n(b.get('whole_run_stats_s', b.get('whole_run_s')), '{:.2f}')} s / "
                             f"{_n(b.get('compute_baseline_phase_s'), '{:.2f}')} s; grouped by series_id first: "
                             f"{_n(b.get('whole_run_stats_by_series_id_s'), '{:.2f}')} s", "", "", "< 1 s",
                             _met(b.get("met"))])
            rp = lr.get("report") or {}
            if _status(rp):
                na("4c. Full HTML report", "< 10 s", rp)
            else:
                rows.append(["4c. Full HTML report", f"{rp['html_report_s']:.1f} s ({rp['html_kib']:,.0f} KiB)", "", "",
                             "< 10 s", _met(rp["met"])])
    re_ = f.get("reaction")
    if re_ is not None:
        a = re_.get("threshold_to_pause") or {}
        if _status(a):
            na("5a. Threshold -> pause action", "p95 <= 50 ms after the sample", a)
        elif "runs" not in a:  # an older run: measured from the crossing to the action, one tick late
            s = a["sample_to_action"]
            rows.append([f"5a. Threshold -> pause action starts ({a['interval_s']:g} s tick)",
                         f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms", "", "", a["goal"].split(" (")[0],
                         _met(a["met"])])
        else:
            for r in a["runs"]:
                s, e = r["sample_to_action"], r["endpoint_to_action"]
                rows.append([f"5a. Poll result over threshold -> pause action starts ({r['interval_s']:g} s interval)",
                             f"p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms", "", "", "p95 <= 50 ms",
                             _met(s["p95_ms"] <= 50)])
                rows.append([f"5a. Endpoint serves bad value -> pause action starts ({r['interval_s']:g} s interval)",
                             f"p50 {e['p50_ms']:.0f} ms, p95 {e['p95_ms']:.0f} ms, max {e['max_ms']:.0f} ms"
                             + (f" ({r['missed_trials']} of {r['trials']} trials missed)" if r["missed_trials"] else ""),
                             "", "", f"<= {r['interval_s'] * 1000 + 50:.0f} ms (one interval + 50 ms)",
                             _met(e["max_ms"] <= r["interval_s"] * 1000 + 50 and not r["missed_trials"])])
        b = re_.get("key_to_rollback_modal") or {}
        if _status(b):
            na("5b. Key -> rollback modal", "p95 < 100 ms", b)
        else:
            s = b["key_to_modal_painted"]
            rows.append(["5b. Key r -> rollback modal painted", f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms",
                         "", "", "p95 < 100 ms", _met(b["met"])])
    su = f.get("startup")
    if su is not None:
        h = su.get("help") or {}
        if _status(h):
            na("6a. migtui --help", "< 0.3 s", h)
        else:
            rows.append(["6a. `migtui --help` (median)", f"{h['migtui']['median_s']:.3f} s",
                         f"{_n(_g(h, 'pg_activity', 'median_s'), '{:.3f}')} s (`pg_activity --help`)",
                         _n(h.get("ratio_median"), "{:.2f}"), "< 0.3 s", _met(h["met"])])
        ff = su.get("first_frame") or {}
        if _status(ff):
            na("6b. First frame of the cockpit", "< 1.5 s", ff)
        else:
            rows.append(["6b. First frame of the cockpit (tmux, median)", f"{ff['migtui_median_s']:.2f} s",
                         f"{_n(ff.get('pg_activity_median_s'), '{:.2f}')} s", _n(ff.get("ratio_median"), "{:.2f}"),
                         "< 1.5 s", _met(ff["met"])])
    lt = f.get("lint")
    if lt is not None:
        if _status(lt):
            na("7. `migtui lint`, static: statements/s (10,000-statement file)", f">= {GOAL_LINT:,}/s", lt)
        else:
            peer = (f"{_n(lt.get('squawk_statements_per_s'))}/s whole command ({lt['squawk']})"
                    if lt.get("squawk_s") else str(lt.get("squawk")))
            rows.append([f"7. `migtui lint`, static: statements/s ({_n(lt['statements'])}-statement file)",
                         f"{_n(lt['statements_per_s'])}/s analysis; {_n(lt['cli_statements_per_s'])}/s whole command "
                         f"({lt['cli_s']:.2f} s)", peer, _n(lt.get("ratio_cli"), "{:.2f}"),
                         f">= {GOAL_LINT:,}/s", _met(lt["met"])])
    th = f.get("throttle")
    if th is not None:
        if _status(th):
            na("8. Throttle on a real backfill", "<= one poll interval + 100 ms", th)
        else:
            goal = f"<= {th['poll_interval_s'] * 1000 + 100:.0f} ms (one poll + 100 ms)"
            missed = f" ({th['missed_trials']} of {th['trials']} trials missed)" if th["missed_trials"] else ""
            for key, label in (("throttle_to_held", "endpoint answers 429 -> backfill's next batch held"),
                               ("clear_plus_resume_after_to_runs", "endpoint answers 200 + resume_after -> next batch runs")):
                s = th[key]
                rows.append([f"8. Throttle: {label} ({th['poll_interval_s'] * 1000:.0f} ms poll)",
                             f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, max {s['max_ms']:.0f} ms{missed}",
                             "", "", goal, _met(s["max_ms"] <= th["poll_interval_s"] * 1000 + 100 and not th["missed_trials"])])
    fv = f.get("fleetview")
    if fv is not None:
        goal = "< 10% of a core, p95 refresh < 500 ms"
        if _status(fv):
            na("9. Fleet view: 200 watches read every 2 s", goal, fv)
        else:
            for key, label in (("headless", "`migtui fleet watch --headless` (refresh: round start to its line)"),
                               ("cockpit", "the fleet cockpit (Textual, headless 200x60; refresh: round start to the "
                                           "screen update showing all its answers)")):
                r = fv[key]
                rows.append([f"9. Fleet view, {fv['targets']} watches every {fv['interval_s']:g} s: {label}",
                             f"{r['cpu_pct']:.1f}% of a core; refresh p50 {r['refresh']['p50_ms']:.0f} ms, "
                             f"p95 {r['refresh']['p95_ms']:.0f} ms", "", "", goal,
                             _met(r["cpu_pct"] < 10 and r["refresh"]["p95_ms"] < 500)])
    fr = f.get("fleetreport")
    if fr is not None:
        goal = "< 10 s"
        if _status(fr):
            na("10. Fleet report over 1,000 runs", goal, fr)
        else:
            walls = fr["report_wall_seconds"]
            rows.append([f"10. `migtui fleet report`, {fr['runs']:,} runs ({fr['files']:,} Parquet files), local folder",
                         f"{min(walls):.1f}-{max(walls):.1f} s; {fr['bytes_per_sample_samples_file']} B/sample",
                         "", "", goal, _met(max(walls) < 10)])
            s3 = fr.get("s3")
            if isinstance(s3, dict) and "report_wall_seconds" in s3:
                walls = s3["report_wall_seconds"]
                rows.append([f"10. the same from moto's S3 server on 127.0.0.1, {s3['runs']:,} runs ({s3['objects']:,} objects)",
                             f"{min(walls):.1f}-{max(walls):.1f} s; moto alone serves "
                             f"{s3['moto_whole_object_reads_per_s_16_threads']:.0f} objects/s (reading them all: "
                             f"{s3['moto_read_all_objects_seconds_16_threads']:.1f} s)", "", "", goal,
                             _met(max(walls) < 10)])
                for far in s3.get("with_latency") or []:
                    rows.append([f"10. the same through a proxy adding {far['latency_ms']} ms to each request",
                                 f"{far['report_wall_seconds']:.1f} s; {far['requests']:,} requests, "
                                 f"{far['max_in_flight']} in flight at most", "", "", goal,
                                 _met(far["report_wall_seconds"] < 10)])
    return rows


def markdown(res: dict[str, Any]) -> str:
    m = res.get("machine", {})
    v = m.get("versions", {})
    head = (f"Machine: {m.get('cpu_model')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB; "
            f"Python {v.get('python')}, {v.get('postgresql')}, duckdb {v.get('duckdb')}, textual {v.get('textual')}, "
            f"pg_activity {v.get('pg_activity')}; {m.get('date')}; load average at start "
            f"{res.get('loadavg_at_start')}. Command: `{res.get('command')}`.")
    lines = ["| Figure | migtui | pg_activity (peer) | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for r in _rows(res):
        lines.append("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    notes = []
    for name, fig in res.get("figures", {}).items():
        if isinstance(fig, dict) and fig.get("measured_at"):
            notes.append(f"- {name}: measured {fig['measured_at']}, load average before {fig.get('loadavg_before')}, "
                         f"after {fig.get('loadavg_after')}" + (f"; {fig['note']}" if fig.get("note") else ""))
    tail = ("\n" + "\n".join(notes) + "\n") if notes else ""
    return head + "\n\n" + "\n".join(lines) + "\n" + tail
