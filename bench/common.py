"""Shared helpers: machine description, process CPU/RSS sampling, result records."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


class NotMeasured(Exception):
    """Raised by a benchmark when a part it needs is missing; recorded as ``not measured: <reason>``."""


def not_measured(reason: str) -> dict[str, Any]:
    return {"status": f"not measured: {reason}"}


@dataclass
class Context:
    quick: bool = False
    workdir: Path = field(default_factory=lambda: Path("/tmp"))
    log: Any = print
    note: str = ""
    """Kept with every figure measured in this run (e.g. the host was shared)."""

    def scale(self, full: float, quick: float) -> float:
        return quick if self.quick else full


def venv_bin(name: str) -> str | None:
    """A console script next to this interpreter (the venv), else on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    return shutil.which(name)


def module_available(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return False
        raise


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions: dict[str, Any] = {"python": platform.python_version()}
    for mod in ("duckdb", "textual", "psycopg", "pyarrow"):
        try:
            versions[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    try:
        from migtui import __version__

        versions["migtui"] = __version__
    except Exception:  # noqa: BLE001
        pass
    try:
        from migtui.embedded import _bin_dir

        out = subprocess.run([str(_bin_dir() / "postgres"), "--version"], capture_output=True, text=True, timeout=10)
        versions["postgresql"] = out.stdout.strip()
    except Exception:  # noqa: BLE001
        versions["postgresql"] = None
    pga = venv_bin("pg_activity")
    if pga:
        try:
            out = subprocess.run([pga, "--version"], capture_output=True, text=True, timeout=10)
            versions["pg_activity"] = out.stdout.strip().split()[-1]
        except Exception:  # noqa: BLE001
            versions["pg_activity"] = None
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5).stdout.strip()
    except Exception:  # noqa: BLE001
        rev = ""
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "git_commit": rev,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


# ------------------------------------------------------------------ process accounting

_CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """utime+stime of a process (and, with ``children``, of its live descendants) from /proc."""
    pids = [pid] + (descendants(pid) if children else [])
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _CLK
    return total


def descendants(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:  # noqa: BLE001
        return []


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS = VmHWM) in MiB from /proc/<pid>/status."""
    cur = peak = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return cur, peak


def self_rss_mib() -> float:
    return rss_mib(os.getpid())[0]


def pctl(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    vs = sorted(values)
    if len(vs) == 1:
        return vs[0]
    k = (len(vs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(vs) - 1)
    return vs[lo] + (vs[hi] - vs[lo]) * (k - lo)


def summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "p50_ms": round(pctl(ms, 0.5), 2), "p95_ms": round(pctl(ms, 0.95), 2),
            "max_ms": round(max(ms), 2) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan")}


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    t = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - t)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b:
        return None
    return round(a / b, 3)
