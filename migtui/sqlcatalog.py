"""The monitoring SQL catalog: one statement per ``.sql`` file, with a parseable header.

A file looks like this::

    -- name: lock_waits
    -- description: Sessions waiting on a lock, with the pids that block them.
    -- kind: table
    -- min_version: 13
    -- interval: 5s
    -- timeout: 1s
    -- privileges: pg_monitor
    -- params: min_wait_seconds=0
    SELECT /* migtui */ ...  WHERE now() - state_change > make_interval(secs => :min_wait_seconds)

Header keys (``-- key: value`` lines before the statement):

``name`` (required)
    Must equal the file's base name (``lock_waits.pg17.sql`` has name ``lock_waits``).
``description`` (required), ``kind`` (required: ``metrics`` or ``table``)
``min_version`` (required)
    The server major version this file applies from. A base file says the catalog's floor (13);
    a variant ``<name>.pg17.sql`` must say 17.
``extension`` (optional)
    ``pg_stat_statements >= 1.8``: the query needs that extension; variants ``<name>.ext1_11.sql``
    apply from extension version 1.11, chosen by the installed version, not the server's.
``interval``, ``timeout`` (required): durations like ``10s`` or ``500ms``.
``privileges`` (required): what the role needs (``none``, ``pg_monitor``, ``pg_read_all_stats``, ...).
``params`` (optional): ``name=default`` pairs, comma separated; the SQL uses ``:name``.
``rates`` (optional): counter columns reported as per-second rates (``<column>_per_s``).
``ratios`` (optional): ``out = num / den1 + den2`` over the deltas of counters.
``cost`` (optional): ``cheap`` (the default: a look at sessions, locks or counters), ``moderate``
    (a catalog scan) or ``expensive`` (per table or per index); see the postgres source's poll budget.
``at_phase_start`` (optional): ``yes`` runs the query on the first poll of every phase (the run's
    first included) besides its interval, for what the report compares between phases.
``panel``, ``render``, ``title``, ``columns``, ``show`` (optional): what the cockpit shows about
    the query (:mod:`migtui.sqlpanel`).
``kinds`` (optional, repeatable): what kind each metric is for reports (:mod:`migtui.sqlkinds`).

Rows: ``tag_*`` columns become labels (without the prefix); other numeric and boolean columns
become metrics ``<name>.<column>``. A ``table`` query becomes a snapshot for a panel instead.
Every statement contains ``/* migtui */`` so migtui's own queries can be told apart.

The loader refuses a file with a missing or malformed header, naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from migtui.config import parse_duration
from migtui.errors import CatalogError
from migtui.model import MetricSpec
from migtui.sqlkinds import KEY as KINDS_KEY, parse_kinds
from migtui.sqlpanel import KEYS as PANEL_KEYS, REPEATABLE, Display, parse_display
from migtui.sqlparams import parse_params, to_psycopg

TAG = "/* migtui */"
KINDS = ("metrics", "table")
COSTS = ("cheap", "moderate", "expensive")
REQUIRED = ("name", "description", "kind", "min_version", "interval", "timeout", "privileges")
KNOWN = (set(REQUIRED) | {"extension", "params", "rates", "ratios", "labels", "source", "changes", "cost", "locks",
                          "at_phase_start"}
         | set(PANEL_KEYS) | {KINDS_KEY})

_HEADER_LINE = re.compile(r"^--\s*(?P<key>[a-z_]+)\s*:\s*(?P<value>.*?)\s*$")
_FILE_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:\.(?P<variant>pg\d+|ext\d+(?:_\d+)*))?\.sql$")
_EXTENSION = re.compile(r"^(?P<ext>[a-z_][a-z0-9_]*)\s*(?:>=\s*(?P<ver>\d+(?:\.\d+)*))?$")
_RATIO = re.compile(r"^(?P<out>\w+)\s*=\s*(?P<num>\w+)\s*/\s*(?P<den>\w+(?:\s*\+\s*\w+)*)$")


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


@dataclass(frozen=True)
class Ratio:
    out: str
    numerator: str
    denominator: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    """One file: the statement as it runs on servers (or extension versions) from ``min_version`` on."""

    path: Path
    line: int
    min_version: int
    ext_version: tuple[int, ...] | None
    text: str
    """The SQL as written, with ``:name`` parameters."""
    sql: str
    """The SQL for psycopg: ``%(name)s`` parameters and literal ``%`` doubled."""
    params: tuple[str, ...]


@dataclass
class Query:
    """A catalog entry: the header of its base file and all its variants."""

    name: str
    description: str
    kind: str
    interval: float
    timeout: float
    privileges: tuple[str, ...]
    params: dict[str, str]
    rates: tuple[str, ...]
    ratios: tuple[Ratio, ...]
    extension: str | None
    ext_min: tuple[int, ...] | None
    origin: str
    """Where it came from: ``builtin``, a plugin's name, or a ``sql_dirs`` folder."""
    variants: list[Variant] = field(default_factory=list)
    display: Display | None = None
    """What a panel shows about it (:mod:`migtui.sqlpanel`), or None."""
    cost: str = "cheap"
    kinds: tuple[MetricSpec, ...] = ()
    """What kind each of its metrics is (``-- kinds:`` lines and ``show ... kind=``; :mod:`migtui.sqlkinds`)."""
    at_phase_start: bool = False
    """Also run on the first poll of every phase (header ``at_phase_start: yes``)."""

    @property
    def min_version(self) -> int:
        return min(v.min_version for v in self.variants)

    def variant_for(self, server_version: int, extensions: Mapping[str, tuple[int, ...]] | None = None) -> Variant | None:
        """The variant that runs on a server of this major version (e.g. 15, or 150004 which is
        read as 15), or None if the server is too old or the needed extension is missing."""
        major = server_version // 10000 if server_version >= 1000 else server_version
        if self.extension:
            installed = (extensions or {}).get(self.extension)
            if installed is None or (self.ext_min and installed < self.ext_min):
                return None
            candidates = [v for v in self.variants if v.min_version <= major
                          and (v.ext_version is None or v.ext_version <= installed)]
            key = lambda v: (v.ext_version or (), v.min_version)  # noqa: E731
        else:
            candidates = [v for v in self.variants if v.min_version <= major]
            key = lambda v: v.min_version  # noqa: E731
        return max(candidates, key=key) if candidates else None


