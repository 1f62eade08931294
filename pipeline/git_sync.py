"""Incremental git sync: only commits not yet loaded, read by parallel `git log` processes.

Invariant that makes it safe to kill at any point: every commit reachable from a tip stored in
sync_state is in raw_git__commits. Batches are committed as they come; the tips move last.
A re-run after a crash asks git for the commits not reachable from the stored tips, drops the
ones already loaded, and reads only the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import git

from pipeline.db import registered, transaction
from pipeline.errors import RepositoryError
from pipeline.git_log import LOG_ARGS, CommitBatches, LogParser, parse_stream
from pipeline.git_repo import (
    GIT_ENV,
    LocalRepo,
    RepoSpec,
    available_workers,
    has_commits,
    open_repo,
    select_refs,
)
from pipeline.runs import StepResult, read_cursor, utc_now, write_cursor
from pipeline.trailers import keep_trailers

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

Progress = Callable[[int, int], None]
SOURCE = "git"


@dataclass(frozen=True)
class GitSyncOptions:
    ref_selection: str = "default"  # default | all | branch:NAME
    workers: int | None = None  # parallel git log processes; None: one per core (at most 4)
    batch_commits: int = 5000  # commits per Arrow batch / insert
    # Commits per git process. Workers pull chunks from a queue: recent history costs far more per
    # commit than old history, so equal halves would leave one core idle for most of the run. But
    # each git process pays to map and inflate the pack again (on git/git, 41 processes of 2,000
    # spent 14 s of system time, 9 of 10,000 spent 4.5 s): chunks grow up to max_chunk_commits so
    # that each worker gets about chunks_per_worker of them.
    chunk_commits: int = 2000
    max_chunk_commits: int = 10_000
    chunks_per_worker: int = 4


def _rev_list(local: LocalRepo, include: list[str], exclude: list[str]) -> list[str]:
    if not include:
        return []
    revs = "\n".join([*include, *(f"^{sha}" for sha in exclude)]).encode() + b"\n"
    out = local.output(["git", "rev-list", "--stdin"], stdin=revs)
    return out.split("\n") if out else []


def _existing(local: LocalRepo, shas: list[str]) -> list[str]:
    """Those of shas that are commits present in the repository (a force-push + gc removes old tips)."""
    if not shas:
        return []
    with tempfile.TemporaryFile() as f:
        f.write("\n".join(shas).encode() + b"\n")
        f.seek(0)
        out = local.git.execute(["git", "cat-file", "--batch-check=%(objectname) %(objecttype)"], istream=f)
    return [line.split(" ")[0] for line in out.split("\n") if line.endswith(" commit")]


def _not_loaded(con: duckdb.DuckDBPyConnection, repo: str, shas: list[str]) -> list[str]:
    """shas minus those already in raw_git__commits, in the same order."""
    import pyarrow as pa

    if not shas:
        return []
    candidates = pa.table({"i": pa.array(range(len(shas)), pa.int64()), "sha": pa.array(shas, pa.string())})
    with registered(con, "perftrust_candidate_shas", candidates):
        rows = con.execute(
            """SELECT c.sha FROM perftrust_candidate_shas c
               ANTI JOIN (SELECT sha FROM raw_git__commits WHERE repo = ?) r ON c.sha = r.sha
               ORDER BY c.i""",
            [repo],
        ).fetchall()
    return [r[0] for r in rows]


def _read_chunks(
    local: LocalRepo,
    chunks: queue.SimpleQueue[list[str] | None],
    run_id: str,
    batch_commits: int,
    out: queue.Queue[Any],
    stop: threading.Event,
    launched: threading.Event | None = None,
) -> None:
    """Take chunks until the end marker (None); one git log process each; Arrow batches go to `out`,
    then None. `launched` is set once the first git process runs (or there is nothing to read)."""
    try:
        while not stop.is_set():
            shas = chunks.get()
            if shas is None:
                break
            with tempfile.TemporaryFile() as stdin:
                stdin.write("\n".join(shas).encode() + b"\n")
                stdin.seek(0)
                proc = local.git.execute(
                    ["git", "log", "--no-walk=unsorted", "--stdin", *LOG_ARGS], as_process=True, istream=stdin
                )
                if launched is not None:
                    launched.set()
                parser = LogParser(CommitBatches(local.key, run_id, utc_now()), batch_commits=batch_commits)
                try:
                    for table in parse_stream(proc.stdout, parser):
                        if stop.is_set():
                            proc.kill()  # GitPython's AutoInterrupt reaps it
                            break
                        out.put(table)
                    else:
                        proc.wait()
                except (ValueError, git.GitCommandError) as exc:
                    # git stopped half-way (a missing object, a corrupt pack): its own words, and the fix.
                    raise git_read_error(local, proc, exc) from exc
        out.put(None)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        out.put(exc)
    finally:
        if launched is not None:
            launched.set()


def git_read_error(local: LocalRepo, proc: Any, exc: BaseException) -> RepositoryError:
    """What git said when it could not read the history, as an error naming the fix."""
    with contextlib.suppress(Exception):
        proc.kill()
    stderr = ""
    if isinstance(exc, git.GitCommandError):
        stderr = str(exc.stderr or "")
    if not stderr:
        with contextlib.suppress(Exception):
            stderr = proc.stderr.read().decode("utf-8", "replace")
    said = " ".join(
        line.strip() for line in stderr.strip().removeprefix("stderr:").strip(" '\n").splitlines()
    )
    return RepositoryError(
        f"git could not read the history of {local.path}: {said or exc}",
        f"the clone is damaged: check it with `git -C {local.path} fsck`, then repair it (`git fetch` "
        "the missing objects) or clone it again; the other repositories were synced",
    )


# A small history is split once between the workers, each older part this much larger than the
# newer one before it: recent commits cost more to diff (on flask the newest 1,000 commits took
# 0.29 s, the oldest 531 0.12 s), so with equal halves one git process ran 0.15 s alone at the end.
# Two workers: 44 % and 56 % (measured on flask: both processes done in 0.72-0.85 s, 0.98 s with halves).
OLDER_PART_RATIO = 1.27


def split_into_chunks(shas: list[str], options: GitSyncOptions, workers: int) -> list[list[str]]:
    """The pieces one git process each reads, newest first. A small history: one piece per worker,
    weighted by OLDER_PART_RATIO (a process costs about 0.2 s to start on a pack like flask's, more
    than finer pieces would save); a larger one: chunk_size pieces that workers take in turn."""
    if len(shas) <= small_history(options, workers):
        weights = [OLDER_PART_RATIO**k for k in range(workers)]
        cuts = [round(len(shas) * sum(weights[: k + 1]) / sum(weights)) for k in range(workers)]
        starts = [0, *cuts[:-1]]
        return [shas[a:b] for a, b in zip(starts, cuts, strict=True) if b > a]
    size = chunk_size(options, len(shas), workers)
    return [shas[i : i + size] for i in range(0, len(shas), size)]


def chunk_size(options: GitSyncOptions, count_commits: int, workers: int) -> int:
    """Commits per git process for a history larger than a small one (see GitSyncOptions)."""
    wanted = -(-count_commits // max(1, workers * options.chunks_per_worker))
    return max(options.chunk_commits, min(options.max_chunk_commits, wanted))


def small_history(options: GitSyncOptions, workers: int) -> int:
    return 2 * workers * options.chunk_commits


def count_workers(options: GitSyncOptions, count_commits: int) -> int:
    chunks = -(-count_commits // options.chunk_commits)
    return max(1, min(options.workers or available_workers(), chunks))


class RevListStream:
    """`git rev-list` read as it runs: the first chunk for each worker goes out as soon as it is
    listed, so git log workers start on the newest commits while older ones are still being listed
    (on a first sync, listing 80,000 commits takes a second); the rest is cut in chunk_size pieces
    once the total is known."""

    def __init__(self, local: LocalRepo, include: list[str], options: GitSyncOptions, workers: int) -> None:
        self.local = local
        self.include = include
        self.options = options
        self.workers = workers
        self.count = 0

    def __iter__(self) -> Iterator[list[str]]:
        proc = subprocess.Popen(
            ["git", "rev-list", "--stdin"],
            cwd=self.local.git.working_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **GIT_ENV},
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            proc.stdin.write("\n".join(self.include).encode() + b"\n")
            proc.stdin.close()
            # Listed first up to the size of a small history (milliseconds): a small one is then
            # split between the workers; a large one sends each worker a first chunk at once, the rest follows.
            first = self.options.chunk_commits
            listed: list[str] = []
            for line in proc.stdout:
                listed.append(line.decode("ascii").rstrip("\n"))
                if len(listed) > small_history(self.options, self.workers):
                    break
            rest: list[str] = []
            if len(listed) > small_history(self.options, self.workers):
                for _ in range(self.workers):
                    chunk, listed = listed[:first], listed[first:]
                    self.count += len(chunk)
                    yield chunk
                rest = listed + [line.decode("ascii").rstrip("\n") for line in proc.stdout]
            else:
                rest = listed
            stderr = proc.stderr.read()
            if proc.wait() != 0:
                raise git.GitCommandError(["git", "rev-list", "--stdin"], proc.returncode, stderr)
            for chunk in split_into_chunks(rest, self.options, self.workers):
                self.count += len(chunk)
                yield chunk
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class Extraction:
    """Arrow batches of exactly the given commits (a list, or a stream being listed), read by up to
    `workers` git processes at once. The git processes start when it is made, not when it is first
    read: a first sync starts them before the shard is opened (`head_start`). Iterate it once;
    `close()` (or leaving its `with`) stops whatever still runs."""

    def __init__(
        self, local: LocalRepo, shas: list[str] | RevListStream, run_id: str, options: GitSyncOptions
    ) -> None:
        self.source = shas
        self._chunks: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        workers = options.workers or available_workers()
        if isinstance(shas, list):
            workers = count_workers(options, len(shas))
            for chunk in split_into_chunks(shas, options, workers):
                self._chunks.put(chunk)
        self._workers = workers
        # Bounded: a slow consumer stops the readers instead of piling batches up in memory.
        self._out: queue.Queue[Any] = queue.Queue(maxsize=2 * workers)
        self._feeder: threading.Thread | None = None
        if isinstance(shas, RevListStream):
            self._feeder = threading.Thread(target=self._feed, args=(shas,), daemon=True)
            self._feeder.start()
        else:
            for _ in range(workers):
                self._chunks.put(None)
        self._launched = [threading.Event() for _ in range(workers)]
        self._threads = [
            threading.Thread(
                target=_read_chunks,
                args=(local, self._chunks, run_id, options.batch_commits, self._out, self._stop, launched),
                daemon=True,
            )
            for launched in self._launched
        ]
        for t in self._threads:
            t.start()
        self._items = self._batches()

    def _feed(self, stream: RevListStream) -> None:
        try:
            for chunk in stream:
                if self._stop.is_set():
                    break
                self._chunks.put(chunk)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._out.put(exc)
        finally:
            for _ in range(self._workers):
                self._chunks.put(None)

    def wait_launched(self, timeout: float) -> None:
        """Until every reader's first git process runs (or it has nothing to read), at most `timeout` s."""
        deadline = time.monotonic() + timeout
        for launched in self._launched:
            launched.wait(max(0.0, deadline - time.monotonic()))

    @property
    def count_asked(self) -> int:
        """Commits asked for so far (all of them once iteration has ended)."""
        return len(self.source) if isinstance(self.source, list) else self.source.count

    def __iter__(self) -> Extraction:
        return self

    def __next__(self) -> pa.Table:
        return next(self._items)

    def _batches(self) -> Iterator[pa.Table]:
        try:
            running = len(self._threads)
            while running:
                item = self._out.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            self.close()

    def close(self) -> None:
        """Unblock the readers and stop their git processes (after an error downstream, or unused)."""
        self._stop.set()
        while any(t.is_alive() for t in self._threads):
            with contextlib.suppress(queue.Empty):
                self._out.get(timeout=0.05)
        for t in self._threads:
            t.join()
        if self._feeder is not None:
            # The feeder may wait on rev-list's output; nothing reads its chunks any more.
            self._feeder.join()

    def __enter__(self) -> Extraction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract_commits(
    local: LocalRepo, shas: list[str] | RevListStream, run_id: str, options: GitSyncOptions
) -> Extraction:
    """Arrow batches of exactly the given commits; the git processes start at once (Extraction)."""
    return Extraction(local, shas, run_id, options)


