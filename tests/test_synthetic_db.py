"""The synthetic benchmark database: a small build must parse through every view the metrics read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.db import connect
from tests.benchmarks.synthetic_db import build_synthetic_db, main

SIZE = {"commits": 5000, "issues": 1000, "prs": 300, "contributors": 50, "repos": 2}
BOT_CONTRIBUTORS = {
    "github:dependabot[bot]",
    "github:renovate[bot]",
    "github:github-actions[bot]",
    "email:noreply@github.com",  # web-flow, the committer of web merges
    "email:support@github.com",  # dependabot's Signed-off-by
    "email:noreply@anthropic.com",  # an AI co-author
}


def build(path: Path) -> dict[str, int]:
    return build_synthetic_db(
        path,
        commits=SIZE["commits"],
        issues=SIZE["issues"],
        prs=SIZE["prs"],
        contributors=SIZE["contributors"],
        repos=SIZE["repos"],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("synthetic") / "synthetic.duckdb"
    return path, build(path)


@pytest.fixture(scope="module")
def db(built: tuple[Path, dict[str, int]]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(built[0], read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return rows(con, sql)[0][0]


def test_counts(built: tuple[Path, dict[str, int]], db: duckdb.DuckDBPyConnection) -> None:
    _, counts = built
    assert counts["raw_git__commits"] == one(db, "SELECT count(*) FROM fct_commits") == SIZE["commits"]
    assert one(db, "SELECT count(*) FROM fct_issues") == SIZE["issues"]
    assert one(db, "SELECT count(*) FROM fct_pull_requests") == SIZE["prs"]
    assert counts["raw_github__issues"] == SIZE["issues"] + SIZE["prs"]
    assert one(db, "SELECT count(*) FROM fct_milestones") == 50 * SIZE["repos"]
    assert one(db, "SELECT count(DISTINCT repo) FROM fct_commits") == SIZE["repos"]
    # Every table the build reports is non-empty, and the counts are the tables' own.
    for table, count in counts.items():
        assert count > 0, table
        assert one(db, f"SELECT count(*) FROM {table}") == count
    # Roughly four timeline events per item, one review per pull request.
    assert (
        2 * counts["raw_github__issues"]
        < counts["raw_github__timeline_events"]
        < 8 * counts["raw_github__issues"]
    )
    assert 0.5 * SIZE["prs"] < counts["raw_github__reviews"] < 4 * SIZE["prs"]


def test_commits(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "SELECT count(*) FROM fct_commits WHERE author_contributor_id IS NULL") == 0
    assert one(db, "SELECT count(*) FROM fct_commits WHERE committer_contributor_id IS NULL") == 0
    merges, with_files, span_days = rows(
        db,
        """SELECT count(*) FILTER (WHERE is_merge AND parent_count = 2 AND files_changed IS NULL),
                  count(*) FILTER (WHERE NOT is_merge AND files_changed BETWEEN 1 AND 5 AND lines_added IS NOT NULL),
                  date_diff('day', min(authored_at), max(authored_at))
           FROM fct_commits""",
    )[0]
    assert 0.04 * SIZE["commits"] < merges < 0.12 * SIZE["commits"]
    assert with_files + merges == SIZE["commits"]
    assert 700 <= span_days <= 730
    assert one(db, "SELECT count(*) FROM fct_commit_files WHERE is_binary") > 0
    assert one(db, "SELECT count(*) FROM fct_commit_files WHERE is_rename") > 0
    # Parents are loaded commits of the same repository.
    assert (
        one(
            db,
            """SELECT count(*) FROM (SELECT repo, unnest(parent_shas) AS parent FROM raw_git__commits) p
               ANTI JOIN raw_git__commits c ON c.repo = p.repo AND c.sha = p.parent""",
        )
        == 0
    )


def test_reverts_resolve(db: duckdb.DuckDBPyConnection) -> None:
    reverts, resolved, abbreviated, own = rows(
        db,
        """SELECT count(*), count(t.sha), count(*) FILTER (WHERE r.message NOT SIMILAR TO '(?s).*[0-9a-f]{40}\\..*'),
                  count(*) FILTER (WHERE t.author_contributor_id = r.author_contributor_id)
           FROM fct_commits r LEFT JOIN fct_commits t ON t.repo = r.repo AND t.sha = r.reverted_sha
           WHERE r.is_revert""",
    )[0]
    assert 0.005 * SIZE["commits"] < reverts < 0.02 * SIZE["commits"]
    assert resolved == reverts  # abbreviated shas too
    assert abbreviated > 0
    assert 0 < own < reverts


def test_trailers(db: duckdb.DuckDBPyConnection) -> None:
    by_kind = dict(
        rows(
            db,
            "SELECT trailer, count(*) FROM fct_commit_trailers WHERE contributor_id IS NOT NULL GROUP BY ALL",
        )
    )
    assert {"co-authored-by", "signed-off-by", "reviewed-by"} <= set(by_kind)
    assert by_kind["co-authored-by"] > 0.02 * SIZE["commits"]
    assert len(by_kind) >= 6
    assert one(db, "SELECT count(*) FROM fct_commit_trailers WHERE contributor_id IS NULL") == 0
    # Squash-merge style: co-authors in a middle paragraph.
    assert one(db, "SELECT count(*) FROM fct_commit_trailers WHERE NOT is_in_final_paragraph") > 0
    # Co-authors are other people, resolved to the same contributors as their commits.
    assert (
        one(
            db,
            """SELECT count(*) FROM fct_commit_trailers t JOIN fct_commits c USING (repo, sha)
               WHERE t.trailer = 'co-authored-by' AND t.contributor_id = c.author_contributor_id""",
        )
        == 0
    )
    assert (
        one(db, "SELECT count(DISTINCT contributor_id) FROM fct_commit_trailers") > SIZE["contributors"] / 2
    )


def test_contributors_and_bots(db: duckdb.DuckDBPyConnection) -> None:
    bots = {r[0] for r in rows(db, "SELECT contributor_id FROM dim_contributors WHERE is_bot")}
    assert bots == BOT_CONTRIBUTORS
    humans = one(db, "SELECT count(*) FROM dim_contributors WHERE NOT is_bot")
    # A few people's work address is linked to nothing: they show up twice, as in real data.
    assert SIZE["contributors"] <= humans <= 1.1 * SIZE["contributors"]
    assert (
        one(db, "SELECT count(*) FROM dim_contributors WHERE NOT is_bot AND contributor_id LIKE 'github:%'")
        == SIZE["contributors"]
    )
    links = {r[0] for r in rows(db, "SELECT DISTINCT unnest(resolved_by) FROM dim_identities")}
    assert {"github_api", "noreply", "mailmap", "email"} <= links
    assert one(db, "SELECT max(count_identities) FROM dim_contributors WHERE NOT is_bot") >= 4
    assert one(db, "SELECT count(*) FROM fct_pull_requests WHERE is_author_bot") > 0
    # Bots author commits; web-flow commits merges.
    assert (
        one(db, "SELECT count(*) FROM fct_commits WHERE author_contributor_id = 'github:dependabot[bot]'")
        > 0.01 * SIZE["commits"]
    )
    assert (
        one(
            db, "SELECT count(*) FROM fct_commits WHERE committer_contributor_id = 'email:noreply@github.com'"
        )
        > 0
    )


def test_issues(db: duckdb.DuckDBPyConnection) -> None:
    states = {
        (state, reason)
        for state, reason in rows(
            db, "SELECT DISTINCT state, state_reason FROM fct_issues WHERE milestone_due_date IS NOT NULL"
        )
    }
    assert {("closed", "completed"), ("closed", "not_planned"), ("open", None)} <= states
    assert ("open", "reopened") in {
        tuple(r) for r in rows(db, "SELECT DISTINCT state, state_reason FROM fct_issues")
    }
    on_time, late = rows(
        db,
        """SELECT count(*) FILTER (WHERE CAST(closed_at AS DATE) <= milestone_due_date),
                  count(*) FILTER (WHERE CAST(closed_at AS DATE) > milestone_due_date)
           FROM fct_issues WHERE state_reason = 'completed' AND len(assignee_logins) > 0""",
    )[0]
    assert on_time > late > 0
    overdue = one(
        db,
        "SELECT count(*) FROM fct_issues WHERE state = 'open' AND milestone_due_date < DATE '2026-06-30' AND len(assignee_logins) > 0",
    )
    pending = one(
        db, "SELECT count(*) FROM fct_issues WHERE state = 'open' AND milestone_due_date >= DATE '2026-06-30'"
    )
    assert overdue > 0
    assert pending > 0
    assert one(db, "SELECT count(*) FROM fct_issues WHERE len(assignee_logins) = 2") > 0


def test_timelines(db: duckdb.DuckDBPyConnection) -> None:
    events = dict(rows(db, "SELECT event, count(*) FROM stg_github__timeline_events GROUP BY ALL"))
    expected = {
        "assigned", "unassigned", "milestoned", "demilestoned", "commented", "closed", "reopened",
        "cross-referenced", "ready_for_review", "review_requested", "review_request_removed", "reviewed",
        "merged",
    }  # fmt: skip
    assert expected <= set(events)
    # Every event parses: an actor and a time; assignments name the assignee, milestones their title.
    assert (
        one(
            db,
            "SELECT count(*) FROM stg_github__timeline_events WHERE actor_login IS NULL OR created_at IS NULL",
        )
        == 0
    )
    assert (
        one(
            db,
            """SELECT count(*) FROM stg_github__timeline_events
               WHERE event IN ('assigned', 'unassigned') AND assignee_login IS NULL
                  OR event IN ('milestoned', 'demilestoned') AND milestone_title IS NULL
                  OR event = 'reviewed' AND review_state IS NULL
                  OR event = 'cross-referenced' AND source_issue_number IS NULL
                  OR event = 'commented' AND body IS NULL""",
        )
        == 0
    )
    # Milestone titles in timelines are those of the repository's milestones.
    assert (
        one(
            db,
            """SELECT count(*) FROM stg_github__timeline_events e ANTI JOIN fct_milestones m
                   ON m.repo = e.repo AND m.title = e.milestone_title
               WHERE e.event = 'milestoned'""",
        )
        == 0
    )
    # Timelines are in time order.
    assert (
        one(
            db,
            """SELECT count(*) FROM (
                   SELECT created_at < lag(created_at) OVER (PARTITION BY repo, issue_number ORDER BY event_index) AS back
                   FROM stg_github__timeline_events) WHERE back""",
        )
        == 0
    )
    # The assignee warned before the due date on some items.
    assert (
        one(
            db,
            """SELECT count(*) FROM stg_github__timeline_events e JOIN fct_issues i
                   ON i.repo = e.repo AND i.number = e.issue_number
               WHERE e.event = 'commented' AND list_contains(i.assignee_logins, e.actor_login)
                 AND CAST(e.created_at AS DATE) <= i.milestone_due_date""",
        )
        > 0
    )
    # Unassigned before and after the due date (handed off / dropped).
    before, after = rows(
        db,
        """SELECT count(*) FILTER (WHERE CAST(e.created_at AS DATE) <= i.milestone_due_date),
                  count(*) FILTER (WHERE CAST(e.created_at AS DATE) > i.milestone_due_date)
           FROM stg_github__timeline_events e JOIN fct_issues i ON i.repo = e.repo AND i.number = e.issue_number
           WHERE e.event = 'unassigned'""",
    )[0]
    assert before > 0
    assert after > 0


def test_pull_requests_and_reviews(db: duckdb.DuckDBPyConnection) -> None:
    assert (
        one(
            db,
            "SELECT count(*) FROM stg_github__issues i SEMI JOIN stg_github__pull_requests p USING (repo, number)",
        )
        == one(db, "SELECT count(*) FROM stg_github__issues WHERE is_pull_request")
        == SIZE["prs"]
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM raw_github__issues WHERE is_pull_request <> json_exists(payload, '$.pull_request')",
        )
        == 0
    )
    merged, merged_by, merge_commits, drafts, forks, deleted_forks, fixes, empty_bodies, pending = rows(
        db,
        """SELECT count(*) FILTER (WHERE p.is_merged), count(p.merged_by_login), count(c.sha),
                  count(*) FILTER (WHERE p.is_draft),
                  count(*) FILTER (WHERE p.head_repo_full_name <> p.repo),
                  count(*) FILTER (WHERE p.head_repo_full_name IS NULL),
                  count(*) FILTER (WHERE s.body LIKE '%Fixes #%'),
                  count(*) FILTER (WHERE p.body_length = 0),
                  count(*) FILTER (WHERE len(p.requested_reviewer_logins) > 0)
           FROM fct_pull_requests p JOIN stg_github__pull_requests s USING (repo, number)
           LEFT JOIN fct_commits c ON c.repo = p.repo AND c.sha = p.merge_commit_sha""",
    )[0]
    assert 0.6 * SIZE["prs"] < merged == merged_by == merge_commits
    assert drafts > 0
    assert forks > 0
    assert deleted_forks > 0
    assert fixes > 0
    assert empty_bodies > 0
    assert pending > 0
    # "Fixes #N" points at an issue of the same repository.
    assert (
        one(
            db,
            """SELECT count(*) FROM (
                   SELECT repo, CAST(regexp_extract(body, 'Fixes #([0-9]+)', 1) AS INTEGER) AS n
                   FROM stg_github__pull_requests WHERE body LIKE '%Fixes #%') f
               ANTI JOIN stg_github__issues i ON i.repo = f.repo AND i.number = f.n""",
        )
        == 0
    )
    per_pr = rows(
        db,
        """SELECT max(n), count(*) FILTER (WHERE n = 0) FROM (
               SELECT p.number, count(v.review_id) AS n FROM fct_pull_requests p
               LEFT JOIN fct_reviews v ON v.repo = p.repo AND v.pull_number = p.number GROUP BY ALL)""",
    )[0]
    assert per_pr[0] <= 4
    assert per_pr[1] > 0
    states = dict(rows(db, "SELECT state, count(*) FROM fct_reviews GROUP BY ALL"))
    assert set(states) == {"APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED"}
    assert one(db, "SELECT count(*) FROM fct_reviews WHERE is_own_pull_request") > 0
    assert (
        one(db, "SELECT count(*) FROM fct_reviews WHERE reviewer_login IS NULL OR submitted_at IS NULL") == 0
    )
    statuses = dict(rows(db, "SELECT status, count(*) FROM fct_review_requests GROUP BY ALL"))
    assert set(statuses) == {"answered", "removed", "unanswered", "team_request"}
    assert statuses["answered"] > statuses["unanswered"] > 0
    assert one(db, "SELECT min(response_hours) FROM fct_review_requests") >= 0
    replies = one(
        db,
        """SELECT count(*) FROM stg_github__review_comments c
           JOIN stg_github__pull_requests p ON p.repo = c.repo AND p.number = c.pull_number
           WHERE c.in_reply_to_id IS NOT NULL AND c.author_login = p.author_login""",
    )
    assert replies > 0


def test_milestones_and_due_dates(db: duckdb.DuckDBPyConnection) -> None:
    with_due, without, pacific, future = rows(
        db,
        """SELECT count(due_date), count(*) FILTER (WHERE due_on IS NULL),
                  count(*) FILTER (WHERE hour(due_on) IN (7, 8) AND minute(due_on) = 0),
                  count(*) FILTER (WHERE due_date > DATE '2026-06-30')
           FROM fct_milestones""",
    )[0]
    assert with_due == pacific > 0.8 * 50 * SIZE["repos"]
    assert without > 0
    assert future > 0
    moved, moved_after_due = rows(
        db,
        """SELECT count(*), count(*) FILTER (WHERE CAST(new.first_observed_at AS DATE) > old.due_date)
           FROM fct_due_date_observations old JOIN fct_due_date_observations new
             ON new.repo = old.repo AND new.milestone_number = old.milestone_number
            AND new.first_observed_at > old.last_observed_at""",
    )[0]
    assert moved > moved_after_due > 0
    # Observations end with the current due date.
    assert (
        one(
            db,
            """SELECT count(*) FROM (
                   SELECT repo, milestone_number, arg_max(due_on, last_observed_at) AS due_on
                   FROM fct_due_date_observations GROUP BY ALL) o
               JOIN fct_milestones m ON m.repo = o.repo AND m.number = o.milestone_number
               WHERE o.due_on IS DISTINCT FROM m.due_on""",
        )
        == 0
    )


def test_deterministic_and_cli(
    tmp_path: Path, db: duckdb.DuckDBPyConnection, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "again.duckdb"
    main([str(path), *(f"--{k}={v}" for k, v in SIZE.items())])
    out = capsys.readouterr().out
    assert "raw_git__commits" in out
    assert "seconds" in out
    queries = [
        "SELECT md5(string_agg(sha || message || author_email, '' ORDER BY repo, sha)) FROM raw_git__commits",
        "SELECT md5(string_agg(CAST(payload AS VARCHAR), '' ORDER BY repo, issue_number, event_index)) FROM raw_github__timeline_events",
        "SELECT md5(string_agg(contributor_id, '' ORDER BY contributor_id)) FROM dim_contributors",
    ]
    again = connect(path, read_only=True)
    try:
        for sql in queries:
            assert one(db, sql) == one(again, sql)
    finally:
        again.close()
    with pytest.raises(FileExistsError):
        build(path)
