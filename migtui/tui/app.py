"""The cockpit app: ``MigtuiApp(engine)`` and ``run_cockpit(engine)``.

Keys (every one a Binding with an id, so a keymap can move it: ``ui: {keymap: {pause: P, note: N}}``):

| Key    | Binding id         | Action                                                             |
|--------|--------------------|--------------------------------------------------------------------|
| p      | pause              | pause the migration (every configured pause action)                |
| u      | resume             | resume the migration                                               |
| r      | rollback           | roll back: shows exactly what runs, asks for the run's name        |
| b      | phase-baseline     | mark phase: baseline                                               |
| m      | phase-migration    | mark phase: migration                                              |
| o      | phase-post         | mark phase: post (after the migration)                             |
| c      | capture-baseline   | capture baseline statistics from this run's baseline phase         |
| f      | freeze             | freeze / unfreeze the display (data keeps flowing and is stored)   |
| k      | cancel-backend     | cancel the query of the backend selected in the blocking tree      |
| t      | terminate-backend  | terminate the backend selected in the blocking tree                |
| e      | export-report      | export the run's report                                            |
| n      | note               | write a note into the run's event log                              |
| a      | acknowledge        | acknowledge a firing trigger (its alerts stop repeating)           |
| s      | silence            | silence a trigger, an action level or all for a while              |
| S      | unsilence          | lift a silence                                                     |
| 1-6    | panel-1 … panel-6  | show panel N (tabs are numbered; only configured types appear)     |
| ?      | help               | help: every key                                                    |
| q      | quit               | quit (asks first while the phase is migration)                     |
| ctrl+p | command-palette    | command palette: every action by name                              |

Threads: the engine ticks on its own thread and publishes an ``EngineUpdate`` to subscribers on
that thread; the app posts it to itself as a message (thread-safe, never blocks the engine), writes
new events to the log at once, and redraws panels at most every ``refresh_interval`` seconds and
only after an engine tick; a widget is updated only when what it shows changed (and the screen is laid
out again only when a widget's height may have changed), so an idle cockpit costs next to nothing.
Commands that may block (actions, phase changes, baseline capture, export, acknowledging and
silencing triggers) run in thread workers and report back to the event log. The trigger keys are
not in the footer (``show=False``); help and the command palette list them.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.message import Message
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from migtui.control import acknowledge_trigger, silence_triggers, unsilence_triggers
from migtui.errors import MigtuiError
from migtui.model import Event, Level, Phase
from migtui.safetext import one_line
from migtui.tui.commands import CockpitCommands
from migtui.tui.screens import ConfirmScreen, HelpScreen, NoteScreen, PickScreen, RollbackScreen, SilenceScreen
from migtui.tui.screens.help import key_label
from migtui.tui.view import TriggerRow, fmt_left, kind_title, panels_by_kind, trigger_rows
from migtui.tui.widgets import BlockingTree, CockpitHeader, EventLog, KindPanel, TriggersView

WHO = "operator (cockpit)"
ACTION_TIMEOUT = 300.0
"""How long a worker waits for an action's result before saying it is still running."""

_PANELS = Binding.Group("panels", compact=True)
COCKPIT_ACTIONS = frozenset({"pause", "resume", "rollback", "phase", "capture_baseline", "freeze", "backend", "export",
                             "note", "acknowledge", "silence", "unsilence", "panel", "help", "quit"})
ACKABLE = ("firing", "inconclusive", "pending")
"""Trigger states an operator can acknowledge (what the trigger engine accepts)."""
_ALL = "\x00all"
"""The "every one of them" entry of the pick lists (not a possible trigger or silence name)."""


class EngineUpdated(Message):
    """An engine tick finished (posted from the engine thread)."""

    def __init__(self, update: Any) -> None:
        super().__init__()
        self.update = update


class CockpitScreen(Screen[None]):
    """The main screen. Textual lays every screen under a modal out again when the modal is pushed
    (a "resize" of the background to the size it already has), which re-renders every panel; that is
    most of the time from a key to its modal on screen, so an unchanged size is skipped here."""

    def _screen_resized(self, size: Size) -> None:
        if self.is_attached and self.stack_updates and size == self.outer_size and self.app.screen is not self:
            return  # a background screen keeping its size: nothing to lay out
        super()._screen_resized(size)


