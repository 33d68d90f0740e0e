"""mkdocs hook: the reference pages are generated from the code at every build, so they cannot go stale.

- ``reference/hooks.md`` from the hook specifications (:mod:`migtui.hookspecs`): each hook's
  signature, docstring, parameters and the version it was added in;
- ``reference/cli.md`` from the ``migtui`` command itself: every command and subcommand with its
  usage, help and options;
- ``reference/config.md`` from the config schema's own field docs (``Field(doc=...)``): the top-level
  keys of a config file (the core's and the plugins' sections), then every source, alerter and action
  type of this tree's plugins, with the options of the types that hand their schema to
  ``register(..., schema=...)``.

The tree being built is imported (its root, ``plugins/`` and the example plugin packages under
``plugins/`` go first on ``sys.path``), so a hook or a config key added in this tree is in its site.
Only this tree's plugins are documented (the bundled ones and the examples, installed or not): the
site does not change with whatever else happens to be installed. A page of the same path under docs/ would be
replaced; keep hand-written text in the other pages.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PLUGINS = sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))


def _tree_first_on_path() -> None:
    """This tree (root, ``plugins/``, the example packages) first on ``sys.path``. Called when the pages
    are made, not only at import: mkdocs restores ``sys.path`` after it has loaded a hook module."""
    for p in (*EXAMPLE_PLUGINS, ROOT / "plugins", ROOT):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))


_tree_first_on_path()

HOOKS_PAGE = "reference/hooks.md"
CONFIG_PAGE = "reference/config.md"
CLI_PAGE = "reference/cli.md"
EXAMPLE_FOLDERS: dict[str, str] = {}  # example plugin name -> its folder under plugins/


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site (mkdocs calls this before it builds the nav)."""
    _tree_first_on_path()
    for uri, text in ((HOOKS_PAGE, hooks_page()), (CONFIG_PAGE, config_page()), (CLI_PAGE, cli_page())):
        old = files.get_file_from_path(uri)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, uri, content=text))
    return files


# --------------------------------------------------------------------------- text helpers


def _rst_to_md(text: str) -> str:
    """The reST of our docstrings (``code``, :class:`x`, literal blocks after ``::``) as Markdown."""
    text = re.sub(r":(?:class|func|meth|mod|attr|data|exc):`~?([^`]+)`", r"`\1`", text).replace("``", "`")
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.rstrip().endswith("::"):
            out.append(line)
            continue
        out += [line.rstrip()[:-1], "", "```"]
        while i < len(lines) and not lines[i].strip():
            i += 1
        while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
            out.append(lines[i][4:])
            i += 1
        while out[-1] == "":
            out.pop()
        out += ["```", ""]
    return "\n".join(out)


