"""`migtui fleet report` over simulated runs' Parquet partitions in a local folder: worst first,
outliers flagged, a fleet summary, hostile names escaped in every format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.fleet_synth import write_fleet

HOSTILE = "<script>alert(1)</script>|x\x1b[31m"


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migtui", "fleet", "report", *args], capture_output=True, text=True,
                          timeout=120)


def test_fleet_report_worst_first_with_outliers(tmp_path: Path) -> None:
    write_fleet(tmp_path / "lake" / "orders-2026-12", 14, ticks=30, bad_every=7, names=[HOSTILE])
    write_fleet(tmp_path / "lake" / "other", 3, ticks=30, seed=9)
    proc = _report("--from", str(tmp_path / "lake"), "--campaign", "orders-2026-12", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = report["databases"]
    assert len(rows) == 14 and report["summary"]["databases"] == 14  # the other campaign is not read
    bad = {"tenant_0006", "tenant_0013"}  # every 7th database is made much worse during its migration
    assert {r["database"] for r in rows[:2]} == bad
    for r in rows[:2]:
        assert r["checks_failed"] == 1 and r["triggers_fired"] == ["p95_latency"] and r["actions"] == ["pause"]
        assert r["throttled_seconds"] == 45 and r["p95_delta"]["delta"] > 100
        assert "p95_delta" in r["outliers"] and "worst_lock_wait_seconds" in r["outliers"]
    assert not any(r["outliers"] for r in rows[2:] if r["database"] not in bad and not r["triggers_fired"])
    assert report["summary"]["checks_failed"] == 2
    assert [p["phase"] for p in rows[0]["phases"]] == ["baseline", "migration", "post"]

    out = tmp_path / "fleet.html"
    proc = _report("--from", str(tmp_path / "lake"), "--campaign", "orders-2026-12", "--format", "html", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html and "\\x1b[31m" in html
    assert html.index("tenant_0006") < html.index("tenant_0001")
    md = _report("--from", str(tmp_path / "lake" / "orders-2026-12"), "--format", "md").stdout
    assert "<script>" not in md and "\x1b" not in md and "14 databases, 14 runs (14 finished)" in md


def test_fleet_report_nothing_there(tmp_path: Path) -> None:
    proc = _report("--from", str(tmp_path), "--format", "md")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{tmp_path}: no runs found" in proc.stderr


def test_fleet_report_compares_with_a_separate_baseline_run(tmp_path: Path) -> None:
    """A run watched with --baseline RUN_ID (no baseline phase of its own) is compared with that run's
    baseline phase."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    write_fleet(tmp_path, 2, ticks=30, bad_every=2)  # tenant_0001 is the bad one
    (base_dir,) = (tmp_path / "database=tenant_0000").iterdir()
    (run_dir,) = (tmp_path / "database=tenant_0001").iterdir()
    base_run = base_dir.name.split("=", 1)[1]
    runs = pq.read_table(run_dir / "runs.parquet")
    i = runs.schema.get_field_index("baseline_of")
    pq.write_table(runs.set_column(i, runs.schema.field(i), [[base_run]]), run_dir / "runs.parquet")
    samples = pq.read_table(run_dir / "samples.parquet")
    pq.write_table(samples.filter(pc.field("phase") != "baseline"), run_dir / "samples.parquet")
    proc = _report("--from", str(tmp_path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in json.loads(proc.stdout)["databases"] if r["database"] == "tenant_0001")
    assert row["p95_delta"]["metric"] == "app.latency_p95" and row["p95_delta"]["delta"] > 100
