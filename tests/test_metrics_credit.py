"""Credit-sharing, ownership and help-seeking: hand-computed oracles on a real tiny repository plus GitHub
rows inserted into the raw tables, and properties (input order, bots, re-runs) on generated inputs."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipeline.config import RepositoryConfig, Settings
from pipeline.db import connect
from pipeline.git_repo import RepoSpec
from pipeline.metrics import credit_sharing, help_seeking, ownership
from pipeline.metrics.common import MetricSettings, write_table
from pipeline.sync import run_sync
from tests.conftest import CLEAN_GIT_ENV, GitRepo

AS_OF = datetime(2024, 2, 10, 12, 0)
ADA, BOB, CY, DAN = "alias:Ada", "email:bob@work.example", "email:cy@example.org", "github:dan"
BOT_ID = "github:dependabot[bot]"
SYNC_SETTINGS = Settings(aliases={"Ada": ("ada@example.org", "github:ada", "github:ada-alt")})
ADA_GIT = ("Ada Lovelace", "ada@example.org")
BOB_WORK, BOB_HOME = ("Bob Builder", "bob@work.example"), ("Bob", "bob@home.example")
CY_GIT = ("Cy", "cy@example.org")
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
REPO = "project"


def at(text: str) -> int:
    """'2024-01-02 10:00' (UTC) -> epoch seconds for GitRepo.commit(when=...)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@dataclass
