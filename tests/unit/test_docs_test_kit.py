"""The test-kit example of docs/plugins.md is run as written, so it cannot rot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _example() -> str:
    text = PAGE.read_text()
    at = text.index("from migtui.testing import function_sources")
    start = text.rindex("```python\n", 0, at) + len("```python\n")
    return text[start:text.index("```", at)]


def test_the_documented_test_kit_example_passes(make_engine: Any) -> None:
    scope: dict[str, Any] = {}
    exec(compile(_example(), str(PAGE), "exec"), scope)  # noqa: S102 - our own docs
    [test] = [v for k, v in scope.items() if k.startswith("test_")]
    test(make_engine)
