"""When the cockpit stops on an error, the run goes on headless (see :func:`outlive_the_cockpit`)."""

from __future__ import annotations

from typing import Any

from migtui.model import Event, Level


def outlive_the_cockpit(engine: Any, error: BaseException | None) -> None:
    """The cockpit crashed but the engine did not: say so (an ``error`` event, so the store has it),
    keep the engine running with the headless printer, and wait for Ctrl-C, SIGTERM or SIGHUP. A
    ``pg_pause`` holds its lock until then; the exit that follows releases it and records that."""
    import signal
    import sys
    import threading

    from migtui.headless import HeadlessPrinter
    from migtui.safetext import one_line

    what = one_line(f"{type(error).__name__}: {error}" if error is not None else "unknown error", 300)
    engine.emit(Event("error", "cockpit", f"the cockpit stopped on an error ({what}); the engine, its triggers "
                      "and any pause in force keep running headless until Ctrl-C", Level.ERROR,
                      {"error": what, "front_end": "headless"}))
    print(f"\nmigtui: the cockpit stopped on an error ({what}).\nThe run goes on headless: triggers, actions and "
          "every pause in force stay. Ctrl-C (or SIGTERM) ends the run; a pg_pause ends with it.\n",
          file=sys.stderr, flush=True)
    HeadlessPrinter(engine, status_every=10.0)
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        engine.emit(Event("note", "cockpit", f"{signal.Signals(signum).name} received: closing the run",
                          Level.WARN, {"signal": signal.Signals(signum).name}))
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    while not stop.is_set() and engine.running:
        stop.wait(0.5)
