"""Shared test set-up. The fixtures (pg, embedded_pg, migtui_store, make_engine) come from
migtui.testing, the pytest plugin migtui ships for plugin authors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_stray_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the operator's own migtui environment."""
    for name in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


def migtui_cmd() -> list[str]:
    """The installed console script (a subprocess, as a user runs it)."""
    exe = Path(sys.executable).with_name("migtui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "migtui"]


@pytest.fixture
def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MIGTUI_DSN", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env
