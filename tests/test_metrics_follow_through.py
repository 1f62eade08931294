"""Oracle tests for commitments, follow-through and expectations: hand-built GitHub rows, hand-computed answers."""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.db import connect
from pipeline.identities import rebuild_identities
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.run import compute_metrics as compute_all

FAMILIES = ("pipeline.metrics.follow_through", "pipeline.metrics.expectations")


def compute_metrics(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, int]:
    return compute_all(con, settings, families=FAMILIES)


REPO = "acme/app"
AS_OF = datetime(2024, 6, 30, 23, 59, 59)


def _user(login: str | None) -> dict[str, Any] | None:
    if login is None:
        return None
    return {
        "login": login,
        "id": abs(hash(login)) % 10**8,
        "type": "Bot" if login.endswith("[bot]") else "User",
    }


class GitHubRows:
    """Writes minimal real-shaped GitHub payloads straight into the raw tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.events: dict[int, list[dict[str, Any]]] = {}

    def milestone(self, number: int, due_on: str | None, title: str | None = None) -> None:
        payload = {
            "id": number,
            "number": number,
            "title": title or f"M{number}",
            "state": "open",
            "due_on": due_on,
        }
        self.con.execute(
            "INSERT INTO raw_github__milestones VALUES (?, ?, ?, now()::TIMESTAMP, 'test', NULL)",
            [REPO, number, json.dumps(payload)],
        )

    def item(
        self,
        number: int,
        *,
        assignees: list[str],
        milestone: int | None = 1,
        created: str = "2024-05-01T09:00:00Z",
        closed: str | None = None,
        state_reason: str | None = None,
        pull: bool = False,
        merged: str | None = None,
        author: str = "carol",
    ) -> None:
        payload: dict[str, Any] = {
            "id": 1000 + number,
            "number": number,
            "title": f"item {number}",
            "state": "closed" if closed else "open",
            "state_reason": state_reason,
            "user": _user(author),
            "assignees": [_user(a) for a in assignees],
            "milestone": {"number": milestone, "title": f"M{milestone}"} if milestone else None,
            "created_at": created,
            "updated_at": closed or created,
            "closed_at": closed,
            "html_url": f"https://github.com/{REPO}/issues/{number}",
        }
        if pull:
            payload["pull_request"] = {"url": "x"}
            pr = {"id": 5000 + number, "number": number, "state": payload["state"], "user": _user(author),
                  "created_at": created, "updated_at": closed or created, "closed_at": closed, "merged_at": merged,
                  "draft": False, "body": "", "head": {"repo": None}, "base": {"ref": "main"}}  # fmt: skip
            self.con.execute(
                "INSERT INTO raw_github__pull_requests VALUES (?, ?, NULL, ?, 'u', now()::TIMESTAMP, 'test')",
                [REPO, number, json.dumps(pr)],
            )
        self.con.execute(
            "INSERT INTO raw_github__issues VALUES (?, ?, ?, NULL, ?, 'u', now()::TIMESTAMP, 'test', NULL)",
            [REPO, number, pull, json.dumps(payload)],
        )
        if milestone:
            self.event(number, "milestoned", "carol", created, milestone={"title": f"M{milestone}"})
        for login in assignees:
            self.event(number, "assigned", "carol", created, assignee=_user(login))
        if closed:
            self.event(
                number, "closed", assignees[0] if assignees else "carol", closed, state_reason=state_reason
            )

    def event(self, number: int, event: str, actor: str, at: str, **fields: Any) -> None:
        self.events.setdefault(number, []).append(
            {"event": event, "actor": _user(actor), "created_at": at, **fields}
        )

    def review(self, number: int, reviewer: str, at: str, state: str = "APPROVED") -> None:
        review = {"id": random.randrange(10**9), "user": _user(reviewer), "state": state, "submitted_at": at}
        self.con.execute(
            "INSERT INTO raw_github__reviews VALUES (?, ?, ?, ?, now()::TIMESTAMP, 'test')",
            [REPO, number, review["id"], json.dumps(review)],
        )

    def done(self, shuffle: random.Random | None = None) -> None:
        for number, events in self.events.items():
            for index, payload in enumerate(events):
                self.con.execute(
                    "INSERT INTO raw_github__timeline_events VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, 'test')",
                    [REPO, number, index, payload["event"], json.dumps(payload)],
                )
        rebuild_identities(self.con, Settings())


def _scenario(con: duckdb.DuckDBPyConnection) -> GitHubRows:
    rows = GitHubRows(con)
    rows.milestone(1, "2024-06-10T07:00:00Z")  # due 2024-06-10 (midnight US Pacific)
    rows.milestone(2, None)  # no due date: no commitment
    # alice: 3 on time, 1 late by 2 days, 1 overdue, 1 handed off before the due date, 1 dropped.
    rows.item(1, assignees=["alice"], closed="2024-06-05T10:00:00Z", state_reason="completed")
    rows.item(
        2, assignees=["alice"], closed="2024-06-10T23:00:00Z", state_reason="completed"
    )  # 23:00 on the day
    rows.item(3, assignees=["alice"], closed="2024-06-09T10:00:00Z", pull=True, merged="2024-06-09T10:00:00Z")
    rows.item(4, assignees=["alice"], closed="2024-06-12T08:00:00Z", state_reason="completed")
    rows.item(5, assignees=["alice"])
    rows.event(5, "commented", "alice", "2024-06-09T17:00:00Z", body="blocked on the API, will slip")
    rows.item(6, assignees=["alice"])
    rows.event(6, "unassigned", "carol", "2024-06-08T12:00:00Z", assignee=_user("alice"))
    rows.item(7, assignees=["alice"], closed="2024-06-09T12:00:00Z", state_reason="not_planned")
    rows.event(4, "commented", "bob", "2024-06-01T10:00:00Z", body="how is it going?")  # not alice's warning
    # bob and a bot share item 8; item 9 has no due date; item 10 was reopened and closed again late.
    rows.item(
        8, assignees=["bob", "dependabot[bot]"], closed="2024-06-10T06:00:00Z", state_reason="completed"
    )
    rows.item(9, assignees=["bob"], milestone=2, closed="2024-06-01T10:00:00Z", state_reason="completed")
    rows.item(10, assignees=["bob"], closed="2024-06-03T10:00:00Z", state_reason="completed")
    rows.event(10, "reopened", "carol", "2024-06-04T10:00:00Z")
    rows.event(10, "closed", "bob", "2024-06-15T10:00:00Z", state_reason="completed")
    # Review requests to dave on PR 11: answered after 30 hours; removed before answering; ignored.
    rows.item(11, assignees=[], milestone=None, pull=True, author="carol")
    rows.event(11, "review_requested", "carol", "2024-06-01T00:00:00Z", requested_reviewer=_user("dave"))
    rows.review(11, "dave", "2024-06-02T06:00:00Z", state="COMMENTED")
    rows.event(11, "review_requested", "carol", "2024-06-20T00:00:00Z", requested_reviewer=_user("erin"))
    rows.event(
        11, "review_request_removed", "carol", "2024-06-20T05:00:00Z", requested_reviewer=_user("erin")
    )
    rows.review(11, "erin", "2024-06-21T00:00:00Z")  # after the removal: the removal came first
    rows.event(11, "review_requested", "carol", "2024-06-22T00:00:00Z", requested_reviewer=_user("frank"))
    rows.done()
    return rows


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(tmp_path / "metrics.duckdb")
    _scenario(connection)
    compute_metrics(connection, MetricSettings(as_of=AS_OF, min_n=5))
    return connection


def _outcomes(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str], tuple[Any, ...]]:
    rows = con.execute(
        "SELECT number, assignee_login, outcome, slip_days, warned_before_due FROM fct_commitments"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_commitment_outcomes_follow_the_spec(con: duckdb.DuckDBPyConnection) -> None:
    assert _outcomes(con) == {
        (1, "alice"): ("on_time", None, False),
        (2, "alice"): ("on_time", None, False),
        (3, "alice"): ("on_time", None, False),
        (4, "alice"): ("late", 2, False),
        (5, "alice"): ("overdue", None, True),
        (6, "alice"): ("handed_off", None, False),
        (7, "alice"): ("dropped", None, False),
        (8, "bob"): ("on_time", None, False),
        (8, "dependabot[bot]"): ("on_time", None, False),
        (10, "bob"): ("late", 5, False),  # reopened: counts by its last close (06-15)
    }


def test_on_time_rate_with_n_and_wilson_interval(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """SELECT count_on_time, count_late, count_overdue, count_dropped, count_handed_off, count_on_time_denominator,
                  on_time_rate, on_time_rate_lower, on_time_rate_upper, is_enough_data_on_time_rate, slip_days_median
           FROM metric_follow_through WHERE contributor_id = 'github:alice' AND period_type = 'window'"""
    ).fetchall()[0]
    # SPEC: on_time / (on_time + late + overdue + dropped) = 3 / 6 (handed off is not counted).
    z = 1.959963984540054
    p, n = 3 / 6, 6
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert row[:6] == (3, 1, 1, 1, 1, 6)
    assert row[6] == pytest.approx(0.5)
    assert row[7] == pytest.approx(centre - half) and row[8] == pytest.approx(centre + half)
    assert row[9] is True and row[10] == 2.0


def test_below_minimum_n_says_not_enough_data(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT count_on_time_denominator, on_time_rate, is_enough_data_on_time_rate, on_time_rate_lower "
        "FROM metric_follow_through WHERE contributor_id = 'github:bob' AND period_type = 'window'"
    ).fetchall()[0]
    assert row[0] == 2 and row[1] is None and row[2] is False and 0 < row[3] < 1


def test_monthly_and_weekly_rows_follow_the_due_date(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT period_type, period_start, period_end, count_commitments FROM metric_follow_through "
        "WHERE contributor_id = 'github:alice' AND count_commitments > 0 ORDER BY period_type"
    ).fetchall()
    assert rows == [
        ("month", date(2024, 6, 1), date(2024, 6, 30), 7),
        ("week", date(2024, 6, 10), date(2024, 6, 16), 7),  # 2024-06-10 is a Monday
        ("window", date(2024, 4, 2), date(2024, 6, 30), 7),
    ]


def test_review_requests_answered_removed_dropped(con: duckdb.DuckDBPyConnection) -> None:
    requests = con.execute(
        "SELECT reviewer_login, status, response_hours FROM fct_review_requests ORDER BY requested_at"
    ).fetchall()
    assert requests == [("dave", "answered", 30.0), ("erin", "removed", None), ("frank", "unanswered", None)]
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            """SELECT contributor_id, count_review_requests_answered, count_review_requests_removed,
                      count_review_requests_dropped, review_response_hours_median
               FROM metric_follow_through WHERE period_type = 'window' AND contributor_id IS NOT NULL"""
        ).fetchall()
    }
    assert rows["github:dave"] == (1, 0, 0, 30.0)
    assert rows["github:erin"] == (0, 1, 0, None)
    assert rows["github:frank"] == (0, 0, 1, None)  # 8+ days without an answer at as_of


def test_pr_completion_and_team_rows(con: duckdb.DuckDBPyConnection) -> None:
    carol = con.execute(
        "SELECT count_prs_merged, count_prs_closed_unmerged FROM metric_follow_through "
        "WHERE contributor_id = 'github:carol' AND period_type = 'window'"
    ).fetchall()
    assert carol == [(1, 0)]  # PR 3 merged; PR 11 still open
    team = con.execute(
        "SELECT team_id, count_on_time, count_late, count_commitments FROM metric_follow_through "
        "WHERE contributor_id IS NULL AND period_type = 'window' ORDER BY team_id"
    ).fetchall()
    assert team == [("all", 4, 2, 9), (f"repo:{REPO}", 4, 2, 9)]  # the bot's commitment is left out


def test_no_bot_no_score_no_rank_and_evidence(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("metric_follow_through", "metric_expectations"):
        columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
        assert not any("score" in c or "rank" in c for c in columns)
        ids = {r[0] for r in con.execute(f"SELECT DISTINCT contributor_id FROM {table}").fetchall()}
        assert not any(i and "bot" in i for i in ids)
    evidence = con.execute(
        "SELECT evidence_keys FROM metric_follow_through WHERE contributor_id = 'github:alice' AND period_type = 'window'"
    ).fetchall()[0][0]
    assert f"github:commitment:{REPO}#4/alice" in evidence and len(evidence) == 7  # her 7 commitments


def test_expectations_warned_before_due(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT count_slipped, count_slipped_warned, warned_rate, is_enough_data_warned_rate FROM metric_expectations "
        "WHERE contributor_id = 'github:alice' AND period_type = 'window'"
    ).fetchall()[0]
    assert row == (3, 1, None, False)  # late #4, overdue #5 (warned), dropped #7; n = 3 < 5


def test_due_date_moved_after_it_passed(tmp_path: Path) -> None:
    con = connect(tmp_path / "moved.duckdb")
    rows = GitHubRows(con)
    rows.milestone(1, "2024-06-10T07:00:00Z")
    rows.item(1, assignees=["alice"])
    rows.done()
    con.execute(
        "INSERT INTO raw_github__due_date_observations VALUES (?, 1, '2024-06-10 07:00:00', '2024-06-01', '2024-06-11',"
        " 'r1', 'r2'), (?, 1, '2024-06-24 07:00:00', '2024-06-12', '2024-06-30', 'r3', 'r4')",
        [REPO, REPO],
    )
    con.execute(
        'UPDATE raw_github__milestones SET payload = json_merge_patch(payload, \'{"due_on": "2024-06-24T07:00:00Z"}\')'
    )
    compute_metrics(con, MetricSettings(as_of=datetime(2024, 6, 20, 12)))
    assert con.execute(
        "SELECT due_date, outcome, due_moved_after_passed FROM fct_commitments"
    ).fetchall() == [(date(2024, 6, 24), "pending", True)]
    # Seen as of before the move, the old date and an overdue commitment.
    compute_metrics(con, MetricSettings(as_of=datetime(2024, 6, 11, 12)))
    assert con.execute(
        "SELECT due_date, outcome, due_moved_after_passed FROM fct_commitments"
    ).fetchall() == [(date(2024, 6, 10), "overdue", False)]


def test_time_zone_moves_a_late_evening_close(tmp_path: Path) -> None:
    """Closed 2024-06-10 23:00 UTC is 2024-06-11 in Berlin: late by a day there."""
    con = connect(tmp_path / "tz.duckdb")
    rows = GitHubRows(con)
    rows.milestone(1, "2024-06-10T07:00:00Z")
    rows.item(1, assignees=["alice"], closed="2024-06-10T23:00:00Z", state_reason="completed")
    rows.done()
    compute_metrics(con, MetricSettings(as_of=AS_OF, timezone="Europe/Berlin"))
    assert con.execute("SELECT outcome, slip_days FROM fct_commitments").fetchall() == [("late", 1)]


@hsettings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10**6), as_of_day=st.integers(1, 40))
def test_properties(tmp_path_factory: pytest.TempPathFactory, seed: int, as_of_day: int) -> None:
    """Rates inside their intervals inside [0, 1]; outcome counts add up; shuffled input and re-runs identical."""
    rng = random.Random(seed)
    tables = []
    as_of = datetime(2024, 5, 20) + (datetime(2024, 5, 21) - datetime(2024, 5, 20)) * as_of_day
    items = []
    for number in range(1, 25):
        who = rng.sample(["alice", "bob", "carol", "dependabot[bot]"], rng.randint(1, 2))
        day = rng.randint(1, 28)
        closed = f"2024-06-{day:02d}T{rng.randint(0, 23):02d}:00:00Z" if rng.random() < 0.7 else None
        reason = rng.choice(["completed", "completed", "not_planned"]) if closed else None
        items.append((number, who, rng.choice([1, 2]), closed, reason))
    for attempt in range(2):
        con = connect(tmp_path_factory.mktemp("prop") / "p.duckdb")
        rows = GitHubRows(con)
        rows.milestone(1, "2024-06-10T07:00:00Z")
        rows.milestone(2, "2024-06-20T08:00:00Z")
        order = random.Random(attempt).sample(items, len(items))  # the second build inserts shuffled
        for number, who, milestone, closed, reason in order:
            rows.item(number, assignees=who, milestone=milestone, closed=closed, state_reason=reason)
        rows.done()
        compute_metrics(con, MetricSettings(as_of=as_of))
        first = con.execute("SELECT * FROM metric_follow_through ORDER BY ALL").fetchall()
        compute_metrics(con, MetricSettings(as_of=as_of))
        assert con.execute("SELECT * FROM metric_follow_through ORDER BY ALL").fetchall() == first
        tables.append((first, con.execute("SELECT * FROM fct_commitments ORDER BY ALL").fetchall()))
        bad = con.execute(
            """SELECT count(*) FROM metric_follow_through
               WHERE on_time_rate_lower < 0 OR on_time_rate_upper > 1
                  OR (on_time_rate IS NOT NULL AND NOT on_time_rate BETWEEN on_time_rate_lower AND on_time_rate_upper)
                  OR count_commitments <> count_on_time + count_late + count_overdue + count_pending + count_dropped
                     + count_handed_off
                  OR contributor_id LIKE '%bot%'"""
        ).fetchall()[0][0]
        assert bad == 0
    assert tables[0] == tables[1]
