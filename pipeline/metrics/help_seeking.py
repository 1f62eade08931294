"""Help-seeking: asking for reviews, opening draft pull requests early, co-authored work.

Definitions (events at or before as_of; dates in settings.timezone; humans only unless bots included):
- a review request asked by the pull request's author (one review_requested event whose actor is the
  author, or another login of the same contributor) is asking for help; counted on its date. A team
  asked counts like a person asked. GitHub records CODEOWNERS requests as made by the author too.
- a pull request opened as a draft: its first ready_for_review / convert_to_draft event is a
  ready_for_review, or it has neither and is a draft now. Counted on the date it was opened.
- a co-authored commit: a reachable, non-merge commit by the person naming at least one other
  person in a Co-authored-by trailer (the edges of fct_credits: no bots, no self).
Rates are counted over pull requests opened (or commits authored) in the period; a pull request
counts as "review requested" if its author asked at any time up to as_of.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.metrics.common import (
    PERIOD_KEYS,
    SUBJECT_KEYS,
    MetricSettings,
    by_member,
    by_subject,
    commits,
    human_contributors,
    humans_by_login,
    local_date,
    periods,
    rate,
    read,
    with_team_intervals,
)
from pipeline.metrics.credit_sharing import COAUTHOR_KINDS, commit_key, trailer_credits

FLAGS = ("is_pr", "has_review_requested", "is_draft_early", "is_request", "is_commit", "is_coauthored")

# name -> (numerator, denominator)
RATES = {
    "review_request_rate": ("count_prs_with_review_requested", "count_prs_opened"),
    "draft_early_rate": ("count_draft_prs_opened_early", "count_prs_opened"),
    "coauthored_commit_rate": ("count_coauthored_commits", "count_commits_authored"),
}
COUNTS = (
    "count_prs_opened",
    "count_prs_with_review_requested",
    "count_reviews_requested",
    "count_draft_prs_opened_early",
    "count_commits_authored",
    "count_coauthored_commits",
)


def read_pull_requests(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT repo, number, pull_request_key, author_login AS login, is_draft, created_at
           FROM fct_pull_requests WHERE created_at <= ?""",
        [settings.as_of],
    )


def human_pull_requests(prs: pl.LazyFrame, logins: pl.LazyFrame) -> pl.LazyFrame:
    """Pull requests of humans: (repo, number, pull_request_key, contributor_id, is_draft, created_at)."""
    return prs.join(logins, on="login", how="inner").drop("login")


def read_draft_toggles(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT repo, issue_number AS number, event_index, event
           FROM stg_github__timeline_events
           WHERE event IN ('ready_for_review', 'convert_to_draft') AND created_at <= ?""",
        [settings.as_of],
    )


def first_toggles(toggles: pl.LazyFrame) -> pl.LazyFrame:
    """(repo, number, first_toggle): the first ready_for_review or convert_to_draft event of each PR."""
    return (
        toggles.sort("event_index")
        .group_by("repo", "number")
        .agg(pl.col("event").first().alias("first_toggle"))
    )


def read_review_requests(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT repo, pull_number AS number, review_request_key, requested_by_login AS login, requested_at
           FROM fct_review_requests WHERE requested_at <= ?""",
        [settings.as_of],
    )


def author_requests(requests: pl.LazyFrame, logins: pl.LazyFrame, prs: pl.LazyFrame) -> pl.LazyFrame:
    """Review requests made by the pull request's own author (any of their logins):
    (repo, number, review_request_key, requested_at, contributor_id)."""
    return (
        requests.join(logins, on="login", how="inner")
        .join(prs.select("repo", "number", "contributor_id"), on=["repo", "number", "contributor_id"])
        .drop("login")
    )


def _commits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    own = (
        commits(con, settings)
        .filter(~pl.col("is_merge"))
        .select("repo", "sha", "contributor_id", "authored_at")
    )
    return own.join(human_contributors(con, settings), on="contributor_id", how="semi")


def _flags(**on: pl.Expr) -> list[pl.Expr]:
    """Every flag column, False unless given."""
    return [on.get(name, pl.lit(False)).fill_null(False).alias(name) for name in FLAGS]


