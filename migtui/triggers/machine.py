"""The state machine: :class:`TriggerEngine` evaluates every trigger each tick
(``ok -> pending -> firing -> resolved``, plus ``inconclusive``), picks the one action to request,
and keeps acknowledgements and silences; :meth:`TriggerEngine.restore` resumes them from a previous
run's events. Pure: no I/O, no threads, the clock is the ``now`` it is given."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from migtui.errors import MigtuiError
from migtui.model import Event, Level, Phase
from migtui.triggers.observe import Observation, observe
from migtui.triggers.rules import ACTIONS, DEFAULT_MAX_AGE, STATES, TriggerSpec, fmt_num
from migtui.triggers.transitions import Transition, TriggerStatus
from migtui.triggers.view import MetricView


@dataclass
class _State:
    spec: TriggerSpec
    state: str = "ok"
    since: float = 0.0
    value: float | None = None
    score: float | None = None
    reason: str = ""
    level: Level = Level.INFO  # effective level while firing/inconclusive
    last_met: float | None = None
    acted: Level | None = None  # strongest action already requested in this episode
    acked_by: str = ""
    window: list[tuple[float, float]] = field(default_factory=list)  # (ts, score)
    was_firing: bool = False
    code: str = ""
    measured_at: float | None = None  # ts of the newest sample that gave a value (not a policy)


class TriggerEngine:
    """Evaluates trigger specs every tick; pure (no I/O, the clock is the ``now`` you pass)."""

    def __init__(self, specs: Sequence[TriggerSpec], *, default_max_age: float = DEFAULT_MAX_AGE,
                 no_data_grace: float | None = None) -> None:
        self.specs = list(specs)
        self.default_max_age = default_max_age
        self.no_data_grace = default_max_age if no_data_grace is None else no_data_grace
        self._states: dict[str, _State] = {s.name: _State(s) for s in self.specs}
        self._silences: dict[str, tuple[float, str]] = {}  # target -> (until, who)
        self._started: float | None = None

    # -- operator commands

    def _find(self, name: str) -> _State:
        st = self._states.get(name)
        if st is None:
            known = ", ".join(self._states) or "none"
            raise MigtuiError(f"no trigger named {name!r}; triggers: {known}")
        return st

    def acknowledge(self, name: str, who: str, *, now: float, run: str = "",
                    phase: Phase | str = Phase.MIGRATION) -> Event:
        """Acknowledge a firing (or pending / inconclusive) trigger: alerts stop repeating."""
        st = self._find(name)
        if st.state not in ("firing", "pending", "inconclusive"):
            raise MigtuiError(f"trigger {name!r} is {st.state}; only a firing trigger can be acknowledged")
        st.acked_by = who
        return Event(kind="trigger", subject=name, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"{name}: acknowledged by {who}",
                     data={"op": "ack", "who": who, "state": st.state})

    def silence(self, target: str, seconds: float, who: str, *, now: float, run: str = "",
                phase: Phase | str = Phase.MIGRATION) -> Event:
        """Silence a trigger by name, every trigger of one action level (warn | pause | rollback),
        or ``all``, for ``seconds``. Silenced triggers keep their state but request no action/alert."""
        if target not in self._states and target not in ACTIONS and target not in ("all", "*"):
            known = ", ".join([*self._states, *ACTIONS, "all"])
            raise MigtuiError(f"cannot silence {target!r}: not a trigger or action level; choose one of {known}")
        if seconds <= 0:
            raise MigtuiError("a silence needs a positive duration")
        target = "all" if target == "*" else target
        until = now + seconds
        self._silences[target] = (until, who)
        names = [s.name for s in self.specs if self._matches(target, s)]
        return Event(kind="trigger", subject=target, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"silenced {target} for {fmt_num(float(seconds))}s by {who} (until {_iso(until)})",
                     data={"op": "silence", "target": target, "until": until, "who": who, "triggers": names})

    def unsilence(self, target: str, who: str, *, now: float, run: str = "",
                  phase: Phase | str = Phase.MIGRATION) -> Event:
        target = "all" if target == "*" else target
        if target not in self._silences:
            raise MigtuiError(f"{target!r} is not silenced")
        del self._silences[target]
        names = [s.name for s in self.specs if self._matches(target, s)]
        return Event(kind="trigger", subject=target, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"silence of {target} lifted by {who}",
                     data={"op": "unsilence", "target": target, "who": who, "triggers": names})

    def change(self, name: str, who: str, *, now: float, threshold: float | None = None, clear: float | None = None,
               for_: float | None = None, run: str = "", phase: Phase | str = Phase.MIGRATION) -> Event:
        """Change a running trigger's limit (``threshold``), hysteresis (``clear``) or ``for``
        (``migtui ctl set``); the event records who changed what from what."""
        st = self._find(name)
        spec, cond = st.spec, st.spec.condition
        if (threshold is not None or clear is not None) and cond.op == "outside":
            raise MigtuiError(f"trigger {name!r} is outside a range; threshold= and clear= change above/below limits only")
        lo = cond.lo if threshold is None else float(threshold)
        new_clear = cond.clear if clear is None else float(clear)
        if new_clear is not None and (new_clear > lo if cond.op == "above" else new_clear < lo):
            side = "at or below" if cond.op == "above" else "at or above"
            raise MigtuiError(f"trigger {name!r}: clear must be {side} its threshold {fmt_num(lo)}, "
                              f"got clear {fmt_num(new_clear)}")
        if for_ is not None and for_ < 0:
            raise MigtuiError("for= must not be negative")
        new = replace(spec, condition=replace(cond, lo=lo, clear=new_clear),
                      for_=spec.for_ if for_ is None else float(for_))
        changes = {k: [fmt_num(a), fmt_num(b)] for k, a, b in (
            ("threshold", cond.lo, lo), ("clear", cond.clear, new_clear), ("for", spec.for_, new.for_)) if a != b}
        if not changes:
            raise MigtuiError(f"trigger {name!r} already has these values; nothing changed")
        self.specs[self.specs.index(spec)] = st.spec = new
        shown = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changes.items())
        return Event(kind="trigger", subject=name, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"{name}: {shown} by {who} (now {new.threshold_text()})",
                     data={"op": "set", "who": who, "changes": changes, "threshold": new.threshold_text()})

    @staticmethod
    def _matches(target: str, spec: TriggerSpec) -> bool:
        return target == "all" or target == spec.name or target == spec.action

    def silences(self, now: float) -> list[dict[str, Any]]:
        """The silences in force at ``now``: ``[{"target", "until", "who", "triggers"}]``, soonest
        to end first (a copy: safe to read from another thread)."""
        out = [{"target": target, "until": until, "who": who,
                "triggers": [s.name for s in self.specs if self._matches(target, s)]}
               for target, (until, who) in list(self._silences.items()) if until > now]
        return sorted(out, key=lambda s: (s["until"], s["target"]))

    def silenced_until(self, spec: TriggerSpec, now: float) -> tuple[float, str] | None:
        best: tuple[float, str] | None = None
        for target, (until, who) in self._silences.items():
            if until > now and self._matches(target, spec) and (best is None or until > best[0]):
                best = (until, who)
        return best

    # -- status and restore

    def status(self, now: float | None = None) -> list[TriggerStatus]:
        rows = []
        for spec in self.specs:
            st = self._states[spec.name]
            sil = self.silenced_until(spec, now) if now is not None else self._any_silence(spec)
            rows.append(TriggerStatus(
                name=spec.name, state=st.state, since=st.since, value=st.value,
                threshold=spec.threshold_text(), action=spec.action,
                level=st.level.value if st.state in ("firing", "inconclusive") else "info",
                reason=st.reason, silenced_until=sil[0] if sil else None, silenced_by=sil[1] if sil else "",
                acked_by=st.acked_by, dry_run=spec.dry_run, metric=spec.metric, source=spec.source or "",
                labels=dict(spec.labels), measured_at=st.measured_at, utilization=spec.utilization(st.score)))
        return rows

    def _any_silence(self, spec: TriggerSpec) -> tuple[float, str] | None:
        cands = [(u, w) for t, (u, w) in self._silences.items() if self._matches(t, spec)]
        return max(cands) if cands else None

    def restore(self, events: Iterable[Event | Mapping[str, Any]], *, now: float | None = None) -> int:
        """Resume states, acks and silences from the ``trigger`` events of a previous watch.

        Accepts :class:`Event` objects or dicts with ``kind``, ``subject``, ``ts`` (float seconds or
        datetime) and ``data``. Returns how many triggers were restored to a non-ok state.
        """
        rows = []
        for ev in events:
            kind, subject, ts, data = _event_fields(ev)
            if kind == "trigger" and isinstance(data, dict):
                rows.append((ts, subject, data))
        rows.sort(key=lambda r: r[0])
        for ts, subject, data in rows:
            op = data.get("op")
            if op == "silence":
                self._silences[str(data.get("target"))] = (float(data.get("until") or 0), str(data.get("who", "")))
            elif op == "unsilence":
                self._silences.pop(str(data.get("target")), None)
            elif op == "ack":
                st = self._states.get(subject)
                if st is not None:
                    st.acked_by = str(data.get("who", ""))
            elif "state" in data and subject in self._states:
                st = self._states[subject]
                state = data["state"]
                if state not in STATES:
                    continue
                if state != st.state:
                    st.since = float(data.get("since") or ts)
                st.state = state
                st.value = _restore_num(data.get("value"))
                st.reason = str(data.get("reason") or "")
                try:
                    st.level = Level(data.get("level") or "info")
                except ValueError:
                    st.level = Level.INFO
                acted = data.get("acted")
                st.acted = Level(acted) if acted in ACTIONS else None
                if state in ("firing", "inconclusive"):
                    st.was_firing = st.was_firing or state == "firing"
                    if state == "firing":
                        st.last_met = ts
                else:
                    st.acked_by = ""
                    if state in ("ok", "resolved"):
                        st.was_firing = False
        if now is not None:
            self._silences = {t: v for t, v in self._silences.items() if v[0] > now}
        return sum(1 for st in self._states.values() if st.state not in ("ok", "resolved"))

    # -- evaluation

    def evaluate(self, now: float, view: MetricView) -> list[Transition]:
        """One tick: observe every trigger, advance its state machine, pick the action to request."""
        if self._started is None:
            self._started = now
        out: list[Transition] = []
        by_name: dict[str, Transition] = {}
        for spec in self.specs:
            st = self._states[spec.name]
            obs = observe(spec, now, view, default_max_age=self.default_max_age,
                          in_grace=now - self._started < self.no_data_grace)
            tr = self._step(st, obs, now)
            if tr is not None:
                out.append(tr)
                by_name[spec.name] = tr
        self._request_actions(now, out, by_name)
        return out

    def _step(self, st: _State, obs: Observation, now: float) -> Transition | None:
        spec = st.spec
        if obs.kind == "wait":
            st.reason = obs.reason
            return None
        outcome = "not_met"
        level = spec.level
        if obs.kind == "policy":
            pol = obs.policy
            st.value, st.score = None, None
            if pol == "ok":
                outcome = "not_met"
            elif pol == "fire":
                outcome = "met"
            else:
                outcome = "inconclusive"
                level = Level.WARN if pol == "inconclusive" else Level(pol)
        else:
            st.value, st.score = obs.value, obs.score
            assert obs.score is not None and obs.ts is not None
            st.measured_at = obs.ts
            if not st.window or st.window[-1][0] != obs.ts:
                st.window.append((obs.ts, obs.score))
                n = spec.window[1] if spec.window else 1
                if len(st.window) > n:
                    del st.window[: len(st.window) - n]
            test = spec.condition.held if st.state == "firing" else spec.condition.met
            if spec.window:
                m, _n = spec.window
                bad = sum(1 for _, sc in st.window if test(sc)) >= m
            else:
                bad = test(obs.score)
            outcome = "met" if bad else "not_met"

        prev = st.state
        new = prev
        reason = obs.reason
        keep = (prev == "firing" and spec.keep_firing_for > 0 and st.last_met is not None
                and now - st.last_met < spec.keep_firing_for)
        if outcome == "met":
            st.last_met = now
            if prev in ("ok", "resolved", "inconclusive"):
                new = "pending" if spec.for_ > 0 else "firing"
            elif prev == "pending" and now - st.since >= spec.for_:
                new = "firing"
        elif outcome == "not_met":
            if prev == "pending":
                new = "ok"
            elif prev == "firing":
                if keep:
                    reason = f"keep_firing_for {fmt_num(spec.keep_firing_for)}s"
                else:
                    new = "resolved"
            elif prev == "inconclusive":
                new = "resolved" if st.was_firing else "ok"
        elif not keep:  # inconclusive
            new = "inconclusive"
        st.reason = reason
        code = obs.code if outcome == "inconclusive" else ""
        if new == prev and not (new == "inconclusive" and (st.level != level or st.code != code)):
            return None
        st.code = code
        st.state = new
        st.since = now
        if new == "firing":
            st.was_firing = True
            st.level = spec.level
        elif new == "inconclusive":
            st.level = level
        else:
            st.level = Level.INFO
        if new in ("ok", "resolved"):
            st.acked_by = ""
            st.acted = None
            st.was_firing = False
            if prev == "firing" and spec.window:
                st.window.clear()
        sil = self.silenced_until(spec, now)
        return Transition(
            name=spec.name, prev=prev, state=new, ts=now, spec=spec, value=st.value, score=st.score,
            reason=reason, level=st.level if new in ("firing", "inconclusive") else Level.INFO,
            confirm=spec.confirm, silenced=sil is not None, acked_by=st.acked_by,
            labels=obs.labels, source=obs.source or (spec.source or ""), since=now,
            acted=st.acted.value if st.acted else None)

    def _request_actions(self, now: float, out: list[Transition], by_name: dict[str, Transition]) -> None:
        """Strongest action wins; each trigger asks once per episode (until it resolves). Throttle
        triggers never escalate: the throttle (``migtui.throttle``) pauses and resumes for them."""
        in_force = 0
        candidates: list[tuple[_State, Level]] = []
        for spec in self.specs:
            st = self._states[spec.name]
            if st.state not in ("firing", "inconclusive") or spec.dry_run or spec.throttles:
                continue
            eff = st.level
            if st.acted is not None:
                in_force = max(in_force, st.acted.rank)
            if self.silenced_until(spec, now) is not None:
                continue
            if st.acted is None or eff.rank > st.acted.rank:
                candidates.append((st, eff))
        if not candidates:
            return
        strongest_state, strongest = max(candidates, key=lambda c: c[1].rank)
        for st, eff in candidates:
            st.acted = eff if st.acted is None or eff.rank > st.acted.rank else st.acted
        for tr in out:
            tr.acted = self._states[tr.name].acted.value if self._states[tr.name].acted else None
        if strongest.rank <= in_force:
            return  # an action at least this strong was already requested
        spec = strongest_state.spec
        tr = by_name.get(spec.name)
        if tr is None:  # e.g. its silence expired while it kept firing
            tr = Transition(name=spec.name, prev=strongest_state.state, state=strongest_state.state, ts=now,
                            spec=spec, value=strongest_state.value, score=strongest_state.score,
                            reason="silence expired", level=strongest_state.level, confirm=spec.confirm,
                            acked_by=strongest_state.acked_by, since=strongest_state.since,
                            source=spec.source or "", acted=strongest.value)
            out.append(tr)
        tr.requested = strongest.value
        tr.confirm = spec.confirm


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _restore_num(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _event_fields(ev: Any) -> tuple[str, str, float, Any]:
    if isinstance(ev, Event):
        return ev.kind, ev.subject, float(ev.ts), ev.data
    kind = ev.get("kind", "")
    subject = ev.get("subject", "")
    ts = ev.get("ts", 0.0)
    if hasattr(ts, "timestamp"):
        ts = ts.timestamp()
    data = ev.get("data")
    if isinstance(data, str):
        import json

        try:
            data = json.loads(data)
        except ValueError:
            data = None
    return str(kind), str(subject), float(ts or 0.0), data
