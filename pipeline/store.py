"""Where a run writes, so that nobody reading the published database is ever locked out, and
nothing a source ever synced is lost.

DuckDB lets no other process open a file while a writer holds it, not even read-only. So the
published file (settings.db_path; a symlink is followed) is never opened for writing. Instead:

- each repository's raw data and cursors live in its own *shard* (``<store>/shards/<key>.duckdb``),
  written by that repository's task only (safe from threads or Dask worker processes); a shard that
  cannot be opened is moved to ``<store>/broken/`` and rebuilt from its source;
- a run copies the published file to ``<store>/build/``, refreshes there the sources it synced
  (pipeline/sources.py: only rows that changed are written), keeps every other source as it was,
  recomputes identities and metrics when their inputs changed, checkpoints, and publishes with one
  ``os.replace``: a reader sees the old file or the new one, never a half-written one;
- the file that was published before is kept in ``<store>/previous/`` (a hard link, no copy) for
  ``perftrust rollback``; the mode and owner an operator gave the published file are kept;
- one run at a time: ``<store>/run.lock`` (flock, released by the kernel when a process dies).

A run killed at any point leaves the published file as it was; its half-built file is removed by
the next run. Shards survive a kill with no gap and no duplicate (each sync commits its batches
before it moves its cursor).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import PERFTRUST_DIR, Settings
from pipeline.db import connect
from pipeline.errors import DatabaseError, DiskFullError, PerftrustError, disk_full, is_out_of_space

if TYPE_CHECKING:
    import duckdb


class StoreError(PerftrustError):
    pass


DiskFull = DiskFullError


def shard_name(key: str) -> str:
    """A file name for a repository key: readable, and distinct for keys that differ only in case."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "__", key).strip("_.") or "repo"
    return f"{slug[:80]}-{hashlib.sha1(key.casefold().encode()).hexdigest()[:8]}.duckdb"


@dataclass(frozen=True)
class Store:
    db_path: Path  # the published database
    root: Path

    @classmethod
    def for_settings(cls, settings: Settings, db_path: Path | None = None) -> Store:
        db = Path(db_path) if db_path is not None else settings.db_path
        if db.is_symlink():
            # Publish where the link points (the link stays a link) and keep the store beside it.
            db = Path(os.path.realpath(db))
        root = settings.store_dir if settings.store_dir is not None else db.with_name(db.name + ".store")
        return cls(db, root)

    @property
    def shards(self) -> Path:
        return self.root / "shards"

    @property
    def builds(self) -> Path:
        return self.root / "build"

    @property
    def previous(self) -> Path:
        return self.root / "previous"

    @property
    def broken(self) -> Path:
        return self.root / "broken"

    @property
    def lock_path(self) -> Path:
        return self.root / "run.lock"

    def shard(self, key: str) -> Path:
        return self.shards / shard_name(key)

    def build_path(self, run_id: str) -> Path:
        return self.builds / f"{run_id}.duckdb"

    def check_folder(self) -> None:
        """The database's folder exists, or is perftrust's own folder in a work tree (made on first
        write). Checked before anything is created: a mistyped --db makes no folder anywhere."""
        folder = self.db_path.parent
        if folder.is_dir() or (folder.name == PERFTRUST_DIR and folder.parent.is_dir()):
            return
        raise DatabaseError(f"the folder {folder} does not exist", "create it, or pass another --db FILE")

    def ensure_folder(self) -> None:
        """Make perftrust's own folder (.perftrust/) with a .gitignore that keeps it out of git."""
        self.check_folder()
        folder = self.db_path.parent
        if not folder.is_dir():
            folder.mkdir()
            (folder / ".gitignore").write_text(
                "# perftrust's database, store and reports: local data, never committed\n*\n",
                encoding="utf-8",
            )

    def lock(self, command: str, wait_seconds: float = 0.0) -> RunLock:
        """The run lock, taken after the database's folder is known to exist (or made)."""
        self.ensure_folder()
        return RunLock(self.lock_path, command, wait_seconds)

    def prepare(self) -> None:
        self.check_folder()
        for folder in (self.shards, self.builds, self.previous):
            folder.mkdir(parents=True, exist_ok=True)

    def clear_builds(self) -> None:
        """Half-built files of runs that were killed (only ever called under the run lock)."""
        for path in self.builds.glob("*"):
            path.unlink(missing_ok=True)
        for path in self.db_path.parent.glob(f".{self.db_path.name}.*.publishing"):
            path.unlink(missing_ok=True)

    def previous_files(self) -> list[Path]:
        """Previously published databases, oldest first (names start with a sortable UTC time)."""
        return sorted(self.previous.glob("*.duckdb")) if self.previous.is_dir() else []


