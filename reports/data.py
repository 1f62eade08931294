"""Read the metric tables into the report's model: plain dataclasses, no HTML here.

Everything a person wrote (titles, names, subjects) stays a plain str; the templates escape it.
People are always listed alphabetically by the name shown, never by a metric."""

from __future__ import annotations

import itertools
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import duckdb
import pyarrow as pa

from pipeline.db import registered
from pipeline.metrics.intervals import team_rate
from pipeline.metrics.pseudonyms import pseudonym
from reports import links
from reports.coverage import SOURCE_LABELS, Coverage, read_coverage
from reports.links import KIND_LABELS, EvidenceRef
from reports.measures import FAMILIES, Family, Measure

EVIDENCE_LIMIT = 20  # links shown per kind of evidence and family; the CSV has every key
STRIP_WEEKS = 26  # weekly activity strip: half a year
TREND_MONTHS = 12
DUE_SOON_DAYS = 7  # "due within a week": due on as_of's date up to this many days after it
GAP_WEEKS = 2  # a repository quiet this many weeks in a row is listed under data quality

_CREDIT_GROUPS = {
    "co-authored-by": "coauthor",
    "reviewed-by": "review_credit",
    "acked-by": "review_credit",
    "tested-by": "review_credit",
    "reported-by": "other_credit",
    "suggested-by": "other_credit",
    "helped-by": "other_credit",
    "review": "review",
}

# Monthly team totals for the families that are counts (no rate to pool).
_COUNT_TRENDS = {
    "metric_credit_sharing": (
        "credits and reviews given",
        (
            "count_coauthor_credits_given",
            "count_review_credits_given",
            "count_other_trailer_credits_given",
            "count_reviews_given_on_others_prs",
        ),
    ),
    "metric_ownership": ("self-reverts and fix-ups", ("count_self_reverts", "count_fixups")),
    "metric_expectations": ("due dates moved after they passed", ("count_due_moved_after_passed",)),
}


@dataclass(frozen=True)
class Scope:
    """What the report covers, settled before any figure is read."""

    as_of: date
    window_start: date
    window_days: int
    min_n: int
    timezone: str
    web_url: str
    pseudonymize: bool
    team: str | None
    team_ids: tuple[str, ...] | None  # metric-table ids of the team; None = everyone
    ids_pseudonymized: bool  # the metric tables themselves were written with --pseudonymize
    include_bots: bool = False  # the metrics counted bots
    db_path: str | None = None  # the database the report is read from, named in suggested commands


# ---- model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measure for one subject: the value the table holds, its n and interval."""

    measure: Measure
    subject: str
    value: float | None
    n: int
    lower: float | None
    upper: float | None
    enough: bool
    details: tuple[tuple[str, int], ...] = ()
    missing: str | None = None  # "GitHub data" / "git history": the source this needs was never synced


@dataclass(frozen=True)
class EvidenceItem:
    ref: str  # acme/api#12, acme/api@abc1234
    url: str | None
    title: str  # from the repository: escaped by the template
    note: str


@dataclass(frozen=True)
class EvidenceGroup:
    kind: str
    label: str
    total: int
    items: tuple[EvidenceItem, ...]


FamilyState = Literal["data", "no_activity", "not_measured"]


@dataclass
class FamilyView:
    family: Family
    figures: list[Figure]
    evidence: list[EvidenceGroup]
    has_row: bool
    # data: a row to show; no_activity: the data source is there, nothing of theirs in the window;
    # not_measured: the source the family needs was never synced (missing names it).
    state: FamilyState = "data"
    missing: str | None = None


@dataclass
class Person:
    metric_id: str  # the id in the metric tables
    contributor_id: str  # the dim_contributors id
    subject: str  # the id shown (pseudonym when pseudonymized)
    name: str
    aside: str | None  # login or email, to tell namesakes apart (never when pseudonymized)
    anchor: str
    is_bot: bool
    families: list[FamilyView] = field(default_factory=list)
    weeks: list[tuple[date, int, str]] = field(default_factory=list)
    count_overdue: int = 0
    count_due_soon: int = 0

    @property
    def active_weeks(self) -> int:
        return sum(1 for _, days, _ in self.weeks if days)


@dataclass(frozen=True)
class AttentionItem:
    commitment_key: str
    repo: str
    number: int
    is_pull_request: bool
    title: str
    url: str | None
    assignee: str
    assignee_anchor: str | None
    due_date: date
    due_evidence: str | None  # where the due date came from: Project "Roadmap", field "Due" / Milestone "v1"
    status: str  # overdue | due soon
    days: int  # overdue by / due in
    warned_before_due: bool
    is_stale: bool  # overdue since before the window began: likely forgotten rather than late


@dataclass(frozen=True)
class TrendRow:
    month: date
    numerator: int
    n: int
    value: float | None
    lower: float | None
    upper: float | None


