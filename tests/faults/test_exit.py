"""Exit never waits on a plugin: a collector stuck in a call (and in its close) does not keep the
process alive after the run ends, after one SIGTERM, or after Ctrl-C; the exit names the plugins that
were still busy. The plugin is a real entry point (tests/servers/stuck_plugin.py)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from migtui.store import Store
from tests.conftest import migtui_cmd
from tests.servers.stuck_plugin import install

CONFIG = """
name: stuck
interval: 0.2s
sources:
  - {type: stuck, name: hung-api}
  - {type: counter, name: ticks}
"""


@pytest.fixture
def stuck_env(tmp_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    return install(tmp_path / "site", cli_env)


def _watch(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    cfg = tmp_path / "stuck.yaml"
    cfg.write_text(CONFIG)
    return subprocess.Popen(migtui_cmd() + ["watch", "--config", str(cfg), "--headless", "--store",
                                            str(tmp_path / "run.duckdb"), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ended(proc: subprocess.Popen[str], what: str) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{what}: the process was still alive a minute later (waiting on the stuck plugin)\n{err[-2000:]}")


def _finished(tmp_path: Path) -> dict[str, Any]:
    s = Store.open(tmp_path / "run.duckdb", read_only=True)
    try:
        [run] = s.runs()
        return run
    finally:
        s.close()


def test_the_run_ends_and_the_process_exits_although_a_collector_never_returns(tmp_path: Path,
                                                                              stuck_env: dict[str, str]) -> None:
    out, err = _ended(_watch(tmp_path, stuck_env, "--duration", "2s"), "--duration 2s")
    assert "hung-api" in err and "still busy" in err, err
    run = _finished(tmp_path)
    assert run["status"] == "finished" and run["samples"] > 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_one_signal_ends_a_watch_whose_collector_is_stuck(tmp_path: Path, stuck_env: dict[str, str], sig: int) -> None:
    proc = _watch(tmp_path, stuck_env)
    assert proc.stdout is not None
    for line in proc.stdout:  # the status line of a tick: the stuck collector has been called
        if "hung-api" in line:
            break
    proc.send_signal(sig)
    out, err = _ended(proc, f"one {signal.Signals(sig).name}")
    assert "hung-api" in err and "still busy" in err, err
    assert _finished(tmp_path)["status"] == "finished"


@pytest.mark.parametrize("how", ["q", "SIGTERM"])
def test_q_or_sigterm_ends_the_cockpit_and_names_the_stuck_plugin(tmp_path: Path, stuck_env: dict[str, str],
                                                                  how: str) -> None:
    import shlex
    import shutil

    from tests.tui.test_tmux import Tmux

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    cfg = tmp_path / "stuck.yaml"
    cfg.write_text(CONFIG)
    env = " ".join(f"{k}={shlex.quote(stuck_env[k])}" for k in ("PYTHONPATH", "PATH") if k in stuck_env)
    cmd = " ".join(shlex.quote(a) for a in migtui_cmd() + ["watch", "--config", str(cfg), "--store",
                                                           str(tmp_path / "run.duckdb")])
    tmux = Tmux("stuck")
    try:
        tmux.start(f"env {env} TERM=xterm-256color {cmd}; echo EXITED $?; sleep 600", 100, 30)
        tmux.wait_for("hung-api", "ticks")
        if how == "q":
            tmux.keys("q")
        else:  # the pane runs sh -c "...": its child is migtui
            shell = tmux.run("display-message", "-p", "-t", tmux.name, "#{pane_pid}").strip()
            [pid] = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
            os.kill(int(pid), signal.SIGTERM)
        screen = tmux.wait_for("EXITED")
        assert "still busy at exit" in screen and "hung-api" in screen, screen
    finally:
        tmux.kill()
    assert _finished(tmp_path)["status"] == "finished"


def test_closing_does_not_wait_for_an_action_stuck_in_its_call(make_engine: Any) -> None:
    import threading

    from migtui.plugins import PluginHost
    from tests.servers import stuck_plugin

    engine = make_engine(CONFIG.replace("  - {type: stuck, name: hung-api}\n", "") + """
actions:
  pause:
    - {type: stuck, name: hung-pause}
""", host=PluginHost(extra_plugins=[("stuck", stuck_plugin)]))
    engine.start()
    engine.pause(who="test")  # its Future never completes: the action is stuck in run()
    closed = threading.Event()
    threading.Thread(target=lambda: (engine.close(), closed.set()), daemon=True).start()
    assert closed.wait(60), "closing the engine waited on the stuck action"
    assert engine.busy_at_exit == ["hung-pause (stuck)"]
