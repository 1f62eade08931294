"""Sources: what a published database is the union of.

A source is one kind of data of one repository: ``git:<repo>`` (a local clone's history) or
``github:<repo>`` (its GitHub issues, pull requests, reviews, milestones and its items' GitHub
Projects due dates). git and GitHub data of the same repository are independent sources. Each
source's rows are kept in its repository's shard; the published database holds a copy of every
source listed in its ``pipeline_sources`` table.

A run refreshes the sources it synced (the build's rows made equal to the shard's, row by row),
keeps every other source's rows exactly as they were, and drops a source only when `perftrust
forget` asks. A source whose sync failed keeps its last published rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

KINDS = ("git", "github")

# The tables holding each kind's rows; every one has a repo column, sync_state also a source column.
GIT_TABLES = (
    "raw_git__commits",
    "stg_git__commit_trailers",
    "raw_git__mailmap",
    "dim_repositories",
    "sync_state",
)
GITHUB_TABLES = (
    "raw_github__repositories",
    "raw_github__issues",
    "raw_github__timeline_events",
    "raw_github__pull_requests",
    "raw_github__reviews",
    "raw_github__review_comments",
    "raw_github__milestones",
    "raw_github__due_date_observations",
    "raw_github__commit_authors",
    "raw_github__project_items",
    "raw_github__project_due_observations",
    "sync_state",
)
TABLES = {"git": GIT_TABLES, "github": GITHUB_TABLES}


@dataclass(frozen=True, order=True)
class Source:
    kind: str  # git | github
    repo: str  # the repository key its rows carry

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.repo}"

    def __str__(self) -> str:
        return self.id


def _where(table: str) -> str:
    """Rows of one source in a table aliased t ($repo, and for sync_state $kind)."""
    if table == "sync_state":
        return "t.source = $kind AND t.repo = $repo"
    return "t.repo = $repo"


def _params(table: str, source: Source) -> dict[str, str]:
    """DuckDB refuses named parameters a statement does not use."""
    if table == "sync_state":
        return {"repo": source.repo, "kind": source.kind}
    return {"repo": source.repo}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        """SELECT column_name FROM duckdb_columns()
           WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
           ORDER BY column_index""",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _existing_tables(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [database]
    ).fetchall()
    return {r[0] for r in rows}


@dataclass
class Refreshed:
    source: Source
    count_deleted: int = 0
    count_inserted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.count_deleted or self.count_inserted)


def refresh_source(con: duckdb.DuckDBPyConnection, shard_alias: str, source: Source) -> Refreshed:
    """Make the main database's rows of one source equal to the attached shard's.

    Row by row: each row is identified by the hash of all its columns, so unchanged rows (most of
    them, on a nightly run) are neither deleted nor written again, and a table whose row count and
    combined hash agree on both sides is not touched at all."""
    result = Refreshed(source)
    shard_tables = _existing_tables(con, shard_alias)
    for table in TABLES[source.kind]:
        params = _params(table, source)
        columns = _columns(con, table)
        row_hash = "hash(" + ", ".join(f't."{c}"' for c in columns) + ")"
        theirs = f"{shard_alias}.main.{table}" if table in shard_tables else None
        mine = con.execute(
            f"SELECT count(*), coalesce(bit_xor({row_hash}), 0) FROM main.{table} t WHERE {_where(table)}",
            params,
        ).fetchall()[0]
        if theirs is None:
            other: tuple[int, int] = (0, 0)
        else:
            other = con.execute(
                f"SELECT count(*), coalesce(bit_xor({row_hash}), 0) FROM {theirs} t WHERE {_where(table)}",
                params,
            ).fetchall()[0]
        if tuple(mine) == tuple(other):
            continue
        column_list = ", ".join(f'"{c}"' for c in columns)
        if mine[0] == 0 and theirs is not None:  # nothing here yet (a first sync): copy, no diff
            result.count_inserted += con.execute(
                f"""INSERT INTO main.{table} ({column_list})
                    SELECT {", ".join(f't."{c}"' for c in columns)} FROM {theirs} t WHERE {_where(table)}""",
                params,
            ).fetchall()[0][0]
            continue
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE perftrust_mine AS
                SELECT t.rowid AS row_id, {row_hash} AS h FROM main.{table} t WHERE {_where(table)}""",
            params,
        )
        if theirs is None:
            con.execute("CREATE OR REPLACE TEMP TABLE perftrust_theirs (h UBIGINT)")
        else:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE perftrust_theirs AS
                    SELECT {row_hash} AS h FROM {theirs} t WHERE {_where(table)}""",
                params,
            )
        result.count_deleted += con.execute(
            f"""DELETE FROM main.{table} WHERE rowid IN (
                    SELECT row_id FROM perftrust_mine m ANTI JOIN perftrust_theirs s ON s.h = m.h)"""
        ).fetchall()[0][0]
        if theirs is not None:
            result.count_inserted += con.execute(
                f"""INSERT INTO main.{table} ({column_list})
                    SELECT {", ".join(f't."{c}"' for c in columns)} FROM {theirs} t
                    WHERE {_where(table)} AND {row_hash} NOT IN (SELECT h FROM perftrust_mine)""",
                params,
            ).fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS perftrust_mine")
    con.execute("DROP TABLE IF EXISTS perftrust_theirs")
    return result


def sources_in(con: duckdb.DuckDBPyConnection) -> list[Source]:
    """Every source with a row in any of its tables."""
    parts = []
    for kind, tables in TABLES.items():
        for table in tables:
            where = f"WHERE source = '{kind}'" if table == "sync_state" else ""
            parts.append(f"SELECT DISTINCT '{kind}' AS kind, repo FROM main.{table} {where}")
    rows = con.execute(" UNION ".join(parts) + " ORDER BY ALL").fetchall()
    return [Source(kind, repo) for kind, repo in rows]


def count_rows(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """Rows of a source over all its tables."""
    return sum(
        con.execute(
            f"SELECT count(*) FROM main.{table} t WHERE {_where(table)}", _params(table, source)
        ).fetchall()[0][0]
        for table in TABLES[source.kind]
    )


def remove_source(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """Delete every row of a source (perftrust forget). -> rows deleted."""
    deleted = 0
    for table in TABLES[source.kind]:
        deleted += con.execute(
            f"DELETE FROM main.{table} t WHERE {_where(table)}", _params(table, source)
        ).fetchall()[0][0]
    con.execute("DELETE FROM pipeline_sources WHERE source_id = ?", [source.id])
    return deleted


@dataclass(frozen=True)
class ManifestRow:
    source: Source
    shard: str | None
    first_synced_at: datetime | None
    last_synced_at: datetime | None
    last_attempt_status: str | None


def read_manifest(con: duckdb.DuckDBPyConnection) -> dict[Source, ManifestRow]:
    """The sources a database holds. A database published before pipeline_sources existed lists
    them from its cursors (every source that ever synced has one)."""
    rows = con.execute(
        """SELECT source, repo, shard, first_synced_at, last_synced_at, last_attempt_status
           FROM pipeline_sources"""
    ).fetchall()
    manifest = {Source(k, r): ManifestRow(Source(k, r), s, f, ls, st) for k, r, s, f, ls, st in rows}
    if not manifest:
        legacy = con.execute(
            "SELECT source, repo, updated_at FROM sync_state WHERE source IN ('git', 'github')"
        ).fetchall()
        for kind, repo, updated_at in legacy:
            source = Source(kind, repo)
            manifest[source] = ManifestRow(source, None, updated_at, updated_at, "succeeded")
    return manifest


def upsert_manifest(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    shard: str,
    run_id: str,
    at: datetime,
    status: str,
    error: str | None,
    refreshed: Refreshed | None,
) -> None:
    """Record a sync attempt of a source; its synced_at moves only when its shard was published
    (refreshed is None: its last good rows were kept)."""
    published_new_data = refreshed is not None
    counts = (refreshed.count_inserted, refreshed.count_deleted) if refreshed else (0, 0)
    con.execute(
        """INSERT INTO pipeline_sources AS p (source_id, source, repo, shard, first_synced_at, last_synced_at,
               last_synced_run_id, last_attempt_at, last_attempt_run_id, last_attempt_status,
               last_error_message, count_rows_inserted, count_rows_deleted)
           VALUES ($id, $kind, $repo, $shard, $synced, $synced, $synced_run, $at, $run, $status, $error,
                   $inserted, $deleted)
           ON CONFLICT (source_id) DO UPDATE SET
               shard = excluded.shard,
               first_synced_at = coalesce(p.first_synced_at, excluded.first_synced_at),
               last_synced_at = coalesce(excluded.last_synced_at, p.last_synced_at),
               last_synced_run_id = coalesce(excluded.last_synced_run_id, p.last_synced_run_id),
               last_attempt_at = excluded.last_attempt_at,
               last_attempt_run_id = excluded.last_attempt_run_id,
               last_attempt_status = excluded.last_attempt_status,
               last_error_message = excluded.last_error_message,
               count_rows_inserted = excluded.count_rows_inserted,
               count_rows_deleted = excluded.count_rows_deleted""",
        {
            "id": source.id,
            "kind": source.kind,
            "repo": source.repo,
            "shard": shard,
            "synced": at if published_new_data else None,
            "synced_run": run_id if published_new_data else None,
            "at": at,
            "run": run_id,
            "status": status,
            "error": error,
            "inserted": counts[0],
            "deleted": counts[1],
        },
    )


def adopt_legacy(
    con: duckdb.DuckDBPyConnection, manifest: dict[Source, ManifestRow], shard_of: dict[str, str]
) -> None:
    """Write the manifest of a database published before pipeline_sources existed."""
    for source, row in manifest.items():
        con.execute(
            """INSERT INTO pipeline_sources (source_id, source, repo, shard, first_synced_at, last_synced_at,
                   last_attempt_at, last_attempt_status)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            [
                source.id,
                source.kind,
                source.repo,
                shard_of.get(source.repo),
                row.first_synced_at,
                row.last_synced_at,
                row.last_synced_at,
                row.last_attempt_status,
            ],
        )


def match_sources(names: Iterable[str], known: Iterable[Source]) -> list[Source]:
    """`perftrust forget` arguments -> sources: `git:REPO`, `github:REPO`, or `REPO` for both kinds."""
    known = sorted(set(known))
    chosen: list[Source] = []
    for name in names:
        kind, sep, repo = name.partition(":")
        if sep and kind in KINDS:
            matches = [s for s in known if s.kind == kind and s.repo.casefold() == repo.casefold()]
        else:
            matches = [s for s in known if s.repo.casefold() == name.casefold()]
        if not matches:
            listed = ", ".join(s.id for s in known) or "none"
            raise ConfigError(
                f"the database holds no source {name!r}",
                f"name one of the sources it holds ({listed}), as KIND:REPO or REPO for both kinds",
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen
