"""Figure 3: samples/s through Store.add_samples + flush in tick-shaped batches, bytes per sample.

The engine calls ``add_samples`` then ``flush`` once per tick; this drives the same two calls back to
back with synthetic ticks of ``series`` samples (Sample objects are made outside the timed part).
``bulk`` repeats it with ten ticks per flush, to show how much of a tick is DuckDB's fixed cost per
statement and commit. Bytes on disk: file size after CHECKPOINT divided by the samples stored. Besides wall-clock
samples/s, ``samples_per_cpu_s`` divides by the process's CPU time (all threads), which other load on
a shared machine inflates less.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.common import Context
from bench.synth import SyntheticSeries

GOAL_RATE = 500_000
GOAL_BYTES = 16.0


def measure(path: Path, *, series: int = 500, ticks: int = 2000, ticks_per_flush: int = 1) -> dict[str, Any]:
    from migtui.store import Store

    store = Store.open(path)
    try:
        run = store.create_run("bench-store")
        gen = SyntheticSeries(series)
        t0 = 1_790_000_000.0
        batches = [gen.tick(t0 + k) for k in range(min(ticks, 200))]  # reuse a pool: generation is not timed
        add_s = flush_s = 0.0
        n = 0
        cpu0 = time.process_time()
        for k in range(ticks):
            samples = batches[k % len(batches)]
            if k >= len(batches):  # fresh timestamps, same objects' values
                samples = [s.__class__(t0 + k, s.source, s.metric, s.value, s.labels) for s in samples]
            a = time.perf_counter()
            store.add_samples(run, "baseline", samples)
            b = time.perf_counter()
            if (k + 1) % ticks_per_flush == 0:
                store.flush()
            c = time.perf_counter()
            add_s += b - a
            flush_s += c - b
            n += len(samples)
        a = time.perf_counter()
        store.flush()
        flush_s += time.perf_counter() - a
        cpu = time.process_time() - cpu0  # all threads of this process, DuckDB's included
        store.con.execute("CHECKPOINT")
        stored = store.con.execute("SELECT count(*) FROM samples").fetchone()[0]
    finally:
        store.close()
    size = os.path.getsize(path)
    wal = Path(str(path) + ".wal")
    if wal.exists():
        size += os.path.getsize(wal)
    total = add_s + flush_s
    return {
        "series_per_tick": series, "ticks": ticks, "ticks_per_flush": ticks_per_flush, "samples": n,
        "stored": int(stored),
        "samples_per_s": round(n / total) if total else None,
        "add_samples_per_s": round(n / add_s) if add_s else None,
        "flush_samples_per_s": round(n / flush_s) if flush_s else None,
        "ms_per_tick": round(total / ticks * 1000, 3),
        "samples_per_cpu_s": round(n / cpu) if cpu else None,
        "file_bytes": size,
        "bytes_per_sample": round(size / stored, 2) if stored else None,
    }


def run(ctx: Context) -> dict[str, Any]:
    ticks = int(ctx.scale(4000, 600))
    d = ctx.workdir / "store"
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob("*"):
        f.unlink()
    tick = measure(d / "tick.duckdb", series=500, ticks=ticks, ticks_per_flush=1)
    bulk = measure(d / "bulk.duckdb", series=500, ticks=ticks, ticks_per_flush=10)
    rate, bps = tick["samples_per_s"], tick["bytes_per_sample"]
    return {
        "tick_shaped": tick,
        "bulk_10_ticks_per_flush": bulk,
        "samples_per_s": rate,
        "bytes_per_sample": bps,
        "goal": f">= {GOAL_RATE:,} samples/s and <= {GOAL_BYTES:g} bytes/sample",
        "met_rate": bool(rate and rate >= GOAL_RATE),
        "met_bytes": bool(bps and bps <= GOAL_BYTES),
        "value_mix": "40% integer gauges, 20% counters, 20% mostly-zero, 20% full-precision floats",
    }