class World:
    con: duckdb.DuckDBPyConnection
    shas: dict[str, str]

    def key(self, name: str) -> str:
        return f"git:commit:{REPO}@{self.shas[name]}"

    def trailer(self, name: str, index: int) -> str:
        return f"git:trailer:{REPO}@{self.shas[name]}#{index}"


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def _github_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Four pull requests in repository 'project' with their reviews and timelines."""
    fetched = {"fetched_at": datetime(2024, 2, 10), "run_id": "test"}

    def user(login: str) -> dict[str, str]:
        return {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}

    def pr(number: int, author: str, created: str, draft: bool) -> dict[str, Any]:
        payload = {"number": number, "user": user(author), "draft": draft, "state": "open",
                   "created_at": created, "updated_at": created, "title": f"PR {number}"}  # fmt: skip
        return {"repo": REPO, "number": number, "updated_at": None, "payload": json.dumps(payload),
                "url": "/pulls", **fetched}  # fmt: skip

    def review(number: int, review_id: int, login: str, state: str, submitted: str | None) -> dict[str, Any]:
        payload = {"id": review_id, "user": user(login), "state": state, "submitted_at": submitted}
        return {"repo": REPO, "pull_number": number, "review_id": review_id, "payload": json.dumps(payload),
                **fetched}  # fmt: skip

    def event(number: int, index: int, kind: str, actor: str, when: str, **extra: Any) -> dict[str, Any]:
        payload = {"event": kind, "actor": user(actor), "created_at": when, **extra}
        return {"repo": REPO, "issue_number": number, "event_index": index, "event": kind,
                "payload": json.dumps(payload), **fetched}  # fmt: skip

    _insert(con, "raw_github__pull_requests", [
        pr(1, "ada", "2024-01-02T09:00:00Z", False),
        pr(2, "dan", "2024-01-09T09:00:00Z", True),
        pr(3, "renovate[bot]", "2024-01-10T09:00:00Z", False),
        pr(4, "dan", "2024-01-12T09:00:00Z", False),
    ])  # fmt: skip
    _insert(con, "raw_github__reviews", [
        review(1, 101, "dan", "APPROVED", "2024-01-03T12:00:00Z"),
        review(1, 102, "ada-alt", "COMMENTED", "2024-01-03T13:00:00Z"),  # Ada's other login: own PR
        review(1, 103, "ada", "COMMENTED", "2024-01-03T14:00:00Z"),  # own PR
        review(1, 104, "dan", "PENDING", None),  # never submitted
        review(1, 105, "renovate[bot]", "COMMENTED", "2024-01-03T15:00:00Z"),  # a bot reviewer
        review(2, 201, "ada", "APPROVED", "2024-01-10T12:00:00Z"),
        review(3, 301, "dan", "COMMENTED", "2024-01-11T12:00:00Z"),  # a human on a bot's PR
    ])  # fmt: skip
    _insert(con, "raw_github__timeline_events", [
        event(1, 0, "review_requested", "ada", "2024-01-02T09:05:00Z", requested_reviewer=user("dan")),
        event(1, 1, "review_requested", "ada", "2024-01-02T09:06:00Z", requested_team={"slug": "core"}),
        event(1, 2, "ready_for_review", "ada", "2024-01-03T08:00:00Z"),
        event(2, 0, "review_requested", "ada", "2024-01-09T10:00:00Z", requested_reviewer=user("cy")),
        event(3, 0, "review_requested", "renovate[bot]", "2024-01-10T09:01:00Z", requested_reviewer=user("dan")),
        event(4, 0, "convert_to_draft", "dan", "2024-01-12T10:00:00Z"),
        event(4, 1, "ready_for_review", "dan", "2024-01-12T11:00:00Z"),
        event(4, 2, "review_requested", "dan", "2024-01-13T10:00:00Z", requested_reviewer=user("ada")),
        event(4, 3, "review_requested", "dan", "2024-02-20T10:00:00Z", requested_reviewer=user("ada")),  # after as_of
    ])  # fmt: skip


def _sync(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    summary = run_sync(con, SYNC_SETTINGS, [RepositoryConfig(RepoSpec(repo.path))])
    assert summary.status == "succeeded"


def _build(tmp: Path) -> World:
    repo = GitRepo(tmp / REPO)
    shas: dict[str, str] = {}
    c = repo.commit
    shas["c1"] = c(
        "Add parser\n\n"
        "Co-authored-by: Bob Builder <bob@work.example>\n"
        "Co-authored-by: dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>\n"
        "Reviewed-by: Cy <cy@example.org>\n"
        "Signed-off-by: Bob Builder <bob@work.example>",
        {".mailmap": "Bob Builder <bob@work.example> <bob@home.example>\n", "a.py": "1"},
        author=ADA_GIT, when=at("2024-01-02 10:00"),
    )  # fmt: skip
    shas["c2"] = c(
        "Add lexer\n\n"
        "Co-authored-by: Bob <bob@home.example>\n"
        "Co-authored-by: Bob Builder <bob@work.example>\n"
        "Co-authored-by: Ada Lovelace <ada@example.org>",
        {"b.py": "1"}, author=ADA_GIT, when=at("2024-01-03 10:00"),
    )  # fmt: skip
    shas["c3"] = c("fixup! Add parser", {"a.py": "2"}, author=ADA_GIT, when=at("2024-01-05 10:00"))
    shas["c4"] = c(
        "Fix parser crash\n\nReported-by: Ada Lovelace <ada@example.org>\nHelped-by: Cy <cy@example.org>",
        {"a.py": "3"}, author=BOB_HOME, when=at("2024-01-07 23:30"),
    )  # fmt: skip
    shas["c5"] = c("Fix lexer edge case", {"b.py": "2"}, author=ADA_GIT, when=at("2024-01-11 10:00"))
    shas["c6"] = c(
        f"Handle empty input\n\nFixes: {shas['c1'][:12]}", {"c.py": "1"}, author=CY_GIT,
        when=at("2024-01-12 10:00"),
    )  # fmt: skip
    shas["c7"] = c(
        f"Tidy parser\n\nFixes: {shas['c1'][:12]}", {"d.py": "1"}, author=ADA_GIT, when=at("2024-01-15 10:00")
    )
    shas["c8"] = c(
        f'Revert "Add lexer"\n\nThis reverts commit {shas["c2"]}.', {"b.py": None}, author=ADA_GIT,
        when=at("2024-02-01 10:00"),
    )  # fmt: skip
    shas["c9"] = c(
        f'Revert "Fix parser crash"\n\nThis reverts commit {shas["c4"]}.', {"a.py": "2"}, author=CY_GIT,
        when=at("2024-02-02 10:00"),
    )  # fmt: skip
    shas["c10"] = c("Bump deps", {"deps.txt": "2"}, author=DEPENDABOT, when=at("2024-02-03 10:00"))
    shas["c11"] = c(
        f'Revert "Bump deps"\n\nThis reverts commit {shas["c10"]}.', {"deps.txt": None}, author=ADA_GIT,
        when=at("2024-02-04 10:00"),
    )  # fmt: skip
    shas["c12"] = c(
        "Pair on docs\n\nCo-authored-by: Cy <cy@example.org>", {"e.py": "1"}, author=ADA_GIT,
        when=at("2024-02-05 10:00"),
    )  # fmt: skip
    con = connect(tmp / "perftrust.duckdb")
    _github_rows(con)
    _sync(con, repo)
    repo.git("reset", "-q", "--hard", "HEAD~1")  # c12 is rewritten away: removed, no credit
    _sync(con, repo)
    return World(con, shas)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in CLEAN_GIT_ENV.items():
            mp.setenv(key, value)
        built = _build(tmp_path_factory.mktemp("credit"))
    yield built
    built.con.close()


def metric_settings(**overrides: Any) -> MetricSettings:
    return MetricSettings(as_of=AS_OF, **overrides)


def row(frame: pl.DataFrame, period_type: str, start: date, contributor: str | None = None,
        team: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The one row of a subject and period."""
    subject = pl.col("contributor_id").eq_missing(contributor) & pl.col("team_id").eq_missing(team)
    found = frame.filter(subject & (pl.col("period_type") == period_type) & (pl.col("period_start") == start))
    assert found.height == 1, (contributor, team, period_type, start, found)
    return found.row(0, named=True)


