"""The preflight checklist (``migtui check``) and the record of ``migtui prepare``: no database here.

:func:`run_preflight` asks every plugin's ``migtui_preflight_checks`` (the postgres plugin checks
connectivity, privileges, WAL, slots, archiving, blocking sessions, connection headroom), then adds
the host's own items: a fresh baseline in the store, every alerter test-fired, every action
dry-run. Each item is a :class:`CheckItem`, ``pass``, ``warn``, ``fail`` or ``skip`` with its evidence.
No click, no Textual: the CLI prints them, :func:`record` stores them as ``check`` events.

``migtui prepare`` (point-in-time recovery) runs the ``migtui_prepare_steps`` implementation of a
source's type; :func:`record_prepare` stores its :class:`PrepareStep` s as ``action`` events.
"""

from __future__ import annotations

import getpass
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from migtui.config import Config
from migtui.errors import MigtuiError
from migtui.redact import redact

DEFAULTS = {"baseline_max_age": 86400.0, "test_alerts": True, "dry_run_actions": True}
"""The host's own options; a plugin-owned section may override them (the postgres plugin's
``migration.preflight``)."""


@dataclass
class CheckItem:
    """One line of the checklist."""

    group: str
    name: str
    status: str  # pass | warn | fail | skip
    evidence: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PrepareStep:
    """One step of ``migtui prepare``."""

    step: str
    status: str  # ok | warn | failed | info
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dur(s: float | None) -> str:
    """``1h02m``, ``3m05s``, ``42s``."""
    if s is None:
        return "?"
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def host_options(config: Config) -> dict[str, Any]:
    """:data:`DEFAULTS`, overridden by ``migration.preflight`` when a plugin owns that section."""
    mig = config.get("migration")
    node = mig.get("preflight") if isinstance(mig, dict) else None
    return {k: (node or {}).get(k, v) for k, v in DEFAULTS.items()}


# --------------------------------------------------------------------------- the host's checks


def baseline_check(store_path: Path | None, config: Config, max_age: float, now: float | None = None) -> CheckItem:
    from migtui.errors import StoreError, StoreLockedError
    from migtui.store import Store

    group = "baseline"
    if store_path is None or not Path(store_path).exists():
        return CheckItem(group, "Baseline", "warn", f"no store at {store_path}: record a baseline first: "
                         f"`migtui baseline --config {config.path}`")
    try:
        store = Store.open(store_path, read_only=True)
    except StoreLockedError:
        return CheckItem(group, "Baseline", "warn", f"{store_path} is held by a running migtui; cannot look for a "
                         "baseline now")
    except StoreError as exc:
        return CheckItem(group, "Baseline", "warn", str(exc))
    try:
        cur = store.cursor()
        row = cur.execute("SELECT b.run_id, max(b.computed_at), count(*) FROM baselines b JOIN runs r USING (run_id) "
                          "WHERE r.name = ? GROUP BY b.run_id ORDER BY 2 DESC LIMIT 1", [config.name]).fetchone()
        how = "baseline statistics"
        if row is None:
            row = cur.execute("SELECT s.run_id, max(s.ts), count(DISTINCT s.series_id) FROM samples s JOIN runs r "
                              "USING (run_id) WHERE r.name = ? AND s.phase = 'baseline' GROUP BY s.run_id "
                              "ORDER BY 2 DESC LIMIT 1", [config.name]).fetchone()
            how = "baseline-phase samples (statistics not computed)"
    finally:
        store.close()
    if row is None:
        return CheckItem(group, "Baseline", "warn", f"no baseline for {config.name!r} in {store_path}: "
                         f"`migtui baseline --config {config.path}`")
    run_id, at, n = row
    age = (now or time.time()) - at.timestamp()
    data = {"run_id": run_id, "at": at.isoformat(), "age_seconds": age, "series": n}
    if age > max_age:
        return CheckItem(group, "Baseline", "warn", f"baseline of run {run_id} is {dur(age)} old (older than "
                         f"{dur(max_age)}): record a fresh one", data)
    return CheckItem(group, "Baseline", "pass", f"{how} of run {run_id}, {n} series, {dur(age)} old", data)


def alerter_checks(config: Config, host: Any) -> list[CheckItem]:
    if not config["alerters"]:
        return [CheckItem("alerting", "Alerters", "warn", "no alerters configured: nobody is told when a trigger "
                          "fires")]
    from migtui.alerting import build_alerters, send_test_alert

    opts = config["alerting"]
    alerters = build_alerters(host, config)
    results = send_test_alert(alerters, run="preflight", timeout=opts["timeout"],
                              key_prefix=opts.get("key_prefix") or config.name)
    return [CheckItem("alerting", f"Alerter {name}", "pass" if r.ok else "fail",
                      redact(f"test alert {'delivered' if r.ok else 'FAILED'}: {r.message}"),
                      {"attempts": r.attempts, "status": r.status}) for name, r in results]


