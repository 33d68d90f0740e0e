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

from typing import Any, Callable, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static, TabbedContent, TabPane

from migtui.errors import MigtuiError
from migtui.model import Event, Level, Phase
from migtui.safetext import one_line
from migtui.tui.commands import CockpitCommands
from migtui.tui.control_flows import ControlFlows, refused_trigger_request
from migtui.tui.outlive import outlive_the_cockpit
from migtui.tui.screen import CockpitFooter, CockpitScreen, EngineUpdated
from migtui.tui.screens import ConfirmScreen, HelpScreen
from migtui.tui.screens.help import key_label
from migtui.tui.trigger_flows import TriggerFlows
from migtui.tui.view import kind_title, panels_by_kind, trigger_rows
from migtui.tui.widgets import CockpitHeader, EventLog, KindPanel, TriggersView

_PANELS = Binding.Group("panels", compact=True)
COCKPIT_ACTIONS = frozenset({"pause", "resume", "rollback", "phase", "capture_baseline", "freeze", "backend", "export",
                             "note", "acknowledge", "silence", "unsilence", "panel", "help", "quit"})


class MigtuiApp(ControlFlows, TriggerFlows, App[None]):
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
            if refused_trigger_request(ev):
                self._ask_for_trigger(ev)
        self._dirty = True

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

    def _log_failure(self, label: str, exc: BaseException, hint: str = "") -> None:
        """A command that failed, in the event log (from a worker): a migtui error is a warning
        (``label: why`` and any ``hint``), anything else an error naming its type."""
        if isinstance(exc, MigtuiError):
            self._log_threadsafe(f"{label}: {exc}{hint}", "warn")
        else:
            self._log_threadsafe(f"{label} failed: {type(exc).__name__}: {exc}", "error")

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
