"""Data integrity checks: user SQL run before and after the migration and compared (extension
``integrity``).

Config (a list)::

    integrity:
      - name: orders_count
        sql: SELECT count(*) FROM orders
        compare: equal                 # the default
      - name: orders_total
        sql: SELECT sum(amount) FROM orders
        compare: {within_pct: 1}

Each check runs on its own short-lived monitoring connection (read-only, ``statement_timeout`` =
the check's ``timeout``, ``lock_timeout``) in a worker thread, never on the engine thread:

- when the run leaves the baseline phase (baseline -> migration), the values are recorded;
- when it enters post, they run again and are compared with the recorded values (or with the
  baseline run's, ``watch --baseline RUN``): one ``check`` event per check, pass or fail;
- on demand (:meth:`IntegrityChecks.run`, the cockpit's key): in baseline they are (re)recorded,
  later they are compared.

Events: kind ``check``, subject ``integrity:<name>``, data ``{type: integrity, check, phase,
result: recorded|pass|fail|error|no-baseline, value, baseline_value, compare, who}``.
"""

from __future__ import annotations

import concurrent.futures as cf
from decimal import Decimal
from typing import Any

from migtui.api import (DaemonExecutor, Event, Field, Level, Phase, RunComponent, RunContext, Schema, error_at,
                        redact, validate)
from migtui.api import type_name as _type_name

MAX_ROWS = 1000


def _compare(value: Any, parent: Any, key: Any, path: str) -> dict[str, Any]:
    if value == "equal":
        return {"mode": "equal"}
    if isinstance(value, dict) and set(value) == {"within_pct"}:
        pct = value["within_pct"]
        if isinstance(pct, bool) or not isinstance(pct, (int, float)) or pct < 0:
            raise error_at(value, "within_pct", f"{path}.within_pct", f"expected a percentage >= 0, got {pct!r}")
        return {"mode": "within_pct", "pct": float(pct)}
    raise error_at(parent, key, path, f"expected `equal` or `{{within_pct: N}}`, got {value!r}")


def _one_statement(value: Any) -> None:
    if ";" in str(value).strip().rstrip(";"):
        raise ValueError("one SQL statement per check")


ITEM_SCHEMA = Schema({
    "name": Field("str", required=True, doc="Shown in events and the report."),
    "sql": Field("str", required=True, check=_one_statement,
                 doc="A read-only query; one value (or a few rows) that must not change (or change little)."),
    "compare": Field(_compare, default=lambda: {"mode": "equal"},
                     doc="equal (default), or {within_pct: N} for a single number."),
    "source": Field("str", default="", doc="Which postgres source's server (default: the first)."),
    "timeout": Field("duration", default=30.0, doc="statement_timeout of the check."),
    "lock_timeout": Field("duration", default=2.0, doc="A check waits this long for a lock, then is an error."),
})


def parse_integrity_config(node: Any, path: str = "integrity") -> list[dict[str, Any]]:
    """Validate the ``integrity:`` list (errors name file:line: key)."""
    if node is None:
        return []
    if not isinstance(node, list):
        raise error_at(node, None, path, "expected a list of checks ({name, sql, compare})")
    out, seen = [], set()
    for i, item in enumerate(node):
        if not isinstance(item, dict):  # the list knows the item's line; a plain value does not
            raise error_at(node, i, f"{path}[{i}]", f"expected a mapping with name, sql and compare, got "
                           f"{_type_name(item)}")
        check = validate(ITEM_SCHEMA, item, f"{path}[{i}]")
        if check["name"] in seen:
            raise error_at(item, "name", f"{path}[{i}].name", f"duplicate check name {check['name']!r}")
        seen.add(check["name"])
        out.append(check)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


def run_query(dsn: str, sql: str, *, timeout: float, lock_timeout: float) -> Any:
    """The check's value: a scalar for one row of one column, else a list of rows."""
    from migtui_postgres.pgconn import connect_monitor

    conn = connect_monitor(dsn, statement_timeout=timeout, lock_timeout=lock_timeout)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchmany(MAX_ROWS + 1) if cur.description else []
    finally:
        conn.close()
    if len(rows) > MAX_ROWS:
        raise ValueError(f"returned more than {MAX_ROWS} rows; aggregate (count, sum, md5 of string_agg) instead")
    if len(rows) == 1 and len(rows[0]) == 1:
        return _plain(rows[0][0])
    return [[_plain(v) for v in r] for r in rows]


def compare_values(compare: dict[str, Any], baseline: Any, value: Any) -> tuple[bool, str]:
    """(passed, explanation)."""
    if compare["mode"] == "equal":
        return (value == baseline, f"{_short(value)} {'=' if value == baseline else '≠'} baseline {_short(baseline)}")
    pct = compare["pct"]
    try:
        b, v = float(baseline), float(value)
    except (TypeError, ValueError):
        return False, f"within_pct needs one number; got {_short(value)} and baseline {_short(baseline)}"
    if b == 0:
        ok = v == 0
        return ok, f"{v:g} vs baseline 0"
    diff = abs(v - b) / abs(b) * 100
    return diff <= pct, f"{v:g} vs baseline {b:g}: {diff:.3g}% {'<=' if diff <= pct else '>'} {pct:g}%"