def pick(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: values[n] for n in names}


WEEK1, WEEK2, WEEK3, WEEK5 = date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15), date(2024, 1, 29)
JAN, FEB, WINDOW = date(2024, 1, 1), date(2024, 2, 1), AS_OF.date() - timedelta(days=89)


# -- fixture sanity -----------------------------------------------------------------------------------


def test_identities_resolve_as_the_oracle_assumes(world: World) -> None:
    people = dict(world.con.execute("SELECT contributor_id, is_bot FROM dim_contributors").fetchall())
    assert {ADA, BOB, CY, DAN} <= {k for k, bot in people.items() if not bot}
    assert people[BOT_ID] is True and people["github:renovate[bot]"] is True
    # c12 was rewritten away: the sync removed it, as a fresh sync would never have loaded it.
    gone = world.con.execute("SELECT count(*) FROM fct_commits WHERE sha = ?", [world.shas["c12"]]).fetchall()
    assert gone == [(0,)]


# -- credit sharing -----------------------------------------------------------------------------------


def test_credit_edges(world: World) -> None:
    out = credit_sharing.compute(world.con, metric_settings())["fct_credits"]
    t = world.trailer
    expected = [
        # Bob's two addresses resolve to one person (c2 names him twice: credited once); the bot
        # co-author, Signed-off-by and Ada's self-credit give no row; c12 was rewritten away.
        (t("c1", 1), "co-authored-by", ADA, BOB, datetime(2024, 1, 2, 10), world.key("c1")),
        (t("c1", 3), "reviewed-by", ADA, CY, datetime(2024, 1, 2, 10), world.key("c1")),
        (t("c2", 1), "co-authored-by", ADA, BOB, datetime(2024, 1, 3, 10), world.key("c2")),
        (t("c4", 1), "reported-by", BOB, ADA, datetime(2024, 1, 7, 23, 30), world.key("c4")),
        (t("c4", 2), "helped-by", BOB, CY, datetime(2024, 1, 7, 23, 30), world.key("c4")),
        # Reviews on own PRs (either of Ada's logins), pending ones and bots' reviews are no credit;
        # dan's review of the bot's PR 3 counts for dan, with no receiver.
        ("github:review:project#1/101", "review", DAN, ADA, datetime(2024, 1, 3, 12), "github:review:project#1/101"),
        ("github:review:project#2/201", "review", ADA, DAN, datetime(2024, 1, 10, 12), "github:review:project#2/201"),
        ("github:review:project#3/301", "review", DAN, None, datetime(2024, 1, 11, 12), "github:review:project#3/301"),
    ]  # fmt: skip
    assert out.drop("repo").rows() == sorted(expected)  # sorted by credit_key
    assert set(out["repo"]) == {REPO}


CREDIT_COUNTS = (
    "count_coauthor_credits_given", "count_coauthor_credits_received",
    "count_review_credits_given", "count_review_credits_received",
    "count_other_trailer_credits_given", "count_other_trailer_credits_received",
    "count_reviews_given_on_others_prs", "count_reviews_received_on_own_prs",
    "count_distinct_people_credited", "count_distinct_people_helped", "count_credit_events",
)  # fmt: skip


def counts(values: dict[str, Any]) -> tuple[int, ...]:
    return tuple(values[c] for c in CREDIT_COUNTS)


