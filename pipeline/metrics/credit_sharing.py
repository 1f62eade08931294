"""Credit-sharing: who credits whom in commit trailers, and who helps whom by reviewing others' pull requests.

fct_credits is the edge list, one row per credit event, oriented giver -> receiver:
  trailer kinds  the commit author (giver) names another person (receiver) in a credit trailer:
                 co-authored-by; reviewed-by, acked-by, tested-by (review credit); reported-by,
                 suggested-by, helped-by (other credit). The receiver is the one who helped.
  review         a reviewer (giver) submits a review on someone else's pull request; the pull
                 request's author (receiver) is the one helped.

Choices where SPEC is silent:
- Signed-off-by is not credit: it certifies the Developer Certificate of Origin and records who
  handled a patch (maintainers add their own when applying it), so it says nothing about help.
- Only commits reachable from the synced refs count, and only events at or before as_of.
- A person named twice in one commit under the same trailer (e.g. two addresses of one person) is
  credited once: the first such trailer is the credit.
- No self-credit: rows whose giver and receiver are the same contributor are dropped, as are reviews
  on one's own pull request (same login, or two logins of one contributor).
- Bots: a credit to or from a bot is dropped (unless settings.include_bots). A human's review of a
  bot's pull request is kept (SPEC: a human's activity on a bot's PR counts for the human) with a
  NULL receiver, as is a review of a pull request whose author was deleted (GitHub's ghost).
- Pending reviews (never submitted) are not credit; every submitted review (approved, changes
  requested, commented, dismissed) is one credit.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.metrics.common import (
    PERIOD_KEYS,
    SUBJECT_KEYS,
    MetricSettings,
    by_subject,
    commits,
    human_contributors,
    humans_by_login,
    local_date,
    periods,
    read,
    read_shared,
)

COAUTHOR_KINDS = ("co-authored-by",)
REVIEW_TRAILER_KINDS = ("reviewed-by", "acked-by", "tested-by")
OTHER_TRAILER_KINDS = ("reported-by", "suggested-by", "helped-by")
TRAILER_KINDS = (*COAUTHOR_KINDS, *REVIEW_TRAILER_KINDS, *OTHER_TRAILER_KINDS)
REVIEW_KIND = "review"

CREDIT_COLUMNS = (
    "credit_key",
    "repo",
    "kind",
    "giver_contributor_id",
    "receiver_contributor_id",
    "occurred_at",
    "evidence_key",
)


def commit_key(repo: str = "repo", sha: str = "sha") -> pl.Expr:
    """Evidence key of a commit: git:commit:<repo>@<sha>."""
    return pl.concat_str(pl.lit("git:commit:"), pl.col(repo), pl.lit("@"), pl.col(sha))


def trailer_key() -> pl.Expr:
    """Credit key of a trailer: git:trailer:<repo>@<sha>#<trailer_index>."""
    return pl.concat_str(
        pl.lit("git:trailer:"),
        pl.col("repo"),
        pl.lit("@"),
        pl.col("sha"),
        pl.lit("#"),
        pl.col("trailer_index").cast(pl.String),
    )


def _is_human(frame: pl.LazyFrame, column: str, humans: pl.LazyFrame) -> pl.LazyFrame:
    """Keep rows whose `column` is a human contributor (or any contributor when bots are included)."""
    return frame.join(humans, left_on=column, right_on="contributor_id", how="semi")