def _literal(text: str) -> str:
    """Plain text as Markdown: outside code spans (the even parts) ``<`` is shown, not taken as HTML,
    and ``*`` / ``_`` are shown, not taken as emphasis."""
    parts = str(text).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace("*", "\\*").replace("_", "\\_")
    return "`".join(parts)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, ``<`` shown, pipes outside code spans escaped
    (inside a code span a pipe does not split the cell)."""
    parts = _literal(" ".join(str(text).split())).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("|", "\\|")
    return "`".join(parts)


# --------------------------------------------------------------------------- commands


def _commands(group: Any, ctx: Any, path: list[str]) -> Iterator[tuple[list[str], Any, Any]]:
    import click

    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or getattr(cmd, "hidden", False):
            continue
        sub = click.Context(cmd, info_name=name, parent=ctx)
        yield [*path, name], cmd, sub
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, sub, [*path, name])


def cli_page() -> str:
    import click

    from migtui.cli import cli

    root = click.Context(cli, info_name="migtui")
    out = ["# Command reference", "",
           "Generated from the `migtui` command at every build of this site: what `--help` says, for every "
           "command. [Commands](../commands.md) has the overview.", ""]
    for path, cmd, ctx in [(["migtui"], cli, root), *_commands(cli, root, ["migtui"])]:
        out += [f"## `{' '.join(path)}`", "", "```", cmd.get_usage(ctx), "```", ""]
        if cmd.help:
            out += [_literal(inspect.cleandoc(cmd.help)).replace("\b\n", ""), ""]
        rows = []
        for param in cmd.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or "--help" in getattr(param, "opts", ()):
                continue
            names, help_text = record
            rows.append(f"| `{names}` | {_cell(help_text)} |")
        if rows:
            out += ["| option | meaning |", "|---|---|", *rows, ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- hooks


def _hookspecs() -> Iterator[tuple[str, Any]]:
    from migtui import hookspecs

    marker = f"{hookspecs.PROJECT}_spec"  # pluggy marks each spec function with this attribute
    for name, fn in vars(hookspecs).items():
        if callable(fn) and hasattr(fn, marker):
            yield name, fn


def _parse_docstring(doc: str) -> tuple[str, list[tuple[str, str]], str]:
    """(body, [(param, text)], versionadded) from a hookspec docstring."""
    body: list[str] = []
    params: list[tuple[str, str]] = []
    version = ""
    current: list[str] | None = None
    for line in doc.splitlines():
        m = re.match(r"\s*:param (\w+):\s*(.*)", line)
        v = re.match(r"\s*\.\. versionadded::\s*(.+)", line)
        if m:
            params.append((m.group(1), m.group(2)))
            current = [m.group(2)]
        elif v:
            version, current = v.group(1).strip(), None
        elif current is not None and line.strip():
            params[-1] = (params[-1][0], params[-1][1] + " " + line.strip())
        elif current is not None:
            current = None
        else:
            body.append(line)
    return "\n".join(body).strip(), params, version


def hooks_page() -> str:
    from migtui import hookspecs

    out = ["# Hook reference", "",
           "Generated from `migtui/hookspecs.py` at every build of this site.", "",
           _rst_to_md(inspect.getdoc(hookspecs) or ""), ""]
    for name, fn in _hookspecs():  # in the order they are declared
        sig = inspect.signature(fn)
        body, params, version = _parse_docstring(inspect.getdoc(fn) or "")
        out += [f"## `{name}`", "", f"```python\n{name}({', '.join(sig.parameters)})\n```", ""]
        if version:
            out += [f"*Added in version {version}.*", ""]
        out += [_rst_to_md(body), ""]
        if params:
            out += ["| parameter | meaning |", "|---|---|"]
            out += [f"| `{p}` | {_cell(_rst_to_md(t))} |" for p, t in params]
            out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- config


def _type_name(fdef: Any) -> str:
    from migtui.config import Schema

    t = fdef.type
    if isinstance(t, Schema):
        return "mapping"
    if callable(t):
        return "mapping" if _nested(fdef) is not None else "varies"
    if t in ("list", "dict") and fdef.items is not None:
        inner = "mapping" if isinstance(fdef.items, Schema) else str(fdef.items)
        return f"{t} of {inner}"
    return str(t)


def _default(fdef: Any) -> str:
    if fdef.required:
        return "required"
    if _nested(fdef) is not None:
        return "see below"
    value = fdef.default() if callable(fdef.default) else fdef.default
    if value is None or value == "":
        return ""
    if fdef.type == "duration" and isinstance(value, (int, float)):
        for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
            if value >= size and value % size == 0:
                return f"`{value / size:g}{unit}`"
        return f"`{value * 1000:g}ms`" if 0 < value < 1 else f"`{value:g}s`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict) and not value:
        return "`{}`"
    return f"`{value}`"


def _nested(fdef: Any) -> Any:
    """The schema of a nested mapping, of a list's items, or the one a converter carries (``.schema``)."""
    from migtui.config import Schema

    for candidate in (fdef.type, fdef.items, getattr(fdef.type, "schema", None)):
        if isinstance(candidate, Schema):
            return candidate
    return None


def _schema_tables(schema: Any, path: str, level: int, implied: dict[str, str] | None = None) -> list[str]:
    """A table of the schema's keys, then one sub-section per nested schema. ``implied``: what a key
    without a doc of its own means anyway (``type`` and ``name`` of a plugin entry)."""
    out = ["| key | type | default | meaning |", "|---|---|---|---|"]
    nested: list[tuple[str, Any, Any]] = []
    for key, fdef in schema.fields.items():
        extra = [] if fdef.doc or not implied or key not in implied else [implied[key]]
        if fdef.choices is not None:
            extra.append("one of " + ", ".join(f"`{c}`" for c in fdef.choices))
        if fdef.minimum is not None:
            extra.append(f"at least {fdef.minimum:g}")
        if fdef.secret or fdef.dsn:
            extra.append("secret: redacted everywhere")
        doc = "; ".join([x for x in [_rst_to_md(fdef.doc).rstrip(".")] + extra if x])
        out.append(f"| `{key}` | {_type_name(fdef)} | {_default(fdef)} | {_cell(doc)} |")
        sub = _nested(fdef)
        if sub is not None:
            nested.append((key + ("[]" if fdef.type == "list" or fdef.default is list else ""), fdef, sub))
    if schema.open:
        out += ["", "Other keys are passed through to the part that owns them."]
    for key, _fdef, sub in nested:
        sub_path = f"{path}.{key}" if path else key
        out += ["", f"{'#' * level} `{sub_path}`", ""]
        if sub.doc:
            out += [_rst_to_md(sub.doc), ""]
        out += _schema_tables(sub, sub_path, min(level + 1, 6))
    return out