def test_credit_sharing_per_person_and_period(world: World) -> None:
    m = credit_sharing.compute(world.con, metric_settings())["metric_credit_sharing"]
    t = world.trailer
    #                 coauthor  review-tr other-tr reviews  credited helped events
    ada_w1 = row(m, "week", WEEK1, ADA)
    assert counts(ada_w1) == (2, 0, 1, 0, 0, 1, 0, 1, 2, 1, 5)
    assert ada_w1["evidence_keys"] == sorted(
        [t("c1", 1), t("c1", 3), t("c2", 1), t("c4", 1), "github:review:project#1/101"]
    )
    assert ada_w1["period_end"] == date(2024, 1, 7) and ada_w1["team_id"] is None
    assert counts(row(m, "week", WEEK2, ADA)) == (0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1)
    # Month and window: helped = Bob (named Ada in a trailer) and dan (Ada reviewed his PR).
    assert counts(row(m, "month", JAN, ADA)) == (2, 0, 1, 0, 0, 1, 1, 1, 2, 2, 6)
    assert counts(row(m, "window", WINDOW, ADA)) == (2, 0, 1, 0, 0, 1, 1, 1, 2, 2, 6)
    assert counts(row(m, "week", WEEK1, BOB)) == (0, 2, 0, 0, 2, 0, 0, 0, 2, 1, 4)
    assert counts(row(m, "week", WEEK1, CY)) == (0, 0, 0, 1, 0, 1, 0, 0, 0, 2, 2)
    assert counts(row(m, "week", WEEK1, DAN)) == (0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1)
    # The review of the bot's PR counts as given but helps no person.
    assert counts(row(m, "week", WEEK2, DAN)) == (0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 2)
    # Team rows are totals over the team's credits.
    assert counts(row(m, "week", WEEK1, team="all")) == (2, 2, 1, 1, 2, 2, 1, 1, 3, 2, 6)
    assert counts(row(m, "week", WEEK2, team=f"repo:{REPO}")) == (0, 0, 0, 0, 0, 0, 2, 1, 0, 1, 2)
    # No February credit (c12 rewritten away), no bot, and nothing else.
    assert m.filter(pl.col("period_start") == FEB).height == 0
    assert set(m["contributor_id"].drop_nulls()) == {ADA, BOB, CY, DAN}
    assert m.height == len(set(m.select("contributor_id", "team_id", "period_type", "period_start").rows()))


def test_credit_periods_follow_the_time_zone(world: World) -> None:
    # c4 was authored 2024-01-07 23:30 UTC: Monday 2024-01-08 in Berlin, the next week.
    m = credit_sharing.compute(world.con, metric_settings(timezone="Europe/Berlin"))["metric_credit_sharing"]
    assert counts(row(m, "week", WEEK1, BOB)) == (0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2)
    assert counts(row(m, "week", WEEK2, BOB)) == (0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 2)


def test_bots_included_on_request(world: World) -> None:
    out = credit_sharing.compute(world.con, metric_settings(include_bots=True))
    edges = out["fct_credits"]
    bot_edges = edges.filter(pl.col("receiver_contributor_id") == BOT_ID)
    assert bot_edges["credit_key"].to_list() == [world.trailer("c1", 2)]
    assert edges.filter(pl.col("credit_key") == "github:review:project#3/301")[
        "receiver_contributor_id"
    ].to_list() == ["github:renovate[bot]"]
    assert BOT_ID in set(out["metric_credit_sharing"]["contributor_id"])


def test_as_of_hides_later_credits(world: World) -> None:
    early = MetricSettings(as_of=datetime(2024, 1, 3, 11))
    edges = credit_sharing.compute(world.con, early)["fct_credits"]
    assert edges["credit_key"].to_list() == sorted(
        [world.trailer("c1", 1), world.trailer("c1", 3), world.trailer("c2", 1)]
    )


# -- ownership ----------------------------------------------------------------------------------------

OWNERSHIP_COUNTS = ("count_commits", "count_self_reverts", "count_reverted_by_others", "count_fixups")


