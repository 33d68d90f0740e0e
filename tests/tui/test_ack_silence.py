"""Acknowledging and silencing triggers from the cockpit (a / s / S), against a real engine: a live
OpenMetrics endpoint and an Alertmanager-webhook receiver on 127.0.0.1, real triggers, the real
alert dispatcher and a real shell pause action."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest

from textual.command import CommandList, CommandPalette

from migtui.triggers.commands import active_silences
from migtui.tui.app import MigtuiApp
from migtui.tui.screens import HelpScreen, PickScreen, SilenceScreen
from migtui.tui.widgets import TriggersView
from tests.servers.gauges_and_hook import GaugesAndHook
from tests.tui.conftest import log_text, rendered, wait_for

SIZE = (120, 40)
WHO = "operator (cockpit)"


Service = GaugesAndHook


@pytest.fixture
def service() -> Iterator[Service]:
    s = Service()
    yield s
    s.close()


def config(service: Service, tmp_path: Path, triggers: str, *, extra: str = "") -> str:
    return service.config(tmp_path, "ack-test", triggers, extra)


WARN_TRIGGERS = """\
    triggers:
      - {name: noisy-backfill, metric: error_rate, threshold: 0.05, action: warn}
      - {name: slow-p95, metric: response_time_p95, threshold: 2000, action: warn}
    """

PAUSE_TRIGGER = """\
    triggers:
      - {name: errors-pause, metric: error_rate, threshold: 0.05, action: pause}
    """


def states(engine: Any) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in engine.parts.triggers.status()}


def triggers_panel(app: MigtuiApp) -> str:
    return rendered(app.query_one(TriggersView))


def panel_line(app: MigtuiApp, name: str) -> str:
    return next((ln for ln in triggers_panel(app).splitlines() if name in ln), "")


def trigger_actions(engine: Any) -> list[Any]:
    return [e for e in list(engine.recent_events)
            if e.kind == "action" and str(e.data.get("who", "")).startswith("trigger")]


async def test_a_acknowledges_a_trigger_and_its_alerts_stop_repeating(pg_engine: Any, service: Service,
                                                                      tmp_path: Path) -> None:
    service.gauges.update(app_error_rate=0.2, app_p95_ms=2500.0)  # both warn triggers fire
    engine = pg_engine(config(service, tmp_path, WARN_TRIGGERS))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(r["state"] == "firing" for r in states(engine).values()),
                       what="both warn triggers to fire")
        # without an acknowledgement, the alerts repeat (repeat_interval 1s)
        await wait_for(pilot, lambda: service.firing_alerts("noisy-backfill") >= 2
                       and service.firing_alerts("slow-p95") >= 2, what="repeated alerts for both")

        await pilot.press("a")  # two are firing: a list to pick from
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the acknowledge list")
        listed = [label for _, label in app.screen.choices]
        assert listed[0].startswith("noisy-backfill  warn") and listed[1].startswith("slow-p95  warn")
        assert listed[2] == "all 2 of them"
        await pilot.press("enter")  # the highlighted (first) one
        await wait_for(pilot, lambda: "noisy-backfill: acknowledged by operator (cockpit)" in log_text(app),
                       what="the acknowledgement in the event log")
        assert states(engine)["noisy-backfill"]["acked_by"] == WHO
        assert states(engine)["slow-p95"]["acked_by"] == ""
        await wait_for(pilot, lambda: "ack" in panel_line(app, "noisy-backfill"), what="the panel to mark the ack")
        assert "ack" not in panel_line(app, "slow-p95")

        # deliveries computed before the acknowledgement are done once the dispatcher is idle
        dispatcher = engine.parts.triggers.dispatcher
        assert await asyncio.to_thread(dispatcher.wait_idle, 20)
        acked_before = service.firing_alerts("noisy-backfill")
        other_before = service.firing_alerts("slow-p95")
        # the other trigger keeps repeating meanwhile; the acknowledged one does not
        await wait_for(pilot, lambda: service.firing_alerts("slow-p95") >= other_before + 2,
                       what="two more repeats of the unacknowledged trigger")
        assert service.firing_alerts("noisy-backfill") == acked_before
        assert states(engine)["noisy-backfill"]["state"] == "firing"  # acknowledged, still firing

        # `a` again: one left, acknowledged at once (no list)
        await pilot.press("a")
        await wait_for(pilot, lambda: "slow-p95: acknowledged by operator (cockpit)" in log_text(app),
                       what="the second acknowledgement")
        assert not isinstance(app.screen, PickScreen)
        await pilot.press("a")
        await wait_for(pilot, lambda: "every firing trigger is already acknowledged" in log_text(app),
                       what="nothing left to acknowledge")

    acks = [e for e in engine.recent_events if e.kind == "trigger" and e.data.get("op") == "ack"]
    assert [(e.subject, e.data["who"]) for e in acks] == [("noisy-backfill", WHO), ("slow-p95", WHO)]


async def test_silence_holds_back_the_pause_and_unsilence_lets_it_run(pg_engine: Any, service: Service,
                                                                      tmp_path: Path) -> None:
    engine = pg_engine(config(service, tmp_path, PAUSE_TRIGGER))
    app = MigtuiApp(engine)
    acted = tmp_path / "acted"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.sources["api"].state == "ok" and app.engine_updates >= 2,
                       what="the metrics source")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SilenceScreen), what="the silence form")
        targets = [t for t, _ in app.screen.targets]
        assert targets == ["errors-pause", "pause", "all"]
        # a duration that is not one: the form says so and stays open
        await pilot.press("tab", *"soon", "enter")
        assert isinstance(app.screen, SilenceScreen)
        assert "expected a duration" in str(app.screen.query_one("#silence-hint").render())
        await pilot.press(*["backspace"] * 4, *"2h", "enter")  # the highlighted target: errors-pause
        await wait_for(pilot, lambda: "silenced errors-pause for 7200s by operator (cockpit)" in log_text(app),
                       what="the silence in the event log")
        await wait_for(pilot, lambda: "sil" in panel_line(app, "errors-pause"), what="the panel to mark the silence")

        # the error rate crosses the pause threshold while silenced: firing, but no pause
        service.gauges["app_error_rate"] = 0.3
        await wait_for(pilot, lambda: states(engine)["errors-pause"]["state"] == "firing", what="firing")
        await wait_for(pilot, lambda: any("ok -> firing" in ln and "silenced" in ln for ln in log_text(app).splitlines()),
                       what="the firing transition, marked silenced, in the event log")
        # a trigger's action is requested, and its alert handed to the dispatcher, in the tick that saw
        # it fire: that tick is in the log already
        assert trigger_actions(engine) == []
        assert await asyncio.to_thread(engine.parts.triggers.dispatcher.wait_idle, 20)
        assert not acted.exists()
        assert service.firing_alerts("errors-pause") == 0

        await pilot.press("S")  # one silence: the list has just it
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the unsilence list")
        assert [k for k, _ in app.screen.choices] == ["errors-pause"]
        assert "by operator (cockpit)" in app.screen.choices[0][1]
        await pilot.press("enter")
        await wait_for(pilot, lambda: "silence of errors-pause lifted by operator (cockpit)" in log_text(app),
                       what="the silence lifted")
        # the trigger still fires: its pause runs now
        await wait_for(pilot, lambda: acted.exists() and acted.read_text() == "pause\n", what="the pause action")
        await wait_for(pilot, lambda: "pause" in [e.subject for e in trigger_actions(engine)], what="audit")
        await wait_for(pilot, lambda: "sil" not in panel_line(app, "errors-pause"), what="the panel to drop it")

        await pilot.press("S")
        await wait_for(pilot, lambda: "unsilence: nothing is silenced" in log_text(app), what="nothing silenced")


async def test_silence_a_level_with_a_preset_and_clear_one_line_errors(pg_engine: Any, service: Service,
                                                                        tmp_path: Path) -> None:
    engine = pg_engine(config(service, tmp_path, WARN_TRIGGERS,
                              extra="ui: {keymap: {acknowledge: A, silence: x}}\n"))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.sources["api"].state == "ok" and app.engine_updates >= 2,
                       what="the metrics source")
        await pilot.press("A")  # acknowledge, moved by the keymap; nothing fires
        await wait_for(pilot, lambda: "acknowledge: no trigger is firing or pending; nothing to acknowledge"
                       in log_text(app), what="the one-line answer")
        assert "Traceback" not in log_text(app)
        await pilot.press("s")  # silence moved to x: s does nothing now
        assert not isinstance(app.screen, SilenceScreen)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, SilenceScreen), what="the silence form")
        targets = [t for t, _ in app.screen.targets]
        assert targets == ["noisy-backfill", "slow-p95", "warn", "all"]
        await pilot.press("down", "down")  # the level: every warn trigger
        await pilot.click("#silence-5m")
        await wait_for(pilot, lambda: "silenced warn for 300s by operator (cockpit)" in log_text(app),
                       what="the level silenced")
        await wait_for(pilot, lambda: all("sil" in panel_line(app, n) for n in ("noisy-backfill", "slow-p95")),
                       what="both triggers marked silenced")
        # silenced triggers still change state, but do not alert
        service.gauges["app_error_rate"] = 0.2
        await wait_for(pilot, lambda: any("noisy-backfill: ok -> firing" in ln and "silenced" in ln
                                          for ln in log_text(app).splitlines()), what="firing, silenced")
        assert await asyncio.to_thread(engine.parts.triggers.dispatcher.wait_idle, 20)
        assert service.firing_alerts("noisy-backfill") == 0
        # Esc in the lists changes nothing
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the unsilence list")
        await pilot.press("escape")
        assert not isinstance(app.screen, PickScreen)
        assert [s["target"] for s in active_silences(engine)] == ["warn"]
        # the help's notes name the keys as remapped
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        notes = " ".join(rendered(app.screen.query_one("#help-notes")).split())
        assert "A acknowledges a firing one" in notes and "x silences a trigger" in notes, notes


async def test_trigger_keys_are_in_help_and_palette_not_in_the_footer(pg_engine: Any, service: Service,
                                                                       tmp_path: Path) -> None:
    engine = pg_engine(config(service, tmp_path, PAUSE_TRIGGER))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine_updates >= 1, what="the first tick")
        footer = " ".join(b.id or "" for (_, b, _, _) in app.screen.active_bindings.values() if b.show)
        assert "acknowledge" not in footer and "silence" not in footer
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = rendered(app.screen.query_one("#help-keys"))
        for key, bid in (("a", "acknowledge"), ("s", "silence"), ("S", "unsilence")):
            assert any(line.strip().startswith(key + " ") and bid in line for line in text.splitlines()), bid
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the command palette")
        await pilot.press(*"Silence a trigger")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0
                       and "Silence a trigger" in str(app.screen.query_one(CommandList).get_option_at_index(0).prompt),
                       what="the palette to find the silence command")
        await pilot.press("down")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).highlighted == 0, what="the first hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SilenceScreen), what="the palette to open the form")
        await pilot.press("escape")
        assert not isinstance(app.screen, SilenceScreen)
    assert not [e for e in engine.recent_events if e.kind == "trigger" and e.data.get("op")]
