"""Consistency and communication metrics: hand-computed oracle cases on rows written straight into the
raw tables (then identities rebuilt as a sync would), and properties over generated data."""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.db import apply_schema
from pipeline.identities import rebuild_identities
from pipeline.metrics import communication, consistency
from pipeline.metrics.common import Z_95, MetricSettings, write_table

REPO = "octo/app"
FETCHED = datetime(2030, 1, 1)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(login: str) -> dict[str, str]:
    return {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}


def email_of(login: str) -> str:
    return f"{login}@users.noreply.github.com"  # links the git identity to the GitHub login


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out from the formula."""
    p, z = k / n, Z_95
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), by hand."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Raw:
    """Rows for the raw tables, inserted in any order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    clock: int = 0

    def add(self, table: str, *row: Any) -> None:
        self.rows.setdefault(table, []).append(row)

    def next_id(self) -> int:
        self.clock += 1
        return self.clock

    def commit(
        self,
        login: str,
        when: datetime,
        message: str = "work",
        parents: int = 1,
        repo: str = REPO,
    ) -> str:
        sha = hashlib.sha1(str(self.next_id()).encode()).hexdigest()
        epoch = int(when.replace(tzinfo=UTC).timestamp())
        self.add(
            "raw_git__commits",
            repo,
            sha,
            [f"{i:040x}" for i in range(parents)],
            login,
            email_of(login),
            epoch,
            "+0000",
            login,
            email_of(login),
            epoch,
            "+0000",
            message,
            [],
            "run",
            FETCHED,
        )
        return sha

    def pull_request(
        self,
        number: int,
        login: str,
        created: datetime,
        merged: datetime | None = None,
        body: str | None = None,
        repo: str = REPO,
    ) -> str:
        payload = {
            "id": 1000 + number,
            "number": number,
            "title": f"PR {number}",
            "body": body,
            "state": "closed" if merged else "open",
            "draft": False,
            "user": user(login),
            "created_at": iso(created),
            "updated_at": iso(merged or created),
            "closed_at": iso(merged),
            "merged_at": iso(merged),
            "html_url": f"https://github.com/{repo}/pull/{number}",
        }
        self.add(
            "raw_github__pull_requests",
            repo,
            number,
            merged or created,
            json.dumps(payload),
            "u",
            FETCHED,
            "run",
        )
        return f"github:pr:{repo}#{number}"

    def issue(self, number: int, login: str, created: datetime, repo: str = REPO) -> str:
        payload = {
            "id": 5000 + number,
            "number": number,
            "title": f"Issue {number}",
            "state": "open",
            "user": user(login),
            "created_at": iso(created),
            "updated_at": iso(created),
            "assignees": [],
            "labels": [],
        }
        self.add(
            "raw_github__issues", repo, number, False, created, json.dumps(payload), "u", FETCHED, "run", None
        )
        return f"github:issue:{repo}#{number}"

    def review(self, pull_number: int, login: str, submitted: datetime, repo: str = REPO) -> str:
        review_id = self.next_id()
        payload = {"id": review_id, "user": user(login), "state": "APPROVED", "submitted_at": iso(submitted)}
        self.add("raw_github__reviews", repo, pull_number, review_id, json.dumps(payload), FETCHED, "run")
        return f"github:review:{repo}#{pull_number}/{review_id}"

    def event(self, number: int, index: int, payload: dict[str, Any], repo: str = REPO) -> None:
        self.add(
            "raw_github__timeline_events",
            repo,
            number,
            index,
            payload["event"],
            json.dumps(payload),
            FETCHED,
            "run",
        )

    def comment(self, number: int, index: int, login: str, when: datetime, repo: str = REPO) -> str:
        comment_id = self.next_id()
        payload = {
            "event": "commented",
            "id": comment_id,
            "actor": user(login),
            "user": user(login),
            "created_at": iso(when),
            "body": "a comment",
        }
        self.event(number, index, payload, repo)
        return f"github:comment:{repo}#{number}/{comment_id}"

    def cross_reference(
        self,
        number: int,
        index: int,
        when: datetime,
        source: int,
        source_is_pr: bool,
        source_repo: str = REPO,
        with_full_name: bool = True,
        repo: str = REPO,
    ) -> None:
        """The item `number` is mentioned by `source`; without full_name GitHub's source still has
        its repository_url."""
        issue: dict[str, Any] = {
            "number": source,
            "repository_url": f"https://api.github.com/repos/{source_repo}",
        }
        if with_full_name:
            issue["repository"] = {"full_name": source_repo}
        if source_is_pr:
            issue["pull_request"] = {"url": f"https://api.github.com/repos/{source_repo}/pulls/{source}"}
        payload = {
            "event": "cross-referenced",
            "actor": user("someone"),
            "created_at": iso(when),
            "source": {"type": "issue", "issue": issue},
        }
        self.event(number, index, payload, repo)

    def review_comment(
        self,
        pull_number: int,
        login: str,
        when: datetime,
        in_reply_to: int | None = None,
        repo: str = REPO,
    ) -> int:
        comment_id = self.next_id()
        payload = {
            "id": comment_id,
            "pull_request_url": f"https://api.github.com/repos/{repo}/pulls/{pull_number}",
            "pull_request_review_id": 1,
            "in_reply_to_id": in_reply_to,
            "user": user(login),
            "created_at": iso(when),
            "updated_at": iso(when),
            "body": "hmm",
        }
        self.add("raw_github__review_comments", repo, comment_id, when, json.dumps(payload), FETCHED, "run")
        return comment_id

    def load(self, con: duckdb.DuckDBPyConnection, rng: random.Random | None = None) -> None:
        """Replace the raw tables' contents with these rows (shuffled by rng), then rebuild identities."""
        for table in (
            "raw_git__commits",
            "raw_github__pull_requests",
            "raw_github__issues",
            "raw_github__reviews",
            "raw_github__timeline_events",
            "raw_github__review_comments",
        ):
            con.execute(f"DELETE FROM {table}")
            rows = list(self.rows.get(table, []))
            if rng is not None:
                rng.shuffle(rows)
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        rebuild_identities(con, Settings())


