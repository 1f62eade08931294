"""stg_git__commit_trailers in step with raw_git__commits: trailers are parsed once per commit.

Whoever reads trailers calls keep_trailers first (the git sync before its .mailmap questions,
identities, metrics): it removes the rows of commits that are gone and parses the commits that have
none yet. When the two tables agree it costs one cheap scan (commits whose message cannot hold a
trailer are skipped by a plain pattern match).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def keep_trailers(con: duckdb.DuckDBPyConnection) -> int:
    """Make stg_git__commit_trailers hold exactly the trailers of the commits in raw_git__commits.

    Returns the trailer rows added."""
    con.execute(
        """DELETE FROM stg_git__commit_trailers t WHERE NOT EXISTS (
               SELECT 1 FROM raw_git__commits c WHERE c.repo = t.repo AND c.sha = t.sha)"""
    )
    # Commits that may hold a trailer and have no row yet (a commit with none is parsed again next
    # time: rare, as the pattern match already passed over it).
    con.execute(
        """CREATE OR REPLACE TEMP VIEW perftrust_unparsed_commits AS
           SELECT c.repo, c.sha, c.message FROM raw_git__commits c
           WHERE regexp_matches(c.message, '(?i)-by[ \\t]*:')
             AND NOT EXISTS (SELECT 1 FROM stg_git__commit_trailers t WHERE t.repo = c.repo AND t.sha = c.sha)"""
    )
    try:
        added = con.execute(
            """INSERT INTO stg_git__commit_trailers BY NAME
               SELECT * FROM perftrust_commit_trailers('perftrust_unparsed_commits')"""
        ).fetchall()[0][0]
    finally:
        con.execute("DROP VIEW IF EXISTS perftrust_unparsed_commits")
    return int(added)