def test_ownership(world: World) -> None:
    m = ownership.compute(world.con, metric_settings())["metric_ownership"]

    def own(
        period_type: str, start: date, who: str | None = None, team: str | None = None
    ) -> tuple[int, ...]:
        values = row(m, period_type, start, who, team)
        return tuple(values[c] for c in OWNERSHIP_COUNTS)

    # Ada: c3 fixup! of her own "Add parser" (rule a), c5 "Fix ..." on b.py she changed 8 days
    # before (rule c), c7 "Fixes: <c1>" names her own commit (rule b); c8 reverts her own c2.
    assert own("week", WEEK1, ADA) == (3, 0, 0, 1)
    assert own("week", WEEK2, ADA) == (1, 0, 0, 1)
    assert own("week", WEEK3, ADA) == (1, 0, 0, 1)
    # c11 reverts the bot's commit: a commit, not a self-revert.
    assert own("week", WEEK5, ADA) == (2, 1, 0, 0)
    assert own("month", JAN, ADA) == (5, 0, 0, 3)
    assert own("month", FEB, ADA) == (2, 1, 0, 0)
    window = row(m, "window", WINDOW, ADA)
    assert tuple(window[c] for c in OWNERSHIP_COUNTS) == (7, 1, 0, 3)
    assert window["evidence_keys"] == sorted(world.key(c) for c in ("c3", "c5", "c7", "c8"))
    assert "higher is not worse" in window["note"]
    # Bob's "Fix parser crash" touches a.py last changed by Ada: not a fix-up of his own work.
    # Cy reverted it: counted for Bob on the revert's date, not as Cy's self-revert.
    assert own("week", WEEK1, BOB) == (1, 0, 0, 0)
    bob_w5 = row(m, "week", WEEK5, BOB)
    assert tuple(bob_w5[c] for c in OWNERSHIP_COUNTS) == (0, 0, 1, 0)
    assert bob_w5["evidence_keys"] == [world.key("c9")]
    # Cy's "Fixes: <c1>" names Ada's commit, not Cy's own.
    assert own("week", WEEK2, CY) == (1, 0, 0, 0)
    assert own("week", WEEK5, CY) == (1, 0, 0, 0)
    assert own("week", WEEK5, team="all") == (3, 1, 1, 0)
    assert own("month", JAN, team=f"repo:{REPO}") == (7, 0, 0, 3)
    assert set(m["contributor_id"].drop_nulls()) == {ADA, BOB, CY}
    assert not {"score", "rank"} & {c.split("_")[0] for c in m.columns}


# -- help-seeking -------------------------------------------------------------------------------------

HELP_COUNTS = (
    "count_prs_opened", "count_prs_with_review_requested", "count_reviews_requested",
    "count_draft_prs_opened_early", "count_commits_authored", "count_coauthored_commits",
)  # fmt: skip


def test_help_seeking(world: World) -> None:
    m = help_seeking.compute(world.con, metric_settings(min_n=3))["metric_help_seeking"]
    ada = row(m, "week", WEEK1, ADA)
    # PR 1: opened as a draft (first toggle is ready_for_review), two requests by Ada (dan, team core).
    # Commits c1, c2 (co-authored with Bob; the bot co-author alone would not count), c3.
    assert tuple(ada[c] for c in HELP_COUNTS) == (1, 1, 2, 1, 3, 2)
    assert ada["evidence_keys"] == sorted(
        ["github:pr:project#1", "github:review_request:project#1/0", "github:review_request:project#1/1",
         world.key("c1"), world.key("c2")]
    )  # fmt: skip
    # n = 1 pull request: below min_n, no value, but the interval and n are there.
    assert pick(ada, "review_request_rate", "review_request_rate_numerator", "review_request_rate_denominator",
                "is_enough_data_review_request_rate") == {
        "review_request_rate": None, "review_request_rate_numerator": 1,
        "review_request_rate_denominator": 1, "is_enough_data_review_request_rate": False,
    }  # fmt: skip
    assert ada["review_request_rate_lower"] == pytest.approx(0.20654931, abs=1e-6)
    assert ada["review_request_rate_upper"] == pytest.approx(1.0)
    assert ada["coauthored_commit_rate"] == pytest.approx(2 / 3)
    assert ada["is_enough_data_coauthored_commit_rate"] is True
    assert ada["coauthored_commit_rate_lower"] < 2 / 3 < ada["coauthored_commit_rate_upper"]
    # dan: PR 2 is a draft with no toggle (opened as one); PR 4 was converted to draft after opening.
    # Ada's request on dan's PR 2 is not dan asking; the request after as_of is not seen.
    dan = row(m, "week", WEEK2, DAN)
    assert tuple(dan[c] for c in HELP_COUNTS) == (2, 1, 1, 1, 0, 0)
    assert dan["evidence_keys"] == [
        "github:pr:project#2",
        "github:pr:project#4",
        "github:review_request:project#4/2",
    ]
    assert dan["coauthored_commit_rate"] is None and dan["coauthored_commit_rate_lower"] is None
    assert tuple(row(m, "month", JAN, team="all")[c] for c in HELP_COUNTS) == (3, 2, 3, 2, 7, 2)
    assert set(m["contributor_id"].drop_nulls()) == {ADA, BOB, CY, DAN}  # renovate[bot]'s PR: no row


