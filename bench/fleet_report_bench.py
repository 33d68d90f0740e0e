"""Figure 10 'fleetreport': `migtui fleet report` over 1,000 simulated runs (bench/fleet_synth.py:
realistic Parquet partitions, 12 series x 180 ticks of 5 s = 15 minutes per run) in a local folder;
the goal is under 10 s. Also the bytes per sample on disk (all of a run's files / its samples).

With ``--s3`` the same runs are uploaded to moto's S3 server (a child process on 127.0.0.1) and read
from ``s3://``: the report's wall time, and what moto itself can serve (the same objects read by 16
threads through pyarrow.fs: objects/s and requests/s), so the report's figure can be told apart from
the server's. ``--latency-ms 50,200`` reads them once more through :mod:`bench.delay_proxy` for each
delay (a store farther away than loopback): wall time, requests and the most in flight at once.

    python -m bench.fleet_report_bench [--runs 1000] [--s3 [--latency-ms 50,200]] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fleet_synth import write_fleet


def run(ctx: Any) -> dict[str, Any]:
    """Figure 10 for ``python -m bench.run --only fleetreport`` (``--quick``: 100 runs): from a folder,
    then from moto's S3 server."""
    runs = int(ctx.scale(1000, 100))
    out = measure(runs, 3)
    try:
        out["s3"] = measure_s3(runs, 2)
    except Exception as exc:  # noqa: BLE001 - moto missing or failing: the local figure stands
        out["s3"] = {"status": f"not measured: {type(exc).__name__}: {exc}"}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--s3", action="store_true", help="read the runs from moto's S3 server on 127.0.0.1")
    ap.add_argument("--latency-ms", default="", help="with --s3: also read through a proxy adding these delays "
                                                     "to each request (comma-separated, e.g. 50,200)")
    ap.add_argument("--out", default="bench/results/fleetreport.json")
    args = ap.parse_args()
    latencies = tuple(int(x) for x in args.latency_ms.split(",") if x.strip())
    result = measure_s3(args.runs, args.repeat, latencies) if args.s3 else measure(args.runs, args.repeat)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


def measure(runs: int, repeat: int) -> dict[str, Any]:
    """Generate ``runs`` simulated runs, time ``fleet report`` over them ``repeat`` times."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        t0 = time.perf_counter()
        samples = write_fleet(root, runs)
        generated = time.perf_counter() - t0
        files = [p for p in root.rglob("*.parquet")]
        total_bytes = sum(p.stat().st_size for p in files)
        sample_bytes = sum(p.stat().st_size for p in files if p.name == "samples.parquet")
        walls = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "migtui", "fleet", "report", "--from", str(root),
                                   "--format", "json", "-o", str(Path(tmp) / "r.json")], capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            if proc.returncode:
                raise RuntimeError(f"fleet report failed: {proc.stderr.strip()[-500:]}")
        rows = json.loads((Path(tmp) / "r.json").read_text())["databases"]
    result = {
        "figure": 10, "name": "fleetreport", "runs": runs, "samples": samples, "files": len(files),
        "generate_seconds": round(generated, 2), "report_wall_seconds": [round(w, 2) for w in walls],
        "goal_seconds": 10, "met": max(walls) < 10, "databases_reported": len(rows),
        "bytes_total": total_bytes, "bytes_per_run": round(total_bytes / runs),
        "bytes_per_sample_all_files": round(total_bytes / samples, 2),
        "bytes_per_sample_samples_file": round(sample_bytes / samples, 2),
        "load_avg": os.getloadavg(), "cpus": os.cpu_count(),
    }
    return result


def _report(source: str, out: Path, env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "migtui", "fleet", "report", "--from", source, "--format", "json",
                           "-o", str(out)], capture_output=True, text=True, env=env)
    took = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"fleet report failed: {proc.stderr.strip()[-500:]}")
    return took


def _moto(port: int) -> subprocess.Popen[bytes]:
    import socket

    server = subprocess.Popen([sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("moto's server did not start")


def _raw_reads(s3: Any, paths: list[str], threads: int) -> float:
    """Seconds to read every object whole through pyarrow.fs, ``threads`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path: str) -> int:
        with s3.open_input_stream(path) as f:
            return len(f.read())

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, paths))
    return time.perf_counter() - t0


def _through_proxy(port: int, latency_ms: int, source: str, out: Path, env: dict[str, str]) -> dict[str, Any]:
    """The report read through bench.delay_proxy (``latency_ms`` added to each request) in front of moto."""
    proxy = subprocess.Popen([sys.executable, "-m", "bench.delay_proxy", str(port), str(latency_ms)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert proxy.stdin is not None and proxy.stdout is not None
        proxy_port = int(proxy.stdout.readline())
        wall = _report(source, out, dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy_port}"))
        proxy.stdin.write("\n")
        proxy.stdin.flush()
        counts = json.loads(proxy.stdout.readline())
    finally:
        proxy.kill()
        proxy.wait(10)
    return {"latency_ms": latency_ms, "report_wall_seconds": round(wall, 2), **counts}


def measure_s3(runs: int, repeat: int, latencies_ms: tuple[int, ...] = ()) -> dict[str, Any]:
    """``runs`` simulated runs uploaded to moto's S3 server; ``fleet report --from s3://`` timed (and
    once more through a proxy adding each of ``latencies_ms`` to every request)."""
    import socket

    from pyarrow import fs

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret")
    env.pop("AWS_DEFAULT_REGION", None)
    server = _moto(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "lake"
            samples = write_fleet(root, runs)
            files = sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet"))
            s3 = fs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
                                 access_key="bench", secret_key="bench-secret", allow_bucket_creation=True)
            s3.create_dir("fleet")
            t0 = time.perf_counter()
            fs.copy_files(str(root), "fleet/campaign", source_filesystem=fs.LocalFileSystem(),
                          destination_filesystem=s3, use_threads=True)
            uploaded = time.perf_counter() - t0
            paths = [f"fleet/campaign/{f}" for f in files]
            raw_1 = _raw_reads(s3, paths[:500], 1)
            raw_16 = _raw_reads(s3, paths, 16)
            walls = [_report("s3://fleet/campaign/", Path(tmp) / "r.json", env) for _ in range(repeat)]
            rows = json.loads((Path(tmp) / "r.json").read_text())["databases"]
            far = [_through_proxy(port, ms, "s3://fleet/campaign/", Path(tmp) / "far.json", env) for ms in latencies_ms]
            local = _report(str(root), Path(tmp) / "local.json")
    finally:
        server.terminate()
        server.wait(10)
    return {
        "figure": "10b", "name": "fleetreport-s3", "server": "moto (python -m moto.server) on 127.0.0.1",
        "runs": runs, "samples": samples, "objects": len(files), "upload_seconds": round(uploaded, 2),
        "moto_whole_object_reads_per_s_1_thread": round(500 / raw_1, 1),
        "moto_whole_object_reads_per_s_16_threads": round(len(paths) / raw_16, 1),
        "moto_read_all_objects_seconds_16_threads": round(raw_16, 2),
        "report_wall_seconds": [round(w, 2) for w in walls], "same_runs_local_folder_seconds": round(local, 2),
        "with_latency": far,
        "goal_seconds": 10, "met": max(walls) < 10, "databases_reported": len(rows),
        "load_avg": os.getloadavg(), "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    main()
