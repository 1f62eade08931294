"""Errors a user sees: each names the problem and the fix."""

from __future__ import annotations


class PerftrustError(Exception):
    """A problem the user can fix; the message says what happened and what to do."""

    # A retry later may succeed (network, a server error, a lock held by another process).
    transient = False

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(problem if fix is None else f"{problem}\n  fix: {fix}")


class DatabaseError(PerftrustError):
    """The DuckDB file cannot be used (locked, not a DuckDB file, ...)."""


class RepositoryError(PerftrustError):
    """A git repository cannot be read."""


class ConfigError(PerftrustError):
    """perftrust.toml is invalid."""
