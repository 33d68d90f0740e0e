"""Pure views over the engine's frame for the cockpit: numbers, ages, sparklines, trigger rows,
baseline lookups and the blocking tree. No Textual here (Rich only), so it is cheap to test.

Everything here reads a :class:`migtui.engine.Frame` (``engine.frame``): immutable, so the UI thread
draws it while the engine thread builds the next one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from rich.text import Text

from migtui import safetext
from migtui.model import MetricSpec, PanelSpec, fmt_age, labels_key

# --------------------------------------------------------------------------- states and colours

STATE_STYLE = {
    "ok": "green",
    "warn": "yellow",
    "pause": "bold magenta",
    "throttle": "magenta",
    "rollback": "bold red",
    "critical": "red",
    "pending": "yellow",
    "inconclusive": "yellow",
    "firing": "bold red",
    "resolved": "green",
    "stale": "dim",
    "nodata": "dim",
    "info": "default",
    "error": "red",
}
"""Plain ANSI colour names: they read on a 16-colour terminal (TERM=screen) and without colour
the state word is always printed next to them."""

KIND_TITLES = {"schema": "Schema", "data": "Data", "api": "API", "deployment": "Deployment",
               "flags": "Feature flags", "ab": "A/B tests"}
KIND_ORDER = ("schema", "data", "api", "deployment", "flags", "ab")

SPARK = "▁▂▃▄▅▆▇█"


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def fmt_left(seconds: float | None) -> str:
    """Time left, coarse so it changes rarely: ``42s``, ``15m`` (rounded up), ``1h05m``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    s = max(0, math.ceil(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{math.ceil(s / 60)}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def fmt_elapsed(seconds: float) -> str:
    s = int(max(0, seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _si(v: float, base: float, units: Sequence[str]) -> str:
    i = 0
    while abs(v) >= base and i < len(units) - 1:
        v /= base
        i += 1
    if i == 0:
        return f"{v:.0f}{units[0]}" if float(v).is_integer() else f"{v:.1f}{units[0]}"
    return f"{v:.0f}{units[i]}" if abs(v) >= 100 else f"{v:.1f}{units[i]}"  # 1023KiB, not 1023.4KiB


def display_unit(metric: str, unit: str) -> str:
    """``%`` on a metric named ``*percent``/``*pct`` means 0-100 already (``pct``); otherwise a ratio."""
    if unit == "%" and metric.rstrip("*").lower().endswith(("percent", "pct")):
        return "pct"
    return unit


def fmt_value(value: Any, unit: str = "") -> str:
    """A number for a panel: ``%`` units are ratios shown as percent (``pct``: already 0-100),
    ``B``/``B/s`` in binary units,
    ``s`` as an age, others with k/M suffixes. ``-`` for None/NaN."""
    v = _num(value)
    if v is None:
        return "-"
    if unit == "%":
        return f"{v * 100:.1f}%"
    if unit == "pct":  # already a percentage (metrics named *percent / *pct)
        return f"{v:.1f}%"
    if unit in ("B", "B/s"):
        return _si(v, 1024.0, ["B", "KiB", "MiB", "GiB", "TiB"]) + ("/s" if unit == "B/s" else "")
    if unit == "s":
        return f"{v:.1f}s" if v < 60 else fmt_age(v)
    if unit == "ms":
        return f"{v:.0f}ms" if abs(v) >= 10 else f"{v:.1f}ms"
    if abs(v) >= 10000:
        text = _si(v, 1000.0, ["", "k", "M", "G", "T"])
    elif float(v).is_integer():
        text = f"{v:.0f}"
    elif abs(v) >= 100:
        text = f"{v:.0f}"
    elif abs(v) >= 1:
        text = f"{v:.2f}"
    else:
        text = f"{v:.3f}"
    return text + (unit if unit and unit not in ("",) else "")


def _compact(v: float) -> str:
    """``v`` >= 1000 in at most four characters and a suffix: ``19k``, ``2.0M``, ``100G``."""
    for unit in ("k", "M", "G", "T", "P"):
        v /= 1000.0
        if abs(v) < 1000 or unit == "P":
            return f"{v:.0f}{unit}" if abs(v) >= 10 else f"{v:.1f}{unit}"
    return f"{v:.0f}P"  # not reached


def fmt_delta(value: float | None, base: float | None, unit: str = "") -> str:
    """``+12.0%`` relative to the baseline (or the absolute difference when the baseline is 0)."""
    if value is None or base is None:
        return "-"
    diff = value - base
    if base != 0:
        pct = diff / abs(base) * 100
        if abs(pct) < 1000:
            return f"{pct:+.0f}%"
        ratio = value / base
        if ratio > 0:  # ten times and more: as a factor, never cut (x194, x19.4k)
            return "x" + (f"{ratio:.0f}" if ratio < 10000 else _compact(ratio))
        return ("+" if pct > 0 else "-") + _compact(abs(pct)) + "%"  # +19k%
    if diff == 0:
        return "0"
    text = fmt_value(abs(diff), unit)
    return ("+" if diff > 0 else "-") + text


def sparkline(values: Sequence[float], width: int, *, style: str = "green", baseline: float | None = None) -> Text:
    """A sparkline of the last ``width`` values; bars above the baseline take ``style``, the rest are
    dim, so the baseline is drawn in without a second row. NaN is a gap."""
    vals = list(values)[-width:]
    text = Text()
    finite = [v for v in vals if v is not None and not math.isnan(v)]
    if not finite:
        return Text("·" * min(width, max(1, len(vals))) if vals else "", style="dim")
    lo, hi = min(finite), max(finite)
    if baseline is not None and not math.isnan(baseline):
        lo, hi = min(lo, baseline), max(hi, baseline)
    span = hi - lo
    for v in vals:
        if v is None or math.isnan(v):
            text.append(" ")
            continue
        idx = int((v - lo) / span * (len(SPARK) - 1)) if span > 0 else 0
        above = baseline is None or v > baseline
        text.append(SPARK[idx], style=style if above else "dim")
    return text


# --------------------------------------------------------------------------- triggers

_TRIGGER_RANK = {"ok": 0, "resolved": 0, "pending": 1, "inconclusive": 2}
_ACTION_RANK = {"warn": 3, "throttle": 4, "pause": 4, "rollback": 5}


@dataclass
class TriggerRow:
    name: str
    state: str
    since: float | None = None
    value: float | None = None
    threshold: str = ""
    action: str = ""
    level: str = ""
    reason: str = ""
    silenced_until: float | None = None
    acked_by: str = ""
    dry_run: bool = False
    metric: str = ""
    source: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    utilization: float | None = None
    """value / limit (throttle triggers show it next to the value: how close before it fires)."""

    def watches(self, source: str, metric: str, labels: Mapping[str, str]) -> bool:
        """True when this trigger watches the series (its metric, its source if it names one, and its labels)."""
        if not self.metric:
            return False
        if not (self.metric == metric or metric.endswith("." + self.metric) or self.metric.endswith("." + metric)):
            return False
        if self.source and source and self.source != source:
            return False
        return all(str(labels.get(k)) == str(v) for k, v in self.labels.items())

    @property
    def display_state(self) -> str:
        """ok / pending / inconclusive / warn / pause / rollback (firing shows its action)."""
        if self.state == "firing":
            return self.action or self.level or "firing"
        return self.state

    @property
    def rank(self) -> int:
        if self.state == "firing":
            return _ACTION_RANK.get(self.action or self.level, 3)
        return _TRIGGER_RANK.get(self.state, 1)


def _field(row: Any, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def trigger_rows(frame: Any, now: float | None = None) -> list[TriggerRow] | None:
    """The frame's trigger status rows, or None when the run has no triggers runtime."""
    raw = frame.triggers
    if raw is None:
        return None
    rows = []
    for r in list(raw or ()):
        rows.append(TriggerRow(
            name=str(_field(r, "name", "?")), state=str(_field(r, "state", "ok")), since=_num(_field(r, "since")),
            value=_num(_field(r, "value")), threshold=str(_field(r, "threshold", "") or ""),
            action=str(_field(r, "action", "") or ""), level=str(_field(r, "level", "") or ""),
            reason=str(_field(r, "reason", "") or ""), silenced_until=_num(_field(r, "silenced_until")),
            acked_by=str(_field(r, "acked_by", "") or ""), dry_run=bool(_field(r, "dry_run", False)),
            metric=str(_field(r, "metric", "") or ""), source=str(_field(r, "source", "") or ""),
            labels=dict(_field(r, "labels", None) or {}), utilization=_num(_field(r, "utilization"))))
    return rows


def worst_trigger(rows: Iterable[TriggerRow] | None) -> TriggerRow | None:
    best: TriggerRow | None = None
    for r in rows or ():
        if best is None or r.rank > best.rank:
            best = r
    return best


def trigger_state_for_metric(rows: Iterable[TriggerRow] | None, metric: str, source: str = "",
                             labels: Mapping[str, str] | None = None) -> str | None:
    """The strongest firing/pending state of the triggers watching one series: ``metric`` (exact or
    dotted suffix) of ``source`` with ``labels`` (a trigger naming another source or other labels does not)."""
    best: TriggerRow | None = None
    for r in rows or ():
        if r.watches(source, metric, labels or {}):
            if r.rank > 0 and (best is None or r.rank > best.rank):
                best = r
    return best.display_state if best else None


# --------------------------------------------------------------------------- baselines

def baseline_value(frame: Any, source: str, metric: str, labels: Mapping[str, str]) -> float | None:
    """The baseline of one series in the frame (mean, else p50), or None."""
    st = frame.baselines.get((source, metric, labels_key(labels)))
    if st is None:
        return None
    for attr in ("mean", "p50"):
        v = _num(_field(st, attr))
        if v is not None:
            return v
    return None


# --------------------------------------------------------------------------- metric rows

@dataclass
class MetricRow:
    title: str
    unit: str
    value: float | None
    baseline: float | None
    points: list[float]
    state: str
    source: str = ""
    metric: str = ""
    age: float | None = None
    """Seconds since the last point, set when the row is ``stale`` (its source cannot be reached)."""

    @property
    def state_label(self) -> str:
        """What the state column reads: ``ok``, ``warn``, ``stale 42s`` / ``stale 3m``, ``-`` (no data)."""
        if self.state == "stale":
            return f"stale {fmt_coarse(self.age)}" if self.age is not None else "stale"
        return "-" if self.state == "nodata" else self.state


def fmt_coarse(seconds: float | None) -> str:
    """An age in at most three characters, for narrow columns: ``42s``, ``3m``, ``5h``, ``2d``."""
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


def source_reachable(frame: Any, source: str) -> bool:
    """False while a source cannot be polled (error, stale, quarantined): its last values are old."""
    st = frame.sources.get(source)
    return st is None or st.state in ("ok", "starting")


def _threshold_state(spec: MetricSpec, v: float | None) -> str:
    if v is None:
        return "nodata"
    if spec.critical is not None and v >= spec.critical:
        return "critical"
    if spec.warn is not None and v >= spec.warn:
        return "warn"
    return "ok"


_STATE_RANK = {"nodata": -1, "stale": -1, "ok": 0, "resolved": 0, "pending": 1, "inconclusive": 1, "warn": 2,
               "critical": 3, "pause": 4, "rollback": 5}


def metric_rows(frame: Any, panel: PanelSpec, triggers: list[TriggerRow] | None, *, window: float = 600.0,
                now: float | None = None, max_series: int = 6) -> list[MetricRow]:
    """One row per series of every metric of a panel (a ``*`` suffix matches a prefix)."""
    series = list(frame.series.values())
    rows: list[MetricRow] = []
    for spec in panel.metrics:
        prefix = spec.metric[:-1] if spec.metric.endswith("*") else None
        matched = [s for s in series
                   if (s.metric.startswith(prefix) if prefix is not None else s.metric == spec.metric)
                   and (not panel.source or s.source == panel.source)]
        matched.sort(key=lambda s: (s.metric, labels_key(s.labels)))
        title = spec.title or spec.metric
        unit = display_unit(spec.metric, spec.unit)
        if not matched:
            rows.append(MetricRow(title, unit, None, None, [], "nodata", panel.source, spec.metric))
            continue
        for s in matched[:max_series]:
            pts = list(s.points)
            last_ts = pts[-1][0] if pts else None
            t_end = now if now is not None else (last_ts or time.time())
            vals = [float(v) for ts, v in pts if ts >= t_end - window]
            value = _num(pts[-1][1]) if pts else None
            base = baseline_value(frame, s.source, s.metric, s.labels)
            state, age = _threshold_state(spec, value), None
            tstate = trigger_state_for_metric(triggers, s.metric, s.source, s.labels)
            if tstate and _STATE_RANK.get(tstate, 0) > _STATE_RANK.get(state, 0):
                state = tstate
            if not source_reachable(frame, s.source):  # old values never read as ok (or warn)
                state = "stale" if value is not None else "nodata"
                age = (t_end - last_ts) if last_ts is not None and now is not None else None
            name = title
            if prefix is not None:
                name = s.metric[len(prefix):] or title
            if s.labels:
                name += " " + ",".join(cell_str(v) for _, v in sorted(s.labels.items()))
            rows.append(MetricRow(name, unit, value, base, vals, state, s.source, s.metric, age))
        if len(matched) > max_series:
            rows.append(MetricRow(f"  … {len(matched) - max_series} more", "", None, None, [], "nodata"))
    return rows


# --------------------------------------------------------------------------- panels

def panels_by_kind(panels: Iterable[PanelSpec]) -> list[tuple[str, list[PanelSpec]]]:
    """Panels grouped by migration type, in the cockpit's order (known kinds first)."""
    groups: dict[str, list[PanelSpec]] = {}
    for p in panels:
        groups.setdefault(p.kind, []).append(p)
    order = [k for k in KIND_ORDER if k in groups] + [k for k in groups if k not in KIND_ORDER]
    return [(k, groups[k]) for k in order]


def kind_title(kind: str, panels: Sequence[PanelSpec]) -> str:
    if kind in KIND_TITLES:
        return KIND_TITLES[kind]
    return panels[0].title if panels and panels[0].title else kind.title()


def source_badge(frame: Any, source: str, now: float | None = None) -> tuple[str, str]:
    """(text, style) describing a source's connection for a panel or the header."""
    st = frame.sources.get(source)
    if st is None:
        return ("", "")
    now = time.time() if now is None else now
    state = st.state
    if state == "ok":
        return ("ok", "green")
    if state == "starting":
        return ("connecting…", "yellow")
    if state == "stale":
        age = fmt_age(now - st.last_ok) if st.last_ok else "-"
        return (f"STALE (last data {age} ago)", "bold yellow")
    if state == "quarantined":
        return (f"QUARANTINED: {safetext.one_line(st.last_error)}", "bold red")
    err = safetext.one_line(st.last_error or "error")
    if "reconnecting" in err or "lost the connection" in err or "cannot connect" in err:
        return (f"DISCONNECTED, reconnecting: {err}", "bold red")
    return (f"ERROR: {err}", "bold red")


# --------------------------------------------------------------------------- table snapshots

def cell_str(value: Any, width: int = 60) -> str:
    """A table cell as one line of safe text (:mod:`migtui.safetext`): numbers formatted, lists joined,
    control characters shown as escapes, cut to ``width`` with ``…``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 100 else f"{value:.1f}"
    if isinstance(value, (list, tuple)):
        return safetext.one_line(",".join(cell_str(v, 0) for v in value), width or None)
    return safetext.one_line(value, width or None)


def cell(value: Any, width: int = 60, style: str = "") -> Text:
    """A table cell: :func:`cell_str` as a ``Text``, which Rich never parses as markup. It never wraps:
    in a column narrower than itself it ends in ``…`` (numbers and pids get columns that fit them)."""
    return Text(cell_str(value, width), style=style, end="", no_wrap=True, overflow="ellipsis")


def visible_columns(preferred: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The preferred columns the table has, in their order; else its first ten (no ``tag_*``)."""
    cols = [c for c in preferred if c in columns]
    if cols:
        return cols
    return [c for c in columns if not c.startswith("tag_")][:10]


# progress: percentage and ETA from whatever columns a progress snapshot has
_PCT_COLS = ("percent", "pct", "progress_pct", "percent_done", "tuples_pct", "blocks_pct", "bytes_pct", "progress")
_PAIR_COLS = (("blocks_done", "blocks_total"), ("tuples_done", "tuples_total"), ("bytes_processed", "bytes_total"),
              ("tuples_processed", "tuples_total"), ("heap_blks_scanned", "heap_blks_total"),
              ("lockers_done", "lockers_total"), ("partitions_done", "partitions_total"))
_ETA_COLS = ("eta_seconds", "eta", "eta_s", "remaining_seconds")
_RATE_COLS = ("rate_per_s", "rows_per_s", "tuples_per_s", "bytes_per_s")
_NAME_COLS = ("what", "index_name", "index", "relation", "relname", "table_name", "table", "target", "name",
              "command", "type")


@dataclass
class ProgressRow:
    label: str
    phase: str
    percent: float | None
    eta: float | None
    pid: Any = None


def progress_rows(rows: Sequence[Mapping[str, Any]]) -> list[ProgressRow]:
    out = []
    for r in rows:
        pct, pct_col = None, ""
        for c in _PCT_COLS:
            v = _num(r.get(c))
            if v is not None:
                pct, pct_col = (v * 100 if c == "progress" and v <= 1.0 else v), c
                break
        if pct is None:
            for done, total in _PAIR_COLS:
                d, t = _num(r.get(done)), _num(r.get(total))
                if d is not None and t:
                    pct = d / t * 100
                    break
        eta = None
        for c in _ETA_COLS:
            eta = _num(r.get(c))
            if eta is not None:
                break
        if eta is None and pct_col:
            eta = _num(r.get(f"{pct_col}_eta"))  # from the percentage's own rate (rows_from_series)
        label = next((cell_str(r[c]) for c in _NAME_COLS if r.get(c) not in (None, "")), "")
        out.append(ProgressRow(label, cell_str(r.get("phase") or r.get("command") or ""), pct, eta, r.get("pid")))
    return out


def progress_bar(pct: float | None, width: int = 20) -> Text:
    if pct is None:
        return Text("?" .ljust(width), style="dim")
    pct = max(0.0, min(100.0, pct))
    full = int(round(pct / 100 * width))
    return Text("█" * full, style="cyan") + Text("░" * (width - full), style="dim")


# --------------------------------------------------------------------------- blocking tree

@dataclass
class BlockNode:
    pid: Any
    row: dict[str, Any] = field(default_factory=dict)
    children: list["BlockNode"] = field(default_factory=list)


_PARENT_COLS = ("blocked_by", "blocking_pid", "blocker_pid", "parent_pid", "blocking_pids", "blocked_by_pids")


def _pids(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_pids(v))
        return out
    if isinstance(value, str):
        parts = [p.strip() for p in value.strip("{}[]()").split(",") if p.strip()]
        return [_int(p) for p in parts if _int(p) is not None]
    i = _int(value)
    return [i] if i is not None else []


def _int(v: Any) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def blocking_forest(rows: Sequence[Mapping[str, Any]]) -> list[BlockNode]:
    """Trees rooted at the blockers: each waiting backend under the backend blocking it.

    Works with a ``blocked_by``/``blocking_pid``/``parent_pid``/``blocking_pids`` column (the first
    pid listed that is itself in the snapshot wins, else the first), or a ``path`` column listing the
    pids from the root. A blocker that is not a row of its own becomes a bare root."""
    nodes: dict[Any, BlockNode] = {}
    parent: dict[Any, Any] = {}
    order: list[Any] = []
    for r in rows:
        pid = _int(r.get("pid"))
        if pid is None:
            continue
        if pid not in nodes:
            nodes[pid] = BlockNode(pid, dict(r))
            order.append(pid)
    for pid in order:
        r = nodes[pid].row
        cands: list[Any] = []
        path = _pids(r.get("path"))
        if len(path) >= 2:
            cands = [path[-2]]
        else:
            for c in _PARENT_COLS:
                if c in r:
                    cands = [p for p in _pids(r.get(c)) if p != pid]
                    if cands:
                        break
        if not cands:
            continue
        inside = [c for c in cands if c in nodes]
        parent[pid] = inside[0] if inside else cands[0]
    for pid, par in list(parent.items()):
        if par not in nodes:
            nodes[par] = BlockNode(par, {"pid": par})
            order.append(par)
    # break cycles (deadlocks): walk up; a pid met twice loses its parent link
    for pid in order:
        seen = {pid}
        cur = parent.get(pid)
        while cur is not None:
            if cur in seen:
                parent.pop(pid, None)
                break
            seen.add(cur)
            cur = parent.get(cur)
    roots = []
    for pid in order:
        par = parent.get(pid)
        if par is None:
            roots.append(nodes[pid])
        else:
            nodes[par].children.append(nodes[pid])
    return roots


_WAIT_COLS = ("wait_seconds", "wait_age", "waiting_seconds", "lock_wait_seconds", "query_seconds", "xact_seconds",
              "state_seconds")


def is_migration_session(row: Mapping[str, Any], migration_apps: Sequence[str] = ()) -> bool:
    import fnmatch

    app = str(row.get("application_name") or "")
    return bool(app) and any(fnmatch.fnmatchcase(app, pat) for pat in migration_apps if pat)


def node_label(node: BlockNode, *, root: bool = False, migration_apps: Sequence[str] = ()) -> Text:
    r = node.row
    text = Text()
    if is_migration_session(r, migration_apps):
        text.append("MIGRATION ", style="bold reverse yellow")
    text.append(f"pid {node.pid}", style="bold")
    who = " ".join(cell_str(r[c]) for c in ("usename", "application_name") if r.get(c))
    if who:
        text.append(f" {who}")
    state = r.get("state")
    if state:
        text.append(f" [{cell_str(state)}]", style="yellow" if "idle in transaction" in str(state) else "")
    for c in _WAIT_COLS:
        v = _num(r.get(c))
        if v is not None:
            text.append(f" waits {fmt_age(v)}" if "wait" in c else f" {c.split('_')[0]} {fmt_age(v)}",
                        style="bold red" if v >= 30 else "")
            break
    mode = r.get("mode") or r.get("lock_mode") or r.get("wait_event")
    if mode:
        text.append(f" {cell_str(mode)}", style="cyan")
    rel = r.get("relation") or r.get("relname") or r.get("locked_relation")
    if rel:
        text.append(f" on {cell_str(rel)}")
    if root and node.children:
        text.append(f"  blocks {count_blocked(node)}", style="bold red")
    q = r.get("query")
    if q:
        text.append(" " + cell_str(q, 70), style="dim")
    return text


def count_blocked(node: BlockNode) -> int:
    return sum(1 + count_blocked(c) for c in node.children)


def rows_from_series(frame: Any, name: str, source: str = "", *, now: float, max_age: float = 15.0
                     ) -> list[dict[str, Any]] | None:
    """A table for a ``kind: metrics`` query (e.g. ``progress_create_index``): one row per label set
    of the series named ``<name>.*`` whose last point is at most ``max_age`` old; the labels and
    the metric suffixes are the columns. None when no such series was ever seen."""
    prefix = name + "."
    seen = False
    rows: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for ser in frame.series.values():
        if not ser.metric.startswith(prefix) or (source and ser.source != source):
            continue
        seen = True
        last = ser.last
        if last is None or now - last[0] > max_age:
            continue
        row = rows.setdefault(labels_key(ser.labels), dict(ser.labels))
        suffix = ser.metric[len(prefix):]
        row[suffix] = last[1]
        if suffix.endswith(("_pct", "percent")):
            eta = eta_from_points(list(ser.points))
            if eta is not None:
                row[f"{suffix}_eta"] = eta
    if not seen:
        return None
    return [rows[k] for k in sorted(rows)]


def eta_from_points(points: Sequence[tuple[float, float]], window: float = 120.0) -> float | None:
    """Seconds to 100 % at the rate of the last ``window`` seconds of a percentage series."""
    pts = [(t, v) for t, v in points if v is not None and not math.isnan(v)]
    if len(pts) < 2:
        return None
    t_end, v_end = pts[-1]
    start = [(t, v) for t, v in pts if t >= t_end - window and v <= v_end]
    t0, v0 = start[0] if start else pts[0]
    if t_end <= t0 or v_end <= v0 or v_end >= 100:
        return None
    return (100.0 - v_end) / ((v_end - v0) / (t_end - t0))


def with_eta(rows: list[dict[str, Any]], series_rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Add the ``*_eta`` estimates of :func:`rows_from_series` to a progress snapshot's rows (by pid)."""
    if not series_rows:
        return rows
    by_pid = {str(r.get("pid")): r for r in series_rows if r.get("pid") is not None}
    out = []
    for r in rows:
        extra = by_pid.get(str(r.get("pid")), {})
        out.append({**{k: v for k, v in extra.items() if k.endswith("_eta")}, **r})
    return out
