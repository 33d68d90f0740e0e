"""What every PostgreSQL action shares: its connection options, the DSN it uses, and its own connection."""

from __future__ import annotations

from typing import Any

from migtui.api import ActionError, Field, error_at, redact, validate
from migtui_postgres.pgconn import describe_target, first_line

ACTION_APP = "migtui-action"
PAUSE_APP = "migtui-pause"
OWN_APP_PREFIX = "migtui"


def conn_fields() -> dict[str, Field]:
    return {
        "source": Field("str", doc="The postgres source whose dsn to use (default: the first postgres source)."),
        "dsn": Field("str", dsn=True, doc="Connection string for this action (default: the source's dsn)."),
        "connect_timeout": Field("duration", default=5.0, minimum=1),
    }


# --------------------------------------------------------------------------- helpers


def resolve_dsn(ctx: Any, opts: dict[str, Any]) -> str:
    """The action's ``dsn`` option, else the named (or first) postgres source's dsn."""
    if opts.get("dsn"):
        return str(opts["dsn"])
    sources = ctx.config.sources_of_type("postgres")
    name = opts.get("source")
    if name:
        item = next((s for s in sources if s.name == name), None)
        if item is None:
            names = ", ".join(s.name for s in sources) or "none"
            raise error_at(ctx.options, "source", f"{ctx.path}.source",
                           f"no postgres source named {name!r} (postgres sources: {names})")
    else:
        if not sources:
            raise error_at(ctx.options, None, ctx.path,
                           "needs a dsn: set 'dsn' or 'source', or add a postgres source")
        item = sources[0]
    collector = (ctx.sources or {}).get(item.name)
    if collector is not None and isinstance(getattr(collector, "dsn", None), str):
        return collector.dsn
    from migtui_postgres.collector import SCHEMA as SOURCE_SCHEMA

    return str(validate(SOURCE_SCHEMA, item.options, item.path)["dsn"] or "")


def connect(dsn: str, *, app: str, connect_timeout: float, autocommit: bool = True) -> Any:
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=autocommit, application_name=app,
                               connect_timeout=max(1, int(connect_timeout)))
    except psycopg.Error as exc:
        raise ActionError(f"cannot connect to PostgreSQL ({describe_target(dsn)}): {redact(first_line(exc))}") from None