# -- the schema, the orchestrator's write, re-runs ---------------------------------------------------------


def test_written_tables_match_and_rerun_is_identical(world: World) -> None:
    s = metric_settings()
    for module in (credit_sharing, ownership, help_seeking):
        first = module.compute(world.con, s)
        for table, frame in first.items():
            assert write_table(world.con, table, frame, s) == frame.height
            stored = pl.from_arrow(world.con.sql(f"SELECT * FROM {table}").to_arrow_table())
            assert isinstance(stored, pl.DataFrame)
            assert stored.columns == frame.columns  # the frame has exactly the table's columns, in order
            assert_frame_equal(stored, frame, check_dtypes=False)
        again = module.compute(world.con, s)
        for table, frame in again.items():
            assert_frame_equal(frame, first[table])


def test_rate_columns_are_complete() -> None:
    for name in help_seeking.RATES:
        for column in (name, f"{name}_numerator", f"{name}_denominator", f"{name}_lower", f"{name}_upper",
                       f"is_enough_data_{name}"):  # fmt: skip
            assert column in help_seeking.RATE_COLUMNS


# -- properties on generated inputs -------------------------------------------------------------------

PEOPLE = ["p:a", "p:b", "p:c", "bot:x"]
HUMANS = pl.LazyFrame({"contributor_id": ["p:a", "p:b", "p:c"]})
LOGINS = pl.LazyFrame({"login": ["a", "a2", "b", "c"], "contributor_id": ["p:a", "p:a", "p:b", "p:c"]})
LOGIN_NAMES = ["a", "a2", "b", "c", "x[bot]", None]
START = datetime(2024, 1, 1)
PROPERTY_SETTINGS = MetricSettings(as_of=datetime(2024, 3, 1), window_days=30, min_n=2)

people = st.sampled_from(PEOPLE)
moments = st.integers(0, 24 * 70).map(lambda h: START + timedelta(hours=h))