@dataclass
class MeasureOverview:
    measure: Measure
    team: Figure | None  # pooled rate of the team's window rows (rates only)
    values: list[float]  # each member's window value (enough data only), unlabelled
    count_not_enough: int
    trend: list[TrendRow]
    total: float | None = None  # counts: the team's total
    count_any: int = 0  # counts: members with at least one
    missing: str | None = None  # the source this measure needs was never synced


@dataclass
class FamilyOverview:
    family: Family
    measures: list[MeasureOverview]
    count_trend: tuple[str, list[tuple[date, int]]] | None
    missing: str | None = None  # the whole family needs a source that was never synced


@dataclass(frozen=True)
class CreditEdge:
    giver: str
    giver_anchor: str | None
    receiver: str
    receiver_anchor: str | None
    counts: dict[str, int]
    total: int
    evidence: tuple[EvidenceItem, ...]


@dataclass
class DataQuality:
    repositories: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    api_requests_30d: int
    not_modified_30d: int
    unresolved: list[dict[str, Any]]
    bots: list[dict[str, Any]]
    include_bots: bool
    gaps: list[dict[str, Any]]
    problems: list[str]


@dataclass
class Report:
    scope: Scope
    people: list[Person]
    overview: list[FamilyOverview]
    attention: list[AttentionItem]
    credit_names: list[str]
    credit_edges: list[CreditEdge]
    quality: DataQuality
    trend_months: list[date]
    coverage: Coverage = field(default_factory=Coverage)


# ---- helpers -----------------------------------------------------------------------------------


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params) if params else None)
    columns = [d[0] for d in cursor.description or ()]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def due_evidence_sql(con: duckdb.DuckDBPyConnection, alias: str = "") -> str:
    """fct_commitments.due_evidence (where a due date came from: 'Project "Roadmap", field "Target
    date"', 'Milestone "v1.2"'), or NULL in a database whose table predates it (a report opens the
    database read-only, so the schema update waits for the next run or metrics)."""
    present = con.execute(
        """SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database()
           AND table_name = 'fct_commitments' AND column_name = 'due_evidence'"""
    ).fetchall()[0][0]
    return f"{alias}due_evidence" if present else "NULL::VARCHAR AS due_evidence"


