"""Communication: do a person's pull requests explain themselves and point at the issue they serve,
and do they answer the review comments left on them? One row per subject (person, repository team,
everyone) and period (ISO week, calendar month, trailing window). No score and no rank.

Definitions (the column comments in sql/53_metrics_consistency.sql say the same to SQL users):

- PRs counted: pull requests the subject opened, dated by when they were opened (drafts and PRs
  closed unmerged included); texts are as they are now (GitHub keeps no history of a description).
- non-trivial description: the body with HTML comments (<!-- -->, where templates keep their
  instructions), Markdown heading lines and task-list lines ("- [ ] ...", "- [x] ...") removed and
  whitespace collapsed has at least DESCRIPTION_MIN_CHARS characters, and that remaining text is
  not shared: the same text (ignoring case) left by at least TEMPLATE_MIN_AUTHORS (3) different
  authors in the repository is an unfilled template or boilerplate.
- linked to an issue: (1) the body (outside HTML comments) uses a GitHub closing keyword before an
  issue reference: close/closes/closed/fix/fixes/fixed/resolve/resolves/resolved, optional colon,
  then #N, owner/name#N or an .../issues/N URL; or (2) an issue's timeline holds a cross-referenced
  event whose source is the pull request (it mentions the issue: body, comment or commit); or
  (3) the pull request's timeline holds a cross-referenced event whose source is an issue (the issue
  mentions it); or (4) the pull request's timeline has more connected than disconnected events (a
  link made in GitHub's Development sidebar). Timeline events after as_of do not count.
- review comment answered: a diff comment (stg_github__review_comments) on the subject's pull
  request written by another human is answered by the pull-request author's first comment in the
  same thread (in_reply_to_id, resolved to the thread's first comment) at or after it. Dated by the
  answer; n is the comments answered. Unanswered comments are not a rate here: many are settled by
  a code change, not a reply. Conversation comments have no thread structure and are not used.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.metrics.common import (
    MetricSettings,
    by_member,
    by_subject,
    humans_by_login,
    local_date,
    periods,
    rate,
    read,
    with_team_intervals,
)
from pipeline.metrics.consistency import gated, hours_between
from pipeline.metrics.intervals import median_bounds

TABLE = "metric_communication"
DESCRIPTION_MIN_CHARS = 30
TEMPLATE_MIN_AUTHORS = 3

_KEYWORD = r"(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)"
CLOSING_REFERENCE = (
    rf"(?i)\b{_KEYWORD}:?[ \t]+(?:(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#[0-9]+|https?://\S+/issues/[0-9]+)\b"
)

COLUMNS: dict[str, pl.DataType] = {
    "contributor_id": pl.String(),
    "team_id": pl.String(),
    "period_type": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "count_prs_opened": pl.Int64(),
    "pr_description_share": pl.Float64(),
    "pr_description_share_numerator": pl.Int64(),
    "pr_description_share_denominator": pl.Int64(),
    "pr_description_share_lower": pl.Float64(),
    "pr_description_share_upper": pl.Float64(),
    "is_enough_data_pr_description_share": pl.Boolean(),
    "pr_issue_link_share": pl.Float64(),
    "pr_issue_link_share_numerator": pl.Int64(),
    "pr_issue_link_share_denominator": pl.Int64(),
    "pr_issue_link_share_lower": pl.Float64(),
    "pr_issue_link_share_upper": pl.Float64(),
    "is_enough_data_pr_issue_link_share": pl.Boolean(),
    "count_review_comments_answered": pl.Int64(),
    "review_comment_response_median_hours": pl.Float64(),
    "review_comment_response_median_hours_lower": pl.Float64(),
    "review_comment_response_median_hours_upper": pl.Float64(),
    "is_enough_data_review_comment_response_median_hours": pl.Boolean(),
    "is_enough_data_review_comment_response": pl.Boolean(),
    "evidence_keys": pl.List(pl.String()),
}


# -- descriptions -----------------------------------------------------------------------------------


def without_html_comments(body: pl.Expr) -> pl.Expr:
    return body.fill_null("").str.replace_all(r"(?s)<!--.*?-->", "")


def description_text(body: pl.Expr) -> pl.Expr:
    """What the author wrote: no HTML comments, heading lines or task-list lines; whitespace collapsed."""
    return (
        without_html_comments(body)
        .str.replace_all(r"(?m)^[ \t]*#{1,6}(?:[ \t][^\n]*)?$", "")
        .str.replace_all(r"(?m)^[ \t]*[-*+][ \t]+\[[ xX]\][^\n]*$", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def is_shared_text(text: str, author: str) -> pl.Expr:
    """The same text (ignoring case) used by at least TEMPLATE_MIN_AUTHORS authors in the repository."""
    authors = pl.col(author).drop_nulls().n_unique().over(["repo", pl.col(text).str.to_lowercase()])
    return authors >= TEMPLATE_MIN_AUTHORS


def is_described(text: str, author: str) -> pl.Expr:
    return (pl.col(text).str.len_chars() >= DESCRIPTION_MIN_CHARS) & ~is_shared_text(text, author)


def has_closing_reference(body: pl.Expr) -> pl.Expr:
    return without_html_comments(body).str.contains(CLOSING_REFERENCE)


# -- inputs -----------------------------------------------------------------------------------------


def _pull_requests(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT p.repo, p.number, p.pull_request_key AS key, p.author_login AS login, p.created_at, s.body
           FROM fct_pull_requests p
           JOIN stg_github__pull_requests s ON s.repo = p.repo AND s.number = p.number
           WHERE p.created_at <= ?""",
        [settings.as_of],
    )


