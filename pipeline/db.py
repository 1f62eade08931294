"""Opening the DuckDB file: clear errors for a locked or foreign file, schema from sql/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

import duckdb

from pipeline.errors import DatabaseError

DEFAULT_DB = Path("perftrust.duckdb")

# Offline machines: INSTALL of an extension would hang or fail; json, parquet and icu are built in.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": True,
}


def sql_dir() -> Path:
    """The folder of .sql files: the repository's sql/ (development) or the copy inside the wheel."""
    packaged = Path(__file__).parent / "_sql"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "sql"


@cache
def schema_scripts() -> tuple[tuple[str, str], ...]:
    """(file name, text) of every schema script, in the order they run."""
    return tuple((p.name, p.read_text(encoding="utf-8")) for p in sorted(sql_dir().glob("*.sql")))


def _translate(exc: duckdb.Error, path: Path) -> DatabaseError:
    text = str(exc)
    if "Conflicting lock" in text or "Could not set lock" in text:
        pid = re.search(r"PID (\d+)", text)
        holder = f" (process {pid.group(1)})" if pid else ""
        return DatabaseError(
            f"the database {path} is in use by another process{holder}",
            "wait for that run to finish, or point --db at another file",
        )
    if "not a valid DuckDB database file" in text or "Invalid DuckDB" in text or "magic" in text.lower():
        return DatabaseError(
            f"{path} exists but is not a DuckDB database (it was left untouched)",
            "point --db at a new or an existing perftrust.duckdb file",
        )
    if "newer version" in text or "older version" in text or "storage version" in text.lower():
        return DatabaseError(
            f"{path} was written by an incompatible DuckDB version: {text.splitlines()[0]}",
            "upgrade perftrust, or start a new database file with --db",
        )
    return DatabaseError(
        f"cannot open the database {path}: {text.splitlines()[0]}", "check the path and its permissions"
    )


def _is_foreign_file(path: Path) -> bool:
    """A non-empty file without DuckDB's magic bytes ("DUCK" at offset 8)."""
    try:
        with path.open("rb") as f:
            header = f.read(12)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return False
    return bool(header) and header[8:12] != b"DUCK"


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database; a writer also creates or updates the schema."""
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseError(
            f"there is no database at {path}", "run `perftrust sync` first, or pass --db FILE"
        )
    if _is_foreign_file(path):
        # Checked before DuckDB sees it: DuckDB would try to attach a SQLite file through an extension.
        raise DatabaseError(
            f"{path} exists but is not a DuckDB database (it was left untouched)",
            "point --db at a new or an existing perftrust.duckdb file",
        )
    if not read_only and not path.parent.exists():
        raise DatabaseError(
            f"the folder {path.parent} does not exist", "create it, or pass another --db FILE"
        )
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=_CONFIG)
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc
    if not read_only:
        apply_schema(con)
    return con


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Run every sql/*.sql script; they are idempotent (IF NOT EXISTS tables, OR REPLACE views)."""
    with transaction(con):
        for _name, text in schema_scripts():
            con.execute(text)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: object) -> Iterator[str]:
    """Expose an Arrow table (or frame) to SQL under `name` for the duration of the block."""
    con.register(name, data)
    try:
        yield name
    except BaseException:
        # In an aborted transaction unregister fails too; the original error is the one to see.
        with suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)
