"""`migtui fleet report` over simulated runs' Parquet partitions in a local folder: worst first,
outliers flagged, a fleet summary, hostile names escaped in every format."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.fleet_synth import write_fleet
from tests.conftest import chromium

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
    table = html[html.index("<h2>Databases</h2>"):]  # (the charts come first)
    assert table.index("tenant_0006") < table.index("tenant_0001")
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


def _charts(html: str) -> dict[str, list[tuple[str, bool, str]]]:
    """Each chart of the HTML report: title -> its rows top to bottom as (label, marked, value text)."""
    import xml.etree.ElementTree as ET

    out = {}
    for block in html.split('<div class="chart">')[1:]:
        title = re.search(r"<h3>(.*?)</h3>", block).group(1)
        svg = ET.fromstring(block[block.index("<svg"):block.index("</svg>") + 6])
        texts = [t for t in svg.iter("{http://www.w3.org/2000/svg}text")]
        labels = [t for t in texts if t.get("font-size") == "10.5"]
        values = [t for t in texts if t.get("x") == "718"]
        out[title] = [(lab.text.removeprefix("◆ "), lab.get("fill") is not None, val.text)
                      for lab, val in zip(labels, values)]
    return out


def test_fleet_report_html_charts(tmp_path: Path) -> None:
    """Per database the duration with its throttled time, and the p95 and error-rate changes, worst
    first, the outliers marked; self-contained (no script, nothing fetched), printable on A4."""
    write_fleet(tmp_path / "lake", 60, ticks=30, bad_every=7, names=[HOSTILE])
    out = tmp_path / "fleet.html"
    proc = _report("--from", str(tmp_path / "lake"), "--format", "html", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert html.count("<svg") == 3 and "<script" not in html and "\x1b" not in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "@media print" in html and "@page{size:A4 landscape}" in html and "break-inside:avoid" in html
    charts = _charts(html)
    assert list(charts) == ["Duration, with the throttled time inside it", "p95 change against the baseline",
                            "Error-rate change against the baseline"]
    report = json.loads(_report("--from", str(tmp_path / "lake"), "--format", "json").stdout)["databases"]
    bad = {f"tenant_{n:04d}" for n in range(6, 60, 7)}  # every 7th: much worse during its migration
    p95 = charts["p95 change against the baseline"]
    assert len(p95) == 40 and {label for label, _, _ in p95[:len(bad)]} == bad  # the worst 40 of 60, worst first
    assert all(marked for _, marked, _ in p95[:len(bad)]) and not any(marked for _, marked, _ in p95[len(bad):])
    deltas = {r["database"]: r["p95_delta"]["delta"] for r in report}
    assert [label for label, _, _ in p95] == sorted(deltas, key=lambda d: (-deltas[d], d))[:40]
    assert p95[0][2] == f"{deltas[p95[0][0]]:+.0f}%"
    errors = charts["Error-rate change against the baseline"]
    assert {label for label, _, _ in errors[:len(bad)]} == bad
    duration = charts["Duration, with the throttled time inside it"]
    throttled = {r["database"] for r in report if "throttled_seconds" in r["outliers"]}
    assert throttled and {label for label, marked, _ in duration if marked} == throttled  # all shown and marked
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert any(label.startswith("<script>alert(1)</script>") for label, _, _ in p95 + errors + duration)


def test_fleet_report_html_in_chromium(tmp_path: Path) -> None:
    write_fleet(tmp_path / "lake", 20, ticks=30, bad_every=7)
    out = tmp_path / "fleet.html"
    assert _report("--from", str(tmp_path / "lake"), "--format", "html", "-o", str(out)).returncode == 0
    png, pdf = tmp_path / "fleet.png", tmp_path / "fleet.pdf"
    proc = chromium(tmp_path, out, "--window-size=1200,2400", f"--screenshot={png}")
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000, proc.stderr[-2000:]
    proc = chromium(tmp_path, out, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.exists(), proc.stderr[-2000:]
    boxes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes()))
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}  # A4 landscape, in points
    keep = os.environ.get("MIGTUI_KEEP_REPORT_PNG")
    if keep:
        shutil.copy(png, keep)


def test_fleet_report_database_names_that_look_like_numbers_stay_as_written(tmp_path: Path) -> None:
    """The partition folders are read as text: tenants 0042 and 0043 are not reported as 42 and 43."""
    write_fleet(tmp_path / "lake", 2, ticks=30, names=["0042", "0043"])
    proc = _report("--from", str(tmp_path / "lake"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["database"] for r in json.loads(proc.stdout)["databases"]) == ["0042", "0043"]
