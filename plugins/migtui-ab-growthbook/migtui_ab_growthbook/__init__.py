"""migtui plugin (example third-party package): A/B test results from GrowthBook's REST API.

Source type ``growthbook_experiment`` reads ``GET /v1/experiments/{id}/results`` (Bearer token) and
emits per-variant users, conversion rate, lift, p-value / chance to beat control and the
sample-ratio-mismatch p-value as samples, so ordinary migtui triggers can pause or roll back on them.
"""

from __future__ import annotations

from typing import Any

from migtui.api import hookimpl

__version__ = "0.1.0"


@hookimpl
def migtui_source_types(register: Any) -> None:
    from migtui_ab_growthbook.source import SCHEMA, build

    register("growthbook_experiment", build, schema=SCHEMA,
             doc="GrowthBook experiment results: users, conversion, lift, p-value, SRM per variant.")