def rows_of(
    frame: pl.DataFrame, period_type: str, contributor: str | None = None, team: str | None = None
) -> list[dict[str, Any]]:
    subject = pl.col("contributor_id") == contributor if contributor else pl.col("team_id") == team
    return frame.filter(subject & (pl.col("period_type") == period_type)).sort("period_start").to_dicts()


def one(
    frame: pl.DataFrame,
    period_type: str,
    start: date,
    contributor: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    matches = [r for r in rows_of(frame, period_type, contributor, team) if r["period_start"] == start]
    assert len(matches) == 1, matches
    return matches[0]


def approx(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# -- consistency oracles ----------------------------------------------------------------------------

# February 2021 starts on a Monday and has 28 days: exactly four ISO weeks.
FEB = date(2021, 2, 1)
AS_OF_FEB = datetime(2021, 2, 28, 12, 0)


def feb(day: int, hour: int = 10) -> datetime:
    return datetime(2021, 2, day, hour)


def activity_scenario() -> tuple[Raw, dict[str, str]]:
    raw, keys = Raw(), {}
    keys["first"] = raw.issue(1, "ada", datetime(2021, 1, 25, 9))  # first activity on record: January
    keys["commit"] = f"git:commit:{REPO}@{raw.commit('ada', feb(1))}"  # week 1
    keys["pr"] = raw.pull_request(2, "ada", feb(3))  # week 1
    # (A commit rewritten away by a force-push is not in the database at all: git sync removes it.)
    raw.pull_request(3, "bob", feb(9))
    keys["review"] = raw.review(3, "ada", feb(16))  # week 3
    keys["comment"] = raw.comment(1, 0, "ada", feb(26))  # week 4
    raw.commit("ada", feb(28, 18))  # after as_of (12:00 that day): not seen
    # A newcomer: first seen on Monday of week 3, active twice.
    raw.commit("cy", feb(15))
    raw.commit("cy", feb(22))
    # A bot, busy every day: never a row, never in anyone's evidence.
    for day in range(1, 28):
        raw.commit("dependabot[bot]", feb(day))
    keys["bot_pr"] = raw.pull_request(4, "dependabot[bot]", feb(5))
    return raw, keys


def test_active_weeks_gap_and_weekly_cv(con: duckdb.DuckDBPyConnection) -> None:
    raw, keys = activity_scenario()
    raw.load(con)
    settings = MetricSettings(as_of=AS_OF_FEB, window_days=28, min_n=4)
    frame = consistency.compute(con, settings)["metric_consistency"]

    ada = one(frame, "month", FEB, contributor="github:ada")
    # Active days Feb 1, 3, 16, 26 -> weeks 1, 3, 4 of 4.
    assert (ada["active_weeks_ratio_numerator"], ada["active_weeks_ratio_denominator"]) == (3, 4)
    lower, upper = wilson(3, 4)
    assert approx(ada["active_weeks_ratio"], 0.75)
    assert approx(ada["active_weeks_ratio_lower"], lower) and approx(ada["active_weeks_ratio_upper"], upper)
    assert ada["is_enough_data_active_weeks_ratio"] is True
    # Active days per week 2, 0, 1, 1: mean 1, population variance (1 + 1 + 0 + 0) / 4.
    assert approx(ada["weekly_activity_cv"], math.sqrt(0.5) / 1.0)
    # Gaps: Feb 2 (1), Feb 4-15 (12), Feb 17-25 (9), Feb 27-28 (2) -> 12.
    assert ada["longest_gap_days"] == 12
    assert ada["count_active_days"] == 4
    assert (ada["observed_start"], ada["observed_end"]) == (FEB, date(2021, 2, 28))
    counts = [ada[c] for c in consistency.ACTIVITY_COUNTS.values()]
    assert counts == [1, 1, 0, 1, 1]  # commit, PR, issue, review, comment
    assert ada["evidence_keys"] == sorted([keys["commit"], keys["pr"], keys["review"], keys["comment"]])
    # The trailing window is February too.
    window = one(frame, "window", FEB, contributor="github:ada")
    assert window["active_weeks_ratio_numerator"] == 3 and window["longest_gap_days"] == 12

    # Week rows: no ratio (always 0/1 or 1/1); gap inside the week: Feb 4-7.
    week = one(frame, "week", FEB, contributor="github:ada")
    assert week["active_weeks_ratio"] is None and week["active_weeks_ratio_denominator"] is None
    assert week["weekly_activity_cv"] is None and week["is_enough_data_active_weeks_ratio"] is False
    assert (week["count_active_days"], week["longest_gap_days"]) == (2, 4)
    assert [r["period_start"] for r in rows_of(frame, "week", contributor="github:ada")] == [
        date(2021, 1, 25),
        FEB,
        date(2021, 2, 15),
        date(2021, 2, 22),
    ]

    # The newcomer is observed from the first day seen: 2 of 2 weeks, gaps of 6 days.
    cy = one(frame, "month", FEB, contributor="github:cy")
    assert cy["observed_start"] == date(2021, 2, 15)
    assert (cy["active_weeks_ratio_numerator"], cy["active_weeks_ratio_denominator"]) == (2, 2)
    assert cy["longest_gap_days"] == 6 and cy["weekly_activity_cv"] is None  # 2 weeks < min_n

    # Bots: no row, and nothing of theirs as activity evidence.
    assert "github:dependabot[bot]" not in set(frame["contributor_id"].drop_nulls())
    everyone = one(frame, "month", FEB, team="all")
    assert keys["bot_pr"] not in everyone["evidence_keys"]
    assert everyone["count_commits_authored"] == 3  # ada 1 (reachable, by as_of), cy 2
    assert one(frame, "month", FEB, team=f"repo:{REPO}")["count_active_days"] == everyone["count_active_days"]

    # Below min_n (default 5) the same counts give no ratio and no CV, but keep the interval.
    default = consistency.compute(con, MetricSettings(as_of=AS_OF_FEB, window_days=28))["metric_consistency"]
    ada5 = one(default, "month", FEB, contributor="github:ada")
    assert ada5["active_weeks_ratio"] is None and ada5["weekly_activity_cv"] is None
    assert ada5["is_enough_data_active_weeks_ratio"] is False and approx(
        ada5["active_weeks_ratio_lower"], lower
    )

    assert write_table(con, "metric_consistency", frame, settings) == frame.height
    stored = con.execute(
        "SELECT active_weeks_ratio_numerator, longest_gap_days, evidence_keys FROM metric_consistency "
        "WHERE contributor_id = 'github:ada' AND period_type = 'month' AND period_start = DATE '2021-02-01'"
    ).fetchall()
    assert stored == [(3, 12, ada["evidence_keys"])]


def test_days_are_calendar_days_in_the_configured_time_zone(con: duckdb.DuckDBPyConnection) -> None:
    raw = Raw()
    raw.commit("ada", datetime(2021, 2, 1, 12))  # Monday Feb 1 in Los Angeles too
    raw.commit("ada", datetime(2021, 2, 8, 3))  # Monday 03:00 UTC = Sunday Feb 7, 19:00 in Los Angeles
    raw.load(con)
    as_of = datetime(2021, 2, 8, 6)  # Sunday Feb 7, 22:00 in Los Angeles: the week is over there
    utc = consistency.compute(con, MetricSettings(as_of=as_of))["metric_consistency"]
    assert [r["period_start"] for r in rows_of(utc, "week", contributor="github:ada")] == [
        FEB,
        date(2021, 2, 8),
    ]
    pacific = MetricSettings(as_of=as_of, timezone="America/Los_Angeles")
    la = consistency.compute(con, pacific)["metric_consistency"]
    week = one(la, "week", FEB, contributor="github:ada")
    assert (week["count_active_days"], week["observed_end"], week["longest_gap_days"]) == (
        2,
        date(2021, 2, 7),
        5,
    )


def test_pr_cycle_time_median_and_iqr(con: duckdb.DuckDBPyConnection) -> None:
    raw = Raw()
    durations = [1.0, 2.0, 4.0, 10.0, 20.0, 50.0]
    opened = datetime(2021, 3, 1, 8)
    keys = [
        raw.pull_request(n, "ada", opened, merged=opened + timedelta(hours=h))
        for n, h in enumerate(durations, start=1)
    ]
    raw.pull_request(20, "ada", opened)  # never merged
    raw.pull_request(21, "ada", opened, merged=datetime(2021, 4, 2))  # merged after as_of
    raw.pull_request(22, "renovate[bot]", opened, merged=opened + timedelta(hours=1000))
    raw.load(con)
    settings = MetricSettings(as_of=datetime(2021, 3, 31, 23), window_days=31)
    frame = consistency.compute(con, settings)["metric_consistency"]

    march = one(frame, "month", date(2021, 3, 1), contributor="github:ada")
    assert march["count_prs_merged"] == 6 and march["is_enough_data_pr_cycle_time"] is True
    assert approx(march["pr_cycle_time_median_hours"], (4.0 + 10.0) / 2)
    # q25 at rank 1.25 -> 2 + 0.25 * 2 = 2.5; q75 at rank 3.75 -> 10 + 0.75 * 10 = 17.5.
    assert approx(march["pr_cycle_time_iqr_hours"], 17.5 - 2.5)
    assert approx(march["pr_cycle_time_iqr_hours"], quantile(durations, 0.75) - quantile(durations, 0.25))
    assert set(keys) <= set(march["evidence_keys"])
    # Dated by the merge: the week of March 1 (all merged by March 3).
    assert one(frame, "week", date(2021, 3, 1), contributor="github:ada")["count_prs_merged"] == 6
    # Below min_n: n stays, the numbers go.
    few = consistency.compute(con, MetricSettings(as_of=datetime(2021, 3, 31, 23), min_n=7))
    row = one(few["metric_consistency"], "month", date(2021, 3, 1), contributor="github:ada")
    assert row["count_prs_merged"] == 6 and row["pr_cycle_time_median_hours"] is None
    assert row["pr_cycle_time_iqr_hours"] is None and row["is_enough_data_pr_cycle_time"] is False
    assert one(frame, "month", date(2021, 3, 1), team="all")["count_prs_merged"] == 6  # the bot's is left out


def test_revert_rate_of_own_commits(con: duckdb.DuckDBPyConnection) -> None:
    raw = Raw()
    day = datetime(2021, 3, 2, 9)
    own = [raw.commit("ada", day + timedelta(hours=i)) for i in range(5)]
    raw.commit("ada", day + timedelta(hours=6), message="Merge branch x", parents=2)  # merges do not count
    bob_revert = raw.commit(
        "bob", day + timedelta(days=1), message=f"Revert\n\nThis reverts commit {own[1]}."
    )
    # Ada reverts her own commit (abbreviated sha): the revert is one of her commits as well.
    ada_revert = raw.commit(
        "ada", day + timedelta(days=2), message=f'Revert "x"\n\nThis reverts commit {own[3][:10]}.'
    )
    raw.commit("bob", datetime(2021, 4, 5), message=f"This reverts commit {own[4]}.")  # after as_of
    raw.load(con)
    settings = MetricSettings(as_of=datetime(2021, 3, 31, 23), window_days=30)
    frame = consistency.compute(con, settings)["metric_consistency"]

    ada = one(frame, "month", date(2021, 3, 1), contributor="github:ada")
    # Own non-merge commits: 5 + her revert = 6; reverted by as_of: own[1] and own[3].
    assert (ada["revert_rate_numerator"], ada["revert_rate_denominator"]) == (2, 6)
    lower, upper = wilson(2, 6)
    assert approx(ada["revert_rate"], 2 / 6)
    assert approx(ada["revert_rate_lower"], lower) and approx(ada["revert_rate_upper"], upper)
    assert ada["count_commits_authored"] == 7
    for sha in (bob_revert, ada_revert, own[1], own[3]):
        assert f"git:commit:{REPO}@{sha}" in ada["evidence_keys"]
    bob = one(frame, "month", date(2021, 3, 1), contributor="github:bob")
    assert (bob["revert_rate_numerator"], bob["revert_rate_denominator"]) == (0, 1)
    assert bob["revert_rate"] is None and bob["is_enough_data_revert_rate"] is False
    team = one(frame, "month", date(2021, 3, 1), team="all")
    assert (team["revert_rate_numerator"], team["revert_rate_denominator"]) == (2, 7)


# -- communication oracles --------------------------------------------------------------------------

TEMPLATE = "<!-- Describe your change. Fixes #3 -->\n## Summary\n\n## Checklist\n- [ ] Tests added\n- [x] Docs updated\n"
SHARED = "Please describe what this pull request does and why."
SHARED_BY_TWO = "Bumps the parser to 2.1 to pick up the streaming fix."


def test_descriptions_links_and_review_answers(con: duckdb.DuckDBPyConnection) -> None:
    raw = Raw()
    t = datetime(2021, 3, 1, 9)
    raw.issue(7, "bob", t - timedelta(days=3))
    raw.issue(8, "bob", t - timedelta(days=3))
    p1 = raw.pull_request(
        11, "ada", t, body="Waits for the DOM before clicking, so the login test stops flaking.\n\nFixes #7"
    )
    p2 = raw.pull_request(12, "ada", t, body=None)
    p3 = raw.pull_request(13, "ada", t, body=TEMPLATE)  # template only; its "Fixes #3" is in a comment
    p4 = raw.pull_request(14, "ada", t, body="Short fix")  # mentions issue 8 (a commit, a comment...)
    raw.cross_reference(8, 0, t + timedelta(hours=1), source=14, source_is_pr=True, with_full_name=False)
    raw.cross_reference(8, 1, t + timedelta(hours=1), source=13, source_is_pr=True, source_repo="octo/other")
    p5 = raw.pull_request(15, "ada", t, body="Refactors the cache layer so eviction is O(1) instead of O(n).")
    raw.cross_reference(15, 0, t + timedelta(hours=2), source=7, source_is_pr=False)  # issue 7 mentions it
    p6 = raw.pull_request(16, "ada", t, body=SHARED)  # an unfilled template: Bob left the same text
    raw.event(16, 0, {"event": "connected", "id": 1, "actor": user("ada"), "created_at": iso(t)})
    p7 = raw.pull_request(17, "ada", t, body="Closes: #8 after the connected link was taken back again")
    p9 = raw.pull_request(19, "ada", t, body=SHARED_BY_TWO)
    raw.pull_request(30, "bob", t, body=SHARED.upper())
    raw.pull_request(31, "cy", t, body=f"  {SHARED}\n")
    raw.pull_request(32, "dan", t, body=SHARED_BY_TWO)  # shared by two authors only: still a description
    p8 = raw.pull_request(18, "ada", t, body="Late link")
    raw.event(18, 0, {"event": "connected", "id": 2, "actor": user("ada"), "created_at": iso(t)})
    raw.event(18, 1, {"event": "disconnected", "id": 3, "actor": user("ada"), "created_at": iso(t)})
    raw.cross_reference(7, 0, datetime(2021, 4, 3), source=18, source_is_pr=True)  # after as_of
    raw.pull_request(40, "dependabot[bot]", t, body="Bumps lodash from 4.17.20 to 4.17.21. Fixes #7")

    # Review comments on Ada's PR 11: Bob's thread answered after 30 hours, his follow-up after 2;
    # one left unanswered; a bot's comment answered (not counted); Ada's own comment opens nothing.
    root = raw.review_comment(11, "bob", t + timedelta(hours=1))
    answer = raw.review_comment(11, "ada", t + timedelta(hours=31), in_reply_to=root)
    follow = raw.review_comment(11, "bob", t + timedelta(hours=32), in_reply_to=root)
    raw.review_comment(11, "ada", t + timedelta(hours=34), in_reply_to=root)
    raw.review_comment(11, "bob", t + timedelta(hours=40))  # unanswered
    bot = raw.review_comment(11, "codecov[bot]", t + timedelta(hours=2))
    raw.review_comment(11, "ada", t + timedelta(hours=3), in_reply_to=bot)
    late = raw.review_comment(12, "bob", t + timedelta(days=20))
    raw.review_comment(12, "ada", datetime(2021, 4, 2), in_reply_to=late)  # answered after as_of
    raw.load(con)
    settings = MetricSettings(as_of=datetime(2021, 3, 31, 23), window_days=31)
    frame = communication.compute(con, settings)["metric_communication"]

    ada = one(frame, "month", date(2021, 3, 1), contributor="github:ada")
    assert ada["count_prs_opened"] == 9
    # Described: p1, p5, p7, p9 (p2 empty, p3 template, p4 short, p6 left as by Bob and Cy, p8 short).
    assert (ada["pr_description_share_numerator"], ada["pr_description_share_denominator"]) == (4, 9)
    lower, upper = wilson(4, 9)
    assert approx(ada["pr_description_share"], 4 / 9)
    assert approx(ada["pr_description_share_lower"], lower) and approx(
        ada["pr_description_share_upper"], upper
    )
    # Linked: p1 (Fixes #7), p4 (mentions issue 8), p5 (issue 7 mentions it), p6 (connected),
    # p7 (Closes: #8); not p3 (keyword inside an HTML comment) nor p8 (disconnected; late mention).
    assert (ada["pr_issue_link_share_numerator"], ada["pr_issue_link_share_denominator"]) == (5, 9)
    lower, upper = wilson(5, 9)
    assert approx(ada["pr_issue_link_share"], 5 / 9)
    assert approx(ada["pr_issue_link_share_lower"], lower) and approx(ada["pr_issue_link_share_upper"], upper)
    # Answers: 30 h and 2 h; n = 2 < min_n.
    assert ada["count_review_comments_answered"] == 2
    assert ada["review_comment_response_median_hours"] is None
    assert ada["is_enough_data_review_comment_response"] is False
    comment_keys = {f"github:review_comment:{REPO}#11/{root}", f"github:review_comment:{REPO}#11/{follow}"}
    assert set(ada["evidence_keys"]) == {p1, p2, p3, p4, p5, p6, p7, p8, p9} | comment_keys
    assert f"github:review_comment:{REPO}#11/{answer}" not in ada["evidence_keys"]  # the reply itself
    # The 30-hour answer was given on March 2 (week of March 1), alone in a week-row median.
    one_answer = communication.compute(con, MetricSettings(as_of=settings.as_of, min_n=1))[
        "metric_communication"
    ]
    week = one(one_answer, "week", date(2021, 3, 1), contributor="github:ada")
    assert week["count_review_comments_answered"] == 2
    assert approx(week["review_comment_response_median_hours"], (30.0 + 2.0) / 2)
    two = communication.compute(con, MetricSettings(as_of=datetime(2021, 3, 2, 18), min_n=1))
    only_first = one(two["metric_communication"], "week", date(2021, 3, 1), contributor="github:ada")
    assert only_first["count_review_comments_answered"] == 1
    assert approx(only_first["review_comment_response_median_hours"], 30.0)

    bob = one(frame, "month", date(2021, 3, 1), contributor="github:bob")
    assert (bob["count_prs_opened"], bob["pr_description_share_numerator"]) == (1, 0)
    assert bob["pr_description_share"] is None and bob["count_review_comments_answered"] == 0
    assert "github:dependabot[bot]" not in set(frame["contributor_id"].drop_nulls())
    team = one(frame, "month", date(2021, 3, 1), team="all")
    assert team["count_prs_opened"] == 12  # the bot's PR is not counted
    assert write_table(con, "metric_communication", frame, settings) == frame.height


# -- properties -------------------------------------------------------------------------------------

PEOPLE = ["u0", "u1", "u2", "ci[bot]"]
START = datetime(2021, 1, 4)
BODIES = [
    None,
    "",
    "tiny",
    TEMPLATE,
    SHARED,
    "Explains the change at length, with the reason for it. Fixes #1",
]


@st.composite
def scenarios(draw: st.DrawFn) -> Raw:
    raw = Raw()
    hours = st.integers(min_value=0, max_value=24 * 70)
    person = st.sampled_from(PEOPLE)
    shas: list[str] = []
    for _ in range(draw(st.integers(0, 25))):
        message = "work"
        if draw(st.booleans()) and shas:
            message = f"This reverts commit {draw(st.sampled_from(shas))}."
        shas.append(raw.commit(draw(person), START + timedelta(hours=draw(hours)), message=message))
    prs: list[tuple[int, str]] = []
    for number in range(1, draw(st.integers(0, 12)) + 1):
        created = START + timedelta(hours=draw(hours))
        merged = created + timedelta(hours=draw(st.integers(1, 300))) if draw(st.booleans()) else None
        author = draw(person)
        raw.pull_request(number, author, created, merged=merged, body=draw(st.sampled_from(BODIES)))
        prs.append((number, author))
        if draw(st.booleans()):
            raw.review(number, draw(person), created + timedelta(hours=draw(st.integers(0, 100))))
    for number, _author in prs:
        for _ in range(draw(st.integers(0, 3))):
            root = raw.review_comment(number, draw(person), START + timedelta(hours=draw(hours)))
            if draw(st.booleans()):
                raw.review_comment(
                    number, draw(person), START + timedelta(hours=draw(hours)), in_reply_to=root
                )
    for index in range(draw(st.integers(0, 4))):
        raw.comment(1, index, draw(person), START + timedelta(hours=draw(hours)))
    return raw


RATES = {
    "metric_consistency": ["active_weeks_ratio", "revert_rate"],
    "metric_communication": ["pr_description_share", "pr_issue_link_share"],
}


def compute_all(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    return {**consistency.compute(con, settings), **communication.compute(con, settings)}


def test_properties_bounds_order_and_bots() -> None:
    con = duckdb.connect(":memory:")
    apply_schema(con)
    settings = MetricSettings(as_of=START + timedelta(days=60), window_days=30, min_n=3)

    @hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(raw=scenarios(), seed=st.integers(0, 2**32 - 1))
    def check(raw: Raw, seed: int) -> None:
        raw.load(con)
        first = compute_all(con, settings)
        raw.load(con, random.Random(seed))
        again = compute_all(con, settings)
        bots = {
            row[0]
            for row in con.execute("SELECT contributor_id FROM dim_contributors WHERE is_bot").fetchall()
        }
        for table, frame in first.items():
            assert frame.equals(again[table]), table
            assert not bots & set(frame["contributor_id"].drop_nulls())
            # A row is a person or a team, never both, never neither.
            assert (frame["contributor_id"].is_null() ^ frame["team_id"].is_null()).all()
            assert not {c for c in frame.columns if "score" in c or "rank" in c}
            for name in RATES[table]:
                num, den = frame[f"{name}_numerator"], frame[f"{name}_denominator"]
                lower, upper, value = frame[f"{name}_lower"], frame[f"{name}_upper"], frame[name]
                has = den.fill_null(0) > 0
                assert (num.filter(has) <= den.filter(has)).all()
                assert ((lower.filter(has) >= 0) & (upper.filter(has) <= 1)).all()
                assert (lower.filter(has) <= upper.filter(has)).all()
                shown = value.is_not_null()
                assert (den.filter(shown) >= settings.min_n).all()
                assert (lower.filter(shown) <= value.filter(shown) + 1e-12).all()
                assert (value.filter(shown) <= upper.filter(shown) + 1e-12).all()
                assert (frame[f"is_enough_data_{name}"] == (den.fill_null(0) >= settings.min_n)).all()
        cv = first["metric_consistency"]["weekly_activity_cv"].drop_nulls()
        assert (cv >= 0).all()
        gaps = first["metric_consistency"].select(
            "longest_gap_days", span=(pl.col("observed_end") - pl.col("observed_start")).dt.total_days() + 1
        )
        assert (gaps["longest_gap_days"] >= 0).all() and (gaps["longest_gap_days"] <= gaps["span"]).all()

    check()
    con.close()
