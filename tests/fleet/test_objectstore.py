"""A real run's Parquet files to a real S3-compatible server (moto on 127.0.0.1) and to a local
folder, hive-partitioned database=/run=; clear errors for a missing bucket or a dead endpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from tests.integration.test_report import SECRET, real_run, recorded_run  # noqa: F401 (fixtures)
from tests.servers.s3 import make_bucket, s3_server  # noqa: F401 (fixture)

TABLES = {"runs", "series", "samples", "snapshots", "events", "baselines"}


def _migtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "migtui", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_report_parquet_to_s3(real_run: tuple[Path, str], s3_server: str) -> None:
    store_path, run_id = real_run
    fs = make_bucket("fleet")
    proc = _migtui("report", "--store", str(store_path), "--run", run_id, "--format", "parquet",
                   "-o", "s3://fleet/campaign-1/")
    assert proc.returncode == 0, proc.stderr
    folder = f"fleet/campaign-1/database=report-test/run={run_id}"
    assert f"s3://{folder}/" in proc.stderr
    from pyarrow import fs as pafs

    names = {i.base_name for i in fs.get_file_info(pafs.FileSelector(folder))}
    assert names == {f"{t}.parquet" for t in TABLES}
    dataset = ds.dataset("fleet/campaign-1/", filesystem=fs, format="parquet", partitioning="hive",
                         exclude_invalid_files=False)
    samples = ds.dataset(f"{folder}/samples.parquet", filesystem=fs).to_table()
    assert samples.num_rows > 0
    assert dataset.schema.field("database") is not None
    runs = ds.dataset(f"{folder}/runs.parquet", filesystem=fs).to_table().to_pylist()
    assert runs[0]["run_id"] == run_id and SECRET not in (runs[0]["config"] or "")
    for table in TABLES:  # no secret anywhere in what was uploaded
        with fs.open_input_stream(f"{folder}/{table}.parquet") as f:
            assert SECRET.encode() not in f.read()
    # the same run again, to another prefix: the first copy is still there
    proc = _migtui("report", "--store", str(store_path), "--run", run_id, "--format", "parquet", "-o", "s3://fleet/other/")
    assert proc.returncode == 0, proc.stderr
    assert fs.get_file_info(f"{folder}/samples.parquet").size > 0


def test_missing_bucket_and_dead_endpoint(real_run: tuple[Path, str], s3_server: str, tmp_path: Path) -> None:
    store_path, run_id = real_run
    proc = _migtui("report", "--store", str(store_path), "--format", "parquet", "-o", "s3://no-such-bucket/x/")
    assert proc.returncode != 0
    assert "s3://no-such-bucket/x/: bucket 'no-such-bucket' does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _migtui("report", "--store", str(store_path), "--format", "parquet", "-o", "s3://fleet/x/",
                   env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if "s3://fleet/x/" in ln]
    assert line and "cannot reach the object store at http://127.0.0.1:9" in line[0]
    assert "testing-secret-key" not in proc.stderr
    # the store still has the run
    proc = _migtui("report", "--store", str(store_path), "--run", run_id, "--format", "json", "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr


def test_local_folder_same_layout(real_run: tuple[Path, str], tmp_path: Path) -> None:
    store_path, run_id = real_run
    proc = _migtui("report", "--store", str(store_path), "--run", run_id, "--format", "parquet",
                   "-o", f"file://{tmp_path}/lake")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "lake" / "database=report-test" / f"run={run_id}"
    assert {p.name for p in folder.iterdir()} == {f"{t}.parquet" for t in TABLES}
    table: Any = ds.dataset(tmp_path / "lake", format="parquet", partitioning="hive").to_table(
        filter=ds.field("database") == "report-test")
    assert table.num_rows > 0


def test_fleet_report_from_s3(real_run: tuple[Path, str], s3_server: str) -> None:
    """A real run exported to S3 is read back by `fleet report --from s3://...` (pyarrow.dataset on
    the S3 filesystem, DuckDB over the Arrow tables)."""
    import json

    store_path, run_id = real_run
    make_bucket("fleet")
    camp = f"camp-{run_id}"  # the S3 server outlives this test: each server's run has its own campaign
    proc = _migtui("report", "--store", str(store_path), "--run", run_id, "--format", "parquet",
                   "-o", f"s3://fleet/{camp}/")
    assert proc.returncode == 0, proc.stderr
    proc = _migtui("fleet", "report", "--from", "s3://fleet/", "--campaign", camp, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["databases"]
    assert row["database"] == "report-test" and row["run"] == run_id
    assert [p["phase"] for p in row["phases"]] == ["baseline", "migration", "post"]
    assert row["checks"] == [{"name": "orders_count", "result": "pass"}]


def test_watch_export_at_the_end_of_a_run(pg: Any, s3_server: str, tmp_path: Path) -> None:
    """`watch --export s3://...` uploads the run when it ends; a missing bucket fails before the run
    starts (nothing recorded, nothing lost)."""
    cfg = tmp_path / "w.yaml"
    cfg.write_text(f"name: orders-db\ninterval: 0.2s\nsources:\n  - type: postgres\n    name: db\n"
                   f"    dsn: \"{pg.dsn} password={SECRET}\"\n    include: [activity_summary]\n"
                   f"migration:\n  enabled: false\n")
    store = tmp_path / "w.duckdb"
    proc = _migtui("watch", "--config", str(cfg), "--store", str(store), "--headless", "--duration", "1s",
                   "--export", "s3://missing/p/")
    assert proc.returncode != 0 and "s3://missing/p/: bucket 'missing' does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr and not store.exists()
    fs = make_bucket("runs")
    proc = _migtui("watch", "--config", str(cfg), "--store", str(store), "--headless", "--duration", "1s",
                   "--export", "s3://runs/p/")
    assert proc.returncode == 0, proc.stderr
    assert "exported to s3://runs/p/database=orders-db/run=" in proc.stderr
    from pyarrow import fs as pafs

    files = [i.path for i in fs.get_file_info(pafs.FileSelector("runs/p", recursive=True)) if i.type == pafs.FileType.File]
    assert {f.rsplit("/", 1)[1] for f in files} == {f"{t}.parquet" for t in TABLES}
    assert ds.dataset([f for f in files if f.endswith("samples.parquet")], filesystem=fs).to_table().num_rows > 0
    for f in files:
        with fs.open_input_stream(f) as stream:
            assert SECRET.encode() not in stream.read()


def test_fleet_report_missing_bucket(s3_server: str) -> None:
    proc = _migtui("fleet", "report", "--from", "s3://nope/camp/", "--format", "md")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "s3://nope/camp/: bucket 'nope' does not exist" in proc.stderr


def test_run_export_to_a_local_folder(pg: Any, tmp_path: Path) -> None:
    """`migtui run --export DIR` writes the same layout through LocalFileSystem after its report."""
    cfg = tmp_path / "r.yaml"
    cfg.write_text(f"name: billing-db\ninterval: 0.2s\nsources:\n  - type: postgres\n    name: db\n"
                   f"    dsn: \"{pg.dsn}\"\n    include: [activity_summary]\n")
    proc = _migtui("run", "--config", str(cfg), "--store", str(tmp_path / "r.duckdb"), "--baseline-for", "0.5s",
                   "--post-for", "0.5s", "--report", str(tmp_path / "r.html"), "--export", str(tmp_path / "lake"),
                   "--", sys.executable, "-c", "pass")
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "lake" / "database=billing-db").iterdir()
    assert {p.name for p in folder.iterdir()} == {f"{t}.parquet" for t in TABLES}
    phases = set(ds.dataset(folder / "samples.parquet").to_table().column("phase").to_pylist())
    assert {"baseline", "migration", "post"} <= phases or {"baseline", "post"} <= phases