def _type_schema(entry: Any) -> Any:
    """The schema a plugin type registered: a Schema, or a function returning it (given the verb,
    for an action type)."""
    schema = getattr(entry, "schema", None)
    if schema is None or hasattr(schema, "fields"):
        return schema
    return schema(entry.verbs[0]) if entry.kind == "action" else schema()


def _in_tree(module: str) -> bool:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None) if spec is not None else None
    return bool(origin) and Path(origin).resolve().is_relative_to(ROOT)


def _tree_host() -> Any:
    """A plugin host with this tree's plugins: the bundled ones, and the example packages under
    ``plugins/`` (from their own pyproject's entry points) whether they are installed or not."""
    import importlib
    import importlib.metadata as md

    from migtui.plugins import ENTRY_POINT_GROUP, PluginHost

    installed = {ep.name for ep in md.entry_points(group=ENTRY_POINT_GROUP)}
    examples: list[tuple[str, Any]] = []
    for folder in EXAMPLE_PLUGINS:
        text = (folder / "pyproject.toml").read_text() + "\n"
        table = text.partition("[project.entry-points.migtui]\n")[2].split("\n[", 1)[0]
        for name, module in re.findall(r'^([\w-]+)\s*=\s*"([\w.]+)"', table, re.M):
            EXAMPLE_FOLDERS[name] = folder.name
            if name not in installed:
                examples.append((name, importlib.import_module(module)))
    host = PluginHost(disabled=(), extra_plugins=examples)
    # the example packages count as ours even when an installed copy was the one imported
    ours = {i.name for i in host.list() if i.name in EXAMPLE_FOLDERS or _in_tree(i.module.partition(":")[0])}
    failed = [i for i in host.list() if i.name in ours and i.status == "failed"]
    if failed:  # a plugin of this tree that cannot be imported must not leave a silent hole in the reference
        raise RuntimeError("plugins failed to load: " + "; ".join(f"{i.name}: {i.error}" for i in failed))
    return host, ours


def config_page() -> str:
    from migtui.config import CONFIG_SCHEMA

    out = ["# Config reference", "",
           "Generated at every build of this site from the schema's own field docs "
           "(`Field(doc=...)` in `migtui/config.py` and in each plugin). "
           "[Configuration](../configuration.md) explains the file format; the feature pages explain "
           "what the keys do.", "", "## The config file", ""]
    if CONFIG_SCHEMA.doc:
        out += [_rst_to_md(CONFIG_SCHEMA.doc), ""]
    host, ours = _tree_host()
    owned = {c.name: c.obj for c in host.contributed("config_section") if c.plugin in ours}
    out += _schema_tables(CONFIG_SCHEMA.with_fields(owned), "", 3)  # the core's keys, then the plugins' sections
    sections = (("source", "sources"), ("alerter", "alerters"), ("action", "actions"))
    for kind, key in sections:
        entries = sorted((e for (k, _t), e in host.types.items() if k == kind and e.plugin in ours),
                         key=lambda e: e.type)
        out += ["", f"## {key.capitalize()}: every `type:`", ""]
        if not entries:
            out += ["None installed.", ""]
        for entry in entries:
            example = EXAMPLE_FOLDERS.get(entry.plugin)
            out += ["", f"### `{entry.type}`", "",
                    f"Plugin `{entry.plugin}`" + (f" (an example: `pip install ./plugins/{example}`)" if example else "")
                    + "." + (f" Verbs: {', '.join(entry.verbs)}." if kind == "action" else "")]
            if entry.doc:
                out += ["", _rst_to_md(entry.doc)]
            schema = _type_schema(entry)
            if schema is not None:
                implied = {"type": f"`{entry.type}`",
                           "name": f"unique among the {key} (default: the type); events and the cockpit use it"}
                out += [""] + _schema_tables(schema, f"{key}[].{entry.type}" if kind != "action" else entry.type, 4,
                                             implied)
            else:
                out += ["", "Its options are described on the page of its feature."]
    return "\n".join(out) + "\n"
