"""Figure 8: throttle reaction on a real backfill.

A real engine watches a freno-style HTTP endpoint on 127.0.0.1 (an ``http_probe`` source polled
every 100 ms; any non-200 throttles) with one ``throttle`` trigger, and pauses through ``pg_pause``
(the cooperative advisory lock). A real batched backfill on an embedded PostgreSQL calls
``wait_if_paused(poll=10 ms)`` before every batch. The benchmark flips the endpoint at a known
moment, at a different point inside the poll interval on every trial:

- throttle -> held: from the endpoint starting to answer 429 to the backfill's next batch being
  held (``wait_if_paused`` sees the pause);
- clear -> runs: from the endpoint answering 200 again plus ``resume_after`` to the backfill's next
  batch running.

Goal for both: <= one poll interval + 100 ms (200 ms at a 100 ms poll).
"""

from __future__ import annotations

import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import Context, NotMeasured, summary_ms

POLL = 0.1
RESUME_AFTER = 0.5
KEY = 0x7468726F74  # "throt"


class _Gate:
    status = 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"ok\n" if _Gate.status == 200 else b"throttled\n"
        self.send_response(_Gate.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Backfill(threading.Thread):
    """Batches of 20 rows; records when each batch runs and when it first waits on a pause."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True, name="bench-backfill")
        self.dsn = dsn
        self.stop = threading.Event()
        self.batches: list[float] = []
        self.held: list[float] = []
        self._waiting = False
        self.error: BaseException | None = None

    def _on_wait(self, waited: float) -> None:
        if not self._waiting:
            self._waiting = True
            self.held.append(time.perf_counter())

    def run(self) -> None:
        import psycopg

        from migtui_postgres.pause import wait_if_paused

        try:
            with psycopg.connect(self.dsn, application_name="bench-backfill") as conn:
                while not self.stop.is_set():
                    wait_if_paused(conn, KEY, poll=0.01, on_wait=self._on_wait)
                    self._waiting = False
                    self.batches.append(time.perf_counter())
                    conn.execute("UPDATE bench_backfill SET v = v + 1 WHERE id IN "
                                 "(SELECT id FROM bench_backfill ORDER BY random() LIMIT 20)")
                    conn.commit()
                    time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001
            self.error = exc


def _wait(cond: Any, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if cond():
            return True
        time.sleep(0.001)
    return False


def run(ctx: Context) -> dict[str, Any]:
    try:
        from migtui.embedded import EmbeddedPostgres
    except Exception as exc:  # noqa: BLE001
        raise NotMeasured(f"migtui.embedded is unavailable: {exc}") from None
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store

    d = ctx.workdir / "throttle"
    import shutil

    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    pg = EmbeddedPostgres(d / "pg").start()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/check"
    pg.psql("CREATE TABLE bench_backfill (id int PRIMARY KEY, v int NOT NULL DEFAULT 0); "
            "INSERT INTO bench_backfill (id) SELECT g FROM generate_series(1, 10000) g")
    cfg_path = d / "throttle.yaml"
    cfg_path.write_text(textwrap.dedent(f"""
        name: bench-throttle
        interval: 1s
        sources:
          - {{type: http_probe, name: freno, interval: {POLL}s, timeout: 1s, probes: {{gate: "{url}"}}}}
        actions:
          pause: [{{type: pg_pause, key: {KEY}, dsn: "{pg.dsn}"}}]
        triggers:
          - {{name: gate, source: freno, metric: probe.up, below: 1, action: throttle, resume_after: {RESUME_AFTER}s}}
    """))
    engine = Engine(load_config(cfg_path), store=Store.open(d / "throttle.duckdb"), phase="migration", headless=True)
    backfill = _Backfill(pg.dsn)
    trials = int(ctx.scale(20, 6))
    to_held, to_runs, misses = [], [], 0
    try:
        engine.start()
        backfill.start()
        if not _wait(lambda: len(backfill.batches) > 5, 30):
            raise NotMeasured(f"the backfill did not run: {backfill.error}")
        for i in range(trials):
            time.sleep(POLL * ((i * 0.37) % 1.0) + 0.05)
            n_held = len(backfill.held)
            _Gate.status, flipped = 429, time.perf_counter()
            if not _wait(lambda: len(backfill.held) > n_held, 5):
                misses += 1
                _Gate.status = 200
                time.sleep(RESUME_AFTER + 1)
                continue
            to_held.append(backfill.held[n_held] - flipped)
            time.sleep(POLL * ((i * 0.61) % 1.0) + 0.05)
            n_batches = len(backfill.batches)
            _Gate.status, cleared = 200, time.perf_counter()
            if not _wait(lambda: len(backfill.batches) > n_batches, RESUME_AFTER + 5):
                misses += 1
                continue
            to_runs.append(backfill.batches[n_batches] - cleared - RESUME_AFTER)
            time.sleep(0.2)
    finally:
        backfill.stop.set()
        _Gate.status = 200
        engine.close()
        backfill.join(5)
        httpd.shutdown()
        pg.stop()
        pg.cleanup()
    if not to_held or not to_runs:
        raise NotMeasured(f"no throttle completed in {trials} trials")
    goal = (POLL + 0.100) * 1000
    return {
        "poll_interval_s": POLL,
        "resume_after_s": RESUME_AFTER,
        "trials": trials,
        "missed_trials": misses,
        "throttle_to_held": summary_ms(to_held),
        "clear_plus_resume_after_to_runs": summary_ms(to_runs),
        "goal": f"max <= one poll interval + 100 ms ({goal:.0f} ms)",
        "goal_met": max(to_held) * 1000 <= goal and max(to_runs) * 1000 <= goal,
    }
