"""The real ``migtui watch`` in a real terminal: tmux runs it, keys go in with ``send-keys``, the
screen comes back with ``capture-pane -p``. Once with TERM=xterm-256color, once with TERM=screen."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from migtui.store import Store
from tests.conftest import migtui_cmd
from tests.tui.conftest import pg_config

TMUX = shutil.which("tmux")

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed; the real-terminal test needs it "
                                            "(apt-get install tmux)"),
]


class Tmux:
    """One private tmux server (its own socket) running one session."""

    def __init__(self, name: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mt-tmux-"))  # short: socket paths are limited
        self.sock = str(self.dir / "s")
        self.name = name

    def run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run([TMUX, "-S", self.sock, *args], capture_output=True, text=True, timeout=20)
        if check and out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def start(self, command: str, width: int, height: int) -> None:
        self.run("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), command)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, *texts: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{texts} not on the screen after {timeout:.0f}s; the screen was:\n{screen}")

    def wait_for_re(self, pattern: str, timeout: float = 60.0) -> str:
        import re

        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"/{pattern}/ not on the screen after {timeout:.0f}s; the screen was:\n{screen}")

    def kill(self) -> None:
        subprocess.run([TMUX, "-S", self.sock, "kill-server"], capture_output=True, timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.mark.parametrize("term", ["xterm-256color", "screen"])
def test_watch_cockpit_in_tmux(pg, tmp_path: Path, term: str) -> None:
    cfg = tmp_path / "watch.yaml"
    cfg.write_text(pg_config(pg.dsn, interval="1s"))
    store = tmp_path / "run.duckdb"
    watch = " ".join(shlex.quote(a) for a in [*migtui_cmd(), "watch", "--config", str(cfg), "--store", str(store)])
    # pytest exports COLUMNS/LINES: the cockpit must drop them or Textual would ignore the resize below
    command = f"env TERM={term} {watch}; echo MIGTUI-EXIT=$?; sleep 60"
    tmux = Tmux(f"migtui-{term}")
    try:
        tmux.start(command, 80, 24)
        tmux.wait_for("tui-test", "BASELINE", "1 Schema", "2 Data", "lock waiters", "Events")
        tmux.wait_for_re(r"db (PG\d+ )?ok")  # the header: server (version) and connection state
        screen = tmux.wait_for("run tui-test: run ", "started in")  # the event log
        print(f"--- TERM={term} 80x24 ---\n{screen}")
        tmux.keys("m")
        tmux.wait_for("MIGRATION", "phase migration:")
        tmux.keys("2")
        tmux.wait_for("commits/s", "rollback ratio")
        tmux.keys("1")
        tmux.wait_for("lock waiters")
        tmux.keys("r")
        tmux.wait_for("ROLL BACK run 'tui-test'", "downgrade")
        tmux.keys("Escape")
        tmux.wait_for("rollback cancelled")
        tmux.run("set-option", "-t", tmux.name, "window-size", "manual")  # no client attached: size is ours
        tmux.run("resize-window", "-t", tmux.name, "-x", "200", "-y", "50")
        assert tmux.run("display", "-p", "-t", tmux.name, "#{pane_width}x#{pane_height}").strip() == "200x50"
        # the wide layout: triggers and events move to a column on the right
        screen = tmux.wait_for_re(r"(?m)^.{100,}Triggers")
        assert "Blocking tree" in screen and "Long-running statements" in screen and "Events" in screen, screen
        print(f"--- TERM={term} 200x50 ---\n{screen}")
        tmux.keys("q")
        tmux.wait_for("A migration is running. Quit the cockpit?")
        tmux.keys("y")
        tmux.wait_for("MIGTUI-EXIT=0")
    finally:
        tmux.kill()
    s = Store.open(store, read_only=True)
    try:
        [run] = s.runs()
        assert run["status"] == "finished" and run["samples"] > 0
        phases = [e.data.get("to") for e in s.events(run["run_id"], kinds=["phase"])]
        assert "migration" in phases
    finally:
        s.close()


def test_sigterm_and_a_dropped_ssh_session_close_the_run(pg, tmp_path: Path) -> None:
    """SIGHUP (the SSH connection dropped) and SIGTERM end the cockpit cleanly: the run is finished."""
    import os
    import signal

    cfg = tmp_path / "watch.yaml"
    cfg.write_text(pg_config(pg.dsn, actions=False, interval="1s"))
    for sig in (signal.SIGHUP, signal.SIGTERM):
        store = tmp_path / f"run-{sig.name}.duckdb"
        watch = " ".join(shlex.quote(a) for a in [*migtui_cmd(), "watch", "--config", str(cfg), "--store", str(store)])
        tmux = Tmux(f"migtui-{sig.name}")
        try:
            tmux.start(f"env -u COLUMNS -u LINES TERM=xterm-256color {watch}; echo MIGTUI-EXIT=$?; sleep 60", 80, 24)
            tmux.wait_for("tui-test", "lock waiters")
            shell = int(tmux.run("display", "-p", "-t", tmux.name, "#{pane_pid}").strip())
            child = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout.split()
            assert child, "the migtui process under the pane's shell"
            os.kill(int(child[0]), sig)
            tmux.wait_for("MIGTUI-EXIT=")
        finally:
            tmux.kill()
        s = Store.open(store, read_only=True)
        try:
            [run] = s.runs()
            assert run["status"] == "finished", (sig.name, run)
            notes = [e.message for e in s.events(run["run_id"], kinds=["note"])]
            assert any(f"{sig.name} received" in m for m in notes), notes
        finally:
            s.close()
