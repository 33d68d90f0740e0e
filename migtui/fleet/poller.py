"""Polling every target's ``/status`` off the UI loop: one thread with its own asyncio loop and one
``httpx.AsyncHTTPTransport`` per target (one kept-alive connection each, one prepared request).

- Each round (every ``interval``) starts a fetch for every target whose previous fetch has ended
  (polls of one target never overlap); at most ``concurrency`` requests are in flight at once.
- Each request has a total deadline (connect, headers and body together, ``timeout``) and a body cap:
  a target that hangs or trickles becomes ``timeout after 1.5s`` on its own row; the others' rows are
  updated as each of their answers arrives, not at the end of the round.
- The latest :class:`TargetState` of every target is read with :meth:`FleetPoller.snapshot` (a copy
  under a lock, with a version that changes when any row does), from any thread; ``on_change`` (set
  by the cockpit) is called on the poller thread after each change, so a view redraws when there is
  news instead of polling for it.
- The targets can change while it runs (:meth:`FleetPoller.set_targets`, from any thread: what a
  Kubernetes label selector finds in a rollout): a new target's row appears at once (waiting), a gone
  one's row leaves at once, and the connections follow at the start of the next round.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import httpx

from migtui.fleet.status import Status, parse_status
from migtui.fleet.targets import Target

MAX_BODY = 1 << 20
"""A /status or /metrics body larger than this is an error of that target (never read whole)."""


@dataclass(frozen=True)
class TargetState:
    target: Target
    status: Status | None = None
    """The last status read (kept while the target is unreachable: shown with its age)."""
    error: str | None = None
    """Why the last fetch failed (outside text: render through safetext); None when it worked."""
    fetched_at: float | None = None
    """Wall-clock time of the last good fetch."""
    attempts: int = 0
    latency: float | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None and self.status is not None


class FetchError(Exception):
    """One line saying why a target could not be read."""


async def fetch_body(transport: httpx.AsyncHTTPTransport, request: httpx.Request, timeout: float) -> bytes:
    """Send ``request`` within ``timeout`` seconds in all (connect + headers + body), at most MAX_BODY bytes.

    Straight to httpx's transport (the client's redirect, auth and cookie layers cost ~30% of the CPU
    of a fleet poll and are not wanted here)."""
    try:
        async with asyncio.timeout(timeout):
            resp = await transport.handle_async_request(request)
            try:
                if resp.status_code != 200:
                    raise FetchError(f"HTTP {resp.status_code}{await _why(resp)}")
                chunks, size = [], 0
                async for chunk in resp.stream:  # type: ignore[union-attr]
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise FetchError(f"body larger than {MAX_BODY} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                await resp.aclose()
    except TimeoutError:
        raise FetchError(f"timeout after {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"unreachable: {type(exc).__name__}: {exc}".rstrip(": ")) from None


async def _why(resp: httpx.Response) -> str:
    """``": <error>"`` from a JSON error body (a watch's 503 before its first frame says why), else ``""``."""
    body = b""
    async for chunk in resp.stream:  # type: ignore[union-attr]
        body += chunk
        if len(body) > 4096:
            return ""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    return f": {error}" if isinstance(error, str) and error else ""


class FleetPoller:
    def __init__(self, targets: Sequence[Target], *, interval: float = 2.0, timeout: float = 1.5,
                 concurrency: int = 32, env: Mapping[str, str] | None = None) -> None:
        self.targets = list(targets)
        self._wanted: list[Target] | None = None
        """Targets set by :meth:`set_targets`, taken by the loop at the start of its next round."""
        self.interval, self.timeout, self.concurrency = interval, min(timeout, interval), concurrency
        self.env = env
        self._states = {t.name: TargetState(t) for t in self.targets}
        self._lock = threading.Lock()
        self._version = 0
        self.rounds: deque[float] = deque(maxlen=1000)
        """Seconds from each finished round's start to its last answer (or deadline)."""
        self.round_log: deque[tuple[float, float, int]] = deque(maxlen=1000)
        """Each finished round's (start, end) on ``time.monotonic()`` and the snapshot version at its end
        (a view that has drawn that version shows every answer of the round)."""
        self.round_count = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._transports: dict[str, httpx.AsyncHTTPTransport] = {}
        self._retired: list[tuple[str, httpx.AsyncHTTPTransport]] = []
        self._in_flight: set[str] = set()
        self._requests: dict[str, httpx.Request] = {}
        self._tls: ssl.SSLContext | None = None
        self._ready = threading.Event()
        self.on_round: Callable[["FleetPoller", float], None] | None = None
        """Called on the poller thread after each round with its duration (the headless printer)."""
        self.on_change: Callable[[], None] | None = None
        """Called after any target's state changed, on the thread that changed it (cheap and thread-safe)."""

    # ------------------------------------------------------------------ read from any thread
    def snapshot(self) -> tuple[int, dict[str, TargetState]]:
        with self._lock:
            return self._version, dict(self._states)

    @property
    def version(self) -> int:
        return self._version

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def set_targets(self, targets: Sequence[Target]) -> None:
        """Poll ``targets`` from now on (any thread). Rows of new targets appear (waiting) and rows of
        targets no longer listed leave the snapshot now; a target whose URL changed starts afresh."""
        targets = list(targets)
        with self._lock:
            old = self._states
            self._states = {t.name: old[t.name] if t.name in old and old[t.name].target == t else TargetState(t)
                            for t in targets}
            self._wanted = targets
            self._version += 1
            if self._loop is None:  # not running yet: nothing to open or close
                self.targets, self._wanted = targets, None
        self._changed()

    async def _sync_targets(self) -> None:
        """On the loop: open a transport for each new target, close those of targets gone or changed."""
        with self._lock:
            wanted, self._wanted = self._wanted, None
        if wanted is None:
            return
        before = {t.name: t for t in self.targets}
        self.targets = wanted
        names = {t.name for t in wanted}
        for name in [n for n in self._transports if n not in names or before.get(n) not in wanted]:
            self._requests.pop(name, None)
            self._retired.append((name, self._transports.pop(name)))
        for t in wanted:
            if t.name not in self._transports:
                self._transports[t.name] = self._new_transport()
                self._requests[t.name] = self._request(t, t.url)
        # a retired transport is closed once no poll of that name is in flight (closing it under a
        # request would fail that request with something other than a FetchError)
        keep = []
        for name, transport in self._retired:
            if name in self._in_flight:
                keep.append((name, transport))
            else:
                await transport.aclose()
        self._retired = keep

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Poll on a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self.run()), name="fleet-poller", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def stop(self, wait: float = 2.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(wait)

    async def run(self, rounds: int | None = None) -> None:
        """Poll rounds until stopped (or ``rounds`` rounds have finished)."""
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        sem = asyncio.Semaphore(self.concurrency)
        pending: set[asyncio.Task[Any]] = set()
        # one transport (one kept-alive connection) per target: a shared pool of 200 origins churns
        # its connections and scans them all on every request
        self._transports = {t.name: self._new_transport() for t in self.targets}
        self._requests = {t.name: self._request(t, t.url) for t in self.targets}
        self._ready.set()
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                await self._sync_targets()
                task = asyncio.create_task(self._round(sem, self._in_flight, started))
                pending.add(task)
                task.add_done_callback(pending.discard)
                if rounds is not None and self.round_count + len(pending) >= rounds:
                    await asyncio.gather(*pending)
                    break
                try:
                    await asyncio.wait_for(self._stop.wait(), max(0.0, started + self.interval - time.monotonic()))
                except TimeoutError:
                    pass
        finally:
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for transport in [*self._transports.values(), *(tr for _, tr in self._retired)]:
                await transport.aclose()
            self._transports, self._retired = {}, []

    def _new_transport(self) -> httpx.AsyncHTTPTransport:
        if self._tls is None:  # loading the CA bundle costs ~50 ms: once, shared by every transport
            self._tls = ssl.create_default_context()
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        return httpx.AsyncHTTPTransport(verify=self._tls, limits=limits, trust_env=False)

    def _request(self, target: Target, url: str) -> httpx.Request:
        return httpx.Request("GET", url, headers=target.headers(self.env),
                             extensions={"timeout": httpx.Timeout(self.timeout).as_dict()})

    async def _round(self, sem: asyncio.Semaphore, in_flight: set[str], started: float) -> None:
        due = [t for t in self.targets if t.name not in in_flight]
        in_flight.update(t.name for t in due)
        await asyncio.gather(*(self._poll_one(sem, t, in_flight) for t in due))
        ended = time.monotonic()
        took = ended - started
        self.rounds.append(took)
        self.round_log.append((started, ended, self._version))
        self.round_count += 1
        if self.on_round is not None:
            self.on_round(self, took)

    async def _poll_one(self, sem: asyncio.Semaphore, target: Target, in_flight: set[str]) -> None:
        try:
            async with sem:
                t0 = time.monotonic()
                try:
                    body = await fetch_body(self._transports[target.name], self._requests[target.name], self.timeout)
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        raise FetchError("the answer is not JSON") from None
                    state = TargetState(target, parse_status(doc), None, time.time())
                except FetchError as exc:
                    state = TargetState(target, None, str(exc))
                latency = time.monotonic() - t0
            with self._lock:
                prev = self._states.get(target.name)
                if prev is None or prev.target != target:  # set_targets dropped or replaced it meanwhile
                    return
                if state.error is not None:  # keep what was last known, with its age
                    state = replace(prev, error=state.error)
                self._states[target.name] = replace(state, attempts=prev.attempts + 1, latency=latency)
                self._version += 1
            self._changed()
        finally:
            in_flight.discard(target.name)

    # ------------------------------------------------------------------ one-off fetches (details)
    def fetch_text(self, url: str, target: Target) -> "Future[str]":
        """GET ``url`` on the poller's loop (same connection, same deadline); a Future of the text or FetchError."""
        loop, transport = self._loop, self._transports.get(target.name)
        if loop is None or transport is None:
            fut: Future[str] = Future()
            fut.set_exception(FetchError("the poller is not running"))
            return fut

        async def get() -> str:
            return (await fetch_body(transport, self._request(target, url), self.timeout)).decode("utf-8", "replace")

        return asyncio.run_coroutine_threadsafe(get(), loop)
