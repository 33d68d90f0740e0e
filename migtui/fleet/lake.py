"""Reading many runs' Parquet files from a location (``s3://`` or a folder) as one Arrow table per
table name, with as few requests as the object store allows.

- One listing (``FileSelector``, recursive) gives every object's path and size.
- Each file becomes a fragment built from that listing (``make_fragment(..., file_size=)``) with its
  hive partition (``database=``, ``run=``) as a string expression: no ``HEAD`` per object, no second
  listing, no type guessing from partition values (a database named ``0042`` stays a string).
- Only the columns the caller names are read (those the files have), with ``pre_buffer`` (one
  coalesced read of a file's column chunks), fragments read concurrently on Arrow's I/O thread pool
  (``IO_THREADS`` for S3, whose requests wait on the network, not the CPU), spread over
  ``S3_CLIENTS`` S3 filesystems (one client's connection pool holds 25).

So an object costs two requests (its footer, then its columns) instead of three or more, and 100 are
in flight instead of 4 (counted through ``bench/delay_proxy.py``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence
from urllib.parse import unquote

from migtui.fleet.objectstore import Location, ObjectStoreError, check_reachable, error_text

PARTITIONS = ("database", "run")
IO_THREADS = 100
"""Arrow's I/O pool while reading from S3 (its default is 8; requests to S3 are latency-bound)."""
FRAGMENTS_AHEAD = 100
"""Files read at once (Arrow's scanner reads 4 by default: with two requests per file in turn, a
store 30 ms away would give ~65 files/s; 100 at once, ~1,600 files/s)."""
S3_CLIENTS = 4
"""S3 filesystems the files are spread over: each has its own client, whose pool holds at most 25
connections (the AWS SDK's default, not settable through pyarrow): 4 x 25 requests in flight."""


def list_files(loc: Location, suffix: str = ".parquet") -> dict[str, list[Any]]:
    """Every ``<table>.parquet`` under a ``run=`` folder of the location, as FileInfo, by table."""
    from pyarrow import fs

    check_reachable(loc)
    try:
        infos = loc.fs.get_file_info(fs.FileSelector(loc.root, recursive=True, allow_not_found=True))
    except OSError as exc:
        raise ObjectStoreError(f"{loc.url}: cannot list: {error_text(exc)}") from None
    found: dict[str, list[Any]] = defaultdict(list)
    for info in infos:
        name = info.base_name
        if info.type == fs.FileType.File and name.endswith(suffix) and "run=" in info.path:
            found[name[: -len(suffix)]].append(info)
    return found


def partition_values(loc: Location, path: str) -> dict[str, str]:
    """``{"database": ..., "run": ...}`` from the ``key=value`` folders of ``path`` under the root
    (values percent-decoded, as :func:`migtui.fleet.objectstore.partition` encoded them)."""
    root = loc.root.rstrip("/")
    rel = path[len(root) + 1:] if root and path.startswith(root + "/") else path
    out: dict[str, str] = {}
    for part in rel.split("/")[:-1]:
        key, eq, value = part.partition("=")
        if eq and key in PARTITIONS:
            out[key] = unquote(value)
    return out


def filesystems(loc: Location) -> list[Any]:
    """The location's filesystem, and for S3 ``S3_CLIENTS - 1`` more like it (same settings)."""
    from pyarrow import fs

    if not isinstance(loc.fs, fs.S3FileSystem):
        return [loc.fs]
    from migtui.fleet.objectstore import s3_filesystem

    return [loc.fs] + [s3_filesystem() for _ in range(S3_CLIENTS - 1)]


def read_table(loc: Location, table: str, files: Sequence[Any], columns: Sequence[str] | None = None,
               filter: Any = None, spread: Sequence[Any] | None = None) -> Any:
    """One Arrow table from ``files`` (FileInfo of one table's objects), with ``database`` and ``run``
    columns from the partitions; ``columns``: read only these (the ones present in the files);
    ``spread``: filesystems to read the files through in turn (default: the location's)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    fmt = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=True))
    fragments, spread = [], list(spread or [loc.fs])
    for n, info in enumerate(files):
        values = partition_values(loc, info.path)
        expr = None
        for key in PARTITIONS:
            if key in values:
                term = ds.field(key) == values[key]
                expr = term if expr is None else expr & term
        fragments.append(fmt.make_fragment(info.path, spread[n % len(spread)], partition_expression=expr,
                                           file_size=info.size))
    try:
        physical = fragments[0].physical_schema
        schema = pa.schema([f for f in physical if f.name not in PARTITIONS]
                           + [pa.field(k, pa.string()) for k in PARTITIONS])
        dataset = ds.FileSystemDataset(fragments, schema, fmt, loc.fs)
        wanted = None if columns is None else [c for c in columns if c in schema.names] + list(PARTITIONS)
        return dataset.to_table(columns=wanted, filter=filter, use_threads=True, fragment_readahead=FRAGMENTS_AHEAD)
    except (OSError, ValueError, pa.ArrowInvalid) as exc:
        raise ObjectStoreError(f"{loc.url}: cannot read the {table} files: {error_text(exc)}") from None


def read_tables(loc: Location, columns: Mapping[str, Sequence[str] | None],
                filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``{table: Arrow table}`` for each table in ``columns`` that has files (listed once)."""
    import pyarrow as pa
    from pyarrow import fs

    files = list_files(loc)
    threads = pa.io_thread_count()
    if isinstance(loc.fs, fs.S3FileSystem):
        pa.set_io_thread_count(max(threads, IO_THREADS))
    spread = filesystems(loc)
    try:
        return {table: read_table(loc, table, files[table], cols, (filters or {}).get(table), spread)
                for table, cols in columns.items() if files.get(table)}
    finally:
        pa.set_io_thread_count(threads)