def parse_file(path: Path) -> tuple[dict[str, str], Variant, str | None]:
    """Parse one .sql file: (header, variant, variant suffix). Raises CatalogError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from None
    m = _FILE_NAME.match(path.name)
    if not m:
        raise CatalogError(f"{path}: file name must be <name>.sql, <name>.pgNN.sql or <name>.extX_Y.sql "
                           "(lower case letters, digits and _)")
    header: dict[str, str] = {}
    lines = text.splitlines()
    body_start = len(lines)
    for idx, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            body_start = idx - 1
            break
        hm = _HEADER_LINE.match(stripped)
        if hm is None:
            if re.match(r"^--\s*[A-Za-z_ ]+:", stripped) or stripped in ("--",):
                raise CatalogError(f"{path}:{idx}: malformed header line {stripped!r} (expected '-- key: value')")
            continue  # free comment
        key, value = hm.group("key"), hm.group("value")
        if key not in KNOWN:
            raise CatalogError(f"{path}:{idx}: unknown header key {key!r}; known keys: {', '.join(sorted(KNOWN))}")
        if not value:
            raise CatalogError(f"{path}:{idx}: header key {key!r} has no value")
        if key in header:
            if key not in REPEATABLE and key != KINDS_KEY:
                raise CatalogError(f"{path}:{idx}: header key {key!r} given twice")
            header[key] += "\n" + value
            header[f"__line_{key}"] += f",{idx}"
            continue
        header[key] = value
        header[f"__line_{key}"] = str(idx)
    for key in REQUIRED:
        if key not in header:
            raise CatalogError(f"{path}:1: header is missing '-- {key}: ...'")

    def line_of(key: str) -> int:
        return int(header.get(f"__line_{key}", "1"))

    if header["name"] != m.group("name"):
        raise CatalogError(f"{path}:{line_of('name')}: name {header['name']!r} does not match the file name "
                           f"{m.group('name')!r}")
    if header.get("cost", "cheap") not in COSTS:
        raise CatalogError(f"{path}:{line_of('cost')}: cost must be {', '.join(COSTS)}, got {header['cost']!r}")
    if header.get("at_phase_start", "no") not in ("yes", "no"):
        raise CatalogError(f"{path}:{line_of('at_phase_start')}: at_phase_start must be yes or no, "
                           f"got {header['at_phase_start']!r}")
    if header["kind"] not in KINDS:
        raise CatalogError(f"{path}:{line_of('kind')}: kind must be metrics or table, got {header['kind']!r}")
    try:
        min_version = int(header["min_version"])
    except ValueError:
        raise CatalogError(f"{path}:{line_of('min_version')}: min_version must be a server major version "
                           f"like 13, got {header['min_version']!r}") from None
    for key in ("interval", "timeout"):
        try:
            if parse_duration(header[key]) <= 0:
                raise ValueError("must be positive")
        except ValueError as exc:
            raise CatalogError(f"{path}:{line_of(key)}: {key}: {exc}") from None
    variant_tag = m.group("variant")
    ext_version: tuple[int, ...] | None = None
    if variant_tag and variant_tag.startswith("pg"):
        if int(variant_tag[2:]) != min_version:
            raise CatalogError(f"{path}:{line_of('min_version')}: a .{variant_tag}.sql variant must say "
                               f"min_version: {variant_tag[2:]}, not {min_version}")
    elif variant_tag:
        ext_version = tuple(int(p) for p in variant_tag[3:].split("_"))
        if "extension" not in header:
            raise CatalogError(f"{path}:1: an extension variant needs an '-- extension: NAME' header")
    body = "\n".join(lines[body_start:]).strip()
    if not body:
        raise CatalogError(f"{path}: no SQL statement after the header")
    if TAG not in body:
        raise CatalogError(f"{path}:{body_start + 1}: the statement must contain {TAG} "
                           "(so migtui's own queries can be filtered out)")
    stmt = body.rstrip().rstrip(";")
    if re.search(r";\s*\S", _strip_literals(stmt)):
        raise CatalogError(f"{path}:{body_start + 1}: one statement per file (found a ';' between statements)")
    params = parse_params(header.get("params", ""), path, line_of("params"))
    sql, used = to_psycopg(stmt, path, params, body_start + 1)
    variant = Variant(path=path, line=body_start + 1, min_version=min_version, ext_version=ext_version,
                      text=stmt, sql=sql, params=used)
    return header, variant, variant_tag


def _strip_literals(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", "", sql, flags=re.S)


def _parse_ratios(text: str, path: Path) -> tuple[Ratio, ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = _RATIO.match(part)
        if not m:
            raise CatalogError(f"{path}: ratios: expected 'out = num / den1 + den2', got {part!r}")
        out.append(Ratio(m.group("out"), m.group("num"), tuple(d.strip() for d in m.group("den").split("+"))))
    return tuple(out)


@dataclass
class Catalog:
    """All loaded queries by name."""

    queries: dict[str, Query] = field(default_factory=dict)

    def get(self, name: str) -> Query:
        try:
            return self.queries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self.queries), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise CatalogError(f"no catalog query named {name!r}{hint}; see `migtui sql list`") from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self.queries.values(), key=lambda q: q.name))

    def __len__(self) -> int:
        return len(self.queries)

    def add_dir(self, directory: Path, origin: str) -> None:
        """Load every .sql file of a folder (not recursive). Name clashes are errors."""
        if not directory.is_dir():
            raise CatalogError(f"{directory}: SQL folder not found (from {origin})")
        files = sorted(directory.glob("*.sql"))
        parsed = [parse_file(f) for f in files]
        bases = [(h, v) for h, v, tag in parsed if tag is None]
        variants = [(h, v) for h, v, tag in parsed if tag is not None]
        for header, variant in bases:
            name = header["name"]
            if name in self.queries:
                other = self.queries[name]
                raise CatalogError(f"{variant.path}: query name {name!r} clashes with {other.variants[0].path} "
                                   f"(from {other.origin}); rename one of them")
            ext = header.get("extension")
            ext_name, ext_min = None, None
            if ext:
                em = _EXTENSION.match(ext)
                if not em:
                    raise CatalogError(f"{variant.path}:{header['__line_extension']}: extension must look like "
                                       f"'pg_stat_statements >= 1.8', got {ext!r}")
                ext_name = em.group("ext")
                ext_min = parse_version(em.group("ver")) if em.group("ver") else None
            rates = tuple(r.strip() for r in header.get("rates", "").split(",") if r.strip())
            ratios = _parse_ratios(header.get("ratios", ""), variant.path)
            produced = [*(f"{r}_per_s" for r in rates), *(r.out for r in ratios)]
            display = parse_display(name, header["kind"], header, variant.path, sql=variant.text, produced=produced)
            if KINDS_KEY in header and header["kind"] != "metrics":
                raise CatalogError(f"{variant.path}:{header['__line_kinds'].split(',')[0]}: kinds are for "
                                   "kind: metrics queries (a table query's rows are snapshots, not metrics)")
            kinds = parse_kinds(name, header, variant.path, sql=variant.text, produced=produced,
                                shows=display.shows if display else ())
            self.queries[name] = Query(
                name=name, description=header["description"], kind=header["kind"],
                interval=parse_duration(header["interval"]), timeout=parse_duration(header["timeout"]),
                privileges=tuple(p.strip() for p in header["privileges"].split(",") if p.strip() != "none"),
                params=parse_params(header.get("params", ""), variant.path, 1),
                rates=rates, ratios=ratios,
                extension=ext_name, ext_min=ext_min, origin=origin, variants=[variant], display=display,
                cost=header.get("cost", "cheap"), kinds=kinds, at_phase_start=header.get("at_phase_start") == "yes")
        for header, variant in variants:
            query = self.queries.get(header["name"])
            if query is None or query.origin != origin:
                raise CatalogError(f"{variant.path}: variant of {header['name']!r} has no base file "
                                   f"{header['name']}.sql in the same folder")
            if header["kind"] != query.kind:
                raise CatalogError(f"{variant.path}: kind {header['kind']!r} differs from the base file's {query.kind!r}")
            query.variants.append(variant)


def builtin_sql_dir(target: str = "postgres") -> Path:
    """``sql/<target>`` of the source tree, or its copy inside an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_sql" / target, here.parent / "sql" / target):
        if candidate.is_dir():
            return candidate
    raise CatalogError(f"the built-in SQL catalog sql/{target} is missing from this installation")


def load_catalog(extra_dirs: Sequence[tuple[str, Path]] = (), target: str = "postgres") -> Catalog:
    """The built-in catalog plus ``(origin, folder)`` pairs from plugins and the config's ``sql_dirs``."""
    catalog = Catalog()
    catalog.add_dir(builtin_sql_dir(target), "builtin")
    for origin, directory in extra_dirs:
        catalog.add_dir(Path(directory), origin)
    return catalog
