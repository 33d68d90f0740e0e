"""migtui plugin (example third-party package): Unleash feature flags through OpenFeature.

- source type ``unleash_flags``: flag state and per-variant exposure, read through the OpenFeature
  Python SDK with :class:`~migtui_flags_unleash.provider.UnleashProvider` (Unleash's client API);
- action type ``unleash_flag_off``: turn a flag off (rollback / pause) through Unleash's admin API.

Everything migtui needs is the ``[project.entry-points.migtui]`` entry in pyproject.toml and the
hook implementations below.
"""

from __future__ import annotations

from typing import Any

from migtui.api import hookimpl

__version__ = "0.1.0"


@hookimpl
def migtui_source_types(register: Any) -> None:
    from migtui_flags_unleash.source import SCHEMA, build

    register("unleash_flags", build, schema=SCHEMA, doc="Unleash feature flags (state, per-variant exposure) through OpenFeature.")


@hookimpl
def migtui_action_types(register: Any) -> None:
    from migtui_flags_unleash.action import build, options_schema

    register("unleash_flag_off", build, verbs=("pause", "resume", "rollback"), schema=options_schema,
             doc="Turn an Unleash flag off in one environment (resume turns it back on).")