def _mailmap_fingerprint(local: LocalRepo) -> str:
    """Changes when the .mailmap git would use changes (HEAD's blob, or the work tree's file)."""
    digest = hashlib.sha256()
    try:
        digest.update(local.git.rev_parse("--verify", "--quiet", "HEAD:.mailmap").encode())
    except git.GitCommandError:
        digest.update(b"-")
    if not local.is_bare:
        worktree = local.path / ".mailmap"
        if worktree.is_file():
            digest.update(worktree.read_bytes())
    return digest.hexdigest()[:16]


def refresh_mailmap(con: duckdb.DuckDBPyConnection, local: LocalRepo, run_id: str, full: bool) -> int:
    """Ask `git check-mailmap` about every identity not yet mapped (all of them when the mailmap changed)."""
    import pyarrow as pa

    rows = con.execute(
        """WITH ids AS (
               SELECT author_name AS name, author_email AS email FROM raw_git__commits WHERE repo = $repo
               UNION SELECT committer_name, committer_email FROM raw_git__commits WHERE repo = $repo
               UNION SELECT name, email FROM stg_git__commit_trailers WHERE repo = $repo AND email IS NOT NULL)
           SELECT name, email FROM ids
           WHERE name IS NOT NULL AND email IS NOT NULL
             AND ($full OR NOT EXISTS (SELECT 1 FROM raw_git__mailmap m
                                       WHERE m.repo = $repo AND m.name = ids.name AND m.email = ids.email))
           ORDER BY name, email""",
        {"repo": local.key, "full": full},
    ).fetchall()
    if full:
        con.execute("DELETE FROM raw_git__mailmap WHERE repo = ?", [local.key])
    if not rows:
        return 0
    # check-mailmap reads "Name <email>" contacts: identities that cannot be written so map to themselves.
    askable = [(n, e) for n, e in rows if not any(c in n + e for c in "<>\n")]
    mapped: dict[tuple[str, str], tuple[str, str]] = {}
    if askable:
        with tempfile.TemporaryFile() as f:
            f.write("".join(f"{n} <{e}>\n" for n, e in askable).encode("utf-8", "surrogateescape"))
            f.seek(0)
            out = local.git.execute(local.git_command("check-mailmap", "--stdin"), istream=f)
        answers = out.split("\n")
        for (name, email), answer in zip(askable, answers, strict=True):
            mapped_name, _, rest = answer.rpartition("<")
            mapped[(name, email)] = (mapped_name.strip() or name, rest.rstrip(">") or email)
    table = pa.table(
        {
            "repo": [local.key] * len(rows),
            "name": [n for n, _ in rows],
            "email": [e for _, e in rows],
            "mapped_name": [mapped.get((n, e), (n, e))[0] for n, e in rows],
            "mapped_email": [mapped.get((n, e), (n, e))[1] for n, e in rows],
            "run_id": [run_id] * len(rows),
        }
    )
    with registered(con, "perftrust_mailmap", table):
        con.execute("INSERT OR REPLACE INTO raw_git__mailmap BY NAME SELECT * FROM perftrust_mailmap")
    return len(rows)