class CockpitFooter(Footer):
    """The footer, rebuilt only when the keys it shows change and only while its screen is on top.

    Textual's Footer rebuilds all its keys whenever the bindings may have changed, including on every
    modal pushed over the cockpit (where it is hidden under the modal anyway) and again when the modal
    closes; that was a large part of the time from a key to its modal, and the old keys linger."""

    _shown: Any = None

    def _signature(self) -> Any:
        try:
            bindings = self.screen.active_bindings
        except Exception:  # noqa: BLE001 - not mounted yet
            return None
        return tuple((b.key, self.app.get_key_display(b), b.description, b.action, enabled, tooltip)
                     for (_, b, enabled, tooltip) in bindings.values() if b.show)

    def compose(self) -> ComposeResult:
        self._shown = self._signature() if getattr(self, "_bindings_ready", True) else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if getattr(self, "_bindings_ready", False) and (screen is not self.app.screen
                                                        or self._signature() == self._shown):
            return  # under a modal (redone when the cockpit is on top again), or nothing changed
        super().bindings_changed(screen)


class MigtuiApp(App[None]):
    """The migtui cockpit over one :class:`migtui.engine.Engine` (see the module docstring for keys)."""

    CSS_PATH = "app.tcss"
    TITLE = "migtui"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (36, "-tall")]
    COMMANDS = App.COMMANDS | {CockpitCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        # help first: the footer is cut on the right in a small window, and ? lists every key
        Binding("question_mark", "help", "Help", id="help", key_display="?", tooltip="Help: every key"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause the migration (runs every configured pause action)"),
        Binding("u", "resume", "Resume", id="resume", tooltip="Resume the migration"),
        Binding("r", "rollback", "Rollback", id="rollback",
                tooltip="Roll back: shows exactly what will run and asks for the run's name"),
        Binding("b", "phase('baseline')", "Baseline", id="phase-baseline", tooltip="Mark phase: baseline"),
        Binding("m", "phase('migration')", "Migration", id="phase-migration", tooltip="Mark phase: migration"),
        Binding("o", "phase('post')", "Post", id="phase-post", tooltip="Mark phase: post (after the migration)"),
        Binding("c", "capture_baseline", "Capture", id="capture-baseline",
                tooltip="Capture baseline statistics from this run's baseline phase"),
        Binding("f", "freeze", "Freeze", id="freeze",
                tooltip="Freeze / unfreeze the display (data keeps flowing and is stored)"),
        Binding("k", "backend('cancel')", "Cancel pid", id="cancel-backend",
                tooltip="Cancel the query of the backend selected in the blocking tree"),
        Binding("t", "backend('terminate')", "Terminate pid", id="terminate-backend",
                tooltip="Terminate the backend selected in the blocking tree"),
        Binding("e", "export", "Export", id="export-report", tooltip="Export the run's report"),
        Binding("n", "note", "Note", id="note", tooltip="Write a note into the run's event log"),
        Binding("a", "acknowledge", "Ack", id="acknowledge", show=False,
                tooltip="Acknowledge a firing trigger (its alerts stop repeating)"),
        Binding("s", "silence", "Silence", id="silence", show=False,
                tooltip="Silence a trigger, an action level or all for a while (no actions, no alerts)"),
        Binding("S", "unsilence", "Unsilence", id="unsilence", show=False, tooltip="Lift a silence"),
        *[Binding(str(n), f"panel({n})", f"panel {n}", id=f"panel-{n}", group=_PANELS,
                  tooltip=f"Show panel {n}") for n in range(1, 7)],
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (asks first while the phase is migration)"),
    ]

    def __init__(self, engine: Any, *, start_engine: bool = True, refresh_interval: float = 0.5,
                 clock: Callable[[], float] | None = None, handle_signals: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.start_engine = start_engine
        self.handle_signals = handle_signals
        """SIGTERM / SIGHUP (an SSH session that drops) end the app cleanly, so the run is closed."""
        self.refresh_interval = refresh_interval
        self.clock = clock or engine.clock
        self.frozen = False
        self._dirty = True
        self._accepting = True
        self._shown_at_mount: set[int] = set()
        self._groups = panels_by_kind(engine.frame.panels)
        self.tab_ids = [f"tab-{kind}" for kind, _ in self._groups]
        self.engine_updates = 0
        """How many engine updates the UI received (tests wait on it)."""
        keymap = (engine.config.get("ui") or {}).get("keymap")
        if isinstance(keymap, dict) and keymap:
            self.set_keymap({str(k): str(v) for k, v in keymap.items()})

    @property
    def frame(self) -> Any:
        """The engine's latest :class:`migtui.engine.Frame`: everything the cockpit draws comes from it."""
        return self.engine.frame

    # ------------------------------------------------------------------ layout

    def get_default_screen(self) -> Screen[None]:
        return CockpitScreen(id="_default")

    def compose(self) -> ComposeResult:
        # keep references: ``query_one`` on the App searches the active screen, which is a modal at times
        self.header = CockpitHeader(id="header")
        self.event_log = EventLog(id="events")
        self.triggers_view = TriggersView(id="triggers")
        self.tabs = TabbedContent(id="panels")
        self.kind_panels: dict[str, KindPanel] = {}
        yield self.header
        with Grid(id="body"):
            with self.tabs:
                if not self._groups:
                    with TabPane("no panels", id="tab-none"):
                        yield Static("No source describes a panel. Add sources to the config "
                                     "(postgres, prometheus, openmetrics, http_probe, kubernetes, ...).")
                for n, (kind, specs) in enumerate(self._groups, 1):
                    with TabPane(Content(f"{n} {one_line(kind_title(kind, specs))}"), id=f"tab-{kind}"):
                        panel = self.kind_panels[kind] = KindPanel(kind, specs, id=f"panel-{kind}")
                        yield panel
            with Vertical(id="triggers-box"):
                yield self.triggers_view
            yield self.event_log
        yield CockpitFooter()

    def on_mount(self) -> None:
        self.query_one("#triggers-box").border_title = "Triggers"
        self.event_log.border_title = "Events"
        log = self.event_log
        recent = list(self.frame.events)
        self._shown_at_mount = {id(ev) for ev in recent}
        for ev in recent:
            log.add_event(ev)
        self.engine.subscribe(self._from_engine)
        if self.handle_signals:
            self._install_signal_handlers()
        self.render_now()
        self.set_interval(self.refresh_interval, self._tick_render, name="render")
        self.call_after_refresh(_freeze_startup_objects)
        if self.start_engine and not self.engine.running:
            self.engine.start()
            log.add_ui(f"engine started: ticking every {self.frame.interval:g}s", ts=self.clock())

    def _install_signal_handlers(self) -> None:
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig.name)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / not Unix
                pass

    def _on_signal(self, name: str) -> None:
        self.engine.emit(Event("note", "cockpit", f"{name} received: closing the run", Level.WARN,
                               {"signal": name}))
        self.exit()

    def on_unmount(self) -> None:
        self._accepting = False
        import gc

        gc.unfreeze()  # let the interpreter's last collections see everything again

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cockpit keys do nothing while a question or the help is open (answer or close it first)."""
        if action in COCKPIT_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    def cockpit_bindings(self) -> list[Binding]:
        """Every key of the cockpit (with keymap overrides applied), for help and the palette."""
        out: list[Binding] = []
        keymap = getattr(self, "_keymap", {}) or {}
        for b in self.BINDINGS:
            if isinstance(b, Binding):
                out.append(b.with_key(keymap[b.id]) if b.id and b.id in keymap else b)
        out.append(Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "Commands", id="command-palette",
                           tooltip="Command palette: every action by name"))
        return out

    # ------------------------------------------------------------------ engine -> UI

    def _from_engine(self, update: Any) -> None:
        """Engine thread: hand the update to the UI without waiting."""
        if self._accepting and self.is_running:
            try:
                self.post_message(EngineUpdated(update))
            except Exception:  # noqa: BLE001 - shutting down
                pass

    @on(EngineUpdated)
    def _engine_updated(self, message: EngineUpdated) -> None:
        self.engine_updates += 1
        log = self.event_log
        for ev in message.update.events:
            if self._shown_at_mount and id(ev) in self._shown_at_mount:
                self._shown_at_mount.discard(id(ev))  # already written from recent_events
                continue
            log.add_event(ev)
            if _refused_trigger_request(ev):
                self._ask_for_trigger(ev)
        self._dirty = True

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

    def _tick_render(self) -> None:
        if not self._accepting:
            return
        now = self.clock()
        triggers = trigger_rows(self.frame, now)
        if self._dirty and not self.frozen:  # at most once per engine tick (the engine's update sets it)
            self.render_now(triggers=triggers, now=now)
        else:  # the elapsed time: the header updates itself only when its text changed
            self.header.show(self.frame, triggers, now=now, frozen=self.frozen)

    def render_now(self, *, triggers: Any = ..., now: float | None = None) -> None:
        """Redraw the header, the visible panel and the triggers table from the engine's latest frame."""
        now = self.clock() if now is None else now
        frame = self.frame
        if triggers is ...:
            triggers = trigger_rows(frame, now)
        self._dirty = False
        self.header.show(frame, triggers, now=now, frozen=self.frozen)
        panel = self.visible_panel
        if panel is not None:
            panel.show(frame, triggers, now=now)
        self.triggers_view.show(triggers, now=now)

    @property
    def visible_panel(self) -> KindPanel | None:
        active = self.tabs.active
        if not active or active == "tab-none":
            return None
        return self.kind_panels.get(active.removeprefix("tab-"))

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        if not self.frozen:
            self.call_after_refresh(self.render_now)

    # ------------------------------------------------------------------ event log helpers

    def log_ui(self, message: str, level: str = "info") -> None:
        """A cockpit line in the event log (UI thread)."""
        self.event_log.add_ui(message, level, ts=self.clock())

    def _ui(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the UI thread from a worker (ignored once the app has gone)."""
        try:
            self.call_from_thread(fn, *args)
        except RuntimeError:
            pass

    def _log_threadsafe(self, message: str, level: str = "info") -> None:
        try:
            self.call_from_thread(self.log_ui, message, level)
        except RuntimeError:  # called on the UI thread, or the app is gone
            try:
                self.log_ui(message, level)
            except Exception:  # noqa: BLE001
                pass

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
        except MigtuiError as exc:
            self._log_threadsafe(f"{label}: {exc}" + _hint(verb, exc), "warn")
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"{label} failed: {type(exc).__name__}: {exc}", "error")

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
        except MigtuiError as exc:
            self._log_threadsafe(f"capture baseline: {exc}", "warn")
            return
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"capture baseline failed: {type(exc).__name__}: {exc}", "error")
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
        except MigtuiError as exc:
            self._log_threadsafe(f"export: {exc}", "warn")
            return
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"export failed: {type(exc).__name__}: {exc}", "error")
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

    # ------------------------------------------------------------------ actions: triggers

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
            except MigtuiError as exc:
                self._log_threadsafe(f"acknowledge {name}: {exc}", "warn")
            except Exception as exc:  # noqa: BLE001
                self._log_threadsafe(f"acknowledge {name} failed: {type(exc).__name__}: {exc}", "error")
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
        except MigtuiError as exc:
            self._log_threadsafe(f"silence {target}: {exc}", "warn")
        except Exception as exc:  # noqa: BLE001
            self._log_threadsafe(f"silence {target} failed: {type(exc).__name__}: {exc}", "error")
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
            except MigtuiError as exc:
                self._log_threadsafe(f"unsilence {target}: {exc}", "warn")
            except Exception as exc:  # noqa: BLE001
                self._log_threadsafe(f"unsilence {target} failed: {type(exc).__name__}: {exc}", "error")
        self._ui(self._redraw_triggers)

    def _redraw_triggers(self) -> None:
        """After an acknowledgement or a silence: show it now, not with the next engine tick."""
        if not self.frozen and self._accepting:
            self.render_now()

    # ------------------------------------------------------------------ actions: display

    def action_freeze(self) -> None:
        self.frozen = not self.frozen
        if self.frozen:
            self.log_ui("display frozen: data keeps flowing and is stored (f unfreezes)")
        else:
            self.log_ui("display live again")
            self.render_now()
        self.header.show(self.frame, trigger_rows(self.frame, self.clock()), now=self.clock(), frozen=self.frozen)

    def action_panel(self, n: int) -> None:
        if not 1 <= n <= len(self.tab_ids):
            self.log_ui(f"there is no panel {n}: {len(self.tab_ids)} panel(s) are configured", "warn")
            return
        self.tabs.active = self.tab_ids[n - 1]
        panel = self.visible_panel
        if panel is not None:
            panel.focus()

    def action_help(self) -> None:
        bindings = self.cockpit_bindings()
        keys = {b.id: key_label(b) for b in bindings if b.id}  # as remapped by ui.keymap

        def k(binding_id: str) -> str:
            return keys.get(binding_id, "(unbound)")

        notes = ("Panels: 1-6 switch (tabs are numbered in order: Schema, Data, API, Deployment, Feature flags, "
                 "A/B tests; only configured types appear). Tab moves the focus; in the blocking tree the arrows "
                 f"select a backend for {k('cancel-backend')} (cancel) and {k('terminate-backend')} (terminate). "
                 f"Triggers: {k('acknowledge')} acknowledges a firing one (its alerts stop repeating), "
                 f"{k('silence')} silences a trigger, an action level or all for a while (no actions, no alerts), "
                 f"{k('unsilence')} lifts a silence; the triggers panel marks them ack / silenced. Every action's "
                 "result appears in the event log.")
        self.push_screen(HelpScreen(bindings, notes))

    async def action_quit(self) -> None:
        if self.frame.phase != Phase.MIGRATION:
            self.exit()
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.exit()
            else:
                self.log_ui("quit cancelled")

        store = self.frame.store_path
        lines = ["The phase is migration: quitting stops monitoring, triggers and their actions.",
                 f"Everything so far is stored{f' in {store}' if store else ''}."]
        self.push_screen(ConfirmScreen("A migration is running. Quit the cockpit?", lines, yes="Quit"), done)


# ---------------------------------------------------------------------- helpers


def _freeze_startup_objects() -> None:
    """Move everything alive after the first frame (modules, the engine, the widgets: ~100k objects)
    out of the garbage collector's sight. Python's full collections otherwise walk all of them every
    few seconds, a pause of 50-200 ms on a busy machine that lands on key presses at random."""
    import gc

    gc.collect()
    gc.freeze()


def _trigger_label(r: TriggerRow, now: float) -> str:
    """One line of a trigger pick list: name, state, value, and any ack or silence."""
    from migtui.tui.view import fmt_value

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


def _refused_trigger_request(ev: Any) -> bool:
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


def run_cockpit(engine: Any) -> bool:
    """Start the engine thread, run the cockpit until quit, then stop and close the engine.

    A cockpit that stops on an error does not take the run with it: the engine, its triggers and
    every pause in force go on, headless (see :func:`outlive_the_cockpit`). True when it crashed."""
    import os

    # Textual takes COLUMNS/LINES over the terminal's real size and would then ignore resizes
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
    app = MigtuiApp(engine, start_engine=True, handle_signals=True)
    try:
        app.run()
        if app.return_code and engine.running:
            outlive_the_cockpit(engine, app._exception)
    finally:
        engine.close()
    return bool(app.return_code)


def outlive_the_cockpit(engine: Any, error: BaseException | None) -> None:
    """The cockpit crashed but the engine did not: say so (an ``error`` event, so the store has it),
    keep the engine running with the headless printer, and wait for Ctrl-C, SIGTERM or SIGHUP. A
    ``pg_pause`` holds its lock until then; the exit that follows releases it and records that."""
    import signal
    import sys
    import threading

    from migtui.headless import HeadlessPrinter
    from migtui.safetext import one_line

    what = one_line(f"{type(error).__name__}: {error}" if error is not None else "unknown error", 300)
    engine.emit(Event("error", "cockpit", f"the cockpit stopped on an error ({what}); the engine, its triggers "
                      "and any pause in force keep running headless until Ctrl-C", Level.ERROR,
                      {"error": what, "front_end": "headless"}))
    print(f"\nmigtui: the cockpit stopped on an error ({what}).\nThe run goes on headless: triggers, actions and "
          "every pause in force stay. Ctrl-C (or SIGTERM) ends the run; a pg_pause ends with it.\n",
          file=sys.stderr, flush=True)
    HeadlessPrinter(engine, status_every=10.0)
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        engine.emit(Event("note", "cockpit", f"{signal.Signals(signum).name} received: closing the run",
                          Level.WARN, {"signal": signal.Signals(signum).name}))
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    while not stop.is_set() and engine.running:
        stop.wait(0.5)
