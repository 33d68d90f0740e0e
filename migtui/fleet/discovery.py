"""Watches found rather than listed: the finders of ``migtui fleet watch`` (``--selector`` or a
targets-file entry ``- kubernetes: {...}``), kept in the poller while they come and go.

A finder is a plugin's (hook ``migtui_fleet_discovery``; the Kubernetes plugin lists the watch pods
of a label selector). Each one lists on its own daemon thread, again every ``relist`` seconds (lists
of one finder never overlap), and the poller's targets become the file's URLs plus what every finder
found last: a pod that appears in a rollout becomes a row, a deleted one leaves. A list that fails
keeps the targets of the last good one and says why on the finder's line; a list that hangs is only
that thread's (the view reads :meth:`FleetDiscovery.snapshot`, never waits on a finder), and exit
never waits on it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from migtui.errors import ConfigError, MigtuiError, PluginError
from migtui.fleet.poller import FleetPoller
from migtui.fleet.targets import Finder, Target, make_target
from migtui.model import fmt_age
from migtui.redact import redact

SLOW_LIST = 3.0
"""A list running longer than this is shown as such on the finder's line."""


@dataclass(frozen=True)
class FinderState:
    label: str
    """What it lists (the finder's ``describe()``: outside text, render through safetext)."""
    found: tuple[dict[str, str], ...] = ()
    """``{"name", "url", "instance"}`` of the last good list."""
    notes: tuple[str, ...] = ()
    """What the last good list left out and why."""
    error: str | None = None
    """Why the last list failed; None when it worked."""
    listed_at: float | None = None
    """Wall-clock time of the last good list."""
    listing_since: float | None = None
    """Wall-clock start of the list under way (None between lists)."""
    lists: int = 0


def finder_line(st: FinderState, now: float | None = None) -> str:
    """One line about a finder: what it found (and left out), or why its last list failed."""
    now = time.time() if now is None else now
    n = len(st.found)
    watches = f"{n} watch{'es' if n != 1 else ''}"
    if st.error is not None:
        kept = (f"keeping {watches} listed {fmt_age(now - st.listed_at)} ago" if st.listed_at is not None
                else "nothing listed yet")
        text = f"{st.label}: {st.error} · {kept}"
    elif st.listed_at is None:
        text = f"{st.label}: listing…"
    else:
        text = f"{st.label}: {watches}"
        if st.notes:
            text += f", {len(st.notes)} left out ({'; '.join(st.notes[:3])}{'; …' if len(st.notes) > 3 else ''})"
        text += f" · listed {fmt_age(now - st.listed_at)} ago"
    if st.listing_since is not None and now - st.listing_since >= SLOW_LIST:
        text += f" · listing for {fmt_age(now - st.listing_since)}"
    return text


def build_finders(finders: Sequence[Finder], host: Any = None) -> list[tuple[Finder, Any]]:
    """Each finder's plugin object (no network I/O); an unknown kind or bad option is one ConfigError."""
    if not finders:
        return []
    if host is None:
        from migtui.plugins import PluginHost

        host = PluginHost()
    out = []
    for f in finders:
        found = host.contributions["fleet_discovery"].get(f.kind)
        if found is None:
            have = ", ".join(sorted(host.contributions["fleet_discovery"])) or "none"
            raise ConfigError(f"no installed plugin finds fleet targets of kind {f.kind!r} (installed: {have})",
                              file=f.file, line=f.line, path=f.path)
        try:
            out.append((f, found.obj(f.options, f.path)))
        except MigtuiError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's bug is one line naming it
            raise PluginError(f"plugin {found.plugin!r} failed to build the finder {f.path}: "
                              f"{type(exc).__name__}: {redact(exc)}") from exc
    return out


def merge(static: Sequence[Target], finders: Sequence[tuple[Finder, FinderState]]) -> list[Target]:
    """The poller's targets: the static ones, then every finder's, a name shared by two (two pods of
    one database, or a pod and a URL of the file) told apart by its instance: ``orders-db (pod)``."""
    counts = Counter(t.name for t in static)
    counts.update(found["name"] for _, st in finders for found in st.found)
    out, seen = list(static), {t.name for t in static}
    for finder, st in finders:
        for found in st.found:
            name = found["name"] if counts[found["name"]] == 1 else f"{found['name']} ({found['instance']})"
            if name in seen:  # the same pod from two finders
                continue
            seen.add(name)
            out.append(make_target(found["url"], name, finder.token_env))
    return out


@dataclass
class FleetDiscovery:
    """Feeds ``poller`` with ``static`` targets plus what ``finders`` (built by :func:`build_finders`) find."""

    poller: FleetPoller
    static: list[Target]
    finders: list[tuple[Finder, Any]]
    clock: Callable[[], float] = time.time
    _states: list[FinderState] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _merging: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _version: int = 0
    _targets: list[Target] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._states = [FinderState(self._describe(obj)) for _, obj in self.finders]
        self._targets = list(self.static)

    @staticmethod
    def _describe(obj: Any) -> str:
        try:
            return str(obj.describe())
        except Exception as exc:  # noqa: BLE001
            return f"finder ({type(exc).__name__} in describe)"

    def snapshot(self) -> tuple[int, list[FinderState]]:
        with self._lock:
            return self._version, list(self._states)

    def wait_first_lists(self, timeout: float) -> bool:
        """Wait (up to ``timeout`` s) until every finder has listed once, well or not (for the headless
        printer: its first round then has the pods; the cockpit never waits)."""
        deadline = time.monotonic() + timeout
        while any(st.lists == 0 for st in self.snapshot()[1]):
            if time.monotonic() >= deadline or self._stop.wait(0.05):
                return False
        return True

    def start(self) -> None:
        """One daemon thread per finder; the first lists start now."""
        for i in range(len(self.finders)):
            threading.Thread(target=self._run, args=(i,), name=f"fleet-finder-{i}", daemon=True).start()

    def stop(self) -> None:
        """Ask the finders' threads to end (never waits: a list under way is left to its own timeout)."""
        self._stop.set()

    def _update(self, i: int, **changes: Any) -> None:
        with self._lock:
            self._states[i] = replace(self._states[i], **changes)
            self._version += 1

    def _run(self, i: int) -> None:
        finder, obj = self.finders[i]
        try:
            while not self._stop.is_set():
                self.list_once(i)
                self._stop.wait(finder.relist)
        finally:
            try:
                obj.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def list_once(self, i: int) -> None:
        """List with finder ``i`` (on the calling thread) and hand the merged targets to the poller."""
        _, obj = self.finders[i]
        self._update(i, listing_since=self.clock())
        try:
            found, notes = obj.find()
            rows = tuple({"name": str(t["name"]), "url": str(t["url"]), "instance": str(t.get("instance") or "")}
                         for t in found)
        except MigtuiError as exc:
            self._update(i, error=str(exc), listing_since=None, lists=self._states[i].lists + 1)
            return
        except Exception as exc:  # noqa: BLE001 - a plugin's bug or a garbled answer: its line, not a crash
            self._update(i, error=f"{type(exc).__name__}: {redact(exc)}", listing_since=None,
                         lists=self._states[i].lists + 1)
            return
        self._update(i, found=rows, notes=tuple(str(n) for n in notes), error=None, listed_at=self.clock(),
                     listing_since=None, lists=self._states[i].lists + 1)
        with self._merging:  # two finders' threads: the last targets handed over are from the latest states
            _, states = self.snapshot()
            targets = merge(self.static, [(f, st) for (f, _), st in zip(self.finders, states)])
            if targets != self._targets:
                self._targets = targets
                self.poller.set_targets(targets)