@st.composite
def trailer_rows(draw: st.DrawFn) -> pl.DataFrame:
    commits = draw(
        st.lists(st.tuples(st.sampled_from(["r1", "r2"]), people, moments), min_size=1, max_size=6)
    )
    rows = []
    for number, (repo, author, moment) in enumerate(commits):
        for index, (kind, named) in enumerate(
            draw(
                st.lists(
                    st.tuples(st.sampled_from([*credit_sharing.TRAILER_KINDS, "signed-off-by"]), people),
                    max_size=4,
                )
            ),
            start=1,
        ):
            rows.append((repo, f"{number:040x}", index, kind, named, author, moment))
    return pl.DataFrame(
        rows,
        schema={"repo": pl.String, "sha": pl.String, "trailer_index": pl.Int64, "kind": pl.String,
                "receiver_contributor_id": pl.String, "giver_contributor_id": pl.String,
                "occurred_at": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip


@st.composite
def review_rows(draw: st.DrawFn) -> pl.DataFrame:
    logins = st.sampled_from(LOGIN_NAMES)
    reviews = draw(st.lists(st.tuples(st.sampled_from(["r1", "r2"]), logins, logins, moments), max_size=8))
    return pl.DataFrame(
        [(repo, f"github:review:{repo}#1/{i}", reviewer, author, reviewer == author, moment)
         for i, (repo, reviewer, author, moment) in enumerate(reviews)],
        schema={"repo": pl.String, "review_key": pl.String, "reviewer_login": pl.String,
                "pull_request_author_login": pl.String, "is_own_pull_request": pl.Boolean,
                "occurred_at": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip


def shuffled(frame: pl.DataFrame, seed: int) -> pl.LazyFrame:
    order = list(range(frame.height))
    random.Random(seed).shuffle(order)
    return frame[order].lazy()


def credit_outputs(trailers: pl.LazyFrame, reviews: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    edges = credit_sharing.credit_edges(
        credit_sharing.trailer_edges(trailers, HUMANS), credit_sharing.review_edges(reviews, LOGINS)
    ).collect()
    return edges, credit_sharing.metric_rows(edges.lazy(), PROPERTY_SETTINGS).collect()


def assert_no_bots(*frames: pl.DataFrame) -> None:
    for frame in frames:
        for column in frame.columns:
            if column.endswith("contributor_id"):
                assert not any(str(v).startswith("bot:") for v in frame[column].drop_nulls())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trailer_rows(), review_rows(), st.integers(0, 2**32))
def test_credit_properties(trailers: pl.DataFrame, reviews: pl.DataFrame, seed: int) -> None:
    edges, metrics = credit_outputs(trailers.lazy(), reviews.lazy())
    shuffled_edges, shuffled_metrics = credit_outputs(shuffled(trailers, seed), shuffled(reviews, seed + 1))
    assert_frame_equal(edges, shuffled_edges)
    assert_frame_equal(metrics, shuffled_metrics)
    assert_no_bots(edges, metrics)
    assert edges.filter(pl.col("giver_contributor_id") == pl.col("receiver_contributor_id")).height == 0
    assert edges["credit_key"].is_unique().all()
    assert "signed-off-by" not in set(edges["kind"])
    # Every credit shows up in the person window rows' evidence iff it falls in the window (team
    # rows carry no evidence list of their own: theirs is their members' rows).
    window = metrics.filter(pl.col("team_id").is_null() & (pl.col("period_type") == "window"))
    day = pl.col("occurred_at").dt.date()
    in_window = edges.filter(day.is_between(PROPERTY_SETTINGS.window_start, PROPERTY_SETTINGS.as_of_date))
    expected = sorted(in_window["credit_key"])
    assert sorted({key for keys in window["evidence_keys"].to_list() for key in keys}) == expected
    teams = metrics.filter(pl.col("team_id").is_not_null())
    assert all(keys == [] for keys in teams["evidence_keys"].to_list())


@st.composite
def commit_rows(draw: st.DrawFn) -> pl.DataFrame:
    count = draw(st.integers(1, 8))
    rows: list[tuple[Any, ...]] = []
    subjects = st.sampled_from(["Add x", "Fix x", "fixup! Add x", "fix: y", "Tidy"])
    for i in range(count):
        sha = f"{i + 1:x}" * 40
        sha = sha[:40]
        revert = draw(st.booleans()) and i > 0
        target = rows[draw(st.integers(0, i - 1))][1] if revert else None
        subject = "Revert it" if revert else draw(subjects)
        message = subject + (f"\n\nFixes: {rows[0][1][:12]}" if i > 0 and draw(st.booleans()) else "")
        rows.append((draw(st.sampled_from(["r1", "r2"])), sha, draw(people), draw(moments), subject,
                     False, revert, target, message))  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={"repo": pl.String, "sha": pl.String, "contributor_id": pl.String, "authored_at": pl.Datetime("us"),
                "subject": pl.String, "is_merge": pl.Boolean, "is_revert": pl.Boolean, "reverted_sha": pl.String,
                "message": pl.String},
        orient="row",
    )  # fmt: skip


def ownership_output(commits: pl.LazyFrame, files: pl.LazyFrame) -> pl.DataFrame:
    events = ownership.ownership_events(commits, files, HUMANS, PROPERTY_SETTINGS)
    return ownership.metric_rows(events, PROPERTY_SETTINGS).collect()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commit_rows(), st.integers(0, 2**32))
def test_ownership_properties(commits: pl.DataFrame, seed: int) -> None:
    files = commits.select("repo", "sha", "contributor_id", "authored_at", pl.lit("f.py").alias("path"))
    out = ownership_output(commits.lazy(), files.lazy())
    assert_frame_equal(out, ownership_output(shuffled(commits, seed), shuffled(files, seed + 1)))
    assert_no_bots(out)
    everyone = out.filter((pl.col("team_id") == "all") & (pl.col("period_type") == "month"))
    live_humans = commits.filter(
        pl.col("contributor_id").is_in(["p:a", "p:b", "p:c"])
        & (pl.col("authored_at").dt.date() <= PROPERTY_SETTINGS.as_of_date)
    )  # fmt: skip
    assert everyone["count_commits"].sum() == live_humans.height
    assert (out["count_fixups"] <= out["count_commits"]).all()
    assert (out["count_self_reverts"] <= out["count_commits"]).all()


@st.composite
def help_inputs(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    prs = draw(st.lists(st.tuples(st.sampled_from(LOGIN_NAMES[:-1]), moments, st.booleans()), max_size=6))
    pr_frame = pl.DataFrame(
        [("r1", n, f"github:pr:r1#{n}", login, draft, moment) for n, (login, moment, draft) in enumerate(prs)],
        schema={"repo": pl.String, "number": pl.Int64, "pull_request_key": pl.String, "login": pl.String,
                "is_draft": pl.Boolean, "created_at": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip
    numbers = st.integers(0, max(len(prs) - 1, 0))
    toggles = draw(st.lists(st.tuples(numbers, st.sampled_from(["ready_for_review", "convert_to_draft"])),
                            max_size=6))  # fmt: skip
    toggle_frame = pl.DataFrame(
        [("r1", n, i, e) for i, (n, e) in enumerate(toggles)],
        schema={"repo": pl.String, "number": pl.Int64, "event_index": pl.Int64, "event": pl.String},
        orient="row",
    )
    requests = draw(st.lists(st.tuples(numbers, st.sampled_from(LOGIN_NAMES[:-1]), moments), max_size=6))
    request_frame = pl.DataFrame(
        [("r1", n, f"github:review_request:r1#{n}/{i}", login, moment)
         for i, (n, login, moment) in enumerate(requests)],
        schema={"repo": pl.String, "number": pl.Int64, "review_request_key": pl.String, "login": pl.String,
                "requested_at": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip
    return pr_frame, toggle_frame, request_frame


def help_output(prs: pl.LazyFrame, toggles: pl.LazyFrame, requests: pl.LazyFrame) -> pl.DataFrame:
    human_prs = help_seeking.human_pull_requests(prs, LOGINS)
    no_commits = pl.LazyFrame(
        schema={
            "repo": pl.String,
            "sha": pl.String,
            "contributor_id": pl.String,
            "authored_at": pl.Datetime("us"),
        }
    )
    events = help_seeking.help_events(
        human_prs,
        help_seeking.first_toggles(toggles),
        help_seeking.author_requests(requests, LOGINS, human_prs),
        no_commits,
        pl.LazyFrame(schema={"repo": pl.String, "sha": pl.String}),
        PROPERTY_SETTINGS,
    )
    return help_seeking.metric_rows(events, PROPERTY_SETTINGS).collect()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(help_inputs(), st.integers(0, 2**32))
def test_help_seeking_properties(inputs: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], seed: int) -> None:
    prs, toggles, requests = inputs
    out = help_output(prs.lazy(), toggles.lazy(), requests.lazy())
    again = help_output(shuffled(prs, seed), shuffled(toggles, seed + 1), shuffled(requests, seed + 2))
    assert_frame_equal(out, again)
    assert set(out["contributor_id"].drop_nulls()) <= {"p:a", "p:b", "p:c"}
    assert (out["count_prs_with_review_requested"] <= out["count_prs_opened"]).all()
    assert (out["count_draft_prs_opened_early"] <= out["count_prs_opened"]).all()
    rated = out.filter(pl.col("is_enough_data_review_request_rate"))
    assert (rated["review_request_rate_lower"] <= rated["review_request_rate"]).all()
    assert (rated["review_request_rate"] <= rated["review_request_rate_upper"]).all()
    assert (
        out.filter(~pl.col("is_enough_data_draft_early_rate"))["draft_early_rate"].null_count()
        == out.filter(~pl.col("is_enough_data_draft_early_rate")).height
    )


def test_a_fix_after_simultaneous_changes_counts_whatever_the_row_order() -> None:
    """Rule (c) when the file's previous change is several commits at one instant, one of them the
    fixer's (hypothesis found this: the result depended on which row sorted last)."""
    at = datetime(2024, 1, 1)
    rows = [
        ("r1", "1" * 40, "p:a", at, "Add x", False, False, None, None),
        ("r1", "7" * 40, "bot:x", at, "Tidy", False, False, None, None),
        ("r1", "3" * 40, "p:a", at + timedelta(days=3), "Fix x", False, False, None, "Fix x"),
    ]
    schema: dict[str, Any] = {"repo": pl.String, "sha": pl.String, "contributor_id": pl.String, "authored_at": pl.Datetime("us"),
              "subject": pl.String, "is_merge": pl.Boolean, "is_revert": pl.Boolean, "reverted_sha": pl.String,
              "message": pl.String}  # fmt: skip
    for order in (rows, rows[::-1], [rows[1], rows[0], rows[2]]):
        commits = pl.DataFrame(order, schema=schema, orient="row")
        files = commits.select("repo", "sha", "contributor_id", "authored_at", pl.lit("f.py").alias("path"))
        out = ownership_output(commits.lazy(), files.lazy())
        january = out.filter(
            (pl.col("contributor_id") == "p:a") & (pl.col("period_type") == "month")
            & (pl.col("period_start") == date(2024, 1, 1))
        )  # fmt: skip
        assert january["count_fixups"].to_list() == [1]
