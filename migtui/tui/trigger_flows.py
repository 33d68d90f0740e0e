"""Cockpit flows on triggers: acknowledge, silence and unsilence (pick lists, then a thread worker).
Mixed into :class:`migtui.tui.app.MigtuiApp`."""

from __future__ import annotations

from typing import Any

from textual import work

from migtui.triggers.commands import acknowledge_trigger, silence_triggers, unsilence_triggers
from migtui.tui.control_flows import WHO
from migtui.tui.screens import PickScreen, SilenceScreen
from migtui.tui.view import TriggerRow, fmt_left, fmt_value, trigger_rows

ACKABLE = ("firing", "inconclusive", "pending")
"""Trigger states an operator can acknowledge (what the trigger engine accepts)."""
_ALL = "\x00all"
"""The "every one of them" entry of the pick lists (not a possible trigger or silence name)."""


class TriggerFlows:
    """Acknowledging and silencing triggers (a mixin of the cockpit app)."""

    def _trigger_rows_or_say(self, verb: str) -> list[TriggerRow] | None:
        """The trigger rows, or None after one line in the event log saying why there are none."""
        rows = trigger_rows(self.frame, self.clock())
        if rows is None:
            self.log_ui(f"{verb}: triggers are not loaded in this run", "warn")
            return None
        if not rows:
            self.log_ui(f"{verb}: no triggers are configured (triggers: in the config)", "warn")
            return None
        return rows

    def action_acknowledge(self) -> None:
        rows = self._trigger_rows_or_say("acknowledge")
        if rows is None:
            return
        active = sorted((r for r in rows if r.state in ACKABLE), key=lambda r: (-r.rank, r.name))
        if not active:
            self.log_ui("acknowledge: no trigger is firing or pending; nothing to acknowledge", "warn")
            return
        todo = [r for r in active if not r.acked_by]
        if not todo:
            done = ", ".join(f"{r.name} by {r.acked_by}" for r in active)
            self.log_ui(f"acknowledge: every firing trigger is already acknowledged ({done})")
            return
        if len(todo) == 1:
            self._acknowledge([todo[0].name])
            return

        def picked(key: str | None) -> None:
            if key:
                self._acknowledge([r.name for r in todo] if key == _ALL else [key])

        now = self.clock()
        choices = [(r.name, _trigger_label(r, now)) for r in todo] + [(_ALL, f"all {len(todo)} of them")]
        self.push_screen(PickScreen("Acknowledge which trigger? Its alerts stop repeating; state and actions "
                                    "are unchanged.", choices), picked)

    @work(thread=True, exit_on_error=False, group="commands", description="acknowledging triggers")
    def _acknowledge(self, names: list[str]) -> None:
        for name in names:
            try:
                acknowledge_trigger(self.engine, name, WHO)  # the trigger event reaches the log with the next tick
            except Exception as exc:  # noqa: BLE001 - a migtui error warns, anything else is an error
                self._log_failure(f"acknowledge {name}", exc)
        self._ui(self._redraw_triggers)

    def action_silence(self) -> None:
        rows = self._trigger_rows_or_say("silence")
        if rows is None:
            return
        now = self.clock()
        ordered = sorted(rows, key=lambda r: (-r.rank, r.name))
        targets = [(r.name, _trigger_label(r, now)) for r in ordered]
        for level in ("warn", "pause", "rollback"):
            n = sum(1 for r in rows if r.action == level)
            if n:
                targets.append((level, f"every {level} trigger ({n})"))
        targets.append(("all", f"all triggers ({len(rows)})"))

        def chosen(result: tuple[str, float] | None) -> None:
            if result:
                self._silence(*result)

        self.push_screen(SilenceScreen(targets), chosen)

    @work(thread=True, exit_on_error=False, group="commands", description="silencing triggers")
    def _silence(self, target: str, seconds: float) -> None:
        try:
            silence_triggers(self.engine, target, seconds, WHO)
        except Exception as exc:  # noqa: BLE001 - a migtui error warns, anything else is an error
            self._log_failure(f"silence {target}", exc)
        self._ui(self._redraw_triggers)

    def action_unsilence(self) -> None:
        if self._trigger_rows_or_say("unsilence") is None:
            return
        now = self.clock()
        silences = [dict(s) for s in self.frame.silences if s["until"] > now]
        if not silences:
            self.log_ui("unsilence: nothing is silenced", "warn")
            return

        def picked(key: str | None) -> None:
            if key:
                self._unsilence([s["target"] for s in silences] if key == _ALL else [key])

        choices = [(s["target"], _silence_label(s, now)) for s in silences]
        if len(silences) > 1:
            choices.append((_ALL, f"all {len(silences)} silences"))
        self.push_screen(PickScreen("Lift which silence? Its triggers act and alert again.", choices), picked)

    @work(thread=True, exit_on_error=False, group="commands", description="lifting silences")
    def _unsilence(self, targets: list[str]) -> None:
        for target in targets:
            try:
                unsilence_triggers(self.engine, target, WHO)
            except Exception as exc:  # noqa: BLE001 - a migtui error warns, anything else is an error
                self._log_failure(f"unsilence {target}", exc)
        self._ui(self._redraw_triggers)

    def _redraw_triggers(self) -> None:
        """After an acknowledgement or a silence: show it now, not with the next engine tick."""
        if not self.frozen and self._accepting:
            self.render_now()


def _trigger_label(r: TriggerRow, now: float) -> str:
    """One line of a trigger pick list: name, state, value, and any ack or silence."""
    text = f"{r.name}  {r.display_state}"
    if r.value is not None:
        text += f"  {fmt_value(r.value)} (limit {r.threshold})" if r.threshold else f"  {fmt_value(r.value)}"
    if r.silenced_until and r.silenced_until > now:
        text += f"  [silenced, {fmt_left(r.silenced_until - now)} left]"
    if r.acked_by:
        text += f"  [ack {r.acked_by}]"
    return text


def _silence_label(s: dict[str, Any], now: float) -> str:
    from datetime import datetime

    until = float(s["until"])
    names = [str(n) for n in s.get("triggers") or []]
    covers = f"  ({', '.join(names[:4])}{' …' if len(names) > 4 else ''})" if names and names != [s["target"]] else ""
    return (f"{s['target']}  until {datetime.fromtimestamp(until).strftime('%H:%M:%S')} "
            f"({fmt_left(until - now)} left) by {s.get('who') or '?'}{covers}")