def _remove_unreachable(
    con: duckdb.DuckDBPyConnection, local: LocalRepo, tips: dict[str, str], reachable_shas: list[str] | None
) -> int:
    """Delete loaded commits the tips no longer reach (history rewritten by a force-push, a branch
    deleted or no longer selected, the clone re-created with another history), and the .mailmap
    answers nobody needs any more: the database then holds what a fresh sync of these refs would."""
    import pyarrow as pa

    if reachable_shas is None:
        reachable_shas = _rev_list(local, sorted(set(tips.values())), [])
    reachable = pa.table({"sha": pa.array(reachable_shas, pa.string())})
    with registered(con, "perftrust_reachable", reachable):
        removed = con.execute(
            """DELETE FROM raw_git__commits
               WHERE repo = ? AND sha NOT IN (SELECT sha FROM perftrust_reachable)""",
            [local.key],
        ).fetchall()[0][0]
    if removed:
        keep_trailers(con)
        con.execute(
            """DELETE FROM raw_git__mailmap m WHERE m.repo = $repo AND NOT EXISTS (
                   SELECT 1 FROM (SELECT author_name AS name, author_email AS email FROM raw_git__commits
                                  WHERE repo = $repo
                                  UNION ALL SELECT committer_name, committer_email FROM raw_git__commits
                                  WHERE repo = $repo
                                  UNION ALL SELECT name, email FROM stg_git__commit_trailers
                                  WHERE repo = $repo) i
                   WHERE i.name = m.name AND i.email = m.email)""",
            {"repo": local.key},
        )
    return int(removed)