def _short(v: Any) -> str:
    text = str(v)
    return text if len(text) <= 80 else text[:77] + "..."


class IntegrityChecks(RunComponent):
    """The run component ``integrity`` (registered through ``migtui_run_components``)."""

    name = "integrity"

    def __init__(self, run: RunContext, checks: list[dict[str, Any]]) -> None:
        from migtui_postgres.pgconn import source_dsn

        self.run_ctx = run
        self.checks = checks
        self.dsns = {c["name"]: source_dsn(run.config, c["source"] or None)[1] for c in checks}
        self.baseline: dict[str, Any] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self._pool = DaemonExecutor(max_workers=1, thread_name_prefix="migtui-integrity")
        self.last: cf.Future[list[dict[str, Any]]] | None = None

    # -- engine hooks

    def on_phase(self, old: Phase, new: Phase) -> None:
        if old == Phase.BASELINE and new != Phase.BASELINE:
            self.last = self._pool.submit(self._run_all, Phase.BASELINE, f"phase {old.value} -> {new.value}", record=True)
        if new == Phase.POST:
            self.last = self._pool.submit(self._run_all, Phase.POST, f"phase {old.value} -> {new.value}", record=False)

    def run(self, who: str = "operator") -> cf.Future[list[dict[str, Any]]]:
        """Run every check now (the cockpit's key): record in baseline, compare later."""
        phase = self.run_ctx.phase
        self.last = self._pool.submit(self._run_all, phase, who, record=phase == Phase.BASELINE)
        return self.last

    def wait(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        return self.last.result(timeout=timeout) if self.last else []

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- work (worker thread)

    def _stored_baseline(self, name: str) -> Any:
        run = self.run_ctx.baseline_run
        if not run:
            return _MISSING
        for ev in reversed(self.run_ctx.stored_events(run, ["check"])):
            d = ev.data
            if d.get("type") == "integrity" and d.get("check") == name and d.get("result") == "recorded":
                return d.get("value")
        return _MISSING

    def _run_all(self, phase: Phase, who: str, *, record: bool) -> list[dict[str, Any]]:
        return [self._run_one(c, phase, who, record=record) for c in self.checks]

    def _run_one(self, check: dict[str, Any], phase: Phase, who: str, *, record: bool) -> dict[str, Any]:
        name = check["name"]
        data: dict[str, Any] = {"type": "integrity", "check": name, "phase": phase.value, "who": who,
                                "compare": check["compare"]}
        try:
            value = run_query(self.dsns[name], check["sql"], timeout=float(check["timeout"]),
                              lock_timeout=float(check["lock_timeout"]))
        except Exception as exc:  # noqa: BLE001 - one failing check must not stop the others
            from migtui_postgres.pgconn import first_line

            data.update(result="error", error=redact(first_line(exc)))
            self._emit(name, f"{name}: could not run: {data['error']}", Level.WARN, data)
            return data
        data["value"] = value
        if record:
            self.baseline[name] = value
            data["result"] = "recorded"
            self._emit(name, f"{name}: baseline value {_short(value)} recorded", Level.INFO, data)
            return data
        base = self.baseline.get(name, _MISSING)
        if base is _MISSING:
            base = self._stored_baseline(name)
        if base is _MISSING:
            data["result"] = "no-baseline"
            self._emit(name, f"{name}: {_short(value)}; no baseline value to compare with (run the checks in the "
                             "baseline phase)", Level.WARN, data)
            return data
        ok, why = compare_values(check["compare"], base, value)
        data.update(baseline_value=base, result="pass" if ok else "fail", explanation=why)
        self._emit(name, f"{name}: {'pass' if ok else 'FAIL'}: {why}", Level.INFO if ok else Level.ERROR, data)
        return data

    def _emit(self, name: str, message: str, level: Level, data: dict[str, Any]) -> None:
        self.results[name] = data
        self.run_ctx.emit(Event("check", f"integrity:{name}", message, level, data))


class _Missing:
    pass


_MISSING = _Missing()


def build_component(run: RunContext) -> IntegrityChecks | None:
    """The ``migtui_run_components`` factory: None without ``integrity:`` checks."""
    checks = parse_integrity_config(run.config.raw.get("integrity"), "integrity")
    if not checks:
        return None
    return IntegrityChecks(run, checks)


def config_field(value: Any, parent: Any, key: Any, path: str) -> list[dict[str, Any]]:
    """The converter of the ``integrity`` config section (registered through ``migtui_config_sections``)."""
    if value is not None and not isinstance(value, list):  # name the file and line of the key
        raise error_at(parent, key, path, "expected a list of checks ({name, sql, compare})")
    return parse_integrity_config(value, path)


config_field.schema = ITEM_SCHEMA  # type: ignore[attr-defined] # the config reference shows it
