"""GitHub Projects (ProjectsV2) due dates: which projects each synced issue or pull request is on,
with its date and iteration field values, read through GraphQL, and the due date each run saw.

SPEC: an item's due date comes from a Projects date field whose name is configured (default
`DEFAULT_DUE_DATE_FIELDS`, matched case-insensitively), else from an iteration field (due on the
iteration's last day: start + duration - 1), else from its milestone. Between candidates of one kind
(two projects, or two due fields on one project) the lowest project number wins, then the owner's
login, then the field name (sql/41_fct_github.sql, `perftrust_project_due_at`).

Which items are asked, per run: every item of the repository never asked before (so the first run
asks them all), every item whose issue row changed since its projects were last read, and every
open item (a project value can change without the issue's updatedAt moving: GitHub does not touch
it). A date moved on a closed item that nothing else changed is therefore not seen.

Cost: items are asked 100 per query by alias (`issue(number:)` / `pullRequest(number:)`), each with its first
`PROJECTS_PER_ITEM` project items and their first 100 field values (a project has at most 50
fields, so one page holds them all): 100 x (1 + 2) connections = 3 points per 100 items (with 5 project
items per item it was 6: most items are on one project or none, so fewer is cheaper). An item on
more projects pages on in later queries, many items per query.

Output: `raw_github__project_items` (one row per item, the project items list whole) and
`raw_github__project_due_observations` (stretches of runs that saw the same due date per item,
project and field, the way `raw_github__due_date_observations` keeps milestones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.config import DEFAULT_DUE_DATE_FIELDS
from pipeline.db import transaction
from pipeline.github_client import GitHubClient, GitHubError, HeavyQuery, recorded_step
from pipeline.github_sync import _json, _replace_rows
from pipeline.runs import StepResult, utc_now

STEP = "github-projects"
GRAPHQL_URL = "/graphql"
PROJECTS_PER_ITEM = 2  # project items asked per issue in the first query (more page on)
SCOPE_FIX = (
    "give the token the read:project scope: `gh auth refresh -s read:project` (GitHub CLI), or tick "
    "read:project at https://github.com/settings/tokens (classic token); a fine-grained token needs "
    "the organization permission Projects: read"
)

_FIELD = "field { ... on ProjectV2FieldCommon { id name dataType } }"
_PROJECT_ITEM = f"""id fullDatabaseId isArchived type updatedAt
      project {{ id number title url closed owner {{ __typename ... on Organization {{ login }} ... on User {{ login }} }} }}
      fieldValues(first: 100) {{ pageInfo {{ hasNextPage }} nodes {{ __typename
        ... on ProjectV2ItemFieldDateValue {{ date updatedAt {_FIELD} }}
        ... on ProjectV2ItemFieldIterationValue {{ iterationId title startDate duration updatedAt {_FIELD} }} }} }}"""
_CONNECTION = (
    "projectItems(first: $first, after: $a{i}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {item} }} }}"
)

PROJECT_ITEMS = pa.schema(
    [
        pa.field("repo", pa.string()),
        pa.field("number", pa.int32()),
        pa.field("count_project_items", pa.int32()),
        pa.field("payload", pa.string()),
        pa.field("url", pa.string()),
        pa.field("fetched_at", pa.timestamp("us")),
        pa.field("run_id", pa.string()),
    ]
)


def project_items_query(kinds: Sequence[bool]) -> str:
    """One query for several items' project items: alias i{k} asks `pullRequest(number: $n{k})` when
    kinds[k] (a pull request), else `issue(number: $n{k})`; $a{k} is the cursor to continue after
    (null at first); $first the project items per item."""
    params = ["$owner: String!", "$name: String!", "$first: Int!"]
    parts = []
    for i, is_pull in enumerate(kinds):
        params += [f"$n{i}: Int!", f"$a{i}: String"]
        connection = _CONNECTION.format(i=i, item=_PROJECT_ITEM)
        parts.append(f"i{i}: {'pullRequest' if is_pull else 'issue'}(number: $n{i}) {{ {connection} }}")
    body = "\n    ".join(parts)
    return (
        f"query perftrustProjectItems({', '.join(params)}) {{\n  rateLimit {{ cost remaining resetAt }}\n"
        f"  repository(owner: $owner, name: $name) {{\n    {body}\n  }}\n}}"
    )


@dataclass(frozen=True)
class ProjectOptions:
    due_date_fields: Sequence[str] = DEFAULT_DUE_DATE_FIELDS  # date fields that are due dates
    projects: Sequence[str] = ()  # "owner/number" to narrow to; empty: every project an item is on
    batch: int = 100  # items per query (halved on 502/504/timeouts, down to 1)
    min_remaining: int = 10  # GraphQL points below which the stage waits for the reset or stops


@dataclass
class Candidate:
    project_id: str
    field_name: str
    due_source: str  # project_date | project_iteration
    project_owner: str | None
    project_number: int | None
    project_title: str | None
    due_date: date | None
    iteration_title: str | None = None
    iteration_start_date: date | None = None
    iteration_duration: int | None = None


def candidates(nodes: list[dict[str, Any]], options: ProjectOptions) -> list[Candidate]:
    """The due date candidates of one item's project items: date fields named in
    options.due_date_fields (case-insensitive) and every iteration field, of the projects chosen."""
    names = {n.strip().casefold() for n in options.due_date_fields}
    narrowed = {p.strip().casefold() for p in options.projects}
    out: list[Candidate] = []
    for node in nodes:
        project = node.get("project") or {}
        owner = (project.get("owner") or {}).get("login")
        if narrowed and f"{owner}/{project.get('number')}".casefold() not in narrowed:
            continue
        base: dict[str, Any] = {
            "project_id": project.get("id") or "",
            "project_owner": owner,
            "project_number": project.get("number"),
            "project_title": project.get("title"),
        }
        for value in ((node.get("fieldValues") or {}).get("nodes")) or []:
            if not value:
                continue
            name = ((value.get("field") or {}).get("name")) or ""
            kind = value.get("__typename")
            if (
                kind == "ProjectV2ItemFieldDateValue"
                and name.strip().casefold() in names
                and value.get("date")
            ):
                out.append(
                    Candidate(
                        field_name=name,
                        due_source="project_date",
                        due_date=date.fromisoformat(value["date"]),
                        **base,
                    )
                )
            elif kind == "ProjectV2ItemFieldIterationValue" and value.get("startDate"):
                start = date.fromisoformat(value["startDate"])
                duration = int(value.get("duration") or 1)
                out.append(
                    Candidate(
                        field_name=name,
                        due_source="project_iteration",
                        due_date=start + timedelta(days=max(duration, 1) - 1),
                        iteration_title=value.get("title"),
                        iteration_start_date=start,
                        iteration_duration=duration,
                        **base,
                    )
                )
    return out


class _ProjectSync:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        client: GitHubClient,
        full_name: str,
        key: str,
        run_id: str,
        options: ProjectOptions,
        now: datetime | None,
    ) -> None:
        self.con, self.client, self.full_name, self.key, self.run_id = con, client, full_name, key, run_id
        self.options = options
        self.now = now
        self.batch = max(1, options.batch)
        self.rate: dict[str, Any] = {}
        self.is_pull: dict[int, bool] = {}
        self.result = StepResult(step=STEP, repo=key)

    def due_items(self) -> list[int]:
        rows = self.con.execute(
            """SELECT i.number, i.is_pull_request FROM raw_github__issues i
               LEFT JOIN raw_github__project_items p ON p.repo = i.repo AND p.number = i.number
               WHERE i.repo = ? AND i.gone_reason IS NULL
                 AND (p.number IS NULL OR i.fetched_at > p.fetched_at OR i.payload->>'$.state' = 'open')
               ORDER BY i.number""",
            [self.key],
        ).fetchall()
        self.is_pull = {r[0]: bool(r[1]) for r in rows}
        return [r[0] for r in rows]

    def run(self) -> None:
        pending = self.due_items()
        self.result.details["items_asked"] = len(pending)
        while pending:
            chunk = pending[: self.batch]
            fetched = self._fetch(chunk)
            if fetched is None:  # no read:project: stop, keeping every earlier observation as it was
                return
            done, gone = fetched
            self._store(done)
            pending = [n for n in pending if n not in done and n not in gone]

    def _ask(self, numbers: list[int], after: dict[int, str | None]) -> dict[str, Any]:
        self._check_budget()
        owner, name = self.full_name.split("/", 1)
        variables: dict[str, Any] = {"owner": owner, "name": name, "first": PROJECTS_PER_ITEM}
        for i, number in enumerate(numbers):
            variables[f"n{i}"] = number
            variables[f"a{i}"] = after.get(number)
        response = self.client.graphql(project_items_query([self.is_pull[n] for n in numbers]), variables)
        self.rate = (response.data or {}).get("rateLimit") or self.rate
        kinds = {str(e.get("type") or "") for e in response.errors}
        if kinds & {"INSUFFICIENT_SCOPES", "FORBIDDEN"}:
            self.result.warnings.append(
                f"GitHub Projects due dates of {self.full_name} were not read: the token may not read "
                f"projects ({', '.join(sorted(kinds & {'INSUFFICIENT_SCOPES', 'FORBIDDEN'}))}); {SCOPE_FIX}"
            )
            return {"__no_scope": True}
        if response.data is None or response.data.get("repository") is None:
            first = response.errors[0].get("message", "") if response.errors else "no data"
            raise GitHubError(f"GitHub's GraphQL API answered errors for {self.full_name} projects: {first}")
        repository: dict[str, Any] = response.data["repository"]
        return repository

    def _fetch(self, chunk: list[int]) -> tuple[dict[int, list[dict[str, Any]]], set[int]] | None:
        """Every project item of the chunk's items, and the items GitHub no longer has (deleted,
        transferred); None when the token may not read projects. A timeout halves the batch and
        returns nothing for the chunk (asked again, smaller)."""
        nodes: dict[int, list[dict[str, Any]]] = {n: [] for n in chunk}
        after: dict[int, str | None] = {}
        asking = list(chunk)
        gone: set[int] = set()
        attempt = 0
        while asking:
            try:
                data = self._ask(asking, after)
            except HeavyQuery:
                if len(asking) > 1 and not after:
                    self.batch = max(1, len(asking) // 2)
                    self.result.details["graphql_batch"] = self.batch
                    return {}, set()
                self.client.back_off_heavy_query(attempt, f"{self.full_name} projects")
                attempt += 1
                continue
            if data.get("__no_scope"):
                self.result.status = "skipped"
                return None
            following = []
            for i, number in enumerate(asking):
                part = (data.get(f"i{i}") or {}).get("projectItems")
                if part is None:
                    gone.add(number)
                    continue
                nodes[number].extend(n for n in part.get("nodes") or [] if n)
                if (part.get("pageInfo") or {}).get("hasNextPage"):
                    after[number] = part["pageInfo"]["endCursor"]
                    following.append(number)
            asking = following
        return {n: v for n, v in nodes.items() if n not in gone}, gone

    def _check_budget(self) -> None:
        """Before a query: wait for the reset when the budget is nearly gone (and the reset is near
        enough), else stop cleanly; what earlier answers brought is committed by then."""
        if self.client.wait_for_graphql_budget(self.rate, self.options.min_remaining):
            self.rate = {}

    def _store(self, done: dict[int, list[dict[str, Any]]]) -> None:
        """The items' project items and the due dates seen, in one transaction."""
        if not done:
            return
        now = self.now or utc_now()
        rows = [
            {"repo": self.key, "number": number, "count_project_items": len(nodes), "payload": _json(nodes),
             "url": GRAPHQL_URL, "fetched_at": now, "run_id": self.run_id}
            for number, nodes in done.items()
        ]  # fmt: skip
        stored = dict(
            self.con.execute(
                """SELECT number, CAST(payload AS VARCHAR) FROM raw_github__project_items
                   WHERE repo = ? AND list_contains(?, number)""",
                [self.key, list(done)],
            ).fetchall()
        )
        with transaction(self.con):
            # Every row is written again (its fetched_at says when its projects were last read), but
            # only new or different ones count as added: an open item asked again with nothing changed
            # on its projects is no change (a quiet night then says "unchanged").
            _replace_rows(self.con, "raw_github__project_items", ["repo", "number"], rows, PROJECT_ITEMS)
            for number, nodes in done.items():
                self._observe(number, candidates(nodes, self.options), now)
        self.result.count_rows_added += sum(1 for row in rows if stored.get(row["number"]) != row["payload"])

    def _observe(self, number: int, seen: list[Candidate], now: datetime) -> None:
        latest = {
            (r[0], r[1]): r[2:]
            for r in self.con.execute(
                """SELECT project_id, field_name, due_date, first_observed_at, due_source, project_owner,
                          project_number, project_title
                   FROM raw_github__project_due_observations
                   WHERE repo = ? AND number = ?
                   QUALIFY row_number() OVER (PARTITION BY project_id, field_name ORDER BY last_observed_at DESC) = 1""",
                [self.key, number],
            ).fetchall()
        }
        current = {(c.project_id, c.field_name): c for c in seen}
        for (project_id, field_name), (due, first, source, owner, pnum, title) in latest.items():
            if (project_id, field_name) not in current and due is not None:  # cleared, or off the project
                current[(project_id, field_name)] = Candidate(
                    project_id, field_name, source, owner, pnum, title, None
                )
            elif (project_id, field_name) not in current:
                self.con.execute(
                    """UPDATE raw_github__project_due_observations SET last_observed_at = ?, last_run_id = ?
                       WHERE repo = ? AND number = ? AND project_id = ? AND field_name = ? AND first_observed_at = ?""",
                    [now, self.run_id, self.key, number, project_id, field_name, first],
                )
        for (project_id, field_name), c in current.items():
            before = latest.get((project_id, field_name))
            if before is not None and before[0] == c.due_date:
                self.con.execute(
                    """UPDATE raw_github__project_due_observations
                       SET last_observed_at = ?, last_run_id = ?, project_title = coalesce(?, project_title)
                       WHERE repo = ? AND number = ? AND project_id = ? AND field_name = ? AND first_observed_at = ?""",
                    [now, self.run_id, c.project_title, self.key, number, project_id, field_name, before[1]],
                )
                continue
            self.con.execute(
                """INSERT INTO raw_github__project_due_observations
                   (repo, number, project_id, field_name, due_source, project_owner, project_number, project_title,
                    due_date, iteration_title, iteration_start_date, iteration_duration, first_observed_at,
                    last_observed_at, first_run_id, last_run_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [self.key, number, project_id, field_name, c.due_source, c.project_owner, c.project_number,
                 c.project_title, c.due_date, c.iteration_title, c.iteration_start_date, c.iteration_duration,
                 now, now, self.run_id, self.run_id],
            )  # fmt: skip


def sync_project_due_dates(
    con: duckdb.DuckDBPyConnection,
    client: GitHubClient,
    full_name: str,
    run_id: str,
    *,
    key: str | None = None,
    options: ProjectOptions = ProjectOptions(),
    now: datetime | None = None,
) -> StepResult:
    """Read the GitHub Projects entries of the repository's issues and pull requests that need it
    (module docstring) and record the due dates seen. Call it after the issues of `full_name` are
    stored in `con` (raw_github__issues), with the same key and run id. Returns a StepResult (step
    github-projects): `skipped` with a warning naming the fix when the token may not read projects
    (GitHub answers INSUFFICIENT_SCOPES without read:project); GitHubError subclasses otherwise, with
    `exc.step` set, and what was stored before stays (each batch is one transaction)."""
    sync = _ProjectSync(con, client, full_name, key or full_name, run_id, options, now)
    result = sync.result
    with recorded_step(result, client, rest=False, graphql=True):
        sync.run()
    if result.status == "running":
        result.status = "succeeded" if result.count_rows_added else "unchanged"
    return result