def _forget_boundary_commits(con: duckdb.DuckDBPyConnection, local: LocalRepo) -> None:
    """A commit at a shallow boundary reads as a root (no parents, every file added); once the
    boundary moves it reads as it really is, and the other way round. Drop the loaded commits that
    may read differently now (those loaded without parents, and those at the new boundary), so the
    walk that follows loads them as git shows them today."""
    import pyarrow as pa

    shallow = Path(local.repo.git_dir) / "shallow"
    boundary = shallow.read_text(encoding="ascii").split() if shallow.exists() else []
    with registered(con, "perftrust_boundary", pa.table({"sha": pa.array(boundary, pa.string())})):
        con.execute(
            """DELETE FROM raw_git__commits WHERE repo = ?
               AND (len(parent_shas) = 0 OR sha IN (SELECT sha FROM perftrust_boundary))""",
            [local.key],
        )


def _shallow_fingerprint(local: LocalRepo) -> str:
    """Changes when the shallow boundary moves (`git fetch --unshallow`, `--deepen`); "" if complete."""
    shallow = Path(local.repo.git_dir) / "shallow"
    try:
        return hashlib.sha256(shallow.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        return ""


def _upsert_repository(con: duckdb.DuckDBPyConnection, local: LocalRepo, selection: str, run_id: str) -> None:
    now = utc_now()
    con.execute(
        """INSERT INTO dim_repositories VALUES (?, 'git', ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (repo) DO UPDATE SET path = excluded.path, remote_url = excluded.remote_url,
               ref_selection = excluded.ref_selection, is_bare = excluded.is_bare,
               is_shallow = excluded.is_shallow, last_synced_at = excluded.last_synced_at,
               last_run_id = excluded.last_run_id""",
        [
            local.key,
            str(local.path.resolve()),
            local.remote_url,
            selection,
            local.is_bare,
            local.is_shallow,
            now,
            now,
            run_id,
        ],
    )


@dataclass
class HeadStart:
    """A first sync's git processes, started before its shard exists: importing DuckDB and creating
    the shard then overlap with git reading the history."""

    local: LocalRepo
    include: list[str]
    stream: RevListStream | None = None
    extraction: Iterable[pa.Table] | None = None
    tips: dict[str, str] | None = None  # the refs it read, for the selection it was started with
    selection: str | None = None

    def take(self, include: list[str]) -> tuple[RevListStream, Iterable[pa.Table]] | None:
        """The started extraction and its stream when it reads exactly these tips; else it is stopped."""
        stream, extraction = self.stream, self.extraction
        self.stream = self.extraction = None
        if stream is None or extraction is None:
            return None
        if include != self.include:
            _close(extraction)
            return None
        return stream, extraction

    def close(self) -> None:
        extraction, self.extraction = self.extraction, None
        if extraction is not None:
            _close(extraction)


def _close(extraction: Iterable[pa.Table]) -> None:
    close = getattr(extraction, "close", None)
    if close is not None:
        close()


def start_head(local: LocalRepo, run_id: str, options: GitSyncOptions) -> HeadStart:
    """Start git reading all of the selected history of a repository with nothing loaded yet.
    Problems with the repository are left for sync_repository to report."""
    tips = select_refs(local, options.ref_selection) if has_commits(local) else {}
    include = sorted(set(tips.values()))
    if not include:
        return HeadStart(local, include, tips=tips, selection=options.ref_selection)
    workers = options.workers or available_workers()
    stream = RevListStream(local, include, options, workers)
    extraction = extract_commits(local, stream, run_id, options)
    if isinstance(extraction, Extraction):
        # Let git list the commits and the readers start before DuckDB's import takes the GIL (on
        # flask, listing took 0.16 s beside the import and 0.06 s alone).
        extraction.wait_launched(timeout=1.0)
    return HeadStart(local, include, stream, extraction, tips, options.ref_selection)


def sync_repository(
    con: duckdb.DuckDBPyConnection,
    spec: RepoSpec,
    run_id: str,
    options: GitSyncOptions = GitSyncOptions(),
    progress: Progress | None = None,
    head: HeadStart | None = None,
) -> StepResult:
    """Load the commits of one repository that are not in the database yet. `head`: git already
    reading this repository's whole history (a first sync, started before the database was opened)."""
    local = head.local if head is not None else open_repo(spec)
    result = StepResult("git_sync", local.key)
    if local.is_shallow:
        result.warnings.append(
            f"{local.path} is a shallow clone: history before its boundary is missing, so activity "
            "and consistency signals undercount (fetch the full history with `git fetch --unshallow`)"
        )
    selection = options.ref_selection
    if head is not None and head.tips is not None and head.selection == selection:
        tips = head.tips  # listed a moment ago by the head start
    else:
        tips = select_refs(local, selection) if has_commits(local) else {}
    if not tips:
        result.status = "empty"
        result.warnings.append(f"{local.path} has no commits yet: nothing to sync")
        with transaction(con):
            # A clone re-created empty: what was loaded from its old history is gone, as in a fresh sync.
            removed = con.execute("DELETE FROM raw_git__commits WHERE repo = ?", [local.key]).fetchall()[0][0]
            con.execute("DELETE FROM stg_git__commit_trailers WHERE repo = ?", [local.key])
            con.execute("DELETE FROM raw_git__mailmap WHERE repo = ?", [local.key])
            con.execute("DELETE FROM sync_state WHERE source = ? AND repo = ?", [SOURCE, local.key])
            _upsert_repository(con, local, selection, run_id)
        if removed:
            result.details["removed_unreachable"] = removed
        return result

    cursor = read_cursor(con, SOURCE, local.key) or {}
    old_tips: dict[str, str] = cursor.get("tips", {})
    fingerprint = _mailmap_fingerprint(local)
    shallow = _shallow_fingerprint(local)
    result.details.update(refs=len(tips), ref_selection=selection)
    if (
        old_tips == tips
        and cursor.get("ref_selection") == selection
        and cursor.get("mailmap") == fingerprint
        and cursor.get("shallow") == shallow
    ):
        result.status = "unchanged"
        return result

    old_present = _existing(local, sorted(set(old_tips.values())))
    # The shallow boundary moved (the clone was unshallowed or deepened): history behind the old
    # tips was never loaded, so walk all of it; what is loaded already is skipped below.
    boundary_moved = cursor.get("shallow") != shallow
    if boundary_moved:
        _forget_boundary_commits(con, local)
    loaded_before = con.execute(
        "SELECT count(*) FROM raw_git__commits WHERE repo = ?", [local.key]
    ).fetchall()
    include = sorted(set(tips.values()))
    started = head.take(include) if head is not None else None
    extraction: Iterable[pa.Table] | None = None
    source: list[str] | RevListStream
    try:
        if loaded_before[0][0] == 0:
            # Nothing loaded yet (a first sync): read commits while git is still listing them.
            workers = options.workers or available_workers()
            if started is not None:
                source, extraction = started
                result.details["git_started_before_shard"] = True
            else:
                source = RevListStream(local, include, options, workers)
            result.details["git_processes"] = workers
        else:
            if started is not None:
                _close(started[1])
            wanted = _rev_list(local, include, [] if boundary_moved else old_present)
            # A killed sync may have loaded some batches: only the others are read.
            source = _not_loaded(con, local.key, wanted)
            result.details["git_processes"] = count_workers(options, len(source))
        if progress:
            progress(0, len(source) if isinstance(source, list) else 0)
        done = 0
        if extraction is None and (not isinstance(source, list) or source):
            extraction = extract_commits(local, source, run_id, options)
        for table in extraction or ():
            with registered(con, "perftrust_git_batch", table):
                con.execute("INSERT INTO raw_git__commits BY NAME SELECT * FROM perftrust_git_batch")
            done += table.num_rows
            if progress:
                progress(done, len(source) if isinstance(source, list) else source.count)
    finally:
        if extraction is not None:
            _close(extraction)  # stops git at once when the step failed half-way
    asked = len(source) if isinstance(source, list) else source.count
    if done != asked:
        raise RepositoryError(
            f"git log returned {done} commits of {local.path} where {asked} were asked for",
            f"check the clone with `git -C {local.path} fsck`; clone it again if it is damaged",
        )
    if not isinstance(source, list):
        wanted = []  # nothing was loaded before, so there is nothing to remove below
    result.count_rows_added = done
    if boundary_moved and old_tips:
        result.details["shallow_boundary_moved"] = True

    # History rewritten (force-push), a branch deleted or the clone re-created: drop what is gone.
    rewritten = len(old_present) < len(set(old_tips.values()))
    if old_present and not rewritten:
        rewritten = bool(_rev_list(local, old_present, sorted(set(tips.values()))))
    removed = 0
    if rewritten or (old_tips and cursor.get("ref_selection") != selection):
        removed = _remove_unreachable(con, local, tips, None)
    elif loaded_before[0][0] and (boundary_moved or not old_present):
        # `wanted` is every reachable commit: anything else loaded (by a killed run of a history
        # rewritten since) goes. Counting is cheap; the delete runs only when there is something.
        loaded = con.execute("SELECT count(*) FROM raw_git__commits WHERE repo = ?", [local.key]).fetchall()
        if loaded[0][0] > len(wanted):
            removed = _remove_unreachable(con, local, tips, wanted)
    if removed or rewritten:
        result.details["removed_unreachable"] = removed
        if removed:
            result.warnings.append(
                f"{removed} loaded commits are no longer reachable from the synced refs (history was "
                "rewritten, a branch deleted, or the clone re-created) and were removed: the database "
                "holds what a fresh sync of these refs holds"
            )

    result.details["trailers_parsed"] = keep_trailers(con)
    mailmap_changed = cursor.get("mailmap") != fingerprint
    result.details["identities_mapped"] = refresh_mailmap(con, local, run_id, full=mailmap_changed)
    with transaction(con):
        write_cursor(
            con,
            SOURCE,
            local.key,
            {"ref_selection": selection, "tips": tips, "mailmap": fingerprint, "shallow": shallow},
            run_id,
        )
        _upsert_repository(con, local, selection, run_id)
    result.status = "succeeded"
    return result
