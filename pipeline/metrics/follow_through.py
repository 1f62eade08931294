"""Follow-through: commitments and their outcomes, pull-request completion, review requests answered.

A commitment is (assignee, issue or PR, due date). The due date, by SPEC's precedence as of
as_of: a GitHub Projects date field named in [github].due_date_fields, else a Projects iteration's
last day (with_project_due_dates; the candidates: pipeline/github_projects.py), else the calendar date of the
milestone's due_on in UTC (GitHub stores 07:00/08:00 UTC, i.e. midnight US Pacific), of the
milestone the item had at as_of. Everyone ever assigned to a due-dated item has one commitment.
Outcomes at as_of (dates compared as end of day in settings.timezone):
  on_time     closed as completed (state_reason completed, or merged PR) on or before the due date
  late        closed as completed after it (slip_days = close date - due date)
  overdue     still open and past due
  pending     still open, not yet due (not counted in rates)
  dropped     closed as not planned, or unassigned after the due date
  handed_off  unassigned on or before the due date (not counted against them)
A reopened item counts by its last close; closing while assigned wins over a later unassignment.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from pipeline.metrics.common import (
    PERIOD_KEYS,
    SUBJECT_KEYS,
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
from pipeline.metrics.intervals import median_bounds

OUTCOMES = ("on_time", "late", "overdue", "pending", "dropped", "handed_off")


def _items(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT i.repo, i.number, i.is_pull_request, i.state, i.state_reason, i.closed_at, i.created_at,
                  i.milestone_number, i.assignee_logins, i.html_url, p.merged_at
           FROM stg_github__issues i
           LEFT JOIN stg_github__pull_requests p ON p.repo = i.repo AND p.number = i.number
           WHERE i.gone_reason IS NULL AND i.created_at <= ?""",
        [settings.as_of],
    )


