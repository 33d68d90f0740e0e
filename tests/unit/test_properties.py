"""Bad input, generated: the config loader, the SQL header parser and the trigger rules end every
input in a correct result or one clear MigtuiError (ConfigError / CatalogError), never another
exception or a hang. (The OpenMetrics / Prometheus / Kubernetes / provider decoders have their own
generated tests in tests/integration.)"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from migtui.config import load_config
from migtui.errors import CatalogError, ConfigError, MigtuiError
from migtui.model import Sample
from migtui.sqlcatalog import KNOWN, parse_file
from migtui.triggers import STATES, MemoryMetricView, TriggerEngine, TriggerSpec

SETTINGS = settings(max_examples=200, deadline=5000, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)
WORK = Path(tempfile.mkdtemp(prefix="migtui-props-"))

# --------------------------------------------------------------------------- building blocks

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "5s", "250ms", "2m", "1h", "-1s", "0", "soon", "${NOPE}", "${X:-1}", "$$", "warn", "pause",
                     "rollback", "inconclusive", "ok", "fire", "mean", "p95", "worst", "postgres", "log",
                     "[1, 2]", "{a: 1}", "'", ";", "\x00", "é"]),
    st.text(max_size=12),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)

CONFIG_KEYS = ["name", "interval", "store", "sources", "sql_dirs", "plugins", "triggers", "trigger_defaults",
               "alerters", "alerting", "actions", "baseline", "integrity", "migration", "ui", "control", "headless",
               "intervall", "trigers"]
TRIGGER_KEYS = ["name", "metric", "description", "source", "labels", "threshold", "above", "below", "outside",
                "clear", "ratio_to_baseline", "delta_to_baseline", "zscore", "action", "for", "keep_firing_for",
                "window", "aggregate", "no_data", "nan", "stale", "on_error", "max_age", "error_limit",
                "min_samples", "dry_run", "confirm", "stat", "treshold"]
RELATIVE_KEYS = ["above", "below", "outside", "stat", "min_stddev", "clear"]


def trigger_dicts() -> st.SearchStrategy[dict[str, Any]]:
    numbers = st.one_of(st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False), st.floats())
    relative = st.dictionaries(st.sampled_from(RELATIVE_KEYS),
                               st.one_of(numbers, st.lists(numbers, max_size=3), st.sampled_from(["p95", "mean", "x"])),
                               max_size=3)
    special = {
        "metric": st.one_of(st.sampled_from(["error_rate", "pg.up", "api.*", ""]), values),
        "threshold": st.one_of(numbers, values), "above": numbers, "below": numbers,
        "outside": st.one_of(st.lists(numbers, max_size=3), values),
        "clear": st.one_of(numbers, st.lists(numbers, max_size=3)),
        "window": st.one_of(st.lists(st.integers(-2, 6), max_size=3), st.sampled_from(["2 of 3", "3/5", "x of y"])),
        "ratio_to_baseline": relative, "delta_to_baseline": relative, "zscore": relative,
    }
    return st.dictionaries(st.sampled_from(TRIGGER_KEYS), values, max_size=8).flatmap(
        lambda d: st.fixed_dictionaries({k: special.get(k, st.just(v)) for k, v in d.items()}))


def _write(name: str, text: str) -> Path:
    path = WORK / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def _dump(obj: Any) -> str:
    return yaml.safe_dump(obj, allow_unicode=True, default_flow_style=None)


def _load(text: str) -> Any:
    path = _write("config.yaml", text)
    try:
        return load_config(path, env={"X": "1"})
    except ConfigError as exc:
        msg = str(exc)
        assert msg.startswith(str(path)), msg  # names the file (and the line where known)
        assert "\n" not in msg.strip() and "Traceback" not in msg
        return exc


# --------------------------------------------------------------------------- config loader


@SETTINGS
@given(st.text(max_size=200))
def test_config_loader_any_text(text: str) -> None:
    _load(text)


@SETTINGS
@given(st.dictionaries(st.sampled_from(CONFIG_KEYS), values, max_size=6))
@example({"integrity": False})  # found by this test: the message did not name the file
@example({"migration": [1]})
@example({"integrity": [None]})
@example({"plugins": {"\n": None}})  # the key path must keep the message on one line
def test_config_loader_any_structure(doc: dict[str, Any]) -> None:
    _load(_dump(doc))


# --------------------------------------------------------------------------- SQL header parser

header_lines = st.one_of(
    st.tuples(st.sampled_from(sorted(KNOWN) + ["nmae", "Kind", "x y"]), st.text(max_size=15)).map(
        lambda kv: f"-- {kv[0]}: {kv[1]}"),
    st.sampled_from(["--", "-- just a comment", "-- name:", "--kind:metrics", "", "   "]),
)
VALID = {"name": "q", "description": "d", "kind": "metrics", "min_version": "13", "interval": "5s",
         "timeout": "1s", "privileges": "none"}
bodies = st.one_of(
    st.sampled_from(["SELECT /* migtui */ 1 AS one", "SELECT 1", "SELECT /* migtui */ 1; SELECT 2",
                     "SELECT /* migtui */ :p AS x", "SELECT /* migtui */ ':p;' AS s", "", "-- only a comment"]),
    st.text(max_size=60).map(lambda t: "SELECT /* migtui */ " + t),
)


@SETTINGS
@given(st.dictionaries(st.sampled_from(sorted(VALID)), st.text(max_size=10), max_size=3), st.lists(header_lines,
       max_size=4), bodies, st.sampled_from(["q.sql", "q.pg14.sql", "q.ext1_2.sql", "Q.sql", "q.txt.sql"]))
def test_sql_header_parser_mutations(changes: dict[str, str], extra: list[str], body: str, fname: str) -> None:
    header = {**VALID, **changes}
    text = "\n".join([*(f"-- {k}: {v}" for k, v in header.items()), *extra, body]) + "\n"
    path = _write(fname, text)
    try:
        parsed, variant, _tag = parse_file(path)
    except CatalogError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        return
    assert parsed["name"] == "q" and parsed["kind"] in ("metrics", "table")
    assert "/* migtui */" in variant.text and variant.min_version == int(parsed["min_version"])


@SETTINGS
@given(st.text(max_size=300))
def test_sql_header_parser_any_text(text: str) -> None:
    path = _write("any.sql", text)
    try:
        parse_file(path)
    except CatalogError as exc:
        assert str(exc).startswith(str(path))


# --------------------------------------------------------------------------- triggers

sample_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9).map(float))


@SETTINGS
@given(st.lists(trigger_dicts(), min_size=1, max_size=3), st.lists(sample_values, max_size=6))
def test_trigger_rules_parse_or_fail_clearly_and_evaluate_anything(rules: list[dict[str, Any]],
                                                                   series: list[float]) -> None:
    loaded = _load(_dump({"triggers": rules}))
    if isinstance(loaded, MigtuiError):
        return
    specs: list[TriggerSpec] = loaded["triggers"]
    assert len(specs) == len(rules) and len({s.name for s in specs}) == len(specs)
    engine = TriggerEngine(specs, default_max_age=10, no_data_grace=0)
    view = MemoryMetricView()
    t = 1_000.0
    for i, value in enumerate(series):
        t += 1
        for spec in specs:
            if spec.metric and not spec.metric.endswith("*"):
                view.add([Sample(t, "src", spec.metric, value)])
        view.record_result("src", t, None if i % 4 != 3 else "boom")
        for tr in engine.evaluate(t, view):
            assert tr.state in STATES and tr.prev in STATES
            assert tr.event().kind == "trigger"
    for row in engine.status(t):
        assert row.state in STATES


@SETTINGS
@given(st.floats(-1e6, 1e6), st.floats(0, 1e3), st.lists(sample_values, min_size=1, max_size=20))
def test_above_with_clear_is_hysteresis(limit: float, gap: float, series: list[float]) -> None:
    """A rule `above: L, clear: C` (C <= L) fires only above L and resolves only at or below C;
    NaN makes it inconclusive, never a silent pass."""
    clear = limit - gap
    config = _load(_dump({"triggers": [{"name": "t", "metric": "m", "above": limit, "clear": clear}]}))
    assert not isinstance(config, MigtuiError), config
    engine = TriggerEngine(config["triggers"], default_max_age=10, no_data_grace=0)
    view = MemoryMetricView()
    state = "ok"
    t = 0.0
    for v in series:
        t += 1
        view.add([Sample(t, "s", "m", v)])
        view.record_result("s", t)
        for tr in engine.evaluate(t, view):
            state = tr.state
        if math.isnan(v):
            assert state == "inconclusive"
        elif v > limit:
            assert state == "firing"
        elif v <= clear:
            assert state in ("ok", "resolved")