def _int(value: object) -> int:
    return (
        int(value)
        if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))
        else 0
    )


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        return float(value)
    return None


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def utc_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """[start 00:00, end 23:59:59.999999] in the time zone, as naive UTC (the *_at convention)."""
    zone = zoneinfo.ZoneInfo(timezone)
    low = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    high = datetime.combine(end, time.max, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return low, high


class Names:
    """Who a contributor id is, as the report may show it (pseudonyms when asked)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        self.scope = scope
        self.by_metric_id: dict[str, dict[str, Any]] = {}
        for row in rows(
            con,
            "SELECT contributor_id, display_name, github_login, primary_email, is_bot FROM dim_contributors",
        ):
            key = pseudonym(row["contributor_id"]) if scope.ids_pseudonymized else row["contributor_id"]
            self.by_metric_id[str(key)] = row

    def subject(self, metric_id: str) -> str:
        if self.scope.pseudonymize and not self.scope.ids_pseudonymized:
            return pseudonym(metric_id) or ""
        return metric_id

    def name(self, metric_id: str | None) -> str:
        if metric_id is None:
            return "(unknown)"
        if self.scope.pseudonymize or self.scope.ids_pseudonymized:
            return self.subject(metric_id)
        row = self.by_metric_id.get(metric_id)
        return str(row["display_name"]) if row else metric_id

    def login(self, login: str) -> str:
        return (pseudonym(login) or "") if self.scope.pseudonymize else login

    def anchor(self, metric_id: str) -> str:
        # Derived from the pseudonym: an anchor never carries a real id.
        return "p-" + (pseudonym(metric_id, "x") or "")[2:]


def _team_filter(scope: Scope, column: str = "contributor_id") -> tuple[str, list[object]]:
    if scope.team_ids is None:
        return f"{column} IS NOT NULL", []
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))", [list(scope.team_ids)]


# ---- figures -----------------------------------------------------------------------------------


def figure(
    measure: Measure, row: dict[str, Any] | None, subject: str, min_n: int, missing: str | None = None
) -> Figure:
    if missing is not None:
        return _not_measured(figure(measure, row, subject, min_n), missing)
    details = tuple((label, _int(row.get(col)) if row else 0) for label, col in measure.details)
    if row is None:
        # No row: nothing happened in the window (counts read as zero, rates have n = 0).
        zero = measure.kind == "count" and measure.zero_when_missing
        return Figure(measure, subject, 0.0 if zero else None, 0, None, None, zero, details)
    n = sum(_int(row.get(c)) for c in measure.n_columns)
    if measure.kind == "count":
        return Figure(measure, subject, _float(row.get(measure.column)) or 0.0, n, None, None, True, details)
    value = _float(row.get(measure.column))
    # Medians without a flag of their own follow the rule of the rates.
    enough = bool(row.get(measure.enough_column)) if measure.enough_column is not None else n >= min_n
    # Rates and medians carry their 95% interval in the tables (a spread such as the IQR has none).
    lower = _float(row.get(f"{measure.column}_lower")) if measure.kind in ("rate", "median") else None
    upper = _float(row.get(f"{measure.column}_upper")) if measure.kind in ("rate", "median") else None
    if not enough:
        value = None
    return Figure(measure, subject, value, n, lower, upper, enough and value is not None, details)


def _not_measured(f: Figure, missing: str) -> Figure:
    """A measure whose data source was never synced: no value, not "zero" nor "not enough data".
    A row's figures are kept as they are when it has any (it cannot: nothing fed it)."""
    if f.n or (f.value is not None and f.value != 0):
        return f
    if f.measure.kind == "count":
        return replace(f, missing=missing)  # the value stays the table's (zero): only the text says so
    return replace(f, value=None, lower=None, upper=None, enough=False, details=(), missing=missing)


def _missing(measure: Measure, coverage: Coverage) -> str | None:
    return None if coverage.measured(measure.source) else SOURCE_LABELS[measure.source]


def _member_pairs(measure: Measure, members: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    assert measure.numerator is not None
    return [
        (_int(row.get(measure.numerator)), sum(_int(row.get(c)) for c in measure.n_columns))
        for row in members
    ]


def pooled(measure: Measure, members: Iterable[dict[str, Any]], min_n: int) -> Figure:
    """The team's rate: members' numerators over members' n, with the interval of the metric tables'
    team rows (pipeline.metrics.intervals.team_rate: people, not cases, are the unit)."""
    pairs = _member_pairs(measure, members)
    numerator, n = sum(k for k, _ in pairs), sum(m for _, m in pairs)
    _rate, lower, upper = team_rate(pairs)
    enough = n >= min_n
    value = numerator / n if enough and n else None
    # "0 of 0 cases" says nothing: no details without cases.
    details = ((f"of {n:,} case{'' if n == 1 else 's'}", numerator),) if n else ()
    return Figure(measure, "team", value, n, lower, upper, value is not None, details)


# ---- evidence ----------------------------------------------------------------------------------


class Evidence:
    """Labels and links for evidence keys, looked up in bulk (one query per kind of thing)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scope: Scope, names: Names) -> None:
        self.con = con
        self.scope = scope
        self.names = names
        self.items: dict[tuple[str, int], tuple[str, bool]] = {}
        self.commits: dict[tuple[str, str], tuple[str, datetime | None]] = {}
        self.commitments: dict[str, dict[str, Any]] = {}
        self.credits: dict[str, dict[str, Any]] = {}

    def load(self, keys: Iterable[str]) -> None:
        refs = [links.parse_key(k) for k in set(keys)]
        items = {(r.repo, r.number) for r in refs if r.repo and r.number is not None}
        commits = {(r.repo, r.sha) for r in refs if r.repo and r.sha}
        self._load_items(items)
        self._load_commits(commits)

    def _load_items(self, wanted: set[tuple[str, int]]) -> None:
        wanted -= set(self.items)
        if not wanted:
            return
        table = pa.table({"repo": [w[0] for w in wanted], "number": [w[1] for w in wanted]})
        with registered(self.con, "perftrust_report_items", table):
            for row in rows(
                self.con,
                """SELECT i.repo, i.number, i.title, i.is_pull_request
                   FROM stg_github__issues i SEMI JOIN perftrust_report_items w
                   ON w.repo = i.repo AND w.number = i.number""",
            ):
                self.items[(row["repo"], row["number"])] = (row["title"] or "", bool(row["is_pull_request"]))

    def _load_commits(self, wanted: set[tuple[str, str]]) -> None:
        wanted -= set(self.commits)
        if not wanted:
            return
        table = pa.table({"repo": [w[0] for w in wanted], "sha": [w[1] for w in wanted]})
        with registered(self.con, "perftrust_report_commits", table):
            # raw_git__commits, not fct_commits: only the subject and date are needed, and the view's
            # mailmap joins cost seconds on a large history.
            for row in rows(
                self.con,
                """SELECT c.repo, c.sha, split_part(c.message, chr(10), 1) AS subject,
                          to_timestamp(c.author_epoch)::TIMESTAMP AS authored_at
                   FROM raw_git__commits c SEMI JOIN perftrust_report_commits w
                   ON w.repo = c.repo AND w.sha = c.sha""",
            ):
                self.commits[(row["repo"], row["sha"])] = (row["subject"] or "", row["authored_at"])

    def load_commitments(self, keys: Iterable[str]) -> None:
        wanted = sorted(set(keys) - set(self.commitments))
        if not wanted:
            return
        for row in rows(
            self.con,
            f"""SELECT commitment_key, repo, number, is_pull_request, due_date, outcome, slip_days,
                       warned_before_due, {due_evidence_sql(self.con)}
                FROM fct_commitments WHERE commitment_key IN (SELECT unnest(?::VARCHAR[]))""",
            [wanted],
        ):
            self.commitments[row["commitment_key"]] = row
        self._load_items({(r["repo"], r["number"]) for r in self.commitments.values()})

    def load_credits(self, keys: Iterable[str]) -> None:
        wanted = sorted(set(keys) - set(self.credits))
        if not wanted:
            return
        for row in rows(
            self.con,
            """SELECT credit_key, kind, giver_contributor_id, receiver_contributor_id, occurred_at, evidence_key
               FROM fct_credits WHERE credit_key IN (SELECT unnest(?::VARCHAR[]))""",
            [wanted],
        ):
            self.credits[row["credit_key"]] = row
        self.load(r["evidence_key"] for r in self.credits.values())

    def item(self, ref: EvidenceRef, note: str = "") -> EvidenceItem:
        web = self.scope.web_url
        if ref.sha is not None and ref.repo is not None:
            subject, _ = self.commits.get((ref.repo, ref.sha), ("", None))
            return EvidenceItem(f"{ref.repo}@{ref.sha[:7]}", links.ref_url(web, ref), subject, note)
        if ref.repo is not None and ref.number is not None:
            title, is_pr = self.items.get((ref.repo, ref.number), ("", ref.kind in ("pr", "review")))
            what = {
                "review": "review on ",
                "review_request": "review requested on ",
                "comment": "comment on ",
                "review_comment": "review comment on ",
            }.get(ref.kind, "")
            return EvidenceItem(f"{what}{ref.repo}#{ref.number}", links.ref_url(web, ref, is_pr), title, note)
        return EvidenceItem(self.display_key(ref.key), None, "", note)

    def display_key(self, key: str) -> str:
        """A key as it may be shown: the login inside a commitment key is a person-naming field."""
        if not self.scope.pseudonymize:
            return key
        return pseudonymize_key(key)

    def _sort_key(self, ref: EvidenceRef) -> tuple[Any, ...]:
        """Newest first: commits by author date, items by number (GitHub numbers grow with time)."""
        if ref.sha is not None and ref.repo is not None:
            when = self.commits.get((ref.repo, ref.sha), ("", None))[1]
            return (0, -(when.timestamp() if when else 0.0), ref.key)
        if ref.kind == "commitment":
            due = self.commitments.get(ref.key, {}).get("due_date")
            return (0, -(due.toordinal() if due else 0), ref.key)
        return (0, -(ref.number or 0), ref.key)

    def groups(self, keys: Sequence[str]) -> list[EvidenceGroup]:
        by_kind: dict[str, list[EvidenceRef]] = defaultdict(list)
        for key in keys:
            ref = links.parse_key(key)
            by_kind[ref.kind].append(ref)
        out = []
        for kind in KIND_LABELS:
            refs = by_kind.get(kind)
            if not refs:
                continue
            shown = sorted(refs, key=self._sort_key)[:EVIDENCE_LIMIT]
            items = tuple(self._commitment_item(r) if kind == "commitment" else self.item(r) for r in shown)
            one, many = KIND_LABELS[kind]
            out.append(EvidenceGroup(kind, one if len(refs) == 1 else many, len(refs), items))
        return out

    def _commitment_item(self, ref: EvidenceRef) -> EvidenceItem:
        row = self.commitments.get(ref.key)
        if row is None:
            return self.item(ref)
        outcome = str(row["outcome"]).replace("_", " ")
        if row["outcome"] == "late" and row["slip_days"] is not None:
            outcome = f"late by {row['slip_days']} day{'s' if row['slip_days'] != 1 else ''}"
        note = (
            f"due {row['due_date']:%Y-%m-%d}, {outcome}"
            + (", warned before the date" if row["warned_before_due"] else "")
            + (f"; due date from {row['due_evidence']}" if row.get("due_evidence") else "")
        )
        item_ref = EvidenceRef(
            ref.key, "pr" if row["is_pull_request"] else "issue", row["repo"], row["number"], None, None
        )
        title = self.items.get((row["repo"], row["number"]), ("", False))[0]
        return EvidenceItem(
            f"{row['repo']}#{row['number']}", links.ref_url(self.scope.web_url, item_ref), title, note
        )

    def credit_groups(self, keys: Sequence[str], metric_id: str) -> list[EvidenceGroup]:
        given: list[EvidenceItem] = []
        received: list[EvidenceItem] = []
        ordered = sorted(
            (self.credits[k] for k in keys if k in self.credits),
            key=lambda r: (r["occurred_at"] or datetime.min, r["credit_key"]),
            reverse=True,
        )
        count_given = sum(1 for r in ordered if r["giver_contributor_id"] == metric_id)
        count_received = len(ordered) - count_given
        for row in ordered:
            is_giver = row["giver_contributor_id"] == metric_id
            target = given if is_giver else received
            if len(target) >= EVIDENCE_LIMIT:
                continue
            other = row["receiver_contributor_id"] if is_giver else row["giver_contributor_id"]
            who = self.names.name(other) if other else "a bot or deleted account"
            note = f"{row['kind']} {'to' if is_giver else 'from'} {who}, {row['occurred_at']:%Y-%m-%d}"
            target.append(self.item(links.parse_key(row["evidence_key"]), note))
        out = []
        if count_given:
            out.append(EvidenceGroup("given", "credits and reviews given", count_given, tuple(given)))
        if count_received:
            out.append(
                EvidenceGroup("received", "credits and reviews received", count_received, tuple(received))
            )
        return out


def pseudonymize_key(key: str) -> str:
    ref = links.parse_key(key)
    if ref.kind == "commitment" and ref.extra:
        return key[: -len(ref.extra)] + (pseudonym(ref.extra) or "")
    return key


# ---- the report --------------------------------------------------------------------------------


def build_report(con: duckdb.DuckDBPyConnection, scope: Scope) -> Report:
    names = Names(con, scope)
    coverage = replace(
        read_coverage(con),
        as_of=scope.as_of,
        window_start=scope.window_start,
        min_n=scope.min_n,
        timezone=scope.timezone,
        db_path=scope.db_path,
        has_metrics=True,
    )
    where, params = _team_filter(scope)
    window_rows: dict[str, dict[str, dict[str, Any]]] = {}
    for family in FAMILIES:
        window_rows[family.table] = {
            str(r["contributor_id"]): r
            for r in rows(
                con,
                f"SELECT * FROM {family.table} WHERE period_type = 'window' AND period_end = ? AND {where}",
                [scope.as_of, *params],
            )
        }

    open_commitments = _open_commitments(con, scope)
    if scope.team_ids is not None:
        ids = set(scope.team_ids)
    else:
        ids = {cid for table in window_rows.values() for cid in table}
        ids |= {str(r["contributor_id"]) for r in open_commitments if r["contributor_id"]}
    people = [_person(metric_id, names) for metric_id in ids]
    people.sort(key=lambda p: (p.name.casefold(), p.subject))
    by_id = {p.metric_id: p for p in people}
    attention = _attention(open_commitments, scope, names, by_id)

    evidence = Evidence(con, scope, names)
    all_keys = [
        k for table in window_rows.values() for r in table.values() for k in (r.get("evidence_keys") or [])
    ]
    evidence.load_commitments(k for k in all_keys if k.startswith("github:commitment:"))
    evidence.load_credits(
        k for r in window_rows["metric_credit_sharing"].values() for k in (r.get("evidence_keys") or [])
    )
    evidence.load(k for k in all_keys if not k.startswith("github:commitment:"))

    for person in people:
        for family in FAMILIES:
            row = window_rows[family.table].get(person.metric_id)
            figures = [
                figure(m, row, person.subject, scope.min_n, _missing(m, coverage)) for m in family.measures
            ]
            keys = list(row.get("evidence_keys") or []) if row else []
            groups = (
                evidence.credit_groups(keys, person.metric_id)
                if family.table == "metric_credit_sharing"
                else evidence.groups(keys)
            )
            view = FamilyView(family, figures, groups, row is not None)
            if row is None:
                missing = _family_missing(family, coverage)
                view.state = "no_activity" if missing is None else "not_measured"
                view.missing = missing
            person.families.append(view)
    _weeks(con, scope, by_id)
    for item in open_commitments:
        holder = by_id.get(item["contributor_id"])
        if holder is None:
            continue
        if item["outcome"] == "overdue":
            holder.count_overdue += 1
        else:
            holder.count_due_soon += 1

    # People with a figure in the window (a team report counts its members only).
    active = sum(1 for p in people if any(f.has_row for f in p.families))
    coverage = replace(coverage, count_people=active)
    months = [add_months(month_start(scope.as_of), -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    overview = _overview(con, scope, window_rows, people, months, coverage)
    credit_names, credit_edges = _credit_network(con, scope, names, by_id, evidence)
    quality = _quality(con, scope, names, scope.include_bots)
    return Report(scope, people, overview, attention, credit_names, credit_edges, quality, months, coverage)


def _family_missing(family: Family, coverage: Coverage) -> str | None:
    """The source a whole family needs and the database lacks (None: it can be measured)."""
    sources = family.sources
    if len(sources) == 1:
        (source,) = sources
        if not coverage.measured(source):
            return SOURCE_LABELS[source]
    return None


def _person(metric_id: str, names: Names) -> Person:
    row = names.by_metric_id.get(metric_id)
    hidden = names.scope.pseudonymize or names.scope.ids_pseudonymized
    aside = None
    if row is not None and not hidden:
        aside = row["github_login"] or row["primary_email"] or row["contributor_id"]
    return Person(
        metric_id=metric_id,
        contributor_id=str(row["contributor_id"]) if row else metric_id,
        subject=names.subject(metric_id),
        name=names.name(metric_id),
        aside=aside,
        anchor=names.anchor(names.subject(metric_id)),
        is_bot=bool(row["is_bot"]) if row else False,
    )


def _open_commitments(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[dict[str, Any]]:
    """Overdue at as_of, or not yet due and due within DUE_SOON_DAYS of it; bots left out."""
    where, params = _team_filter(scope, "c.contributor_id")
    if scope.team_ids is None:
        where, params = "TRUE", []
    return rows(
        con,
        f"""SELECT c.commitment_key, c.repo, c.number, c.is_pull_request, c.assignee_login, c.contributor_id,
                   c.due_date, {due_evidence_sql(con, "c.")}, c.outcome, c.warned_before_due, i.title
            FROM fct_commitments c
            LEFT JOIN stg_github__issues i ON i.repo = c.repo AND i.number = c.number
            WHERE NOT c.is_assignee_bot
              AND (c.outcome = 'overdue' OR (c.outcome = 'pending' AND c.due_date <= ?))
              AND {where}
            ORDER BY c.outcome = 'overdue', CASE WHEN c.outcome = 'overdue' THEN -epoch(c.due_date)
                     ELSE epoch(c.due_date) END, c.repo, c.number, c.assignee_login""",
        [scope.as_of + timedelta(days=DUE_SOON_DAYS), *params],
    )


def _attention(
    open_commitments: list[dict[str, Any]], scope: Scope, names: Names, by_id: dict[str, Person]
) -> list[AttentionItem]:
    out = []
    for row in open_commitments:
        overdue = row["outcome"] == "overdue"
        cid = row["contributor_id"]
        assignee = names.name(cid) if cid else names.login(row["assignee_login"])
        out.append(
            AttentionItem(
                commitment_key=pseudonymize_key(row["commitment_key"])
                if scope.pseudonymize
                else row["commitment_key"],
                repo=row["repo"],
                number=row["number"],
                is_pull_request=bool(row["is_pull_request"]),
                title=row["title"] or "",
                url=links.item_url(scope.web_url, row["repo"], row["number"], bool(row["is_pull_request"])),
                assignee=assignee,
                assignee_anchor=by_id[cid].anchor if cid in by_id else None,
                due_date=row["due_date"],
                due_evidence=row["due_evidence"],
                status="overdue" if overdue else "due soon",
                days=abs((scope.as_of - row["due_date"]).days),
                warned_before_due=bool(row["warned_before_due"]),
                is_stale=overdue and row["due_date"] < scope.window_start,
            )
        )
    return out


def _weeks(con: duckdb.DuckDBPyConnection, scope: Scope, by_id: dict[str, Person]) -> None:
    last = scope.as_of - timedelta(days=scope.as_of.weekday())
    starts = [last - timedelta(weeks=i) for i in range(STRIP_WEEKS - 1, -1, -1)]
    found: dict[tuple[str, date], dict[str, Any]] = {}
    if by_id:
        for row in rows(
            con,
            """SELECT contributor_id, period_start, count_active_days, count_commits_authored, count_prs_opened,
                      count_issues_opened, count_reviews_submitted, count_comments_written
               FROM metric_consistency
               WHERE period_type = 'week' AND period_start BETWEEN ? AND ?
                 AND contributor_id IN (SELECT unnest(?::VARCHAR[]))""",
            [starts[0], starts[-1], list(by_id)],
        ):
            found[(row["contributor_id"], row["period_start"])] = row
    labels = (
        ("count_commits_authored", "commit"),
        ("count_prs_opened", "pull request"),
        ("count_issues_opened", "issue"),
        ("count_reviews_submitted", "review"),
        ("count_comments_written", "comment"),
    )
    for person in by_id.values():
        for start in starts:
            week = found.get((person.metric_id, start))
            days = _int(week["count_active_days"]) if week else 0
            detail = f"week of {start:%Y-%m-%d}: "
            if week:
                counts = [(_int(week[c]), label) for c, label in labels]
                detail += (
                    f"{days} active day{'s' if days != 1 else ''} ("
                    + ", ".join(f"{k} {label}{'s' if k != 1 else ''}" for k, label in counts if k)
                    + ")"
                )
            else:
                detail += "no activity"
            person.weeks.append((start, days, detail))


def _overview(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    window_rows: dict[str, dict[str, dict[str, Any]]],
    people: list[Person],
    months: list[date],
    coverage: Coverage,
) -> list[FamilyOverview]:
    where, params = _team_filter(scope)
    member_ids = [p.metric_id for p in people]
    out = []
    for family in FAMILIES:
        table_rows = window_rows[family.table]
        members = [table_rows[i] for i in member_ids if i in table_rows]
        rates = [m for m in family.measures if m.kind == "rate"]
        monthly: dict[date, dict[str, Any]] = {}
        by_person: dict[date, list[dict[str, Any]]] = defaultdict(list)  # each month's member rows
        columns = {c for m in rates for c in (m.numerator or "", *m.n_columns) if c}
        columns |= set(_COUNT_TRENDS.get(family.table, ("", ()))[1])
        sums = [f"sum({c}) AS {c}" for c in sorted(columns)]
        if sums:
            for row in rows(
                con,
                f"""SELECT period_start, {", ".join(sums)} FROM {family.table}
                    WHERE period_type = 'month' AND period_start BETWEEN ? AND ? AND {where}
                    GROUP BY period_start""",
                [months[0], months[-1], *params],
            ):
                monthly[row["period_start"]] = row
        if rates:
            for row in rows(
                con,
                f"""SELECT period_start, {", ".join(sorted(columns))} FROM {family.table}
                    WHERE period_type = 'month' AND period_start BETWEEN ? AND ? AND {where}
                    ORDER BY period_start, contributor_id""",
                [months[0], months[-1], *params],
            ):
                by_person[row["period_start"]].append(row)
        measures = []
        for measure in family.measures:
            missing = _missing(measure, coverage)
            figures = [figure(measure, table_rows.get(i), "", scope.min_n, missing) for i in member_ids]
            values = [f.value for f in figures if f.enough and f.value is not None]
            trend: list[TrendRow] = []
            team: Figure | None = None
            if measure.kind == "rate":
                team = pooled(measure, members, scope.min_n)
                if missing is not None:
                    team = _not_measured(team, missing)
                for month in months:
                    pairs = _member_pairs(measure, by_person.get(month, []))
                    k, n = sum(y for y, _ in pairs), sum(m for _, m in pairs)
                    _rate, lower, upper = team_rate(pairs)
                    value = k / n if n >= scope.min_n and n else None
                    trend.append(TrendRow(month, k, n, value, lower, upper))
            not_enough = (
                sum(1 for f in figures if not f.enough) if measure.kind != "count" and not missing else 0
            )
            overview = MeasureOverview(measure, team, values, not_enough, trend, missing=missing)
            if measure.kind == "count":
                overview.total = sum(values) if measure.summable else None
                overview.count_any = sum(1 for v in values if v > 0)
            measures.append(overview)
        count_trend = None
        if family.table in _COUNT_TRENDS:
            label, added = _COUNT_TRENDS[family.table]
            count_trend = (label, [(m, sum(_int(monthly.get(m, {}).get(c)) for c in added)) for m in months])
        out.append(FamilyOverview(family, measures, count_trend, _family_missing(family, coverage)))
    return out


def _credit_network(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    names: Names,
    by_id: dict[str, Person],
    evidence: Evidence,
) -> tuple[list[str], list[CreditEdge]]:
    low, high = utc_bounds(scope.window_start, scope.as_of, scope.timezone)
    team = ""
    params: list[object] = [low, high]
    if scope.team_ids is not None:
        team = (
            "AND (giver_contributor_id IN (SELECT unnest(?::VARCHAR[])) "
            "OR receiver_contributor_id IN (SELECT unnest(?::VARCHAR[])))"
        )
        params += [list(scope.team_ids), list(scope.team_ids)]
    edges = rows(
        con,
        f"""SELECT giver_contributor_id AS giver, receiver_contributor_id AS receiver, kind, count(*) AS n,
                   list(evidence_key ORDER BY occurred_at DESC, credit_key)[1:3] AS keys
            FROM fct_credits
            WHERE receiver_contributor_id IS NOT NULL AND occurred_at BETWEEN ? AND ? {team}
            GROUP BY ALL""",
        params,
    )
    evidence.load(k for e in edges for k in e["keys"])
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for edge in edges:
        entry = merged.setdefault((edge["giver"], edge["receiver"]), {"counts": defaultdict(int), "keys": []})
        entry["counts"][_CREDIT_GROUPS.get(edge["kind"], "other_credit")] += _int(edge["n"])
        entry["keys"].extend(edge["keys"])
    out = []
    for (giver, receiver), entry in merged.items():
        counts = dict(entry["counts"])
        items = tuple(evidence.item(links.parse_key(k)) for k in sorted(set(entry["keys"]))[:3])
        out.append(
            CreditEdge(
                names.name(giver),
                by_id[giver].anchor if giver in by_id else None,
                names.name(receiver),
                by_id[receiver].anchor if receiver in by_id else None,
                counts,
                sum(counts.values()),
                items,
            )
        )
    out.sort(key=lambda e: (e.giver.casefold(), e.receiver.casefold()))
    involved = sorted({e.giver for e in out} | {e.receiver for e in out}, key=str.casefold)
    return involved, out


def _quality(con: duckdb.DuckDBPyConnection, scope: Scope, names: Names, include_bots: bool) -> DataQuality:
    repositories = rows(
        con,
        """WITH keys AS (
               SELECT repo FROM dim_repositories UNION SELECT repo FROM raw_github__repositories
               UNION SELECT repo FROM sync_state
           ), github AS (
               SELECT repo, max(synced_at) AS synced_at FROM (
                   SELECT repo, fetched_at AS synced_at FROM raw_github__repositories
                   UNION ALL SELECT repo, updated_at FROM sync_state WHERE source = 'github') GROUP BY repo
           ), failed AS (
               SELECT repo, arg_max(status, started_at) AS status, arg_max(error_message, started_at) AS error
               FROM pipeline_run_steps GROUP BY repo
           )
           SELECT k.repo, d.last_synced_at AS git_synced_at, coalesce(d.is_shallow, false) AS is_shallow,
                  g.synced_at AS github_synced_at, f.status AS last_step_status, f.error AS last_step_error
           FROM keys k LEFT JOIN dim_repositories d USING (repo) LEFT JOIN github g USING (repo)
           LEFT JOIN failed f USING (repo)
           ORDER BY k.repo""",
    )
    since = datetime.combine(scope.as_of - timedelta(days=29), time.min)
    runs = rows(
        con,
        """SELECT command, started_at, finished_at, status, count_api_requests, count_not_modified,
                  rate_limit_remaining, error_message
           FROM pipeline_runs ORDER BY started_at DESC LIMIT 5""",
    )
    totals = con.execute(
        """SELECT coalesce(sum(count_api_requests), 0), coalesce(sum(count_not_modified), 0)
           FROM pipeline_runs WHERE started_at >= ?""",
        [since],
    ).fetchall()[0]
    unresolved = rows(
        con,
        "SELECT identity_id, source, name, email, contributor_id, reason FROM unresolved_identities ORDER BY ALL",
    )
    if scope.pseudonymize:
        for row in unresolved:
            row["identity_id"] = pseudonym(row["identity_id"])
            row["name"] = pseudonym(row["name"])
            row["email"] = pseudonym(row["email"])
            row["contributor_id"] = pseudonym(row["contributor_id"])
    bots = _bots(con, scope)
    gaps = _gaps(con, scope)
    problems = []
    for run in rows(
        con,
        """SELECT command, started_at, status, error_message FROM pipeline_runs
           WHERE started_at >= ? AND (status IN ('failed', 'partial') OR finished_at IS NULL)
           ORDER BY started_at DESC LIMIT 10""",
        [since],
    ):
        what = "did not finish (killed?)" if run["status"] == "running" else run["status"]
        problems.append(
            f"{run['command']} run of {run['started_at']:%Y-%m-%d %H:%M} UTC {what}"
            + (f": {run['error_message']}" if run["error_message"] else "")
        )
    # What is missing altogether (no GitHub data, ...) is said at the top of the report (coverage).
    return DataQuality(
        repositories, runs, int(totals[0]), int(totals[1]), unresolved, bots, include_bots, gaps, problems
    )


def _bots(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[dict[str, Any]]:
    """Each bot once: its identities (a GitHub login, git addresses) may be separate contributors
    with the same name, e.g. dependabot[bot] with 61 commits and dependabot[bot] named in a trailer."""
    found = rows(
        con,
        """SELECT lower(display_name) AS key, min(display_name) AS display_name,
                  min(contributor_id) AS contributor_id, sum(count_commits_authored) AS count_commits_authored,
                  count(*) AS count_identities
           FROM dim_contributors WHERE is_bot GROUP BY 1 ORDER BY 1, 3""",
    )
    for row in found:
        row["count_commits_authored"] = _int(row["count_commits_authored"])
        if scope.pseudonymize:
            row["display_name"] = pseudonym(row["contributor_id"])
    return found


def _gaps(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[dict[str, Any]]:
    """Runs of GAP_WEEKS or more weeks without any recorded activity in a repository that was
    active before and after, over the trend months: a sync that missed data, or a real pause."""
    first_week = add_months(month_start(scope.as_of), -(TREND_MONTHS - 1))
    first_week -= timedelta(days=first_week.weekday())
    found: dict[str, set[date]] = defaultdict(set)
    for row in rows(
        con,
        """SELECT substr(team_id, 6) AS repo, period_start FROM metric_consistency
           WHERE period_type = 'week' AND team_id LIKE 'repo:%' AND period_start BETWEEN ? AND ?""",
        [first_week, scope.as_of],
    ):
        found[row["repo"]].add(row["period_start"])
    out = []
    for repo, weeks in sorted(found.items()):
        ordered = sorted(weeks)
        for before, after in itertools.pairwise(ordered):
            missing = (after - before).days // 7 - 1
            if missing >= GAP_WEEKS:
                out.append(
                    {
                        "repo": repo,
                        "start": before + timedelta(weeks=1),
                        "end": after - timedelta(days=1),
                        "weeks": missing,
                    }
                )
    return out