def _events(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT repo, issue_number AS number, event_index, event, actor_login, created_at, assignee_login,
                  milestone_title, state_reason
           FROM stg_github__timeline_events
           WHERE event IN ('assigned', 'unassigned', 'milestoned', 'demilestoned', 'closed', 'reopened',
                           'commented')
             AND created_at <= ?""",
        [settings.as_of],
    )


def _milestone_due(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """(repo, milestone_number, title, due_date) as known at as_of: the latest observation made by
    then, else the earliest one, else the milestone as last synced."""
    return read(
        con,
        """WITH seen AS (
               SELECT repo, milestone_number, due_on,
                      row_number() OVER (PARTITION BY repo, milestone_number
                                         ORDER BY (first_observed_at <= $as_of) DESC,
                                                  CASE WHEN first_observed_at <= $as_of THEN first_observed_at END DESC,
                                                  first_observed_at) AS pick
               FROM raw_github__due_date_observations)
           SELECT m.repo, m.number AS milestone_number, m.title,
                  CAST(coalesce(s.due_on, m.due_on) AS DATE) AS due_date
           FROM stg_github__milestones m
           LEFT JOIN seen s ON s.repo = m.repo AND s.milestone_number = m.number AND s.pick = 1""",
        {"as_of": settings.as_of},  # type: ignore[arg-type]
    )


def _milestone_at_as_of(items: pl.LazyFrame, events: pl.LazyFrame, milestones: pl.LazyFrame) -> pl.LazyFrame:
    """The milestone each item had at as_of: its last (de)milestoned event, else its current one."""
    last = (
        events.filter(pl.col("event").is_in(["milestoned", "demilestoned"]))
        .sort("created_at", "event_index")
        .group_by("repo", "number")
        .agg(pl.col("event").last(), pl.col("milestone_title").last())
        .join(milestones.select("repo", "title", "milestone_number"), left_on=["repo", "milestone_title"],
              right_on=["repo", "title"], how="left")
        .select("repo", "number", pl.col("event").alias("milestone_event"),
                pl.col("milestone_number").alias("event_milestone_number"))
    )  # fmt: skip
    return (
        items.join(last, on=["repo", "number"], how="left")
        .with_columns(
            milestone_number=pl.when(pl.col("milestone_event") == "milestoned")
            .then(pl.col("event_milestone_number"))
            .when(pl.col("milestone_event") == "demilestoned")
            .then(None)
            .otherwise(pl.col("milestone_number"))
        )
        .drop("milestone_event", "event_milestone_number")
        .join(
            milestones.select("repo", "milestone_number", "due_date"),
            on=["repo", "milestone_number"],
            how="left",
        )
    )


def _close_at_as_of(items: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """closed_at and whether it completed the work, as of as_of (a reopened item counts by its last close)."""
    last = (
        events.filter(pl.col("event").is_in(["closed", "reopened"]))
        .sort("created_at", "event_index")
        .group_by("repo", "number")
        .agg(
            pl.col("event").last().alias("close_event"),
            pl.col("created_at").last().alias("close_event_at"),
            pl.col("state_reason").last().alias("close_event_reason"),
        )
    )
    from_events = pl.col("close_event").is_not_null()
    closed = (
        pl.when(from_events).then(pl.col("close_event") == "closed").otherwise(pl.col("state") == "closed")
    )
    reason = pl.when(from_events).then(pl.col("close_event_reason")).otherwise(pl.col("state_reason"))
    # A merged PR completed its work; a PR closed unmerged did not. Issues: anything but not_planned /
    # duplicate counts as completed (GitHub wrote no state_reason before 2022).
    completed = (
        pl.when(pl.col("is_pull_request"))
        .then(pl.col("merged_at").is_not_null())
        .otherwise(~reason.fill_null("completed").is_in(["not_planned", "duplicate"]))
    )
    return (
        items.join(last, on=["repo", "number"], how="left")
        .with_columns(
            is_closed=closed.fill_null(False),
            closed_at=pl.when(closed).then(
                pl.when(from_events).then(pl.col("close_event_at")).otherwise(pl.col("closed_at"))
            ),
        )
        .with_columns(is_completed=pl.col("is_closed") & completed.fill_null(True))
        .drop("close_event", "close_event_at", "close_event_reason")
    )


def _assignments(items: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """Everyone ever assigned: (repo, number, login, assigned_at, unassigned_at or NULL if still assigned)."""
    changes = events.filter(
        pl.col("event").is_in(["assigned", "unassigned"]) & pl.col("assignee_login").is_not_null()
    )
    from_events = (
        changes.sort("created_at", "event_index")
        .group_by("repo", "number", pl.col("assignee_login").alias("login"))
        .agg(
            pl.col("created_at").filter(pl.col("event") == "assigned").min().alias("assigned_at"),
            pl.col("event").last().alias("last_change"),
            pl.col("created_at").last().alias("last_change_at"),
        )
    )
    # Assignees GitHub shows now but whose assignment has no event (e.g. set at creation long ago).
    current = items.select("repo", "number", "created_at", pl.col("assignee_logins").alias("login")).explode(
        "login"
    )
    current = current.filter(pl.col("login").is_not_null())
    merged = from_events.join(current, on=["repo", "number", "login"], how="full", coalesce=True)
    return merged.select(
        "repo",
        "number",
        "login",
        pl.coalesce("assigned_at", "created_at").alias("assigned_at"),
        pl.when(pl.col("last_change") == "unassigned").then(pl.col("last_change_at")).alias("unassigned_at"),
    )


def _warnings(commitments: pl.LazyFrame, events: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """warned_before_due: the assignee commented on the item or changed its milestone by the end of the
    commitment's due date, whichever source gave it (a project date field, an iteration, a milestone).
    A project date changed before it passed is not a warning of the assignee's: GitHub does not say
    who changed a project field (the new date simply becomes the due date)."""
    signals = events.filter(pl.col("event").is_in(["commented", "milestoned", "demilestoned"])).select(
        "repo",
        "number",
        pl.col("actor_login").alias("login"),
        local_date("created_at", settings.timezone).alias("day"),
    )
    warned = (
        commitments.select("repo", "number", "login", "due_date")
        .join(signals, on=["repo", "number", "login"], how="inner")
        .filter(pl.col("day") <= pl.col("due_date"))
        .select("repo", "number", "login")
        .unique()
        .with_columns(warned_before_due=pl.lit(True))
    )
    return commitments.join(warned, on=["repo", "number", "login"], how="left").with_columns(
        pl.col("warned_before_due").fill_null(False)
    )


# SPEC's precedence over the milestone's due date (the projects' candidates: pipeline/github_projects.py).
PROJECT_DUE_COLUMNS = (
    "due_date_source",
    "due_project_owner",
    "due_project_number",
    "due_project_title",
    "due_field_name",
    "due_evidence",
)


def with_project_due_dates(
    items: pl.LazyFrame, con: duckdb.DuckDBPyConnection, as_of: datetime
) -> pl.LazyFrame:
    """`items` (repo, number, due_date from the milestone the item had at as_of, ...) with SPEC's
    precedence applied: the item's project due date known at as_of (a date field, else an
    iteration's last day; rule in sql/41 `perftrust_project_due_at`) replaces the milestone's.
    Adds PROJECT_DUE_COLUMNS: due_date_source is project_date, project_iteration or milestone (NULL
    without a due date); due_evidence reads 'Project "Roadmap", field "Target date"' or
    'Milestone "v1.2"' (the milestone's title when items has milestone_title, else its number)."""
    project = con.sql(
        """SELECT repo, number, due_date AS project_due_date, due_source, due_project_owner, due_project_number,
                  due_project_title, due_field_name, due_evidence AS project_evidence
           FROM perftrust_project_due_at(?)""",
        params=[as_of],
    ).pl()
    schema = items.collect_schema()
    project = project.with_columns(
        pl.col("repo").cast(schema["repo"]), pl.col("number").cast(schema["number"])
    )
    milestone = (
        pl.format('Milestone "{}"', "milestone_title")
        if "milestone_title" in schema
        else pl.format("Milestone #{}", "milestone_number")
    )
    has_project = pl.col("project_due_date").is_not_null()
    return (
        items.join(project.lazy(), on=["repo", "number"], how="left")
        .with_columns(
            due_date_source=pl.when(has_project)
            .then(pl.col("due_source"))
            .when(pl.col("due_date").is_not_null())
            .then(pl.lit("milestone")),
            due_evidence=pl.when(has_project)
            .then(pl.col("project_evidence"))
            .when(pl.col("due_date").is_not_null())
            .then(milestone),
            due_date=pl.coalesce("project_due_date", "due_date"),
        )
        .drop("project_due_date", "due_source", "project_evidence")
    )


def _project_due_moves(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """(repo, number) whose GitHub Projects due date moved after it had passed: at some run the
    item's project due date (SPEC's pick among its project candidates, as perftrust_project_due_at
    makes it, at that run) differed from the one the run before saw, and that one's day had passed
    (the run's day in the configured time zone is later). A date cleared, or the item taken off the
    project, after its day counts too; a first observation is no move (GitHub keeps no history)."""
    changes = read(
        con,
        """WITH obs AS (
               SELECT * FROM raw_github__project_due_observations WHERE first_observed_at <= $as_of
           ), moments AS (
               SELECT DISTINCT repo, number, first_observed_at AS seen_at FROM obs
           ), state AS (  -- each candidate at each moment: the stretch it was in then
               SELECT m.repo, m.number, m.seen_at, o.project_id, o.field_name, o.due_source, o.project_owner,
                      o.project_number, o.due_date,
                      row_number() OVER (PARTITION BY m.repo, m.number, m.seen_at, o.project_id, o.field_name
                                         ORDER BY o.first_observed_at DESC) AS latest
               FROM moments m JOIN obs o ON o.repo = m.repo AND o.number = m.number AND o.first_observed_at <= m.seen_at
           ), picked AS (
               SELECT repo, number, seen_at, due_date,
                      row_number() OVER (PARTITION BY repo, number, seen_at
                                         ORDER BY CASE due_source WHEN 'project_date' THEN 1 ELSE 2 END,
                                                  project_number, project_owner, field_name, project_id) AS due_rank
               FROM state WHERE latest = 1 AND due_date IS NOT NULL
           ), timeline AS (
               SELECT m.repo, m.number, m.seen_at, p.due_date,
                      lag(p.due_date) OVER (PARTITION BY m.repo, m.number ORDER BY m.seen_at) AS previous_due
               FROM moments m
               LEFT JOIN picked p ON p.repo = m.repo AND p.number = m.number AND p.seen_at = m.seen_at AND p.due_rank = 1
           )
           SELECT repo, number, seen_at, previous_due FROM timeline
           WHERE previous_due IS NOT NULL AND due_date IS DISTINCT FROM previous_due""",
        {"as_of": settings.as_of},  # type: ignore[arg-type]
    )
    return (
        changes.filter(local_date("seen_at", settings.timezone) > pl.col("previous_due"))
        .select("repo", "number")
        .unique()
        .with_columns(project_moved=pl.lit(True))
    )


def _due_moved_after_passed(
    con: duckdb.DuckDBPyConnection, commitments: pl.LazyFrame, events: pl.LazyFrame, settings: MetricSettings
) -> pl.LazyFrame:
    """A due date moved after it had passed. A GitHub Projects due date (due_date_source
    project_date / project_iteration): see _project_due_moves. A milestone's: the milestone's due
    date changed at a run after the old date, or the item left its milestone (demilestoned or moved)
    after that milestone's date. An item whose project due date moved after it passed and then fell
    back to its milestone counts as moved; a milestone's moves do not count while a project date is
    the due date (the commitment's date did not move)."""
    moved_milestones = read(
        con,
        """SELECT repo, milestone_number, true AS moved FROM (
               SELECT repo, milestone_number, first_observed_at,
                      lag(CAST(due_on AS DATE)) OVER (PARTITION BY repo, milestone_number ORDER BY first_observed_at)
                          AS previous_due
               FROM raw_github__due_date_observations WHERE first_observed_at <= ?)
           WHERE previous_due IS NOT NULL AND CAST(first_observed_at AS DATE) > previous_due
           GROUP BY ALL""",
        [settings.as_of],
    )
    left_late = (
        events.filter(pl.col("event") == "demilestoned")
        .join(
            read(
                con,
                "SELECT repo, title AS milestone_title, CAST(due_on AS DATE) AS left_due FROM stg_github__milestones",
            ),
            on=["repo", "milestone_title"],
            how="inner",
        )
        .filter(local_date("created_at", settings.timezone) > pl.col("left_due"))
        .select("repo", "number")
        .unique()
        .with_columns(item_moved=pl.lit(True))
    )
    from_milestone = pl.col("due_date_source") == "milestone"
    return (
        commitments.join(moved_milestones, on=["repo", "milestone_number"], how="left")
        .join(left_late, on=["repo", "number"], how="left")
        .join(_project_due_moves(con, settings), on=["repo", "number"], how="left")
        .with_columns(
            due_moved_after_passed=(
                from_milestone & (pl.col("moved").fill_null(False) | pl.col("item_moved").fill_null(False))
            )
            | pl.col("project_moved").fill_null(False)
        )
        .drop("moved", "item_moved", "project_moved")
    )


def outcome_expr(settings: MetricSettings) -> pl.Expr:
    """The SPEC outcome of a commitment row (see the module docstring)."""
    close_day = local_date("closed_at", settings.timezone)
    unassign_day = local_date("unassigned_at", settings.timezone)
    closed_while_assigned = pl.col("is_closed") & (
        pl.col("unassigned_at").is_null() | (pl.col("unassigned_at") >= pl.col("closed_at"))
    )
    return (
        pl.when(closed_while_assigned & pl.col("is_completed") & (close_day <= pl.col("due_date")))
        .then(pl.lit("on_time"))
        .when(closed_while_assigned & pl.col("is_completed"))
        .then(pl.lit("late"))
        .when(closed_while_assigned)
        .then(pl.lit("dropped"))
        .when(pl.col("unassigned_at").is_not_null() & (unassign_day <= pl.col("due_date")))
        .then(pl.lit("handed_off"))
        .when(pl.col("unassigned_at").is_not_null())
        .then(pl.lit("dropped"))
        .when(pl.lit(settings.as_of_date) > pl.col("due_date"))
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("pending"))
    )


def commitments(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """fct_commitments as a lazy frame (bots included, flagged). The due date by SPEC's precedence as
    of as_of: a GitHub Projects date field, else an iteration's last day, else the milestone's."""
    events = _events(con, settings)
    milestones = _milestone_due(con, settings)
    dated = _milestone_at_as_of(_items(con, settings), events, milestones).join(
        milestones.select("repo", "milestone_number", pl.col("title").alias("milestone_title")),
        on=["repo", "milestone_number"],
        how="left",
    )
    items = _close_at_as_of(with_project_due_dates(dated, con, settings.as_of), events)
    due_items = items.filter(pl.col("due_date").is_not_null())
    logins = read(
        con,
        """SELECT i.name AS login, i.contributor_id, c.is_bot
           FROM dim_identities i JOIN dim_contributors c USING (contributor_id) WHERE i.source = 'github'""",
    )
    rows = (
        _assignments(due_items, events)
        .join(due_items, on=["repo", "number"], how="inner")
        .join(logins, on="login", how="left")
    )
    rows = _warnings(rows, events, settings)
    rows = _due_moved_after_passed(con, rows, events, settings)
    kind = pl.when(pl.col("is_pull_request")).then(pl.lit("pr")).otherwise(pl.lit("issue"))
    close_day = local_date("closed_at", settings.timezone)
    return rows.with_columns(outcome=outcome_expr(settings)).select(
        pl.format("github:commitment:{}#{}/{}", "repo", "number", "login").alias("commitment_key"),
        "repo",
        "number",
        pl.format("github:{}:{}#{}", kind, "repo", "number").alias("item_key"),
        pl.col("is_pull_request"),
        pl.col("login").alias("assignee_login"),
        pl.col("contributor_id"),
        pl.col("is_bot").fill_null(False).alias("is_assignee_bot"),
        "milestone_number",
        "due_date_source",
        "due_date",
        "due_project_owner",
        "due_project_number",
        "due_project_title",
        "due_field_name",
        "due_evidence",
        "assigned_at",
        "unassigned_at",
        "closed_at",
        "outcome",
        pl.when(pl.col("outcome") == "late")
        .then((close_day - pl.col("due_date")).dt.total_days())
        .alias("slip_days"),
        "warned_before_due",
        "due_moved_after_passed",
        "html_url",
    )


def _commitment_measures(facts: pl.LazyFrame, settings: MetricSettings) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(subject rows, repository-team member rows) of the commitment measures."""
    events = (
        periods(
            facts.filter(~pl.col("is_assignee_bot") & pl.col("contributor_id").is_not_null()),
            "due_date",
            settings,
        )
        .collect()
        .lazy()
    )  # read twice (subjects, members): computed once
    counts = [
        *[(pl.col("outcome") == o).sum().alias(f"count_{o}") for o in OUTCOMES],
        pl.len().alias("count_commitments"),
    ]
    late = pl.col("slip_days").filter(pl.col("outcome") == "late").drop_nulls()
    rows = by_subject(
        events,
        [
            *counts,
            late.median().alias("slip_days_median"),
            late.sort().cast(pl.Float64).alias("_slip_days_sorted"),
            pl.col("commitment_key").sort().alias("commitment_keys"),
        ],
    )
    return rows, by_member(events, counts)


def _pull_request_measures(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    prs = read(
        con,
        "SELECT repo, pull_request_key, author_login AS login, is_merged, closed_at FROM fct_pull_requests "
        "WHERE closed_at IS NOT NULL AND closed_at <= ?",
        [settings.as_of],
    ).join(humans_by_login(con, settings), on="login", how="inner")
    events = periods(prs.with_columns(day=local_date("closed_at", settings.timezone)), "day", settings)
    events = events.collect().lazy()  # read twice: computed once
    counts = [
        pl.col("is_merged").sum().alias("count_prs_merged"),
        (~pl.col("is_merged")).sum().alias("count_prs_closed_unmerged"),
    ]
    rows = by_subject(events, [*counts, pl.col("pull_request_key").sort().alias("pull_request_keys")])
    return rows, by_member(events, counts)


def review_request_outcome(settings: MetricSettings) -> pl.Expr:
    """answered / answered_late (after review_response_hours) / dropped (unanswered past that) /
    pending (unanswered, still within it) / removed (withdrawn: not counted)."""
    age_hours = (pl.lit(settings.as_of) - pl.col("requested_at")).dt.total_seconds() / 3600
    limit = settings.review_response_hours
    return (
        pl.when(pl.col("status") == "answered")
        .then(
            pl.when(pl.col("response_hours") <= limit)
            .then(pl.lit("answered"))
            .otherwise(pl.lit("answered_late"))
        )
        .when(pl.col("status") == "removed")
        .then(pl.lit("removed"))
        .when(age_hours > limit)
        .then(pl.lit("dropped"))
        .otherwise(pl.lit("pending"))
    )


def _review_request_measures(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    requests = read(
        con,
        """SELECT repo, review_request_key, reviewer_login AS login, requested_at,
                  CASE WHEN answered_at <= $as_of THEN 'answered'
                       WHEN removed_at <= $as_of THEN 'removed' ELSE 'unanswered' END AS status,
                  CASE WHEN answered_at <= $as_of THEN response_hours END AS response_hours
           FROM fct_review_requests WHERE reviewer_login IS NOT NULL AND requested_at <= $as_of""",
        {"as_of": settings.as_of},  # type: ignore[arg-type]
    ).join(humans_by_login(con, settings), on="login", how="inner")
    requests = requests.with_columns(
        review_outcome=review_request_outcome(settings), day=local_date("requested_at", settings.timezone)
    )
    events = periods(requests, "day", settings).collect().lazy()  # read twice: computed once
    counts = [
        (pl.col("review_outcome") == o).sum().alias(f"count_review_requests_{o}")
        for o in ("answered", "answered_late", "dropped", "pending", "removed")
    ]
    hours = pl.col("response_hours").drop_nulls()
    rows = by_subject(
        events,
        [
            *counts,
            hours.median().alias("review_response_hours_median"),
            hours.sort().alias("_review_response_hours_sorted"),
            pl.col("review_request_key").sort().alias("review_request_keys"),
        ],
    )
    return rows, by_member(events, counts)


def _outer_join(frames: list[pl.LazyFrame]) -> pl.LazyFrame:
    """Full join on subject and period (null team/contributor ids compare equal)."""
    keys = [*SUBJECT_KEYS, *PERIOD_KEYS]
    result = frames[0]
    for frame in frames[1:]:
        result = result.join(frame, on=keys, how="full", coalesce=True, nulls_equal=True)
    return result


RATES = {  # rate -> (numerator, denominator): count columns kept as they were
    "on_time_rate": ("count_on_time", "count_on_time_denominator"),
    "pr_completion_rate": ("count_prs_merged", "count_prs_resolved"),
    "review_follow_through_rate": ("count_review_requests_answered", "count_review_requests_due"),
}
MEDIANS = {  # median -> its sorted values
    "slip_days_median": "_slip_days_sorted",
    "review_response_hours_median": "_review_response_hours_sorted",
}


def _derived_counts(frame: pl.LazyFrame) -> pl.LazyFrame:
    counts = [c for c in frame.collect_schema().names() if c.startswith("count_")]
    return frame.with_columns(pl.col(counts).fill_null(0)).with_columns(
        count_on_time_denominator=pl.col("count_on_time")
        + pl.col("count_late")
        + pl.col("count_overdue")
        + pl.col("count_dropped"),
        count_prs_resolved=pl.col("count_prs_merged") + pl.col("count_prs_closed_unmerged"),
        count_review_requests_due=pl.col("count_review_requests_answered")
        + pl.col("count_review_requests_answered_late")
        + pl.col("count_review_requests_dropped"),
    )


def _rate_columns(min_n: int) -> list[pl.Expr]:
    return [e for name, (num, den) in RATES.items() for e in rate(name, num, den, min_n)]


def _median_columns(min_n: int) -> list[pl.Expr]:
    """Each median's 95% bounds and is_enough_data_<median> (at least min_n values). Person rows:
    the order-statistic interval (values taken as independent). Team rows: Woodruff's interval over
    people (common.by_subject made it: <values>_team_lower / _upper), as values of one person are
    not independent."""
    out = []
    for name, values in MEDIANS.items():
        sorted_values = pl.col(values).fill_null(pl.lit([], dtype=pl.List(pl.Float64)))
        lower, upper = median_bounds(sorted_values, sorted_values.list.len())
        person = pl.col("team_id").is_null()
        out += [
            pl.when(person).then(lower).otherwise(pl.col(f"{values}_team_lower")).alias(f"{name}_lower"),
            pl.when(person).then(upper).otherwise(pl.col(f"{values}_team_upper")).alias(f"{name}_upper"),
            (sorted_values.list.len() >= min_n).alias(f"is_enough_data_{name}"),
        ]
    return out


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    facts = commitments(con, settings).collect()
    parts = [
        _commitment_measures(facts.lazy(), settings),
        _pull_request_measures(con, settings),
        _review_request_measures(con, settings),
    ]
    joined = _outer_join([rows for rows, _ in parts])
    members = _derived_counts(_outer_join([m for _, m in parts])).with_columns(_rate_columns(settings.min_n))
    metric = with_team_intervals(
        _derived_counts(joined).with_columns(
            *_rate_columns(settings.min_n),
            *_median_columns(settings.min_n),
            evidence_keys=pl.concat_list(
                pl.col("commitment_keys").fill_null([]),
                pl.col("pull_request_keys").fill_null([]),
                pl.col("review_request_keys").fill_null([]),
            ),
        ),
        members,
        list(RATES),
    )
    table = (
        metric.drop(
            "commitment_keys",
            "pull_request_keys",
            "review_request_keys",
            *(f"{v}{s}" for v in MEDIANS.values() for s in ("", "_team_lower", "_team_upper")),
        )
        .sort(["team_id", "contributor_id", *PERIOD_KEYS], nulls_last=False)
        .collect()
    )
    return {"fct_commitments": facts.sort("commitment_key"), "metric_follow_through": table}