# ---------------------------------------------------------------------------------------------- lock


@dataclass
class RunLock:
    """One writer at a time. flock is released by the kernel when the holder dies, even on SIGKILL."""

    path: Path
    command: str
    wait_seconds: float = 0.0
    _fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise _busy(holder) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "command": self.command, "started_at": datetime.now(UTC).isoformat()}
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _busy(holder: str) -> StoreError:
    return StoreError(
        f"another perftrust run is writing this database{holder}",
        "let it finish (this run was not started and nothing was changed), or pass "
        "--wait SECONDS to queue behind it",
    )


def check_unlocked(path: Path) -> None:
    """Fail at once if another run holds the lock; creates nothing (a lock file that does not exist
    is free). A check, not the lock: the run takes RunLock itself."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(_read_holder(fd)) from None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return ""
    if not info:
        return ""
    return (
        f" (process {info.get('pid')}, `perftrust {info.get('command')}`, started {info.get('started_at')})"
    )


# ------------------------------------------------------------------------------------------- writing


def check_free_space(store: Store) -> None:
    """Refuse to start a build that cannot fit: it needs about the published file's size again."""
    published = store.db_path.stat().st_size if store.db_path.exists() else 0
    need = int(published * 1.1) + 32 * 2**20
    where = next(p for p in (store.builds, *store.builds.parents) if p.exists())  # before it is made
    free = shutil.disk_usage(where).free
    if free < need:
        raise DiskFull(
            f"only {free / 2**20:.0f} MiB free in {store.builds}, and building the new database needs about "
            f"{need / 2**20:.0f} MiB; nothing was changed",
            "free disk space there, or point [database].store_dir at a disk with room",
        )


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn out-of-space errors while writing path into a DiskFull with the fix."""
    import duckdb

    try:
        yield
    except (OSError, duckdb.Error) as exc:
        if is_out_of_space(exc):
            raise disk_full(exc, path) from exc
        raise


@dataclass
class OpenedShard:
    con: duckdb.DuckDBPyConnection
    is_new: bool  # the file did not exist (first sync, or rebuilt): it holds nothing published yet
    warning: str | None = None  # set when a broken shard was moved aside


def open_shard(store: Store, key: str) -> OpenedShard:
    """A repository's shard for writing. One that cannot be opened (a zero-byte or truncated file
    left by a full disk, a damaged file) is moved to broken/ and started afresh: the sync then loads
    the source whole, and the published database keeps the source's rows until that succeeds."""
    import duckdb

    path = store.shard(key)
    is_new = not path.exists()
    warning = None
    try:
        con = connect(path)
        con.execute("SELECT count(*) FROM sync_state").fetchall()  # reads the catalog and a table
    except DiskFullError:
        raise
    except (DatabaseError, duckdb.Error) as exc:
        text = str(exc)
        if is_new or "in use by another process" in text or "Conflicting lock" in text:
            raise  # not a broken file: a new shard that cannot be made, or another process using it
        aside = move_aside(store, path)
        warning = (
            f"the shard {path.name} could not be opened ({text.splitlines()[0]}); it was moved to "
            f"{aside} and the source is loaded again from the start"
        )
        con, is_new = connect(path), True
    # One checkpoint at the end of a sync rather than every 16 MB of WAL (see pipeline/sync.py).
    con.execute("SET checkpoint_threshold = '1GB'")
    return OpenedShard(con, is_new, warning)


def move_aside(store: Store, path: Path) -> Path:
    """Move a broken file (and its WAL) to broken/ under a time-stamped name; nothing is deleted."""
    store.broken.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = store.broken / f"{stamp}-{path.name}"
    os.replace(path, target)
    wal = Path(str(path) + ".wal")
    if wal.exists():
        os.replace(wal, Path(str(target) + ".wal"))
    return target


