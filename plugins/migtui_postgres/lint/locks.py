"""PostgreSQL's table lock modes by the names pg_locks uses, their strength and what each blocks."""

from __future__ import annotations

MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
         "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
STRENGTH = {m: i for i, m in enumerate(MODES)}

# LOCK TABLE ... IN <mode> MODE: LockStmt.mode is the lock number (1 = AccessShareLock)
BY_NUMBER = {i + 1: m for i, m in enumerate(MODES)}

# the conflict table of the PostgreSQL documentation ("Table-Level Lock Modes")
CONFLICTS = {
    "AccessShareLock": {"AccessExclusiveLock"},
    "RowShareLock": {"ExclusiveLock", "AccessExclusiveLock"},
    "RowExclusiveLock": {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
    "ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
                                 "ExclusiveLock", "AccessExclusiveLock"},
    "ShareLock": {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock",
                  "AccessExclusiveLock"},
    "ShareRowExclusiveLock": {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
                              "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
    "ExclusiveLock": {"RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
                      "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
    "AccessExclusiveLock": set(MODES),
}


def conflicting(mode: str) -> list[str]:
    """The held modes that make a request for ``mode`` wait (the relation is symmetric)."""
    return sorted(CONFLICTS[mode], key=STRENGTH.__getitem__)


def strong(mode: str) -> bool:
    """Blocks writes (ShareLock and stronger): a wait for it queues the table's writers."""
    return STRENGTH[mode] >= STRENGTH["ShareLock"]


def stronger(a: str | None, b: str) -> str:
    return b if a is None or STRENGTH[b] > STRENGTH[a] else a
