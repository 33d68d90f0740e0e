"""Cockpit flows that control the migration: pause, resume, rollback (with its typed confirmation),
cancel/terminate a backend, a trigger's request that needs an operator, phases, baseline capture,
report export and notes. Mixed into :class:`migtui.tui.app.MigtuiApp`; every step that may block runs
in a thread worker and reports to the event log."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

from textual import work

from migtui.model import Event
from migtui.tui.screens import ConfirmScreen, NoteScreen, RollbackScreen
from migtui.tui.widgets import BlockingTree

WHO = "operator (cockpit)"
ACTION_TIMEOUT = 300.0
"""How long a worker waits for an action's result before saying it is still running."""


class ControlFlows:
    """Actions on the migration and its backends (a mixin of the cockpit app: uses its engine, frame,
    event-log helpers and screens)."""

    def _ask_for_trigger(self, ev: Event) -> None:
        """A trigger asked for an action that needs an operator's confirmation: ask now."""
        verb = str(ev.data.get("verb") or ev.subject)
        who = str(ev.data.get("who") or "a trigger")
        why = str(ev.data.get("why") or "")
        if any(isinstance(s, (RollbackScreen, ConfirmScreen)) for s in self.screen_stack):
            self.log_ui(f"{who} asks for {verb}; answer the open question first, then press "
                        f"{'r' if verb == 'rollback' else verb[0]}", "warn")
            return
        self.bell()
        if verb == "rollback":
            self._prepare_rollback(reason=f"{who} asks to roll back" + (f": {why}" if why else ""))
        else:
            self._prepare_trigger_verb(verb, who, why)

    @work(thread=True, exit_on_error=False, group="commands", description="describing the action")
    def _prepare_trigger_verb(self, verb: str, who: str, why: str) -> None:
        try:
            plan = self.engine.describe_actions(verb)
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"{verb}: cannot describe: {exc}", "error")
            return
        lines = [f"{who} asks to {verb}" + (f": {why}" if why else ""), "", "This will run:",
                 *[f"  {line}" for line in plan]]

        def open_modal() -> None:
            def done(ok: bool | None) -> None:
                if ok:
                    self.log_ui(f"{verb} confirmed (asked by {who})")
                    self._request(verb, confirmed=True)
                else:
                    self.log_ui(f"{verb} asked by {who}: declined")

            self.push_screen(ConfirmScreen(f"{verb.upper()}? ({who})", lines, yes=verb.capitalize()), done)

        self._ui(open_modal)

    # ------------------------------------------------------------------ actions: migration control

    def action_pause(self) -> None:
        self.log_ui("pause requested")
        self._request("pause")

    def action_resume(self) -> None:
        self.log_ui("resume requested")
        self._request("resume")

    @work(thread=True, exit_on_error=False, group="commands", description="running an action")
    def _request(self, verb: str, target: dict[str, Any] | None = None, confirmed: bool = True) -> None:
        label = verb + (f" pid {target['pid']}" if target and "pid" in target else "")
        try:
            result = self.engine.request_action(verb, who=WHO, confirmed=confirmed, target=target or {})
            self._log_threadsafe(*summarize_result(label, _wait(result)))
        except Exception as exc:  # noqa: BLE001 - a migtui error warns, anything else is an error
            self._log_failure(label, exc, _hint(verb, exc))

    def action_rollback(self) -> None:
        self._prepare_rollback()

    @work(thread=True, exit_on_error=False, group="commands", description="describing the rollback")
    def _prepare_rollback(self, reason: str = "") -> None:
        try:
            plan = self.engine.describe_actions("rollback")
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"rollback: cannot describe the rollback: {exc}", "error")
            return
        if not plan:
            self._log_threadsafe("rollback: no rollback action is configured (actions.rollback in the config)", "warn")
            return
        self._ui(self._open_rollback, plan, reason)

    def _open_rollback(self, plan: list[str], reason: str = "") -> None:
        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.log_ui(f"rollback confirmed by typing the run's name; running {len(plan)} action(s)", "rollback")
                self._request("rollback", confirmed=True)
            else:
                self.log_ui("rollback cancelled")

        if any(isinstance(s, RollbackScreen) for s in self.screen_stack):
            return
        self.push_screen(RollbackScreen(str(self.engine.name), plan, reason=reason), done)

    def action_backend(self, verb: str) -> None:
        pid, row = self.selected_backend()
        if pid is None:
            self.log_ui(f"{verb}: select a backend in the blocking tree first (Tab to the tree, arrows to move)",
                        "warn")
            return
        self._prepare_backend(verb, pid, row)

    @work(thread=True, exit_on_error=False, group="commands", description="describing the action")
    def _prepare_backend(self, verb: str, pid: int, row: dict[str, Any]) -> None:
        target = {"pid": pid}
        try:
            plan = self.engine.describe_actions(verb, target)
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"{verb} pid {pid}: {exc}", "warn")
            return
        if not plan:
            self._log_threadsafe(f"{verb} pid {pid}: no {verb} action is available", "warn")
            return
        about = [f"backend {pid}: " + " ".join(f"{k}={v}" for k, v in row.items()
                                               if k in ("usename", "application_name", "state", "mode", "relation")
                                               and v not in (None, ""))]
        if row.get("query"):
            about.append(f"query: {' '.join(str(row['query']).split())[:300]}")
        lines = [*about, "", "This will run:", *[f"  {line}" for line in plan]]
        self._ui(self._confirm_backend, verb, target, lines)

    def _confirm_backend(self, verb: str, target: dict[str, Any], lines: list[str]) -> None:
        def done(ok: bool | None) -> None:
            if ok:
                self.log_ui(f"{verb} pid {target['pid']} confirmed")
                self._request(verb, target, True)
            else:
                self.log_ui(f"{verb} pid {target['pid']} cancelled")

        title = f"{verb.upper()} backend {target['pid']}?"
        self.push_screen(ConfirmScreen(title, lines, yes=verb.capitalize()), done)

    def selected_backend(self) -> tuple[int | None, dict[str, Any]]:
        """The pid under the cursor of the visible panel's blocking tree (the focused tree first)."""
        panel = self.visible_panel
        trees: list[BlockingTree] = panel.trees if panel is not None else []
        focused = self.focused if isinstance(self.focused, BlockingTree) else None
        for tree in ([focused] if focused else []) + trees:
            if tree.selected_pid is not None:
                return tree.selected_pid, tree.selected_row
        return None, {}

    # ------------------------------------------------------------------ actions: phases, baseline, export

    def action_phase(self, phase: str) -> None:
        self._set_phase(phase)

    @work(thread=True, exit_on_error=False, group="commands", description="changing the phase")
    def _set_phase(self, phase: str) -> None:
        try:
            ev = self.engine.set_phase(phase, who=WHO)
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"phase {phase}: {exc}", "error")
            return
        if ev is None:
            self._log_threadsafe(f"already in phase {phase}")
        self._ui(self.render_now)  # the phase event itself reaches the log with the next tick

    def action_capture_baseline(self) -> None:
        self.log_ui("capturing baseline statistics…")
        self._capture()

    @work(thread=True, exit_on_error=False, group="commands", description="capturing the baseline")
    def _capture(self) -> None:
        try:
            result = self.engine.capture_baseline(who=WHO)
        except Exception as exc:  # noqa: BLE001 - a migtui error warns, anything else is an error
            self._log_failure("capture baseline", exc)
            return
        if isinstance(result, Event):
            what = result.message
        else:
            what = f"{result} series" if isinstance(result, int) else (str(result) if result is not None else "done")
        self._log_threadsafe(f"capture baseline: {what}")
        self._ui(self.render_now)

    def action_export(self) -> None:
        self.log_ui("exporting the report…")
        self._export()

    @work(thread=True, exit_on_error=False, group="commands", description="exporting the report")
    def _export(self) -> None:
        try:
            from migtui.report import export_report  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            self._log_threadsafe(f"export: the report module is not available ({exc}); "
                                 "nothing was exported", "warn")
            return
        store = self.engine.store
        if store is None:
            self._log_threadsafe("export: this run has no store; nothing to export", "warn")
            return
        out = Path(store.path).parent / f"migtui-report-{self.engine.run_id}.html"
        try:
            result = export_report(store, self.engine.run_id, "html", out_path=out)
        except Exception as exc:  # noqa: BLE001 - a migtui error warns, anything else is an error
            self._log_failure("export", exc)
            return
        self._log_threadsafe(f"report exported: {result}")

    def action_note(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self._note(text)

        self.push_screen(NoteScreen(), done)

    @work(thread=True, exit_on_error=False, group="commands", description="writing a note")
    def _note(self, text: str) -> None:
        try:
            self.engine.note(text, who=WHO)
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"note not written: {exc}", "error")