def fold_stray_wal(path: Path) -> None:
    """A WAL beside the published file means an in-place writer (an older perftrust) was killed;
    opening it once for writing folds the WAL in, so it cannot be replayed onto a new file."""
    if Path(str(path) + ".wal").exists():
        import duckdb

        with contextlib.closing(duckdb.connect(str(path))) as con:
            con.execute("CHECKPOINT")


def copy_file(source: Path, target: Path, durable: bool = False) -> None:
    """Copy a database file; durable: on disk before returning (a build is made durable when it is
    published, so its first copy need not be)."""
    with writing(target):
        shutil.copyfile(source, target)
        if durable:
            with open(target, "rb") as f:
                os.fsync(f.fileno())


def _keep_mode(published: Path, build: Path) -> None:
    """The mode (and owner, when we may set it) an operator gave the published file carries over."""
    try:
        info = os.stat(published)
    except FileNotFoundError:
        return
    os.chmod(build, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(PermissionError, OSError):
        if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            os.chown(build, info.st_uid, info.st_gid)


def publish(store: Store, build: Path, run_id: str, keep_previous: int) -> Path | None:
    """Make build the published database in one rename; keep the one it replaces in previous/."""
    if Path(str(build) + ".wal").exists():
        raise StoreError(
            f"{build} still has a write-ahead log: it was not closed", "this is a bug; report it"
        )
    with open(build, "rb") as f:
        os.fsync(f.fileno())
    _keep_mode(store.db_path, build)
    kept: Path | None = None
    if store.db_path.exists() and keep_previous > 0:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        # Named by time only: `rollback --list` names each file by the run that made it.
        kept = store.previous / f"{stamp}.duckdb"
        try:
            os.link(store.db_path, kept)  # the same inode: no copy, no time
        except OSError:
            with writing(kept):
                shutil.copy2(store.db_path, kept)
    if os.stat(build).st_dev != os.stat(store.db_path.parent).st_dev:
        # store_dir on another file system: a rename cannot cross it, so copy beside the
        # published file first (readers still never see a partial file: the rename is atomic).
        staged = store.db_path.with_name(f".{store.db_path.name}.{run_id[:8]}.publishing")
        copy_file(build, staged, durable=True)
        shutil.copymode(build, staged)
        _keep_mode(store.db_path, staged)
        build.unlink()
        build = staged
    os.replace(build, store.db_path)
    dir_fd = os.open(store.db_path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    for old in store.previous_files()[: max(0, len(store.previous_files()) - keep_previous)]:
        old.unlink(missing_ok=True)
    return kept


@dataclass(frozen=True)
class LastRun:
    """The last run recorded in a database file: what `rollback --list` names it by."""

    run_id: str
    command: str
    status: str
    finished_at: datetime | None

    @property
    def run_label(self) -> str:
        return f"run {self.run_id[:8]}"


def last_run_of(path: Path) -> LastRun | None:
    with contextlib.closing(connect(path, read_only=True)) as con:
        rows = con.execute(
            "SELECT run_id, command, status, finished_at FROM pipeline_runs ORDER BY started_at DESC LIMIT 1"
        ).fetchall()
    return LastRun(*rows[0]) if rows else None


def rollback(store: Store, to: str | None = None) -> tuple[Path, Path]:
    """Publish a previous database again; the current one moves to previous/ (so it can be undone).
    to: the run id (or its first characters) of the previous database's last run, or its file name.

    Returns (the file now published came from, where the replaced one was kept)."""
    candidates = store.previous_files()
    if not candidates:
        raise StoreError(
            f"there is no previous database in {store.previous} to roll back to",
            "previous databases are kept by runs after the first one ([database].keep_previous)",
        )
    if to is None:
        chosen = candidates[-1]
    else:
        wanted = to.removeprefix("run ").strip()

        def matches(path: Path) -> bool:
            if path.name == wanted or path.stem == wanted:
                return True
            run = last_run_of(path)
            return run is not None and len(wanted) >= 4 and run.run_id.startswith(wanted)

        found = [p for p in candidates if matches(p)]
        if len(found) != 1:
            raise StoreError(
                f"no single previous database matches {to!r}",
                "pass the run id that `perftrust rollback --list` shows (e.g. --to 4cef72f1)",
            )
        chosen = found[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    replaced = store.previous / f"{stamp}-rolled-back.duckdb"
    if store.db_path.exists():
        os.link(store.db_path, replaced)
    os.replace(chosen, store.db_path)
    return chosen, replaced
