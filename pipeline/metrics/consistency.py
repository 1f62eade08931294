"""Consistency: is a person (or team) steadily active, are their pull requests predictable, does their
work stick? One row per subject (person, repository team, everyone) and period (ISO week, calendar
month, trailing window). No score and no rank: each measure comes with its n and the evidence keys.

Definitions (the column comments in sql/53_metrics_consistency.sql say the same to SQL users):

- activity: a reachable commit the person authored (merges included), a pull request or an issue
  they opened, a review they submitted (any state except pending; replies on their own pull request
  count, GitHub records those as reviews), or a comment they wrote on an issue or a pull request
  conversation. Dated by its timestamp's calendar date in settings.timezone; nothing after as_of.
- observed span of a row: from the later of the period start and the subject's first activity on
  record (nobody is "inactive" before they first appear), to the earlier of the period end and
  as_of (the current week or month is not over yet).
- weeks of a row: the ISO weeks (Monday to Sunday) that overlap the observed span, partial weeks
  included; a week is active if any day of it inside the span had activity.
- active_weeks_ratio = active weeks / weeks, Wilson interval via rate(). NULL on week rows: a single
  week is always 0/1 or 1/1 and rows only exist where something happened, so it would say nothing.
- weekly_activity_cv: population coefficient of variation (std / mean, ddof 0) of active DAYS per
  week (0-7, zeros for idle weeks) over the row's weeks; days rather than events so that splitting
  work into more commits changes nothing. NULL with fewer than min_n weeks, on week rows and when
  there was no activity at all.
- longest_gap_days: the longest run of calendar days without activity inside the observed span,
  leading and trailing runs included; the whole span when there was no activity.
- PR cycle time: hours from opened to merged for the subject's pull requests merged in the period
  (dated by the merge); median and IQR (linear interpolation, q75 - q25), NULL below min_n merged.
- revert_rate: the subject's own non-merge reachable commits authored in the period that a
  reachable commit authored by as_of (by anyone, bots included) reverts ("This reverts commit"),
  divided by those commits. Judged at as_of, so a commit reverted later raises its old period's rate.
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
    rate,
    read,
    with_team_intervals,
)
from pipeline.metrics.intervals import median_bounds

TABLE = "metric_consistency"

# kind of an activity event -> the count column that reports it
ACTIVITY_COUNTS = {
    "commit": "count_commits_authored",
    "pull_request": "count_prs_opened",
    "issue": "count_issues_opened",
    "review": "count_reviews_submitted",
    "comment": "count_comments_written",
}

COLUMNS: dict[str, pl.DataType] = {
    "contributor_id": pl.String(),
    "team_id": pl.String(),
    "period_type": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "observed_start": pl.Date(),
    "observed_end": pl.Date(),
    **{column: pl.Int64() for column in ACTIVITY_COUNTS.values()},
    "count_active_days": pl.Int64(),
    "active_weeks_ratio": pl.Float64(),
    "active_weeks_ratio_numerator": pl.Int64(),
    "active_weeks_ratio_denominator": pl.Int64(),
    "active_weeks_ratio_lower": pl.Float64(),
    "active_weeks_ratio_upper": pl.Float64(),
    "is_enough_data_active_weeks_ratio": pl.Boolean(),
    "weeks_with_anyone_active_ratio": pl.Float64(),
    "weeks_with_anyone_active_ratio_numerator": pl.Int64(),
    "weeks_with_anyone_active_ratio_denominator": pl.Int64(),
    "weeks_with_anyone_active_ratio_lower": pl.Float64(),
    "weeks_with_anyone_active_ratio_upper": pl.Float64(),
    "is_enough_data_weeks_with_anyone_active_ratio": pl.Boolean(),
    "weekly_activity_cv": pl.Float64(),
    "is_enough_data_weekly_activity_cv": pl.Boolean(),
    "longest_gap_days": pl.Int64(),
    "count_prs_merged": pl.Int64(),
    "pr_cycle_time_median_hours": pl.Float64(),
    "pr_cycle_time_median_hours_lower": pl.Float64(),
    "pr_cycle_time_median_hours_upper": pl.Float64(),
    "is_enough_data_pr_cycle_time_median_hours": pl.Boolean(),
    "pr_cycle_time_iqr_hours": pl.Float64(),
    "is_enough_data_pr_cycle_time": pl.Boolean(),
    "revert_rate": pl.Float64(),
    "revert_rate_numerator": pl.Int64(),
    "revert_rate_denominator": pl.Int64(),
    "revert_rate_lower": pl.Float64(),
    "revert_rate_upper": pl.Float64(),
    "is_enough_data_revert_rate": pl.Boolean(),
    "evidence_keys": pl.List(pl.String()),
}


def commit_key(repo: str = "repo", sha: str = "sha") -> pl.Expr:
    """Evidence key of a commit: git:commit:<repo>@<sha>."""
    return pl.concat_str([pl.lit("git:commit:"), pl.col(repo), pl.lit("@"), pl.col(sha)])


def hours_between(start: str, end: str) -> pl.Expr:
    # Rounded to a microsecond's worth: Polars divides a column by a constant with vectorised code
    # that can give 0.9999999999999999 for 3,600,000 ms in one chunk layout and 1.0 in another,
    # and a rerun over the same rows in another order must give the same table.
    return ((pl.col(end) - pl.col(start)).dt.total_milliseconds().cast(pl.Float64) / 3_600_000.0).round(9)


# -- inputs -----------------------------------------------------------------------------------------


def _commits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Reachable commits authored by as_of, by anyone (a bot's revert still reverts)."""
    return commits(con, settings).select(
        "repo", "sha", "contributor_id", pl.col("authored_at").alias("occurred_at"), "is_merge", "is_revert",
        "reverted_sha",
    )  # fmt: skip


