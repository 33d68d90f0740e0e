"""Figure 10 'fleetreport': `migtui fleet report` over 1,000 simulated runs (bench/fleet_synth.py:
realistic Parquet partitions, 12 series x 180 ticks of 5 s = 15 minutes per run) in a local folder;
the goal is under 10 s. Also the bytes per sample on disk (all of a run's files / its samples).

    python -m bench.fleet_report_bench [--runs 1000] [--out bench/results/fleetreport.json]
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
    """Figure 10 for ``python -m bench.run --only fleetreport`` (``--quick``: 100 runs)."""
    return measure(int(ctx.scale(1000, 100)), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="bench/results/fleetreport.json")
    args = ap.parse_args()
    result = measure(args.runs, args.repeat)
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


if __name__ == "__main__":
    main()
