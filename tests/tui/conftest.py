"""Fixtures for the cockpit tests: engines over a real PostgreSQL (with shell actions) and over the
in-process ``fixed`` test source (snapshots)."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

PY = sys.executable
ACTIONS = f"""\
actions:
  pause:
    - {{type: shell, name: pause-script, command: ["{PY}", -c, "print('paused now')"]}}
  resume:
    - {{type: shell, name: resume-script, command: ["{PY}", -c, "print('resumed now')"]}}
  rollback:
    - {{type: shell, name: downgrade, command: ["{PY}", -c, "print('rolled back')"]}}
"""


def pg_config(dsn: str, *, actions: bool = True, extra: str = "", interval: str = "500ms") -> str:
    return textwrap.dedent(f"""\
        name: tui-test
        interval: {interval}
        sources:
          - type: postgres
            name: db
            dsn: "{dsn}"
            intervals: {{blocking_tree: 500ms, lock_waits: 500ms, long_running: 500ms, idle_in_transaction: 500ms}}
            params: {{min_seconds: 0}}
        """) + (ACTIONS if actions else "") + extra


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``pg_engine(config_text)``: an Engine over a temp config and store (closed after the test)."""
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store

    engines: list[Any] = []

    def make(text: str) -> Any:
        path = tmp_path / f"cockpit{len(engines)}.yaml"
        path.write_text(text)
        store = Store.open(tmp_path / f"cockpit{len(engines)}.duckdb")
        engine = Engine(load_config(path), store=store, headless=False)
        engines.append(engine)
        return engine

    try:
        yield make
    finally:
        for e in engines:
            e.close()


async def wait_for(pilot: Any, cond: Callable[[], Any], *, timeout: float = 60.0, what: str = "") -> Any:
    """Let the app run until ``cond()`` is truthy (fails with ``what`` after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await pilot.pause(0.05)


def log_text(app: Any) -> str:
    from migtui.tui.widgets import EventLog

    return "\n".join(app.query_one(EventLog).lines_text)


def rendered(widget: Any) -> str:
    """The plain text a Static-like widget currently shows."""
    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=max(40, widget.size.width or 120), record=True, color_system=None)
    with console.capture() as cap:
        console.print(content)
    return cap.get()
