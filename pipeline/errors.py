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


class DiskFullError(DatabaseError):
    """The file system ran out of room (or a file size limit was hit) while writing."""


_NO_SPACE_ERRNOS = (28, 27, 122)  # ENOSPC, EFBIG, EDQUOT
_NO_SPACE_TEXT = ("No space left on device", "File too large", "Disk quota exceeded")


def is_out_of_space(exc: BaseException) -> bool:
    """True if exc is the file system refusing a write for lack of room (from Python or DuckDB)."""
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE_ERRNOS:
        return True
    return any(text in str(exc) for text in _NO_SPACE_TEXT)


def disk_full(exc: BaseException, where: object) -> DiskFullError:
    """The one message for a full disk, naming the file and the fix."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else repr(exc)
    folder = getattr(where, "parent", where)
    return DiskFullError(
        f"the disk ran out of room while writing {where} ({first}); the published database is untouched "
        "and nothing was lost",
        f"free space on the file system of {folder} (or point [database].store_dir at a disk with room), "
        "then run again",
    )
