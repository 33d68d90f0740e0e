"""Every hook is documented where it is declared and in the README's plugin section, alike."""

from __future__ import annotations

import inspect
import re

from migtui import hookspecs
from tests.conftest import ROOT


def _specs() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(hookspecs).items()
            if name.startswith("migtui_") and callable(fn)}


def test_every_hookspec_has_a_docstring_with_params_and_version() -> None:
    for name, fn in ((n, getattr(hookspecs, n)) for n in _specs()):
        doc = inspect.getdoc(fn) or ""
        assert doc, f"{name} has no docstring"
        for param in inspect.signature(fn).parameters:
            assert f":param {param}:" in doc, f"{name}: parameter {param} is not documented"
        assert ".. versionadded::" in doc, f"{name}: no versionadded"


def test_readme_documents_exactly_the_hooks() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Writing plugins", 1)[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"`(migtui_[a-z_]+)\(([^)]*)\)`", section))
    specs = _specs()
    assert set(documented) == set(specs)
    for name, sig in specs.items():
        params = [p.strip() for p in documented[name].split(",") if p.strip()]
        assert params == list(sig.parameters), f"README shows {name}({documented[name]}), code has {sig}"
