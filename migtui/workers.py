"""Worker threads that exit never waits on.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, so one plugin
call that never returns (a hung socket, a deadlock) kept migtui alive after the run had closed, and a
SIGTERM could not end it. :class:`DaemonExecutor` has the same ``submit`` / ``shutdown`` and daemon
threads that nobody joins: when migtui is done, the process ends, whatever a plugin is still doing.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable


class DaemonExecutor:
    """``submit(fn, *args)`` -> Future, on at most ``max_workers`` daemon threads (started on demand)."""

    def __init__(self, max_workers: int = 1, thread_name_prefix: str = "migtui-worker") -> None:
        self._max = max_workers
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None] = \
            queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((fut, fn, args, kwargs))
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self._max:
                t = threading.Thread(target=self._work, name=f"{self._prefix}_{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
        return fut

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args, kwargs = item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                    fut.set_exception(exc)
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = False) -> None:
        """Refuse new work; with ``cancel_futures`` drop what has not started. Never waits on a running
        call unless ``wait`` (and then only for the threads to finish their current call)."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for t in threads:
                t.join()


def in_background(fn: Callable[[], Any], name: str) -> threading.Event:
    """Run ``fn`` in a daemon thread; the returned event is set when it has ended (exceptions are
    ignored: a failing close is the plugin's business). Exit does not wait for it."""
    done = threading.Event()

    def target() -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001
            pass
        finally:
            done.set()

    threading.Thread(target=target, name=name, daemon=True).start()
    return done
