"""Shared pieces of every metric family: settings, periods, rates and their intervals, subjects, inputs, output.

The interval math itself lives in intervals.py."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import duckdb
import polars as pl

from pipeline.db import registered
from pipeline.metrics.intervals import team_median_bounds, team_rate_bounds, team_rate_sums, team_rate_terms
from pipeline.metrics.intervals import wilson_bounds as wilson_bounds

# Kept in settings.py (no Polars there); importable from here as before.
from pipeline.metrics.pseudonyms import is_person_column
from pipeline.metrics.pseudonyms import pseudonym as pseudonym
from pipeline.metrics.pseudonyms import pseudonymized_key as pseudonymized_key
from pipeline.metrics.settings import Z_95 as Z_95
from pipeline.metrics.settings import MetricSettings as MetricSettings
from pipeline.metrics.settings import local_date_of as local_date_of
from pipeline.metrics.settings import parse_as_of as parse_as_of

PERIOD_KEYS = ["period_type", "period_start", "period_end"]
SUBJECT_KEYS = ["contributor_id", "team_id"]


def local_date(column: str | pl.Expr, timezone: str) -> pl.Expr:
    """Naive-UTC timestamp column -> calendar date in the configured time zone."""
    expr = pl.col(column) if isinstance(column, str) else column
    if timezone == "UTC":
        return expr.dt.date()
    return expr.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone).dt.date()


def periods(events: pl.LazyFrame, date_column: str, settings: MetricSettings) -> pl.LazyFrame:
    """Each event once per period holding its date: its ISO week, its month, and the trailing window
    ending at as_of if it falls inside. Events dated after as_of are dropped."""
    day = pl.col(date_column)
    base = events.filter(day.is_not_null() & (day <= settings.as_of_date))
    week = base.with_columns(
        period_type=pl.lit("week"),
        period_start=day.dt.truncate("1w"),
    ).with_columns(period_end=pl.col("period_start") + pl.duration(days=6))
    month = base.with_columns(
        period_type=pl.lit("month"),
        period_start=day.dt.truncate("1mo"),
    ).with_columns(period_end=pl.col("period_start").dt.offset_by("1mo") - pl.duration(days=1))
    window = base.filter(day >= settings.window_start).with_columns(
        period_type=pl.lit("window"),
        period_start=pl.lit(settings.window_start),
        period_end=pl.lit(settings.as_of_date),
    )
    return pl.concat([week, month, window], how="vertical_relaxed")


def rate(name: str, numerator: str, denominator: str, min_n: int) -> list[pl.Expr]:
    """The columns of one rate r: r, r_numerator, r_denominator, r_lower, r_upper, is_enough_data_r.

    `numerator` and `denominator` name count columns already present (kept as they are; copied to
    r_numerator / r_denominator when named otherwise). The bounds are Wilson's (person rows: cases
    taken as independent); with_team_intervals replaces them on team rows. r is NULL below min_n."""
    num, den = pl.col(numerator).cast(pl.Float64), pl.col(denominator).cast(pl.Float64)
    lower, upper = wilson_bounds(num, den)
    enough = pl.col(denominator) >= min_n
    copies = [
        pl.col(source).cast(pl.Int64).alias(target)
        for source, target in ((numerator, f"{name}_numerator"), (denominator, f"{name}_denominator"))
        if source != target
    ]
    return [
        *copies,
        pl.when(enough).then(num / den).alias(name),
        lower.alias(f"{name}_lower"),
        upper.alias(f"{name}_upper"),
        enough.fill_null(False).alias(f"is_enough_data_{name}"),
    ]


def by_member(events: pl.LazyFrame, aggregations: list[pl.Expr]) -> pl.LazyFrame:
    """The members of every repository team: per person, repository and period (team_id 'repo:<repo>',
    contributor_id set). Give it the count aggregations behind a family's rates (sums of flags), and
    derive numerators and denominators from them as on the metric rows; with_team_intervals takes the
    members of team 'all' from the person rows themselves."""
    return (
        events.group_by(["contributor_id", "repo", *PERIOD_KEYS])
        .agg(aggregations)
        .with_columns(team_id=pl.lit("repo:") + pl.col("repo"))
        .drop("repo")
    )


def with_team_intervals(metric: pl.LazyFrame, repo_members: pl.LazyFrame, rates: list[str]) -> pl.LazyFrame:
    """Replace r_lower / r_upper on team rows with the pooled rate's interval over people
    (intervals.team_rate_bounds: the person is the unit; NULL with fewer than 2 people).

    A team row's rate is its members' pooled rate: the members of 'all' are the person rows of the
    same period, those of 'repo:<repo>' the repo_members rows (r_numerator / r_denominator per person
    and repository). The team rows' own r_numerator / r_denominator must be those members' sums."""
    columns = [c for r in rates for c in (f"{r}_numerator", f"{r}_denominator")]
    keys = ["team_id", *PERIOD_KEYS]
    # Both are read more than once below: computed once here (a lazy plan read three times was
    # computed three times: 8x slower on the benchmark).
    metric, repo_members = (f.lazy() for f in pl.collect_all([metric, repo_members]))
    everyone = metric.filter(pl.col("team_id").is_null()).select(
        pl.lit("all").alias("team_id"), *PERIOD_KEYS, "contributor_id", *columns
    )
    members = pl.concat(
        [everyone, repo_members.select("team_id", *PERIOD_KEYS, "contributor_id", *columns)],
        how="vertical_relaxed",
    )
    totals = members.group_by(keys).agg(
        *(pl.col(f"{r}_{part}").sum().cast(pl.Float64).alias(f"_{r}_{part}") for r in rates
          for part in ("numerator", "denominator"))
    )  # fmt: skip
    joined = members.join(totals, on=keys, how="inner")
    aggs = []
    for r in rates:
        y, n = pl.col(f"_{r}_numerator"), pl.col(f"_{r}_denominator")
        aggs += [
            e.alias(f"_{r}{e.meta.output_name()}")
            for e in team_rate_terms(
                pl.col(f"{r}_numerator").cast(pl.Float64),
                pl.col(f"{r}_denominator").cast(pl.Float64),
                y,
                n,
            )
        ]
    sums = (
        joined.group_by(keys)
        .agg(aggs)
        .with_columns(*(e.alias(e.meta.output_name()) for r in rates for e in team_rate_sums(f"_{r}")))
    )
    bounds = []
    for r in rates:
        lower, upper = team_rate_bounds(
            pl.col(f"_{r}_numerator") / pl.col(f"_{r}_denominator"),
            *(pl.col(f"_{r}_{t}") for t in ("people", "sum_d", "sum_dd", "sum_ww", "sum_a", "sum_aa")),
        )
        bounds += [lower.alias(f"_{r}_team_lower"), upper.alias(f"_{r}_team_upper")]
    team_bounds = sums.join(totals, on=keys, how="inner").select(*keys, *bounds)
    is_team = pl.col("team_id").is_not_null()
    return (
        metric.join(team_bounds, on=keys, how="left", nulls_equal=True)
        .with_columns(
            *(
                pl.when(is_team)
                .then(pl.col(f"_{r}_team_{side}"))
                .otherwise(pl.col(f"{r}_{side}"))
                .alias(f"{r}_{side}")
                for r in rates
                for side in ("lower", "upper")
            )
        )
        .drop([f"_{r}_team_{side}" for r in rates for side in ("lower", "upper")])
    )


def by_subject(events: pl.LazyFrame, aggregations: list[pl.Expr]) -> pl.LazyFrame:
    """Aggregate per contributor and period, and per team (each repository, and everyone) and period.

    `events` needs contributor_id, repo and the period columns. Team rows have contributor_id NULL
    and team_id 'repo:<owner/name>' or 'all'; person rows have team_id NULL.

    Evidence lists (aggregations named *_keys) are kept on person rows only: a team row's evidence
    is its members' rows of the same period (filtered by repo for repo:* teams). Repeating every key
    on two more rows per period tripled memory for nothing a reader could not already reach.

    The values behind a median (aggregations named _*_sorted: a sorted list) also get their team
    rows' interval over people: team_median_intervals, as columns <name>_team_lower and
    <name>_team_upper (NULL on person rows)."""
    evidence = [a for a in aggregations if a.meta.output_name().endswith("keys")]
    totals = [a for a in aggregations if not a.meta.output_name().endswith("keys")]
    value_lists = [a for a in totals if _is_value_list(a.meta.output_name())]
    # Read by every group_by below: computed once here. A lazy plan read three times was computed
    # three times with everything behind it (ownership on the benchmark: 16 s against 11 s); a
    # frame already computed costs nothing more.
    events = events.collect().lazy()
    person = (
        events.group_by(["contributor_id", *PERIOD_KEYS])
        .agg(aggregations)
        .with_columns(team_id=pl.lit(None, pl.String))
    )
    per_repo = (
        events.group_by(["repo", *PERIOD_KEYS])
        .agg(totals)
        .with_columns(team_id=pl.lit("repo:") + pl.col("repo"), contributor_id=pl.lit(None, pl.String))
        .drop("repo")
    )
    everyone = (
        events.group_by(PERIOD_KEYS)
        .agg(totals)
        .with_columns(team_id=pl.lit("all"), contributor_id=pl.lit(None, pl.String))
    )
    combined = pl.concat([person, per_repo, everyone], how="diagonal_relaxed")
    if value_lists:
        per_member = events.group_by(["contributor_id", "repo", *PERIOD_KEYS]).agg(value_lists)
        names = [a.meta.output_name() for a in value_lists]
        combined = combined.join(
            team_median_intervals(per_member, names), on=["team_id", *PERIOD_KEYS], how="left"
        )
    return combined.with_columns(
        pl.col(name).fill_null(pl.lit([], dtype=pl.List(pl.String)))
        for name in (e.meta.output_name() for e in evidence)
    )


def _is_value_list(name: str) -> bool:
    return name.startswith("_") and name.endswith("_sorted")


def team_median_intervals(per_member: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    """Team rows' median intervals over people (intervals.team_median_bounds): team_id, the period
    keys, and <name>_team_lower / <name>_team_upper for each list column `name` of per_member (one
    row per person, repository and period: that person's values there). The members of 'all' are
    people (their values in every repository together), those of 'repo:<repo>' the people with
    values in that repository."""
    keys = ["team_id", *PERIOD_KEYS]
    per_member = per_member.collect().lazy()  # read once per name below: computed once
    out: pl.LazyFrame | None = None
    for name in names:
        values = (
            per_member.filter(pl.col("contributor_id").is_not_null())
            .select("contributor_id", "repo", *PERIOD_KEYS, pl.col(name).alias("_value"))
            .explode("_value")
            .filter(pl.col("_value").is_not_null() & ~pl.col("_value").cast(pl.Float64).is_nan())
            .with_columns(pl.col("_value").cast(pl.Float64))
        )
        members = pl.concat(
            [
                values.with_columns(team_id=pl.lit("all")),
                values.with_columns(team_id=pl.lit("repo:") + pl.col("repo")),
            ]
        ).drop("repo")
        team = members.group_by(keys).agg(
            pl.col("_value").sort().alias("_pooled"),
            pl.col("_value").median().alias("_median"),
            pl.len().cast(pl.Float64).alias("_total"),
        )
        at_or_below = (
            members.join(team.select(*keys, "_median"), on=keys, how="inner")
            .group_by([*keys, "contributor_id"])
            .agg(
                (pl.col("_value") <= pl.col("_median")).sum().cast(pl.Float64).alias("_y"),
                pl.len().cast(pl.Float64).alias("_n"),
            )
            .join(team.select(*keys, "_total"), on=keys, how="inner")
            .with_columns(_share=pl.col("_y").sum().over(keys) / pl.col("_total"))
        )
        terms = at_or_below.group_by(keys).agg(
            team_rate_terms(pl.col("_y"), pl.col("_n"), pl.col("_share") * pl.col("_total"), pl.col("_total"))
        )
        sums = terms.with_columns(team_rate_sums())
        lower, upper = team_median_bounds(
            pl.col("_pooled"),
            *(pl.col(f"_{t}") for t in ("people", "sum_d", "sum_dd", "sum_ww", "sum_a", "sum_aa")),
        )
        bounds = team.join(sums, on=keys, how="inner").select(
            *keys, lower.alias(f"{name}_team_lower"), upper.alias(f"{name}_team_upper")
        )
        out = bounds if out is None else out.join(bounds, on=keys, how="full", coalesce=True)
    assert out is not None
    return out


def read(con: duckdb.DuckDBPyConnection, query: str, params: list[object] | None = None) -> pl.LazyFrame:
    """A query's result as a lazy frame (through Arrow: no row loops)."""
    frame = pl.from_arrow(con.sql(query, params=params or None).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.lazy()


# Inputs several families read (fct_commits is a view: mailmap, identities and revert matching each
# time it is read). Inside shared_reads() each is read once per metrics run and handed to every family
# that asks (families run side by side on threads: the first to ask reads, the others wait for it).
_shared: dict[str, tuple[threading.Lock, list[pl.DataFrame]]] | None = None
_shared_lock = threading.Lock()


@contextlib.contextmanager
def shared_reads() -> Iterator[None]:
    """Keep the results of read_shared until the block ends (one metrics run)."""
    global _shared
    with _shared_lock:
        _shared = {}
    try:
        yield
    finally:
        with _shared_lock:
            _shared = None


def read_shared(
    con: duckdb.DuckDBPyConnection, name: str, query: str, params: list[object] | None = None
) -> pl.LazyFrame:
    """read(), once per `name` inside shared_reads() (the same query and parameters every time)."""
    with _shared_lock:
        entry = None if _shared is None else _shared.setdefault(name, (threading.Lock(), []))
    if entry is None:
        return read(con, query, params)
    lock, holder = entry
    with lock:
        if not holder:
            holder.append(read(con, query, params).collect())
        return holder[0].lazy()


def commits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Reachable commits authored by as_of, by anyone (a bot's revert still reverts): what the
    families that count commits need, read once (read_shared). The message only where it mentions a
    fix (all ownership's rule (b) needs)."""
    return read_shared(
        con,
        "commits",
        """SELECT repo, sha, author_contributor_id AS contributor_id, authored_at, subject, is_merge,
                  is_revert, reverted_sha,
                  CASE WHEN regexp_matches(message, '(?i)fix') THEN message END AS message
           FROM fct_commits
           WHERE authored_at <= ?""",
        [settings.as_of],
    )


def humans_by_login(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """login -> contributor_id for GitHub accounts, bots left out unless asked for."""
    return read(
        con,
        """SELECT i.name AS login, i.contributor_id
           FROM dim_identities i JOIN dim_contributors c USING (contributor_id)
           WHERE i.source = 'github' AND (? OR NOT c.is_bot)""",
        [settings.include_bots],
    )


def human_contributors(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    return read(
        con,
        "SELECT contributor_id FROM dim_contributors WHERE ? OR NOT is_bot",
        [settings.include_bots],
    )


def _pseudonymized(frame: pl.DataFrame) -> pl.DataFrame:
    """Stable pseudonyms for every column that names a person (ids, logins, names, emails), and for
    the login inside commitment keys (commitment_key, evidence_keys)."""
    personal = [c for c in frame.columns if is_person_column(c)]
    keys = [c for c in frame.columns if c == "commitment_key" and frame.schema[c] == pl.String]
    key_lists = [c for c in frame.columns if c == "evidence_keys" and frame.schema[c] == pl.List(pl.String)]
    return frame.with_columns(
        *(
            pl.col(c).map_elements(pseudonym, return_dtype=pl.String)
            for c in personal
            if frame.schema[c] == pl.String
        ),
        *(pl.col(c).map_elements(pseudonymized_key, return_dtype=pl.String) for c in keys),
        *(
            pl.col(c).list.eval(pl.element().map_elements(pseudonymized_key, return_dtype=pl.String))
            for c in key_lists
        ),
    )


def write_table(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, settings: MetricSettings
) -> int:
    """Replace the table's rows (its schema and column docs live in sql/)."""
    if settings.pseudonymize:
        frame = _pseudonymized(frame)
    con.execute(f"DELETE FROM {table}")
    if frame.height:
        with registered(con, "perftrust_metric_rows", frame.to_arrow()):
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM perftrust_metric_rows")
    return frame.height
