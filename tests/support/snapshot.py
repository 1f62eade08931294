"""What a database holds, minus when and by which run it was loaded: to tell whether two databases
hold the same data (a fresh sync against any sequence of incremental syncs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

# Envelope columns: which run loaded a row and when. Everything else must be equal.
ENVELOPE = {
    "run_id",
    "extracted_at",
    "fetched_at",
    "updated_at",  # sync_state only: when the cursor moved (GitHub tables keep GitHub's updated_at)
    "first_synced_at",
    "last_synced_at",
    "last_run_id",
    "first_run_id",
    "first_observed_at",
    "last_observed_at",
}
# The data and what is derived from it without a clock (metric tables depend on as_of: left out).
TABLES = (
    "raw_git__commits",
    "raw_git__mailmap",
    "dim_repositories",
    "sync_state",
    "raw_github__repositories",
    "raw_github__issues",
    "raw_github__timeline_events",
    "raw_github__pull_requests",
    "raw_github__reviews",
    "raw_github__review_comments",
    "raw_github__milestones",
    "raw_github__commit_authors",
    "fct_commits",
    "fct_commit_files",
    "fct_commit_trailers",
    "dim_identities",
    "dim_contributors",
    "fct_issues",
    "fct_pull_requests",
    "fct_reviews",
    "fct_review_requests",
)


def snapshot(db: Path, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """table -> its rows (envelope columns left out, the sync_state of identities too), sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if r[0] not in ENVELOPE
            ]
            where = "WHERE source <> 'identities'" if table == "sync_state" else ""
            rows = con.execute(
                f"SELECT {', '.join(f'CAST({c!r} AS VARCHAR)'.replace(chr(39), chr(34)) for c in columns)} "
                f"FROM {table} {where}"
            ).fetchall()
            out[table] = sorted(rows, key=lambda r: tuple("" if v is None else v for v in r))
    return out


def differences(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Human-readable differences between two snapshots (empty: equal)."""
    found = []
    for table in a:
        if a[table] != b.get(table):
            only_a = [r for r in a[table] if r not in b.get(table, [])][:3]
            only_b = [r for r in b.get(table, []) if r not in a[table]][:3]
            found.append(
                f"{table}: {len(a[table])} vs {len(b.get(table, []))} rows; only left {only_a}; only right {only_b}"
            )
    return found
