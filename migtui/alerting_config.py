"""The ``alerting:`` section of the config: its schema and the converter :mod:`migtui.config` checks it
with when the config is loaded (no import of the alerting runtime)."""

from __future__ import annotations

from typing import Any

from migtui.schema import Field, Schema, _type_name, error_at, validate

ALERTING_SCHEMA = Schema({
    "group_wait": Field("duration", default=0.0, doc="wait this long after a new alert before sending"),
    "group_interval": Field("duration", default=30.0, doc="minimum time between notifications about changes"),
    "repeat_interval": Field("duration", default=3600.0, doc="re-send a still-firing, unacknowledged alert"),
    "resolve_wait": Field("duration", default=60.0, doc="an alert must stay resolved this long before 'resolved' is sent"),
    "timeout": Field("duration", default=60.0, minimum=0.1, doc="per alerter call, retries included"),
    "key_prefix": Field("str", doc="dedup key prefix (default: the config's name)"),
}, doc="Alert grouping and delivery.")


def config_field(value: Any, parent: Any, key: Any, path: str) -> dict[str, Any]:
    """For ``migtui.config``: the ``alerting:`` section is checked when the config is loaded."""
    if value is not None and not isinstance(value, dict):
        raise error_at(parent, key, path, f"expected a mapping, got {_type_name(value)}")
    return validate(ALERTING_SCHEMA, value if value is not None else {}, path)


def defaults() -> dict[str, Any]:
    """The options of a config without an ``alerting:`` section."""
    return validate(ALERTING_SCHEMA, {}, "alerting")


config_field.schema = ALERTING_SCHEMA  # type: ignore[attr-defined] # the config reference shows it