def action_checks(config: Config, host: Any, timeout: float = 60.0) -> list[CheckItem]:
    from migtui.engine import Engine

    engine = Engine(config, store=None, host=host, headless=True)
    try:
        runner = engine.parts.actions
        items = []
        verbs = [v for v in runner.verbs() if v in ("pause", "resume", "rollback")]
        if not verbs:
            return [CheckItem("actions", "Actions", "warn", "no pause/resume/rollback action configured: the "
                              "operator can only cancel or terminate backends")]
        for verb in verbs:
            described = runner.describe(verb)
            try:
                results = runner.request(verb, who="migtui check", why="preflight dry run", confirmed=True,
                                         dry_run=True).result(timeout=timeout)
            except Exception as exc:  # noqa: BLE001
                items.append(CheckItem("actions", f"Action {verb}", "fail", f"dry run failed: {redact(exc)}"))
                continue
            ok = all(r.ok for r in results)
            items.append(CheckItem("actions", f"Action {verb}", "pass" if ok else "fail",
                                   redact("; ".join(described) + " — " + "; ".join(r.message for r in results)),
                                   {"results": [{"ok": r.ok, "message": redact(r.message)} for r in results]}))
        return items
    finally:
        engine.finish()


def plugin_checks(config: Config, host: Any) -> list[CheckItem]:
    """The items of every ``migtui_preflight_checks`` implementation; one that raises or returns
    something else than check items becomes one ``fail`` item naming its plugin."""
    items: list[CheckItem] = []
    for c in host.contributed("preflight_check"):
        def one(c: Any = c) -> list[CheckItem]:
            got = list(c.obj(config))
            bad = [x for x in got if not isinstance(x, CheckItem)]
            if bad:
                raise TypeError(f"returned {type(bad[0]).__name__}, not CheckItem")
            return got

        items.extend(_guarded(c.plugin, f"{c.name} (plugin {c.plugin})", one))
    return items


# --------------------------------------------------------------------------- entry points


def run_preflight(config: Config, host: Any = None, *, store_path: Path | None = None,
                  now: float | None = None, alerts: bool | None = None, actions: bool | None = None) -> list[CheckItem]:
    """The whole checklist. ``alerts`` / ``actions`` override the ``test_alerts`` /
    ``dry_run_actions`` options."""
    if host is None:
        from migtui.plugins import PluginHost

        host = PluginHost(disabled=config["plugins"]["disable"])
    opts = host_options(config)
    items = plugin_checks(config, host)
    if store_path is None and config.get("store"):
        store_path = config.resolve_path(config["store"])
    items.append(baseline_check(store_path, config, float(opts["baseline_max_age"]), now))
    if opts["test_alerts"] if alerts is None else alerts:
        items.extend(_guarded("alerting", "Alerters", lambda: alerter_checks(config, host)))
    if opts["dry_run_actions"] if actions is None else actions:
        items.extend(_guarded("actions", "Actions", lambda: action_checks(config, host)))
    return items


def _guarded(group: str, name: str, fn: Callable[[], list[CheckItem]]) -> list[CheckItem]:
    try:
        return fn()
    except MigtuiError as exc:
        return [CheckItem(group, name, "fail", str(exc))]
    except Exception as exc:  # noqa: BLE001
        return [CheckItem(group, name, "fail", f"{type(exc).__name__}: {redact(exc)}")]


def overall(items: list[CheckItem]) -> str:
    statuses = {i.status for i in items}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def record(engine_or_store: Any, items: list[CheckItem], *, run_id: str | None = None) -> None:
    """Store the checklist as ``check`` events (data.type = "preflight") of an engine's run, or of
    ``run_id`` in a store."""
    from migtui.model import Event, Level

    level = {"pass": Level.INFO, "skip": Level.INFO, "warn": Level.WARN, "fail": Level.ERROR}
    for it in items:
        ev = Event("check", f"preflight:{it.name}", f"{it.name}: {it.status}: {it.evidence}", level[it.status],
                   {"type": "preflight", "group": it.group, "check": it.name, "result": it.status,
                    "evidence": it.evidence})
        if hasattr(engine_or_store, "emit"):
            engine_or_store.emit(ev)
        else:
            ev.run = run_id or ""
            engine_or_store.add_event(ev)


def record_prepare(store: Any, config: Config, steps: list[PrepareStep]) -> str:
    """Store the steps of ``migtui prepare`` as ``action`` events of a new run ``<name> prepare``;
    returns its id."""
    from migtui.model import Event, Level, Phase

    run = store.create_run(f"{config.name} prepare", config.snapshot())
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    level = {"ok": Level.INFO, "info": Level.INFO, "warn": Level.WARN, "failed": Level.ERROR}
    for st in steps:
        store.add_event(Event("action", f"prepare:{st.step}", st.message, level[st.status],
                              {"who": who, "why": "migtui prepare", "verb": "prepare", "action": st.step,
                               "ok": st.status != "failed", "status": st.status, "stage": "result",
                               "message": st.message, **st.data}, run=run, phase=Phase.BASELINE))
    store.flush()
    store.finish_run(run, "finished")
    return run
