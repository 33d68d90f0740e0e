"""The errors migtui reports to a user as one clear line (never a traceback)."""

from __future__ import annotations


class MigtuiError(Exception):
    """Base class: ``str(err)`` is the whole message a user sees."""

    exit_code = 1


class ConfigError(MigtuiError):
    """A config file, key or value is wrong. The message names file, line and key path."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None) -> None:
        self.file, self.line, self.path, self.problem = file, line, path, message
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        key = f"{path}: " if path else ""
        super().__init__(f"{where}{key}{message}")


class CatalogError(MigtuiError):
    """A .sql file of the catalog is malformed (file and line are in the message)."""

    exit_code = 2


class StoreError(MigtuiError):
    """The DuckDB store cannot be opened or written."""


class StoreLockedError(StoreError):
    """Another running migtui holds the store."""


class SourceError(MigtuiError):
    """A monitored system (PostgreSQL, an HTTP endpoint, Kubernetes) cannot be reached or refused us."""


class PluginError(MigtuiError):
    """A plugin failed to load or misbehaved."""


class ActionError(MigtuiError):
    """An action (pause, resume, rollback, cancel, ...) could not run."""
