"""Verdicts of a real run with a scripted regression: an error burst during the migration, served by a
real metrics endpoint (tests/servers/metrics_endpoint.py) and scraped by the openmetrics source,
next to a backfill's progress and a flag's state that are meant to change."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import psycopg
import pytest

from tests.conftest import scratch_database
from tests.servers.metrics_endpoint import MetricsEndpoint, ServiceMetrics

TICKS = 25  # per phase, 0.2 s apart
BURST = range(8, 14)  # migration ticks with 7% errors


@pytest.fixture(scope="module")
def scratch_dsn(pg: Any) -> Iterator[str]:
    """The regression run's own database: pg_stat_statements, the hot table and its statement
    statistics stay out of the database the other tests share (and its top statements stay ours)."""
    with scratch_database(pg) as dsn:
        yield dsn


@pytest.fixture(scope="module")
def regression_run(scratch_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store

    folder = tmp_path_factory.mktemp("verdicts")
    metrics = ServiceMetrics(gauges={"backfill_rows_done": 0, "flag_total_cents": 0}, rps=500)
    server = MetricsEndpoint(metrics).start()
    config_path = folder / "verdicts.yaml"
    config_path.write_text(textwrap.dedent(f"""\
        name: verdicts-test
        interval: 0.2s
        sources:
          - type: postgres
            name: db
            dsn: "{scratch_dsn}"
            include: [activity_summary, statements_top]
            intervals: {{activity_summary: 0.2s, statements_top: 0.2s}}
          - type: openmetrics
            name: api
            url: {server.url}/metrics
            interval: 0.2s
            error_rate: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}
            latency_histogram: http_request_duration_seconds
            throughput: http_requests_total
            gauges: {{backfill.rows_done: backfill_rows_done, flag.total_cents: flag_total_cents}}
        migration:
          enabled: false
        report:
          window: 1s
          metrics:
            backfill.*: {{kind: progress}}
            flag.*: {{kind: state, unit: "%"}}
        """))
    conn = psycopg.connect(scratch_dsn, autocommit=True)
    try:  # a hot query served by an index that the migration drops
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except Exception:  # noqa: BLE001 - a server without the extension: no statement statistics
        pass
    conn.execute("DROP TABLE IF EXISTS hot; CREATE TABLE hot (k int, v text)")
    conn.execute("INSERT INTO hot SELECT i, md5(i::text) FROM generate_series(1, 50000) i")
    conn.execute("CREATE INDEX hot_k ON hot (k); ANALYZE hot")
    engine = Engine(load_config(config_path), store=Store.open(folder / "run.duckdb"))

    def ticks(n: int, phase: str) -> None:
        for i in range(n):  # the service handles 500 requests/s (counted at each scrape), 0.2% failing
            metrics.error_ratio = 0.07 if phase == "migration" and i in BURST else 0.002
            if phase == "migration":
                metrics.gauges["backfill_rows_done"] += 1000
            for k in range(20):
                conn.execute("SELECT v FROM hot WHERE k = %s", [i * 20 + k])
            engine.tick(wait=30)
            time.sleep(0.2)

    try:
        ticks(TICKS, "baseline")
        engine.set_phase("migration", who="alice", why="window opens")
        conn.execute("DROP INDEX hot_k")
        ticks(TICKS, "migration")
        engine.set_phase("post", who="alice", why="migration done")
        metrics.gauges["flag_total_cents"] = 1.0
        ticks(TICKS, "post")
    finally:
        engine.close()
        server.stop()
        conn.close()
    return folder / "run.duckdb", engine.run_id


@pytest.fixture
def report(regression_run: tuple[Path, str], tmp_path: Path) -> dict[str, Any]:
    from migtui.report import export_report

    store = tmp_path / "run.duckdb"
    shutil.copyfile(regression_run[0], store)
    return json.loads(export_report(store, "latest", "json", tmp_path / "r.json").read_text())


def _by_metric(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["metric"]: s for s in report["series"]}


def test_the_burst_is_the_only_hurt_metric_and_the_run_is_degraded(report: dict[str, Any]) -> None:
    from migtui.report.formatting import verdict_text

    series = _by_metric(report)
    worse = sorted(s["metric"] for s in report["series"]
                   if any(v.get("verdict") == "worse" for v in (s.get("verdicts") or {}).values()))
    assert worse == ["error_rate"]
    er = series["error_rate"]
    assert er["kind"] == "health" and er["direction"] == "higher_is_worse"
    assert er["verdicts"]["migration"]["verdict"] == "worse" and er["verdicts"]["post"]["verdict"] == "same"
    assert re.fullmatch(r"worse during migration \(peak 7\.0% for [\d.]+ s at 0:00:\d\d\), same after",
                        verdict_text(er)), verdict_text(er)
    # the other health metrics were judged, and read the same
    for name in ("response_time_p95", "throughput", "activity_summary.waiting"):
        assert series[name]["kind"] == "health"
        assert {v["verdict"] for v in series[name]["verdicts"].values()} <= {"same", "better"}, name
    assert report["outcome"]["verdict"] == "degraded"
    assert any("error_rate worse during migration" in f for f in report["outcome"]["facts"])
    perf = next(i for i in report["checklist"] if i["item"] == "Performance vs baseline")
    assert perf["status"] == "warn" and "1 of" in perf["evidence"] and "error_rate" in perf["evidence"]


def test_progress_and_state_metrics_get_timelines_not_verdicts(report: dict[str, Any]) -> None:
    from migtui.report.formatting import timeline_text

    series = _by_metric(report)
    for s in report["series"]:
        if s["kind"] != "health":
            assert "verdicts" not in s, s["metric"]
    rows, flag = series["backfill.rows_done"], series["flag.total_cents"]
    assert rows["kind"] == "progress" and flag["kind"] == "state"
    assert rows["timeline"]["first"] == 0 and rows["timeline"]["last"] == TICKS * 1000
    # a rank test alone calls the backfill's progress different from the baseline; the report does not
    assert rows["post_vs_baseline"]["verdict"] == "differs"
    perf = next(i for i in report["checklist"] if i["item"] == "Performance vs baseline")["evidence"]
    assert "backfill" not in perf and "flag" not in perf
    assert re.fullmatch(r"0% → 100% at 0:00:\d\d", timeline_text(flag)), timeline_text(flag)


def test_hodges_lehmann_and_mann_whitney_agree_with_scipy(regression_run: tuple[Path, str]) -> None:
    """The numpy Hodges-Lehmann estimate against the brute-force one, its interval against the one
    scipy's exact U distribution gives, and DuckDB's rank-sum p-value against scipy.stats."""
    import duckdb
    from scipy import stats

    from migtui.report.verdicts import hodges_lehmann

    rng = np.random.default_rng(7)
    base, other = rng.normal(100, 10, 40), rng.normal(112, 10, 35)
    shift, lo, hi = hodges_lehmann(other, base)
    assert shift == pytest.approx(float(np.median(np.subtract.outer(other, base))))
    assert lo < shift < hi and lo > 0  # a 12-point shift, 95% interval excludes 0
    # Moses interval from the normal approximation vs scipy's normal quantile
    k = int(np.floor(40 * 35 / 2 - stats.norm.ppf(0.975) * np.sqrt(40 * 35 * 76 / 12)))
    d = np.sort(np.subtract.outer(other, base).ravel())
    assert (lo, hi) == (pytest.approx(d[k]), pytest.approx(d[d.size - 1 - k]))

    con = duckdb.connect(str(regression_run[0]), read_only=True)
    try:
        from migtui.report.statistics import series_statistics

        n = con.execute("SELECT count(*) FROM samples").fetchone()[0]
        run_id = regression_run[1]
        checked = 0
        for s in series_statistics(con, run_id, run_id, n):
            p = s["migration_vs_baseline"].get("p_value")
            if p is None:
                continue
            vals = {ph: [v for (v,) in con.execute(
                "SELECT value FROM samples WHERE run_id = ? AND series_id = ? AND phase = ? AND isfinite(value)",
                [run_id, s["series_id"], ph]).fetchall()] for ph in ("baseline", "migration")}
            if len(set(vals["baseline"] + vals["migration"])) < 2:
                continue
            ref = stats.mannwhitneyu(vals["migration"], vals["baseline"], use_continuity=True,
                                     alternative="two-sided", method="asymptotic")
            assert p == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12), s["metric"]
            checked += 1
        assert checked >= 3
    finally:
        con.close()


def test_first_screen_order_and_a_short_markdown(regression_run: tuple[Path, str], tmp_path: Path) -> None:
    from migtui.report import export_report

    store = tmp_path / "run.duckdb"
    shutil.copyfile(regression_run[0], store)
    md = export_report(store, "latest", "md", tmp_path / "r.md").read_text()
    assert md.splitlines()[2].startswith("**DEGRADED**: ") and "error\\_rate worse during migration" in md
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[:6] == ["## What ran", "## Worst moment", "## Actions", "## Throttle",
                            "## Post-migration checklist", "## Health metrics against the baseline"]
    assert len(md.splitlines()) < 80 and "<svg" not in md  # pastes into a pull request
    html = export_report(store, "latest", "html", tmp_path / "r.html").read_text()
    at = [html.index(h) for h in ('class="outcome degraded"', "<h2>What ran</h2>", "<h2>Worst moment</h2>",
                                  "<h2>Actions</h2>", "<h2>Post-migration checklist</h2>", "<h2>Charts</h2>")]
    assert at == sorted(at)
    first_chart = html[html.index("<h2>Charts</h2>"):]
    assert first_chart.index("error_rate") < first_chart.index("backfill.rows_done")  # health first
    assert "<script" not in html and "differs" not in html


def test_the_query_that_lost_its_index_is_first_among_the_slower(scratch_dsn: str, report: dict[str, Any]) -> None:
    st = report["statements"]
    if not st["available"]:
        with psycopg.connect(scratch_dsn, autocommit=True) as conn:
            loaded = conn.execute("SELECT count(*) FROM pg_settings WHERE name = 'shared_preload_libraries' "
                                  "AND setting LIKE '%pg_stat_statements%'").fetchone()[0]
        assert not loaded, st["why"]  # measured wherever the library is loaded (the embedded server)
        pytest.skip("pg_stat_statements is not loaded on this server")
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        hot = conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE 'SELECT v FROM hot WHERE k = %'"
                           ).fetchone()[0]
    first = st["slower"][0]
    assert first["queryid"] == hot and first["mean_after_ms"] > 2 * first["mean_before_ms"]
    assert first["calls_before"] > 0 and first["calls_after"] > 0
