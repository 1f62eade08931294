"""The query contract: every table and column a user may query is documented, and the schema is idempotent."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.db import connect

USER_FACING = ("raw_", "stg_", "dim_", "fct_", "metric_", "pipeline_", "sync_state")


def test_every_user_table_and_column_has_a_comment(con: duckdb.DuckDBPyConnection) -> None:
    relations = con.execute(
        """SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal
           UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"""
    ).fetchall()
    names = {name for name, _ in relations if name.startswith(USER_FACING)}
    assert {
        "raw_git__commits",
        "fct_commits",
        "fct_commit_files",
        "fct_commit_trailers",
        "dim_identities",
        "dim_contributors",
        "pipeline_runs",
        "sync_state",
    } <= names
    assert [name for name, comment in relations if name in names and not comment] == []
    undocumented = con.execute(
        "SELECT table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE NOT internal AND (comment IS NULL OR comment = '') AND table_name IN ?",
        [sorted(names)],
    ).fetchall()
    assert undocumented == []


def test_schema_applies_twice_and_read_only_opens(db_path: Path) -> None:
    connect(db_path).close()
    connect(db_path).close()
    ro = connect(db_path, read_only=True)
    assert ro.execute("SELECT count(*) FROM fct_commits").fetchall() == [(0,)]
    ro.close()
