"""The store's disk is still full when the watch ends: the command fails, says how many samples were
not stored and where they were kept, and the next open of the store imports them (the run is then
``incomplete``, and every sample the watch collected is in the store). Real tmpfs, real subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from migtui.store import Store
from tests.conftest import migtui_cmd
from tests.faults.test_store_faults import _fill, small_disk  # noqa: F401 - the fixture
from tests.servers.stuck_plugin import install

CONFIG = """
name: fills-up
interval: 0.2s
sources:
  - {type: counter, name: ticks}
"""


def test_a_store_still_full_at_exit_fails_the_command_and_loses_nothing(tmp_path: Path, cli_env: dict[str, str],
                                                                       small_disk: Path,  # noqa: F811
                                                                       xdg_runtime: Path) -> None:
    env = install(tmp_path / "site", {**cli_env, "XDG_RUNTIME_DIR": str(xdg_runtime)})
    cfg = tmp_path / "fill.yaml"
    cfg.write_text(CONFIG)
    store_path = small_disk / "run.duckdb"
    proc = subprocess.Popen(migtui_cmd() + ["watch", "--config", str(cfg), "--headless", "--store", str(store_path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        lines = iter(proc.stdout)
        for _ in range(3):
            next(lines)
        _fill(small_disk / "filler")  # and it stays full until the watch has ended
        for line in lines:  # until a write has failed, and ten ticks more
            if "No space left on device" in line:
                break
        for _ in range(10):
            next(lines)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, err
    m = re.search(r"run (\S+) is incomplete: (\d+) samples.* were not stored \((.*No space left on device.*)\); "
                  r"kept in (\S+); the next open of the store imports them", err)
    assert m, err
    run_id, unstored, kept = m.group(1), int(m.group(2)), Path(m.group(4))
    assert unstored >= 10 and kept.exists()
    assert "stored in" not in err

    runs = subprocess.run(migtui_cmd() + ["runs", "--store", str(store_path)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert f"{kept} holds what an incomplete run could not store" in runs.stderr, runs.stderr

    (small_disk / "filler").unlink()
    store = Store.open(store_path)
    try:
        assert [(p, n) for p, n in store.imported] == [(kept, unstored)]
        [run] = store.runs()
        assert run["run_id"] == run_id and run["status"] == "incomplete"
        values = [v for (v,) in store.cursor().execute("SELECT value FROM samples ORDER BY ts").fetchall()]
        assert values == [float(i) for i in range(1, len(values) + 1)], "samples are missing"
        assert any("incomplete" in e.message for e in store.events(run_id) if e.kind == "run")
    finally:
        store.close()
    assert not kept.exists()
    assert os.listdir(small_disk) == ["run.duckdb"]
