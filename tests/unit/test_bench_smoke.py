"""The benchmark suite keeps working: the store figure at tiny sizes produces its JSON keys and the
Markdown table renders them (no timings are asserted; benchmarks measure, tests do not)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import store_bench


def test_store_benchmark_reports_its_figures(tmp_path: Path) -> None:
    res = store_bench.measure(tmp_path / "s.duckdb", series=20, ticks=15, ticks_per_flush=1)
    for key in ("samples_per_s", "samples_per_cpu_s", "bytes_per_sample", "ms_per_tick", "file_bytes"):
        assert key in res
    assert res["stored"] == res["samples"] == 300


def test_bench_run_writes_json_and_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import run as bench_run

    monkeypatch.setattr(store_bench, "run", lambda ctx: {
        "tick_shaped": store_bench.measure(ctx.workdir / "t.duckdb", series=10, ticks=5),
        "samples_per_s": 1, "bytes_per_sample": 99.0, "met_rate": False, "met_bytes": False})
    with pytest.raises(SystemExit):
        bench_run.main(["--only", "no-such-figure", "--out", str(tmp_path)])
    assert bench_run.main(["--only", "store", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "latest.json").read_text())
    assert {"cpu_model", "cores", "memory_gib", "versions", "date"} <= set(data["machine"])
    assert data["figures"]["store"]["tick_shaped"]["stored"] == 50
    table = (tmp_path / "latest.md").read_text()
    assert "3b. Store: bytes on disk per sample" in table and "99.00 B" in table


def test_fleet_discovery_benchmark_lists_every_pod() -> None:
    from bench import fleet_discovery_bench

    res = fleet_discovery_bench.measure(pods=30, lists=2)
    assert res["targets_in_poller"] == 30 and res["bytes_per_pod"] > 3000  # pods the size of real ones
    for key in ("wall_ms_p50", "wall_ms_p95", "cpu_ms_per_list_median", "list_bytes"):
        assert key in res