def read_trailers(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Credit trailers of reachable commits authored at or before as_of, with the commit's author."""
    trailers = read_shared(
        con,
        "credit trailers",
        """SELECT repo, sha, trailer_index, trailer AS kind, contributor_id AS receiver_contributor_id
           FROM fct_commit_trailers WHERE trailer IN ?""",
        [list(TRAILER_KINDS)],
    )
    authors = commits(con, settings).select(
        "repo",
        "sha",
        pl.col("contributor_id").alias("giver_contributor_id"),
        pl.col("authored_at").alias("occurred_at"),
    )  # the shared read: fct_commits is not read again for the join
    return trailers.join(authors, on=["repo", "sha"], how="inner")


def trailer_edges(trailers: pl.LazyFrame, humans: pl.LazyFrame) -> pl.LazyFrame:
    """Trailers as edges author -> named person: humans only, no self-credit, a person once per commit
    and trailer (the first such trailer is the credit)."""
    edges = _is_human(_is_human(trailers, "giver_contributor_id", humans), "receiver_contributor_id", humans)
    once = ["repo", "sha", "kind", "receiver_contributor_id"]
    return (
        edges.filter(
            pl.col("kind").is_in(list(TRAILER_KINDS))
            & (pl.col("giver_contributor_id") != pl.col("receiver_contributor_id"))
        )
        .filter(pl.col("trailer_index") == pl.col("trailer_index").min().over(once))
        .with_columns(credit_key=trailer_key(), evidence_key=commit_key())
        .select(*CREDIT_COLUMNS, "sha")
    )


def trailer_credits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Credit trailers of reachable commits as edges (with the commit's sha)."""
    return trailer_edges(read_trailers(con, settings), human_contributors(con, settings))


def read_reviews(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Submitted (not pending) reviews at or before as_of."""
    return read(
        con,
        """SELECT repo, review_key, reviewer_login, pull_request_author_login, is_own_pull_request,
                  submitted_at AS occurred_at
           FROM fct_reviews
           WHERE submitted_at IS NOT NULL AND submitted_at <= ? AND coalesce(state, '') <> 'PENDING'""",
        [settings.as_of],
    )


def review_edges(reviews: pl.LazyFrame, logins: pl.LazyFrame) -> pl.LazyFrame:
    """Reviews of someone else's pull request as edges reviewer -> author. `logins` maps login ->
    contributor_id for the humans (a bot or deleted author becomes a NULL receiver)."""
    return (
        reviews.join(
            logins.rename({"login": "reviewer_login", "contributor_id": "giver_contributor_id"}),
            on="reviewer_login",
            how="inner",
        )
        .join(
            logins.rename(
                {"login": "pull_request_author_login", "contributor_id": "receiver_contributor_id"}
            ),
            on="pull_request_author_login",
            how="left",
        )
        .filter(
            ~pl.col("is_own_pull_request").fill_null(False)
            & pl.col("giver_contributor_id").ne_missing(pl.col("receiver_contributor_id"))
        )
        .with_columns(
            credit_key=pl.col("review_key"), evidence_key=pl.col("review_key"), kind=pl.lit(REVIEW_KIND)
        )
        .select(*CREDIT_COLUMNS)
    )


def review_credits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Submitted reviews on someone else's pull request as edges reviewer -> pull request author."""
    return review_edges(read_reviews(con, settings), humans_by_login(con, settings))


def credit_edges(trailer_edges: pl.LazyFrame, review_edges: pl.LazyFrame) -> pl.LazyFrame:
    """fct_credits rows: both kinds of edge, sorted by credit_key."""
    return pl.concat(
        [trailer_edges.select(CREDIT_COLUMNS), review_edges.select(CREDIT_COLUMNS)], how="vertical_relaxed"
    ).sort("credit_key")


def credits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """fct_credits: every credit event, sorted by credit_key."""
    return credit_edges(trailer_credits(con, settings), review_credits(con, settings))


def _by_role(edges: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """Each credit once for its giver (role 'given') and once for its receiver (role 'received', when the
    receiver is a person); other_id is the person on the other end."""
    base = edges.with_columns(day=local_date("occurred_at", settings.timezone))
    given = base.select(
        "credit_key",
        "repo",
        "kind",
        "day",
        pl.lit("given").alias("role"),
        pl.col("giver_contributor_id").alias("contributor_id"),
        pl.col("receiver_contributor_id").alias("other_id"),
    )
    received = base.filter(pl.col("receiver_contributor_id").is_not_null()).select(
        "credit_key",
        "repo",
        "kind",
        "day",
        pl.lit("received").alias("role"),
        pl.col("receiver_contributor_id").alias("contributor_id"),
        pl.col("giver_contributor_id").alias("other_id"),
    )
    return pl.concat([given, received], how="vertical_relaxed")


def _count(role: str, kinds: tuple[str, ...]) -> pl.Expr:
    return ((pl.col("role") == role) & pl.col("kind").is_in(list(kinds))).sum().cast(pl.Int64)


def _distinct_others(condition: pl.Expr) -> pl.Expr:
    return pl.col("other_id").filter(condition & pl.col("other_id").is_not_null()).n_unique().cast(pl.Int64)


def _aggregations() -> list[pl.Expr]:
    given, received = pl.col("role") == "given", pl.col("role") == "received"
    is_review = pl.col("kind") == REVIEW_KIND
    return [
        _count("given", COAUTHOR_KINDS).alias("count_coauthor_credits_given"),
        _count("received", COAUTHOR_KINDS).alias("count_coauthor_credits_received"),
        _count("given", REVIEW_TRAILER_KINDS).alias("count_review_credits_given"),
        _count("received", REVIEW_TRAILER_KINDS).alias("count_review_credits_received"),
        _count("given", OTHER_TRAILER_KINDS).alias("count_other_trailer_credits_given"),
        _count("received", OTHER_TRAILER_KINDS).alias("count_other_trailer_credits_received"),
        _count("given", (REVIEW_KIND,)).alias("count_reviews_given_on_others_prs"),
        _count("received", (REVIEW_KIND,)).alias("count_reviews_received_on_own_prs"),
        # Credited: people one named in a trailer. Helped: authors whose pull requests one reviewed,
        # and authors who named one in a trailer (the named person is the one who helped).
        _distinct_others(given & ~is_review).alias("count_distinct_people_credited"),
        _distinct_others((given & is_review) | (received & ~is_review)).alias("count_distinct_people_helped"),
        pl.col("credit_key").n_unique().cast(pl.Int64).alias("count_credit_events"),
        pl.col("credit_key").unique().sort().alias("evidence_keys"),
    ]


MEASURES = (
    "count_coauthor_credits_given",
    "count_coauthor_credits_received",
    "count_review_credits_given",
    "count_review_credits_received",
    "count_other_trailer_credits_given",
    "count_other_trailer_credits_received",
    "count_reviews_given_on_others_prs",
    "count_reviews_received_on_own_prs",
    "count_distinct_people_credited",
    "count_distinct_people_helped",
    "count_credit_events",
    "evidence_keys",
)


def metric_rows(edges: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """metric_credit_sharing from the edge list: per person, repository team and everyone, per period."""
    events = periods(_by_role(edges, settings), "day", settings)
    return (
        by_subject(events, _aggregations())
        .select(*SUBJECT_KEYS, *PERIOD_KEYS, *MEASURES)
        .sort([*SUBJECT_KEYS, *PERIOD_KEYS], nulls_last=True)
    )


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    edges = credits(con, settings).collect()
    return {
        "fct_credits": edges,
        "metric_credit_sharing": metric_rows(edges.lazy(), settings).collect(),
    }
