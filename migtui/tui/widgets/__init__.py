"""Cockpit widgets: header, migration-type panels, blocking tree, triggers table, event log."""

from migtui.tui.widgets.blocking import BlockingTree
from migtui.tui.widgets.eventlog import EventLog
from migtui.tui.widgets.header import CockpitHeader
from migtui.tui.widgets.panel import KindPanel
from migtui.tui.widgets.triggers import TriggersView

__all__ = ["BlockingTree", "CockpitHeader", "EventLog", "KindPanel", "TriggersView"]