def _link_events(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """cross-referenced, connected and disconnected timeline events up to as_of, with whether the
    timeline's own item and the reference's source are pull requests. The source's repository is its
    repository.full_name, else the owner/name in its repository_url, else the timeline's own
    repository; the source flag and repository_url come from the payload (stg_github__timeline_events
    does not carry them)."""
    return read(
        con,
        """SELECT t.repo, t.issue_number AS number, t.event,
                  coalesce(i.is_pull_request, p.number IS NOT NULL) AS is_pull_request,
                  lower(coalesce(
                      t.source_repo_full_name,
                      nullif(regexp_extract(r.payload->>'$.source.issue.repository_url', '/repos/([^/]+/[^/]+)$', 1), ''),
                      t.repo)) AS source_repo,
                  t.source_issue_number AS source_number,
                  coalesce(json_type(r.payload, '$.source.issue.pull_request'), 'NULL') <> 'NULL' AS source_is_pull_request
           FROM stg_github__timeline_events t
           JOIN raw_github__timeline_events r USING (repo, issue_number, event_index)
           LEFT JOIN stg_github__issues i ON i.repo = t.repo AND i.number = t.issue_number
           LEFT JOIN stg_github__pull_requests p ON p.repo = t.repo AND p.number = t.issue_number
           WHERE t.event IN ('cross-referenced', 'connected', 'disconnected') AND t.created_at <= ?""",
        [settings.as_of],
    )


def _repository_names(con: duckdb.DuckDBPyConnection) -> pl.LazyFrame:
    """repo key -> every lower-case owner/name it is known by (the key itself, GitHub's full_name)."""
    return read(
        con,
        """SELECT DISTINCT repo, lower(repo) AS source_repo FROM stg_github__pull_requests
           UNION SELECT repo, lower(full_name) FROM raw_github__repositories""",
    )


def _review_comments(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT c.repo, c.pull_number, c.comment_id, c.in_reply_to_id, c.author_login AS login,
                  c.created_at, p.author_login AS pull_request_author_login
           FROM stg_github__review_comments c
           JOIN stg_github__pull_requests p ON p.repo = c.repo AND p.number = c.pull_number
           WHERE c.created_at <= ?""",
        [settings.as_of],
    )


# -- links ------------------------------------------------------------------------------------------


def linked_by_timeline(link_events: pl.LazyFrame, names: pl.LazyFrame) -> pl.LazyFrame:
    """(repo, number) of pull requests a timeline links to an issue."""
    is_cross = pl.col("event") == "cross-referenced"
    from_issue_timeline = (
        link_events.filter(is_cross & ~pl.col("is_pull_request") & pl.col("source_is_pull_request"))
        .join(names, on="source_repo", how="inner", suffix="_source")
        .select(repo=pl.col("repo_source"), number=pl.col("source_number"))
    )
    mentioned_by_issue = link_events.filter(
        is_cross & pl.col("is_pull_request") & ~pl.col("source_is_pull_request")
    ).select("repo", "number")
    connected = (
        link_events.filter(pl.col("is_pull_request"))
        .group_by("repo", "number")
        .agg(
            balance=(pl.col("event") == "connected").sum().cast(pl.Int64)
            - (pl.col("event") == "disconnected").sum().cast(pl.Int64)
        )
        .filter(pl.col("balance") > 0)
        .select("repo", "number")
    )
    return pl.concat([from_issue_timeline, mentioned_by_issue, connected]).unique()


# -- review-comment answers -------------------------------------------------------------------------


def with_thread(comments: pl.LazyFrame) -> pl.LazyFrame:
    """thread_id: the first comment of the thread (in_reply_to_id, followed one more step if it
    points at a reply itself)."""
    parents = comments.select(
        "repo", in_reply_to_id=pl.col("comment_id"), _parent_reply_to=pl.col("in_reply_to_id")
    )
    return comments.join(parents, on=["repo", "in_reply_to_id"], how="left").with_columns(
        thread_id=pl.coalesce("_parent_reply_to", "in_reply_to_id", "comment_id")
    )


def answered_comments(comments: pl.LazyFrame, humans: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """One row per review comment by another human on a human's pull request that its author answered:
    contributor_id (the author), repo, day (of the answer), key, response_hours."""
    threaded = (
        with_thread(comments)
        .join(humans, on="login", how="inner")
        .join(
            humans.select(
                pull_request_author_login=pl.col("login"), author_contributor_id=pl.col("contributor_id")
            ),
            on="pull_request_author_login",
            how="inner",
        )
    )
    by_author = pl.col("contributor_id") == pl.col("author_contributor_id")
    received = threaded.filter(~by_author).select(
        "repo", "pull_number", "comment_id", "thread_id", "created_at", "author_contributor_id"
    )
    replies = threaded.filter(by_author).select("repo", "thread_id", answered_at=pl.col("created_at"))
    return (
        received.join(replies, on=["repo", "thread_id"], how="inner")
        .filter(pl.col("answered_at") >= pl.col("created_at"))
        .group_by("repo", "pull_number", "comment_id", "created_at", "author_contributor_id")
        .agg(pl.col("answered_at").min())
        .select(
            contributor_id=pl.col("author_contributor_id"),
            repo=pl.col("repo"),
            day=local_date("answered_at", settings.timezone),
            key=pl.concat_str(
                [
                    pl.lit("github:review_comment:"),
                    pl.col("repo"),
                    pl.lit("#"),
                    pl.col("pull_number").cast(pl.String),
                    pl.lit("/"),
                    pl.col("comment_id").cast(pl.String),
                ]
            ),
            response_hours=hours_between("created_at", "answered_at"),
        )
    )


# -- rows -------------------------------------------------------------------------------------------


def pull_request_events(
    pull_requests: pl.LazyFrame, linked: pl.LazyFrame, humans: pl.LazyFrame, settings: MetricSettings
) -> pl.LazyFrame:
    """One row per pull request opened by a human: is_described, is_linked."""
    flagged = pull_requests.with_columns(_text=description_text(pl.col("body"))).with_columns(
        is_described=is_described("_text", "login"),
        _closing=has_closing_reference(pl.col("body")),
    )
    return (
        flagged.join(linked.with_columns(_timeline=pl.lit(True)), on=["repo", "number"], how="left")
        .join(humans, on="login", how="inner")
        .select(
            "contributor_id",
            "repo",
            "key",
            "is_described",
            day=local_date("created_at", settings.timezone),
            is_linked=pl.col("_closing") | pl.col("_timeline").fill_null(False),
        )
    )


def aggregations() -> list[pl.Expr]:
    return [
        pl.col("is_described").count().cast(pl.Int64).alias("count_prs_opened"),
        pl.col("is_described").sum().cast(pl.Int64).alias("pr_description_share_numerator"),
        pl.col("is_linked").sum().cast(pl.Int64).alias("pr_issue_link_share_numerator"),
        pl.col("response_hours").count().cast(pl.Int64).alias("count_review_comments_answered"),
        pl.col("response_hours").median().alias("_response_median"),
        pl.col("response_hours").drop_nulls().sort().alias("_response_sorted"),
        pl.col("key").drop_nulls().unique().sort().alias("evidence_keys"),
    ]


RATES = ("pr_description_share", "pr_issue_link_share")


def member_aggregations() -> list[pl.Expr]:
    """The counts behind the rates, per person and repository (the members of repository teams)."""
    return [
        pl.col("is_described").count().cast(pl.Int64).alias("count_prs_opened"),
        pl.col("is_described").sum().cast(pl.Int64).alias("pr_description_share_numerator"),
        pl.col("is_linked").sum().cast(pl.Int64).alias("pr_issue_link_share_numerator"),
    ]


def rates(rows: pl.LazyFrame, min_n: int) -> pl.LazyFrame:
    return rows.with_columns(
        pr_description_share_denominator=pl.col("count_prs_opened"),
        pr_issue_link_share_denominator=pl.col("count_prs_opened"),
    ).with_columns(
        *(e for name in RATES for e in rate(name, f"{name}_numerator", f"{name}_denominator", min_n))
    )


def finish(rows: pl.LazyFrame, settings: MetricSettings, members: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """The table's rows; `members` (by_member of member_aggregations) gives repository teams their
    interval over people (without it, those bounds stay NULL)."""
    min_n = settings.min_n
    metric = rates(rows, min_n)
    if members is None:
        members = metric.filter(pl.lit(False)).select(
            "team_id", "contributor_id", "period_type", "period_start", "period_end",
            *(f"{r}_{p}" for r in RATES for p in ("numerator", "denominator")),
        )  # fmt: skip
    else:
        members = rates(members, min_n)
    sorted_hours = pl.col("_response_sorted").fill_null(pl.lit([], dtype=pl.List(pl.Float64)))
    lower, upper = median_bounds(sorted_hours, sorted_hours.list.len())
    enough = pl.col("count_review_comments_answered") >= min_n
    person = pl.col("team_id").is_null()
    return (
        with_team_intervals(metric, members, list(RATES))
        .with_columns(
            gated("_response_median", "count_review_comments_answered", min_n).alias(
                "review_comment_response_median_hours"
            ),
            # Team rows: Woodruff's interval over people (by_subject made it, see common.py).
            pl.when(enough)
            .then(pl.when(person).then(lower).otherwise(pl.col("_response_sorted_team_lower")))
            .alias("review_comment_response_median_hours_lower"),
            pl.when(enough)
            .then(pl.when(person).then(upper).otherwise(pl.col("_response_sorted_team_upper")))
            .alias("review_comment_response_median_hours_upper"),
            enough.alias("is_enough_data_review_comment_response_median_hours"),
            enough.alias("is_enough_data_review_comment_response"),
        )
        .select([pl.col(name).cast(dtype) for name, dtype in COLUMNS.items()])
        .sort(["period_type", "period_start", "team_id", "contributor_id"], nulls_last=True)
    )


def events(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    humans = humans_by_login(con, settings)
    linked = linked_by_timeline(_link_events(con, settings), _repository_names(con))
    prs = pull_request_events(_pull_requests(con, settings), linked, humans, settings)
    answers = answered_comments(_review_comments(con, settings), humans, settings)
    return pl.concat([prs, answers], how="diagonal_relaxed")


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    dated = periods(events(con, settings), "day", settings).collect().lazy()  # read twice: computed once
    rows = by_subject(dated, aggregations())
    return {TABLE: finish(rows, settings, by_member(dated, member_aggregations())).collect()}
