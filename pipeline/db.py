"""Opening the DuckDB file: clear errors for a locked or foreign file, schema from sql/."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.errors import DatabaseError, PerftrustError, disk_full, is_out_of_space
from pipeline.trailers import keep_trailers

if TYPE_CHECKING:
    import duckdb

DEFAULT_DB = Path("perftrust.duckdb")

# Offline machines: INSTALL of an extension would hang or fail; json, parquet and icu are built in.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": True,
    # Give freed memory back to the system soon (DuckDB keeps up to 128 MB per thread otherwise):
    # part of keeping a first sync of git/git under 400 MB.
    "allocator_flush_threshold": "8MB",
    "allocator_background_threads": True,
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
    if is_out_of_space(exc):
        return disk_full(exc, path)
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


def sql_string(text: str) -> str:
    """text as a SQL string literal (for the few statements that take no parameters, e.g. ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def _check_file(path: Path, must_exist: bool) -> None:
    """A missing database (when one must exist) or a foreign file, refused before DuckDB sees it:
    DuckDB would try to attach a SQLite file through an extension."""
    if must_exist and not path.exists():
        raise DatabaseError(
            f"there is no database at {path}", "run `perftrust sync` first, or pass --db FILE"
        )
    if _is_foreign_file(path):
        raise DatabaseError(
            f"{path} exists but is not a DuckDB database (it was left untouched)",
            "point --db at a new or an existing perftrust.duckdb file",
        )


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database; a writer also creates or updates the schema."""
    import duckdb

    path = Path(path)
    _check_file(path, must_exist=read_only)
    if not read_only and not path.parent.exists():
        raise DatabaseError(
            f"the folder {path.parent} does not exist", "create it, or pass another --db FILE"
        )
    if not read_only and not path.exists():
        _start_from_template(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=_CONFIG)
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc
    # Long queries would draw a progress bar on the terminal in the middle of perftrust's own output.
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        try:
            apply_schema(con)
        except BaseException:
            # Closed at once: DuckDB keeps a file open while any connection to it lives, and hands
            # that same instance to the next connect() of the path (even after the file was moved).
            con.close()
            raise
    return con


# `perftrust sql`: what a query may do. The database is opened read-only with these settings (no
# extension that is not built in is installed or loaded; no temporary folder, so nothing ever spills
# beside the database); connect_for_query then turns off external access (DuckDB refuses COPY TO,
# EXPORT, read_csv, glob, ATTACH, INSTALL, http(s)://) except reading what --allow-read names, and
# locks the configuration, so SET, RESET and PRAGMA cannot undo any of it.
QUERY_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "temp_directory": "",
    "python_enable_replacements": False,
}
# Statement types a read-only query may have (SELECT covers WITH, FROM-first, VALUES, DESCRIBE, SHOW,
# SUMMARIZE). Checked before anything runs: with --allow-read, DuckDB's own guard lets COPY TO write
# into the allowed folder, so COPY, EXPORT, ATTACH, INSTALL/LOAD, SET, PRAGMA, CALL, CREATE ... are
# refused here by their type.
QUERY_ALLOWED = "SELECT (with WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE) and EXPLAIN of one"
_READ_ONLY_FIX = (
    "run a SELECT query; perftrust sql writes no file, uses no network and attaches, installs or "
    "loads nothing (to keep a result: --format csv > FILE; to read local files: --allow-read DIR)"
)
_EXPLAIN = re.compile(r"\s*EXPLAIN\s*(?:ANALY[SZ]E\b|\([^()]*\))?(.*)", re.IGNORECASE | re.DOTALL)


def _refused_statement(query: str) -> str | None:
    """What perftrust sql refuses in the query, e.g. "a COPY statement" (None: it is read-only).

    Raises duckdb.Error when the query does not parse."""
    import duckdb

    try:
        kinds = [(s.type.name, s.query) for s in duckdb.extract_statements(query)]
    except ValueError:  # a statement type the Python client has no name for (UPDATE EXTENSIONS)
        return "a statement of a kind it does not know"
    for kind, text in kinds:
        if kind == "EXPLAIN":
            # EXPLAIN ANALYZE runs its statement: what it explains must be a SELECT too.
            match = _EXPLAIN.fullmatch(text)
            inner = match.group(1).strip() if match else ""
            try:
                explained = [s.type.name for s in duckdb.extract_statements(inner)] if inner else []
            except (duckdb.Error, ValueError):
                explained = []
            if explained != ["SELECT"]:
                return "an EXPLAIN of anything but a SELECT"
        elif kind == "MULTI":
            # A PIVOT whose columns come from the data runs as several statements, and so does a
            # COPY, CREATE or INSERT of such a PIVOT: they cannot be told apart here.
            return "a PIVOT without an IN list (write PIVOT ... ON column IN (value, ...))"
        elif kind != "SELECT":
            name = "INSTALL or LOAD" if kind == "LOAD" else kind.replace("_", " ")
            return f"{'an' if name[0] in 'AEIOU' else 'a'} {name} statement"
    return None


def check_read_only_query(query: str) -> None:
    """Refuse (PerftrustError) a query that is not read-only; a syntax error is left to DuckDB."""
    import duckdb

    try:
        refused = _refused_statement(query)
    except duckdb.Error:
        return  # the syntax error is reported when the query runs, with DuckDB's message
    if refused is not None:
        raise PerftrustError(
            f"the query was refused: perftrust sql is read-only and runs only {QUERY_ALLOWED}, not {refused}",
            _READ_ONLY_FIX,
        )


def query_error(exc: duckdb.Error) -> PerftrustError:
    """A failed query as problem + fix; refusals by the read-only guard say what is allowed. A
    failed query keeps DuckDB's whole message: its hints ("Did you mean", "Candidate bindings") and
    the LINE of the query with a caret under the place it failed."""
    import duckdb

    message = str(exc).rstrip() or type(exc).__name__
    first = message.splitlines()[0]
    if isinstance(exc, duckdb.PermissionException) or "disabled by configuration" in first:
        return PerftrustError(
            f"the query was refused: perftrust sql is read-only and reads only the database ({first})",
            "to let a query read local files (read_csv, read_parquet, read_json, glob), pass --allow-read "
            "DIR for the folder that holds them; nothing is ever written, and no network is used",
        )
    if "configuration has been locked" in first or "read-only mode" in first:
        return PerftrustError(
            f"the query was refused: perftrust sql is read-only and runs only {QUERY_ALLOWED} ({first})",
            _READ_ONLY_FIX,
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        return PerftrustError(
            "the query needs more memory than DuckDB may use here, and perftrust sql never spills "
            "to temporary files on disk",
            "narrow the query: filter rows (WHERE), select fewer columns, aggregate, or add LIMIT",
        )
    return PerftrustError(
        f"the query failed: {message}",
        'correct the query where DuckDB\'s message points; `perftrust sql "SHOW TABLES"` lists the '
        'tables and `perftrust sql "DESCRIBE fct_commits"` the columns of one (the README describes them)',
    )


def connect_for_query(path: Path, allow_read: Sequence[Path] = ()) -> duckdb.DuckDBPyConnection:
    """Open the database for `perftrust sql`: read-only, no file or network access (QUERY_CONFIG),
    except reading the files and folders in allow_read, and settings locked against SET/RESET/PRAGMA.

    Pair it with check_read_only_query before running a query."""
    import duckdb

    path = Path(path)
    _check_file(path, must_exist=True)
    try:
        con = duckdb.connect(str(path), read_only=True, config=QUERY_CONFIG)
    except duckdb.Error as exc:
        raise _translate(exc, path) from exc
    # As written (absolute) and with symbolic links resolved: a query may name the path either way.
    spelled = {p: sorted({os.path.abspath(p), str(Path(p).resolve())}) for p in allow_read}
    folders = [name for p, names in spelled.items() if Path(p).is_dir() for name in names]
    files = [name for p, names in spelled.items() if not Path(p).is_dir() for name in names]
    try:
        # allowed_* can only be set once the database runs and while external access is on.
        con.execute("SET allowed_directories = ?", [folders])
        con.execute("SET allowed_paths = ?", [files])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise DatabaseError(
            f"cannot open {path} read-only for a query: {str(exc).splitlines()[0]}",
            "check the --allow-read paths, or leave them out",
        ) from exc
    return con


def _template_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "perftrust"


def _start_from_template(path: Path) -> None:
    """A new database starts as a copy of an empty one with this schema: running the scripts takes
    0.4 s (some 700 statements), copying the file a few milliseconds. The template is made once per
    schema version in the user's cache folder; without one (a cache that cannot be written) the
    scripts run as before."""
    import duckdb

    template = _template_cache() / f"schema-{schema_fingerprint()}.duckdb"
    try:
        if not template.exists():
            template.parent.mkdir(parents=True, exist_ok=True)
            making = template.with_name(f".{template.name}.{os.getpid()}.tmp")
            with closing(duckdb.connect(str(making), config=_CONFIG)) as con:
                apply_schema(con)
                con.execute("CHECKPOINT")
            os.replace(making, template)
        shutil.copyfile(template, path)
    except (OSError, duckdb.Error):
        with suppress(OSError):
            path.unlink()  # never leave half a copy: connect() then builds the schema itself


@cache
def schema_fingerprint() -> str:
    """Changes whenever any schema script changes."""
    digest = hashlib.sha256()
    for name, text in schema_scripts():
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:24]


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Run every sql/*.sql script; they are idempotent (IF NOT EXISTS tables, OR REPLACE views).

    Skipped when the database records that it has this very schema already (pipeline_schema):
    running the scripts costs a few hundred milliseconds, paid on every connection otherwise."""
    import duckdb

    fingerprint = schema_fingerprint()
    with suppress(duckdb.CatalogException):
        rows = con.execute("SELECT fingerprint FROM pipeline_schema").fetchall()
        if rows == [(fingerprint,)]:
            return
    with transaction(con):
        _migrate(con)
        for _name, text in schema_scripts():
            con.execute(text)
        keep_trailers(con)  # fills the table when it replaces the view of older databases
        con.execute("DELETE FROM pipeline_schema")
        con.execute("INSERT INTO pipeline_schema VALUES (?, ?)", [fingerprint, __version__])


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Changes to tables written by an older perftrust, before the scripts recreate the views."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    if "stg_git__commit_trailers" in views:
        con.execute("DROP VIEW stg_git__commit_trailers")  # now a table, filled once from the commits
    if "raw_git__unreachable_commits" in tables:
        # Commits rewritten away used to be kept and flagged; now they are removed (a database equals
        # a fresh sync of its refs). The flag table goes with them.
        con.execute("DROP VIEW IF EXISTS fct_commits")
        con.execute(
            """DELETE FROM raw_git__commits c USING raw_git__unreachable_commits u
               WHERE u.repo = c.repo AND u.sha = c.sha"""
        )
        con.execute("DROP TABLE raw_git__unreachable_commits")
    _drop_stale_metric_tables(con, tables)


def _drop_stale_metric_tables(con: duckdb.DuckDBPyConnection, tables: set[str]) -> None:
    """Metric tables (those sql/5*.sql create) whose columns differ from the scripts' are dropped, for
    the scripts to create anew: every metrics run recomputes them whole anyway. metric_runs stays, so
    a `sync` keeps recomputing them with the settings they were made with, but its as_of moves to
    1970-01-01: no later run takes the emptied tables for current, and the next one fills them."""
    import duckdb

    def columns(db: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in db.execute(
            """SELECT table_name, column_name, data_type FROM duckdb_columns()
               WHERE database_name = current_database() AND schema_name = 'main'
               ORDER BY table_name, column_index"""
        ).fetchall():
            out.setdefault(table, []).append((column, kind))
        return out

    scripts = [text for name, text in schema_scripts() if name.startswith("5")]
    with closing(duckdb.connect(":memory:", config=_CONFIG)) as scratch:
        for text in scripts:
            scratch.execute(text)
        wanted = columns(scratch)
    present = columns(con)
    stale = [t for t in sorted(wanted) if t in tables and t != "metric_runs" and present.get(t) != wanted[t]]
    for table in stale:
        con.execute(f"DROP TABLE {table}")
    if stale and "metric_runs" in tables:
        con.execute("UPDATE metric_runs SET as_of = TIMESTAMP '1970-01-01', as_of_date = DATE '1970-01-01'")


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
    import duckdb

    con.register(name, data)
    try:
        yield name
    except BaseException:
        # In an aborted transaction unregister fails too; the original error is the one to see.
        with suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)
