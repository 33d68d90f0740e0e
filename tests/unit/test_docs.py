"""The documentation site builds with ``mkdocs build --strict``, as ``make test`` runs it: a warning
(a broken link, a page missing from the nav, a snippet that is not there) fails the build. The
reference pages are generated from the code, so what they must show is checked against the code."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migtui.config import CONFIG_SCHEMA
from tests.conftest import ROOT

BUNDLED_PLUGINS = {"postgres", "http", "kubernetes", "alerts", "shell"}


def generator() -> Any:
    """docs/_gen/generate.py, the mkdocs hook that writes the reference pages."""
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "_gen" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    assert "WARNING" not in log, log
    return out


def _text(page: Path) -> str:
    """The visible text of a built page (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_every_page_in_docs_is_built(site: Path) -> None:
    for md in (ROOT / "docs").rglob("*.md"):
        rel = md.relative_to(ROOT / "docs").with_suffix("")
        built = site / "index.html" if rel.name == "index" else site / rel / "index.html"
        assert built.exists(), f"{md} was not built"


def test_no_page_shows_an_escaped_pipe(site: Path) -> None:
    """GitHub needs ``\\|`` for a pipe inside code in a table; mkdocs would show the backslash."""
    for page in site.rglob("index.html"):
        assert "\\|" not in _text(page), f"{page.relative_to(site)} shows a literal \\| (write | inside code spans)"


def test_no_page_hides_text_as_html() -> None:
    """``<store>.sock`` outside backticks is an HTML tag to Markdown: the words vanish from the page."""
    for md in (ROOT / "docs").glob("*.md"):
        in_fence = False
        for number, line in enumerate(md.read_text().splitlines(), 1):
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            outside_code = line.split("`")[::2]
            if not in_fence and any(re.search(r"<[A-Za-z/!]", part) for part in outside_code):
                pytest.fail(f"{md.name}:{number}: '<' outside code would be read as HTML: {line.strip()}")


def test_the_site_loads_nothing_from_the_network(site: Path) -> None:
    """No web fonts, scripts, styles or images from elsewhere: the site works offline, as the build does."""
    for page in site.rglob("*.html"):
        html_text = page.read_text()
        assert not re.search(r"<(script|img|iframe)[^>]+src=[\"']?(https?:)?//", html_text), page
        assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", html_text), page
        assert "fonts.googleapis" not in html_text and "fonts.gstatic" not in html_text, page


def test_the_benchmark_page_shows_the_latest_results(site: Path) -> None:
    latest = (ROOT / "bench" / "results" / "latest.md").read_text()
    figures = [line.split("|")[1].strip() for line in latest.splitlines()
               if line.startswith("| ") and not line.startswith("| Figure")]
    assert figures, "bench/results/latest.md has no figures"
    page = " ".join(_text(site / "benchmarks" / "index.html").split())
    for figure in figures:
        assert html.unescape(figure).replace("`", "") in page, f"figure {figure!r} is not on the benchmark page"


def _bundled_sections() -> dict[str, object]:
    """The top-level config sections the bundled plugins own (``migration``, ``integrity``)."""
    from migtui.plugins import PluginHost

    return {c.name: c.obj for c in PluginHost().contributed("config_section") if c.plugin in BUNDLED_PLUGINS}


def test_the_config_reference_lists_every_top_level_key(site: Path) -> None:
    text = _text(site / "reference" / "config" / "index.html")
    flat = " ".join(text.split())
    for key, field in {**CONFIG_SCHEMA.fields, **_bundled_sections()}.items():
        assert key in text, f"config key {key!r} is not in the config reference"
        if field.doc:  # type: ignore[attr-defined]
            assert " ".join(field.doc.split()).rstrip(".")[:40] in flat, key  # type: ignore[attr-defined]


def test_the_config_reference_lists_the_keys_of_the_plugin_sections(site: Path) -> None:
    text = _text(site / "reference" / "config" / "index.html")
    sections = _bundled_sections()
    assert {"migration", "integrity"} <= set(sections)
    for name, field in sections.items():
        schema = getattr(field.type, "schema", None)  # type: ignore[attr-defined]
        assert schema is not None, f"config section {name!r}: its converter carries no schema for the reference"
        part = text.split(f"{name}[]" if field.default is list else name, 1)[1]  # type: ignore[attr-defined]
        for key in schema.fields:
            assert key in part, f"{name}.{key} is not in the config reference"


def test_the_config_reference_lists_every_option_of_every_registered_schema(site: Path) -> None:
    from migtui.plugins import PluginHost

    text = _text(site / "reference" / "config" / "index.html")
    ours = [e for e in PluginHost().types.values() if e.plugin in BUNDLED_PLUGINS]
    assert {e.type for e in ours} >= {"postgres", "prometheus", "slack", "pg_pause", "k8s_deployment", "shell"}
    assert not [e.type for e in ours if e.schema is None], "a bundled type registers no schema"
    for entry in ours:
        assert entry.type in text, f"{entry.kind} type {entry.type!r} is not in the config reference"
        schema = entry.schema if hasattr(entry.schema, "fields") else (
            entry.schema(entry.verbs[0]) if entry.kind == "action" else entry.schema())
        section = text.split(entry.type, 1)[1]
        for key in schema.fields:
            assert key in section, f"option {key!r} of {entry.kind} type {entry.type!r} is not in the config reference"


def test_every_config_key_says_what_it_means() -> None:
    """Each key of the config reference has a meaning: a Field without ``doc=`` is a key nobody explained."""
    section = ""
    for line in generator().config_page().splitlines():
        if line.startswith("#"):
            section = line.strip("# ")
        elif line.startswith("| `") and line.rstrip().endswith("|  |"):
            key = line.split("`")[1]
            pytest.fail(f"config reference, {section}: key {key!r} has no doc= in its Field")


def test_the_config_reference_lists_the_trigger_keys(site: Path) -> None:
    from migtui.triggers import TRIGGER_SCHEMA

    text = _text(site / "reference" / "config" / "index.html")
    section = text.split("triggers[]", 1)[1]
    for key, field in TRIGGER_SCHEMA.fields.items():
        assert key in section, f"trigger key {key!r} is not in the config reference"


def test_the_command_reference_shows_every_command_and_subcommand(site: Path) -> None:
    import click

    from migtui.cli import cli

    text = _text(site / "reference" / "cli" / "index.html")
    root = click.Context(cli, info_name="migtui")
    for name in cli.list_commands(root):
        cmd = cli.get_command(root, name)
        assert f"migtui {name}" in text, f"migtui {name} is not in the command reference"
        if isinstance(cmd, click.Group):
            sub = click.Context(cmd, info_name=name, parent=root)
            for subname in cmd.list_commands(sub):
                assert f"migtui {name} {subname}" in text, f"migtui {name} {subname} is not in the command reference"


def test_every_command_is_in_the_readme_table_and_on_the_commands_page() -> None:
    import click

    from migtui.cli import cli

    readme = (ROOT / "README.md").read_text().split("## Commands", 1)[1].split("\n## ", 1)[0]
    page = (ROOT / "docs" / "commands.md").read_text()
    for name in cli.list_commands(click.Context(cli, info_name="migtui")):
        assert f"`migtui {name}" in readme, f"migtui {name} is missing from the README's command table"
        assert f"`migtui {name}" in page, f"migtui {name} is missing from docs/commands.md"


def test_every_cockpit_key_is_on_the_cockpit_page() -> None:
    from migtui.tui.app import MigtuiApp

    page = (ROOT / "docs" / "cockpit.md").read_text()
    for binding in MigtuiApp.BINDINGS:
        if binding.id and not binding.id.startswith("panel-"):
            assert f"`{binding.id}`" in page, f"key binding {binding.id!r} is not in docs/cockpit.md"


def test_every_relative_link_of_the_readme_points_at_a_file() -> None:
    """mkdocs checks the site's links; the README is read on its own (on a forge, in an editor)."""
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme):
        if not re.match(r"[a-z]+:", target):
            assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"