def refused_trigger_request(ev: Any) -> bool:
    """An ``action`` event saying a trigger's request was refused for want of a confirmation."""
    data = getattr(ev, "data", None) or {}
    return (getattr(ev, "kind", "") == "action" and data.get("stage") == "refused"
            and str(data.get("who", "")).startswith("trigger"))


def _wait(result: Any) -> Any:
    if isinstance(result, Future):
        return result.result(timeout=ACTION_TIMEOUT)
    return result


def summarize_result(label: str, result: Any) -> tuple[str, str]:
    """One event-log line (and its level) for whatever the actions extension returned:
    ``pause ok: paused now`` or ``rollback FAILED: downgrade: exit 1 ...``."""
    items = result if isinstance(result, (list, tuple)) else [result]
    items = [r for r in items if r is not None]
    if not items:
        return (f"{label}: done", "info")
    parts, failed = [], False
    for r in items:
        ok = getattr(r, "ok", None)
        msg = getattr(r, "message", None)
        if msg is None and isinstance(r, Event):
            msg = r.message
        data = getattr(r, "data", None) or {}
        name = data.get("action") if isinstance(data, dict) else None
        failed = failed or ok is False
        dry = " (dry run)" if getattr(r, "dry_run", False) else ""
        text = (msg if msg is not None else str(r)) + dry
        output = [ln.strip() for ln in str(getattr(r, "output", "") or "").splitlines() if ln.strip()]
        if output:  # the program's last words, e.g. a migration tool's "downgraded to 41"
            text += f" | {output[-1][:160]}"
        if len(items) > 1 and name:
            text = f"{name}: " + ("" if ok is not False else "failed: ") + text
        parts.append(text)
    return (f"{label} {'FAILED' if failed else 'ok'}: " + "; ".join(parts), "error" if failed else "info")


def _hint(verb: str, exc: BaseException) -> str:
    text = str(exc)
    if "no action" in text and verb in ("pause", "resume", "rollback") and "actions." not in text:
        return f" (configure actions.{verb} in the config)"
    return ""