def _github_activity(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Pull requests and issues opened, reviews submitted, comments written: (repo, key, kind, login, occurred_at)."""
    return read(
        con,
        """SELECT * FROM (
               SELECT repo, pull_request_key AS key, 'pull_request' AS kind, author_login AS login,
                      created_at AS occurred_at FROM fct_pull_requests
               UNION ALL SELECT repo, issue_key, 'issue', author_login, created_at FROM fct_issues
               UNION ALL SELECT repo, review_key, 'review', reviewer_login, submitted_at FROM fct_reviews
               UNION ALL SELECT repo, 'github:comment:' || repo || '#' || issue_number || '/'
                                || coalesce(CAST(event_id AS VARCHAR), 'event' || event_index),
                                'comment', actor_login, created_at
                         FROM stg_github__timeline_events WHERE event = 'commented'
           ) WHERE occurred_at <= ?""",
        [settings.as_of],
    )


def _merged_pull_requests(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        """SELECT repo, pull_request_key AS key, author_login AS login, created_at, merged_at
           FROM fct_pull_requests WHERE merged_at IS NOT NULL AND merged_at <= ?""",
        [settings.as_of],
    )


# -- events: one frame, one row per thing that happened, aggregated once by by_subject ---------------


def _commit_events(
    commits: pl.LazyFrame, people: pl.LazyFrame, settings: MetricSettings
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(own commits as activity, with is_reverted on non-merge ones; the reverting commits as evidence)."""
    own = commits.join(people, on="contributor_id", how="semi").with_columns(
        day=local_date("occurred_at", settings.timezone), key=commit_key()
    )
    reverts = commits.filter(pl.col("is_revert") & pl.col("reverted_sha").is_not_null()).select(
        "repo", sha=pl.col("reverted_sha"), revert_key=commit_key()
    )
    reverted = reverts.select("repo", "sha").unique().with_columns(_reverted=pl.lit(True))
    activity = (
        own.join(reverted, on=["repo", "sha"], how="left")
        .with_columns(
            kind=pl.lit("commit"),
            is_activity=pl.lit(True),
            is_reverted=pl.when(~pl.col("is_merge")).then(pl.col("_reverted").fill_null(False)),
        )
        .select("contributor_id", "repo", "day", "key", "kind", "is_activity", "is_reverted")
    )
    evidence = (
        own.filter(~pl.col("is_merge"))
        .join(reverts, on=["repo", "sha"], how="inner")
        .select("contributor_id", "repo", "day", key=pl.col("revert_key"), kind=pl.lit("revert"))
        .with_columns(is_activity=pl.lit(False))
    )
    return activity, evidence


def events(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Everything the family counts, one row each: contributor_id, repo, day, key, kind,
    is_activity, is_reverted (own non-merge commits), cycle_hours (merged pull requests)."""
    humans = humans_by_login(con, settings)
    people = human_contributors(con, settings)
    commit_activity, revert_evidence = _commit_events(_commits(con, settings), people, settings)
    github_activity = (
        _github_activity(con, settings)
        .join(humans, on="login", how="inner")
        .select(
            "contributor_id",
            "repo",
            "key",
            "kind",
            day=local_date("occurred_at", settings.timezone),
            is_activity=pl.lit(True),
        )
    )
    merged = (
        _merged_pull_requests(con, settings)
        .join(humans, on="login", how="inner")
        .select(
            "contributor_id",
            "repo",
            "key",
            day=local_date("merged_at", settings.timezone),
            kind=pl.lit("merged_pull_request"),
            is_activity=pl.lit(False),
            cycle_hours=hours_between("created_at", "merged_at"),
        )
    )
    return pl.concat([commit_activity, revert_evidence, github_activity, merged], how="diagonal_relaxed")


# -- measures ---------------------------------------------------------------------------------------


def days_between(start: str | pl.Expr, end: str | pl.Expr) -> pl.Expr:
    a = pl.col(start) if isinstance(start, str) else start
    b = pl.col(end) if isinstance(end, str) else end
    return (b - a).dt.total_days()


def aggregations() -> list[pl.Expr]:
    """Per subject and period, over the event rows: counts and evidence. The measures of active days
    come from day_measures, those of merged pull requests from cycle_aggregations (each over the few
    rows it needs: an expression filtered inside a group_by runs group by group, 5x slower)."""
    return [
        *(pl.col("kind").eq(kind).sum().cast(pl.Int64).alias(name) for kind, name in ACTIVITY_COUNTS.items()),
        pl.col("is_reverted").sum().cast(pl.Int64).alias("revert_rate_numerator"),
        pl.col("is_reverted").count().cast(pl.Int64).alias("revert_rate_denominator"),
        # Deduplicated and sorted by subject_rows, list by list: 1.5 s of CPU less on the benchmark
        # than unique().sort() inside the group_by.
        pl.col("key").drop_nulls().alias("evidence_keys"),
    ]


def cycle_aggregations() -> list[pl.Expr]:
    """Per subject and period, over merged pull requests (rows with cycle_hours)."""
    # Sorted first: Polars' median and quantiles of the same values can differ in the last bit with
    # the input order (0.9999999999999999 against 1.0), and a rerun must give the same table.
    hours = pl.col("cycle_hours").sort()
    return [
        hours.count().cast(pl.Int64).alias("count_prs_merged"),
        hours.median().alias("_median"),
        hours.drop_nulls().alias("_cycle_sorted"),
        (hours.quantile(0.75, "linear") - hours.quantile(0.25, "linear")).alias("_iqr"),
    ]


DAY_MEASURES = {  # name -> value where the subject had no active day in the period
    "count_active_days": 0,
    "_first_active": None,
    "_last_active": None,
    "_inner_gap": None,
    "_active_weeks": 0,
    "_sum_sq": 0,
}


def active_days(events: pl.LazyFrame) -> pl.LazyFrame:
    """The distinct (contributor_id, repo, day) with activity: what day_measures reads."""
    return events.filter(pl.col("is_activity")).select("contributor_id", "repo", "day").unique()


def day_measures(activity: pl.LazyFrame, unit: list[str], settings: MetricSettings) -> pl.LazyFrame:
    """Per unit (columns naming a subject: [contributor_id], [repo], [] for everyone) and period,
    from the unit's distinct active days (`activity`: active_days): count_active_days,
    _first_active, _last_active, _inner_gap (longest run of idle days between two active days of
    the period), _active_weeks and _sum_sq (the sum over active weeks of (active days in the week
    inside the period)^2: the variance without listing idle weeks). Each day is dated once with the
    previous active day of its unit, so the gaps are plain group maxima (a day whose previous one
    lies before the period starts has none)."""
    day = pl.col("day")
    same_unit = pl.all_horizontal([pl.col(c) == pl.col(c).shift(1) for c in unit]) if unit else pl.lit(True)
    days = (
        activity.select(*unit, "day")
        .unique()
        .sort([*unit, "day"])
        .with_columns(_previous=pl.when(same_unit).then(day.shift(1)))
        # Read by each of periods()' three branches: computed once (left lazy, the unique and the
        # sort on strings ran three times: 2.2 s of CPU of 5.8 s per person and repository).
        .collect()
        .lazy()
    )
    dated = periods(days, "day", settings).with_columns(
        _gap=pl.when(pl.col("_previous") >= pl.col("period_start")).then(
            days_between("_previous", "day") - 1
        ),
        _week=day.dt.truncate("1w"),
    )
    keys = [*unit, *PERIOD_KEYS]
    weeks = (
        dated.group_by([*keys, "_week"])
        .agg(pl.len().cast(pl.Int64).alias("_days"))
        .group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("_active_weeks"), pl.col("_days").pow(2).sum().alias("_sum_sq"))
    )
    return (
        dated.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("count_active_days"),
            day.min().alias("_first_active"),
            day.max().alias("_last_active"),
            pl.col("_gap").max().alias("_inner_gap"),
        )
        .join(weeks, on=keys, how="inner")
    )


def _as_subjects(frame: pl.LazyFrame, unit: list[str]) -> pl.LazyFrame:
    """Rows of a unit (day_measures) keyed like by_subject's: contributor_id and team_id."""
    if unit == ["contributor_id"]:
        return frame.with_columns(team_id=pl.lit(None, pl.String))
    if unit == ["repo"]:
        return frame.with_columns(
            team_id=pl.lit("repo:") + pl.col("repo"), contributor_id=pl.lit(None, pl.String)
        ).drop("repo")
    return frame.with_columns(team_id=pl.lit("all"), contributor_id=pl.lit(None, pl.String))


def subject_rows(activity: pl.LazyFrame, dated: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """by_subject's rows (person, repository team, everyone) with every aggregation the table needs:
    aggregations() over the dated events, day_measures over each subject's active days (activity),
    cycle_aggregations over the merged pull requests (team rows with their median's interval)."""
    keys = [*SUBJECT_KEYS, *PERIOD_KEYS]
    days = pl.concat(
        [
            _as_subjects(day_measures(activity, unit, settings), unit)
            for unit in (["contributor_id"], ["repo"], [])
        ],
        how="diagonal_relaxed",
    )
    cycles = by_subject(dated.filter(pl.col("cycle_hours").is_not_null()), cycle_aggregations())
    return (
        by_subject(dated, aggregations())
        .join(days, on=keys, how="left", nulls_equal=True)
        .join(cycles, on=keys, how="left", nulls_equal=True)
        .with_columns(
            *(pl.col(name).fill_null(value) for name, value in DAY_MEASURES.items() if value is not None),
            pl.col("count_prs_merged").fill_null(0),
            pl.col("evidence_keys").list.unique().list.sort(),
        )
    )


def with_first_activity(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Each subject's first activity day on record (week rows cover all history up to as_of)."""
    first = rows.group_by(SUBJECT_KEYS).agg(pl.col("_first_active").min().alias("_subject_first"))
    return rows.join(first, on=SUBJECT_KEYS, how="left", nulls_equal=True)


def observed_span(settings: MetricSettings) -> list[pl.Expr]:
    end = pl.min_horizontal("period_end", pl.lit(settings.as_of_date))
    # Never after its end (only a pull request merged before it was opened could push it there).
    start = pl.min_horizontal(pl.max_horizontal("period_start", "_subject_first"), end)
    return [start.alias("observed_start"), end.alias("observed_end")]


def weeks_overlapping() -> pl.Expr:
    """ISO weeks overlapping [observed_start, observed_end], partial weeks included."""
    start = pl.col("observed_start").dt.truncate("1w")
    end = pl.col("observed_end").dt.truncate("1w")
    return days_between(start, end) // 7 + 1


def unit_weeks() -> list[pl.Expr]:
    """The row's own weeks (_unit_weeks) and active weeks (_unit_active_weeks), the subject taken as
    one unit (for a team: weeks in which anyone was active); NULL on week rows (see module doc)."""
    not_week = pl.col("period_type") != "week"
    return [
        pl.when(not_week).then(pl.col("_active_weeks")).cast(pl.Int64).alias("_unit_active_weeks"),
        pl.when(not_week).then(weeks_overlapping()).cast(pl.Int64).alias("_unit_weeks"),
    ]


def active_weeks_counts() -> list[pl.Expr]:
    """Numerators and denominators of the two week ratios: a person row's own weeks go to
    active_weeks_ratio; a team row's own weeks (anyone active) to weeks_with_anyone_active_ratio, its
    active_weeks_ratio being its members' pooled person-weeks (filled in by pooled_person_weeks)."""
    person = pl.col("team_id").is_null()
    return [
        pl.when(person).then(pl.col("_unit_active_weeks")).alias("active_weeks_ratio_numerator"),
        pl.when(person).then(pl.col("_unit_weeks")).alias("active_weeks_ratio_denominator"),
        pl.when(~person).then(pl.col("_unit_active_weeks")).alias("weeks_with_anyone_active_ratio_numerator"),
        pl.when(~person).then(pl.col("_unit_weeks")).alias("weeks_with_anyone_active_ratio_denominator"),
    ]


def member_aggregations() -> list[pl.Expr]:
    """Per person and repository: what their revert rate in a repository team needs (their active
    weeks there come from day_measures: member_days)."""
    return [
        pl.col("is_reverted").sum().cast(pl.Int64).alias("revert_rate_numerator"),
        pl.col("is_reverted").count().cast(pl.Int64).alias("revert_rate_denominator"),
    ]


def member_days(activity: pl.LazyFrame, dated: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """by_member's rows of member_aggregations with each person's _first_active and _active_weeks in
    the repository (day_measures per person and repository)."""
    unit = ["contributor_id", "repo"]
    days = day_measures(activity, unit, settings).select(
        *unit, *PERIOD_KEYS, "_first_active", "_active_weeks"
    )
    return (
        dated.group_by([*unit, *PERIOD_KEYS])
        .agg(member_aggregations())
        .join(days, on=[*unit, *PERIOD_KEYS], how="left")
        .with_columns(pl.col("_active_weeks").fill_null(0), team_id=pl.lit("repo:") + pl.col("repo"))
        .drop("repo")
    )


def member_rows(members: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    """Repository-team members (by_member of member_aggregations) with their active-weeks numerator
    and denominator: weeks from their first activity in that repository on record."""
    return (
        with_first_activity(members)
        .with_columns(observed_span(settings))
        .with_columns(unit_weeks())
        .select(
            "team_id",
            "contributor_id",
            *PERIOD_KEYS,
            pl.col("_unit_active_weeks").alias("active_weeks_ratio_numerator"),
            pl.col("_unit_weeks").alias("active_weeks_ratio_denominator"),
            "revert_rate_numerator",
            "revert_rate_denominator",
        )
    )


def pooled_person_weeks(metric: pl.LazyFrame, members: pl.LazyFrame) -> pl.LazyFrame:
    """Team rows' active_weeks_ratio numerator and denominator: the sums over their members (the
    person rows for 'all', the person-and-repository rows for 'repo:*'); NULL on week rows."""
    parts = ["active_weeks_ratio_numerator", "active_weeks_ratio_denominator"]
    everyone = metric.filter(pl.col("team_id").is_null()).select(
        pl.lit("all").alias("team_id"), *PERIOD_KEYS, *parts
    )
    sums = (
        pl.concat([everyone, members.select("team_id", *PERIOD_KEYS, *parts)], how="vertical_relaxed")
        .group_by(["team_id", *PERIOD_KEYS])
        .agg(*(pl.col(p).sum().cast(pl.Int64).alias(f"_pooled_{p}") for p in parts))
    )
    team = pl.col("team_id").is_not_null() & (pl.col("period_type") != "week")
    return (
        metric.join(sums, on=["team_id", *PERIOD_KEYS], how="left", nulls_equal=True)
        .with_columns(
            *(pl.when(team).then(pl.col(f"_pooled_{p}")).otherwise(pl.col(p)).alias(p) for p in parts)
        )
        .drop(*(f"_pooled_{p}" for p in parts))
    )


def weekly_activity_cv(min_n: int) -> pl.Expr:
    weeks = pl.col("_unit_weeks").cast(pl.Float64)
    mean = pl.col("count_active_days").cast(pl.Float64) / weeks
    variance = (pl.col("_sum_sq").cast(pl.Float64) / weeks - mean * mean).clip(lower_bound=0.0)
    return pl.when((weeks >= min_n) & (pl.col("count_active_days") > 0)).then(variance.sqrt() / mean)


def longest_gap_days() -> pl.Expr:
    start, end = pl.col("observed_start"), pl.col("observed_end")
    leading = days_between(start, "_first_active")
    trailing = days_between("_last_active", end)
    inner = pl.col("_inner_gap").fill_null(0)
    return (
        pl.when(pl.col("count_active_days") == 0)
        .then(days_between(start, end) + 1)
        .otherwise(pl.max_horizontal(leading, inner, trailing))
        .cast(pl.Int64)
    )


def gated(value: str, n: str, min_n: int) -> pl.Expr:
    """A median-like measure, NULL ("not enough data") below min_n cases."""
    return pl.when(pl.col(n) >= min_n).then(pl.col(value))


RATES = ("active_weeks_ratio", "weeks_with_anyone_active_ratio", "revert_rate")


def finish(rows: pl.LazyFrame, settings: MetricSettings, members: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """The table's rows from by_subject's; `members` (by_member of member_aggregations) are the
    people of each repository team, for its pooled active-weeks ratio and the intervals over people."""
    min_n = settings.min_n
    if members is None:
        members = rows.filter(pl.lit(False)).select(
            "contributor_id",
            "team_id",
            *PERIOD_KEYS,
            "_first_active",
            "_active_weeks",
            *(a.meta.output_name() for a in member_aggregations()),
        )
    member_counts = (
        member_rows(members, settings)
        .with_columns(
            *rate(
                "active_weeks_ratio", "active_weeks_ratio_numerator", "active_weeks_ratio_denominator", min_n
            ),
            *rate("revert_rate", "revert_rate_numerator", "revert_rate_denominator", min_n),
        )
        .collect()
        .lazy()
    )  # read twice: computed once
    sorted_hours = pl.col("_cycle_sorted").fill_null(pl.lit([], dtype=pl.List(pl.Float64)))
    median_lower, median_upper = median_bounds(sorted_hours, sorted_hours.list.len())
    enough_prs = pl.col("count_prs_merged") >= min_n
    person = pl.col("team_id").is_null()
    metric = (
        with_first_activity(rows)
        .with_columns(observed_span(settings))
        .with_columns(unit_weeks())
        .with_columns(active_weeks_counts())
        .collect()  # read twice by pooled_person_weeks: computed once
        .lazy()
    )
    metric = pooled_person_weeks(metric, member_counts).with_columns(
        *(e for r in RATES for e in rate(r, f"{r}_numerator", f"{r}_denominator", min_n)),
        weekly_activity_cv(min_n).alias("weekly_activity_cv"),
        (pl.col("_unit_weeks") >= min_n).fill_null(False).alias("is_enough_data_weekly_activity_cv"),
        longest_gap_days().alias("longest_gap_days"),
        gated("_median", "count_prs_merged", min_n).alias("pr_cycle_time_median_hours"),
        pl.when(enough_prs)
        .then(pl.when(person).then(median_lower).otherwise(pl.col("_cycle_sorted_team_lower")))
        .alias("pr_cycle_time_median_hours_lower"),
        pl.when(enough_prs)
        .then(pl.when(person).then(median_upper).otherwise(pl.col("_cycle_sorted_team_upper")))
        .alias("pr_cycle_time_median_hours_upper"),
        enough_prs.alias("is_enough_data_pr_cycle_time_median_hours"),
        gated("_iqr", "count_prs_merged", min_n).alias("pr_cycle_time_iqr_hours"),
        enough_prs.alias("is_enough_data_pr_cycle_time"),
    )
    return (
        with_team_intervals(metric, member_counts, ["active_weeks_ratio", "revert_rate"])
        .select([pl.col(name).cast(dtype) for name, dtype in COLUMNS.items()])
        .sort(["period_type", "period_start", "team_id", "contributor_id"], nulls_last=True)
    )


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    undated = events(con, settings).collect()
    activity = active_days(undated.lazy()).collect().lazy()  # read by every kind of row: computed once
    dated = periods(undated.lazy(), "day", settings).collect().lazy()
    del undated  # 1.5 million rows on the benchmark: not kept while the rest is computed
    return {
        TABLE: finish(
            subject_rows(activity, dated, settings), settings, member_days(activity, dated, settings)
        ).collect()
    }
