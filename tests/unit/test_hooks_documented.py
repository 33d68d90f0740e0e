"""Every hook is documented where it is declared, and the generated hook reference of the docs site
shows each one with its parameters and the version it was added in."""

from __future__ import annotations

import inspect
import re

from migtui import hookspecs
from tests.unit.test_docs import generator


def _specs() -> dict[str, inspect.Signature]:
    marker = f"{hookspecs.PROJECT}_spec"
    return {name: inspect.signature(fn) for name, fn in vars(hookspecs).items()
            if callable(fn) and hasattr(fn, marker)}


def _hooks_page() -> str:
    return generator().hooks_page()


def test_every_hookspec_has_a_docstring_with_params_and_version() -> None:
    assert _specs(), "no hookspecs found"
    for name, fn in ((n, getattr(hookspecs, n)) for n in _specs()):
        doc = inspect.getdoc(fn) or ""
        assert doc, f"{name} has no docstring"
        for param in inspect.signature(fn).parameters:
            assert f":param {param}:" in doc, f"{name}: parameter {param} is not documented"
        assert ".. versionadded::" in doc, f"{name}: no versionadded"


def test_the_hook_reference_documents_exactly_the_hooks() -> None:
    page = _hooks_page()
    documented = dict(re.findall(r"```python\n(migtui_[a-z_]+)\(([^)]*)\)\n```", page))
    specs = _specs()
    assert set(documented) == set(specs)
    for name, sig in specs.items():
        params = [p.strip() for p in documented[name].split(",") if p.strip()]
        assert params == list(sig.parameters), f"the reference shows {name}({documented[name]}), code has {sig}"
        section = page.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        version = re.search(r"\.\. versionadded::\s*(\S+)", inspect.getdoc(getattr(hookspecs, name)) or "")
        assert version and f"Added in version {version.group(1)}" in section, name
        for param in sig.parameters:
            assert f"| `{param}` |" in section, f"{name}: parameter {param} has no row"