def test_every_top_level_config_key_is_on_the_configuration_page() -> None:
    """The reference lists keys by itself; the configuration page must say where each is explained."""
    page = (ROOT / "docs" / "configuration.md").read_text()
    for key in [*CONFIG_SCHEMA.fields, *_bundled_sections()]:
        assert f"`{key}" in page, f"config key {key!r} is not in docs/configuration.md's table"


def test_the_readme_short_config_loads_and_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migtui.api import BuildContext
    from migtui.config import load_config
    from migtui.plugins import PluginHost

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A short config", 1)[1]
    yaml_text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "watch.yaml").write_text(yaml_text)
    (tmp_path / "rollback").mkdir()
    (tmp_path / "rollback" / "undo_backfill.sql").write_text("UPDATE orders SET total_cents = NULL;\n")
    monkeypatch.setenv("MIGTUI_DSN", "postgresql://monitor@127.0.0.1:5432/shop")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.invalid/T0/B0/x")
    cfg = load_config(tmp_path / "watch.yaml")
    host = PluginHost(disabled=cfg["plugins"]["disable"])
    built: dict[str, object] = {}
    for item in cfg["sources"]:
        built[item.name] = host.build("source", item, BuildContext(config=cfg, item=item, sources=built))
    for item in cfg["alerters"]:
        host.build("alerter", item, BuildContext(config=cfg, item=item, sources=built))
    for verb, items in cfg["actions"].items():
        for item in items:
            host.build("action", item, BuildContext(config=cfg, item=item, sources=built), verb=verb)
    for obj in built.values():
        obj.close()  # type: ignore[attr-defined]