def help_events(
    prs: pl.LazyFrame,
    toggles: pl.LazyFrame,
    requests: pl.LazyFrame,
    commits: pl.LazyFrame,
    coauthored: pl.LazyFrame,
    settings: MetricSettings,
) -> pl.LazyFrame:
    """One row per pull request opened, review request asked, and commit authored."""
    asked = requests.select("repo", "number").unique().with_columns(asked=pl.lit(True))
    pr_rows = (
        prs.join(toggles, on=["repo", "number"], how="left")
        .join(asked, on=["repo", "number"], how="left")
        .select(
            "repo",
            "contributor_id",
            pl.col("created_at").alias("at"),
            *_flags(
                is_pr=pl.lit(True),
                has_review_requested=pl.col("asked"),
                is_draft_early=pl.when(pl.col("first_toggle").is_not_null())
                .then(pl.col("first_toggle") == "ready_for_review")
                .otherwise(pl.col("is_draft")),
            ),
            pl.col("pull_request_key").alias("evidence_key"),
        )
    )
    request_rows = requests.select(
        "repo",
        "contributor_id",
        pl.col("requested_at").alias("at"),
        *_flags(is_request=pl.lit(True)),
        pl.col("review_request_key").alias("evidence_key"),
    )
    commit_rows = commits.join(
        coauthored.with_columns(coauthored=pl.lit(True)), on=["repo", "sha"], how="left"
    ).select(
        "repo",
        "contributor_id",
        pl.col("authored_at").alias("at"),
        *_flags(is_commit=pl.lit(True), is_coauthored=pl.col("coauthored")),
        # Plain commits are the denominator of coauthored_commit_rate; only co-authored ones are evidence.
        pl.when(pl.col("coauthored").fill_null(False)).then(commit_key()).alias("evidence_key"),
    )
    return pl.concat([pr_rows, request_rows, commit_rows], how="vertical_relaxed").with_columns(
        day=local_date("at", settings.timezone)
    )


def _aggregations() -> list[pl.Expr]:
    def total(flag: str) -> pl.Expr:
        return pl.col(flag).sum().cast(pl.Int64)

    # Each flag is only ever true on its own kind of row (pull request, request, commit).
    return [
        total("is_pr").alias("count_prs_opened"),
        total("has_review_requested").alias("count_prs_with_review_requested"),
        total("is_request").alias("count_reviews_requested"),
        total("is_draft_early").alias("count_draft_prs_opened_early"),
        total("is_commit").alias("count_commits_authored"),
        total("is_coauthored").alias("count_coauthored_commits"),
        pl.col("evidence_key").drop_nulls().unique().sort().alias("evidence_keys"),
    ]


def _rate_sources() -> list[pl.Expr]:
    """<name>_numerator and <name>_denominator of every rate, copied from the counts they are."""
    return [
        expr
        for name, (num, den) in RATES.items()
        for expr in (pl.col(num).alias(f"{name}_numerator"), pl.col(den).alias(f"{name}_denominator"))
    ]


def _rate_values(settings: MetricSettings) -> list[pl.Expr]:
    return [
        expr
        for name in RATES
        for expr in rate(name, f"{name}_numerator", f"{name}_denominator", settings.min_n)
    ]


RATE_COLUMNS = tuple(
    column
    for name in RATES
    for column in (
        name,
        f"{name}_numerator",
        f"{name}_denominator",
        f"{name}_lower",
        f"{name}_upper",
        f"is_enough_data_{name}",
    )
)


def metric_rows(events: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    dated = periods(events, "day", settings).collect().lazy()  # read twice: computed once
    counts = [a for a in _aggregations() if a.meta.output_name() != "evidence_keys"]
    members = by_member(dated, counts).with_columns(_rate_sources()).with_columns(_rate_values(settings))
    rows = (
        by_subject(dated, _aggregations()).with_columns(_rate_sources()).with_columns(_rate_values(settings))
    )
    return (
        with_team_intervals(rows, members, list(RATES))
        .select(*SUBJECT_KEYS, *PERIOD_KEYS, *COUNTS, *RATE_COLUMNS, "evidence_keys")
        .sort([*SUBJECT_KEYS, *PERIOD_KEYS], nulls_last=True)
    )


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    logins = humans_by_login(con, settings)
    prs = human_pull_requests(read_pull_requests(con, settings), logins)
    coauthored = (
        trailer_credits(con, settings)
        .filter(pl.col("kind").is_in(list(COAUTHOR_KINDS)))
        .select("repo", "sha")
        .unique()
    )
    events = help_events(
        prs,
        first_toggles(read_draft_toggles(con, settings)),
        author_requests(read_review_requests(con, settings), logins, prs),
        _commits(con, settings),
        coauthored,
        settings,
    )
    return {"metric_help_seeking": metric_rows(events, settings).collect()}
