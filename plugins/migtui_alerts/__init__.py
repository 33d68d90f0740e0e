"""Bundled migtui plugin: alerters (log, webhook, alertmanager, slack, pagerduty)."""

from __future__ import annotations

from typing import Any

from migtui.api import hookimpl

__version__ = "0.1.0"


@hookimpl
def migtui_alerter_types(register: Any) -> None:
    from migtui_alerts.alerters import FACTORIES

    for type_name, (factory, doc, schema) in FACTORIES.items():
        register(type_name, factory, doc=doc, schema=schema)
