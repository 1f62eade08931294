"""GitHub Projects (ProjectsV2) due dates: which projects each synced issue or pull request is on,
with its date and iteration field values, read through GraphQL, and the due date each run saw.

SPEC: an item's due date comes from a Projects date field whose name is configured (default
`DEFAULT_DUE_DATE_FIELDS`, matched case-insensitively), else from an iteration field (due on the
iteration's last day: start + duration - 1), else from its milestone. Between candidates of one kind
(two projects, or two due fields on one project) the lowest project number wins, then the owner's
login, then the field name (sql/41_fct_github.sql, `perftrust_project_due_at`).

Which items are asked, per run: every item of the repository never asked before (so the first run
asks them all), every item whose issue row changed since its projects were last read, and every
item on a project page that changed (a project value can change without the issue's updatedAt
moving: GitHub does not touch it). The projects are watched over REST (`ProjectWatch`): each project
the repository's items are on is listed (`GET /orgs/{org}/projectsV2/{n}/items?q=repo:OWNER/NAME`
with the due fields' values) once, and every later run asks each page again with its ETag. A 304
costs no quota, so a quiet night costs 304s only and no GraphQL points. A page that changed (an
issue on it changed, or an entry) costs a request; the entries on it whose own state (updated_at,
due field values, archived) differs from last time are asked again, open or closed. The watch moves only after the items it named are stored. Where
the REST projects API cannot be used (a server without it, a refused request), the run asks every
open item instead, as before the watch. Not seen: an item put on a project none of the repository's
items was on before, until the item itself changes.

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

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import duckdb
import pyarrow as pa

from pipeline.config import DEFAULT_DUE_DATE_FIELDS
from pipeline.db import registered, transaction
from pipeline.github_client import GitHubClient, GitHubError, HeavyQuery, NotFound, RateLimited, recorded_step
from pipeline.github_sync import SOURCE as GITHUB
from pipeline.github_sync import _json, _replace_rows
from pipeline.runs import StepResult, read_cursor, utc_now, write_cursor

STEP = "github-projects"
# The project pages last seen are kept in the repository's GitHub cursor (sync_state, source github)
# under this key: they travel with the github source in the store, and the issue extractors keep
# keys they do not know when they move their own cursors.
WATCH = "projects_watch"
WATCH_VERSION = 1
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


OBSERVED = pa.schema(
    [
        pa.field("number", pa.int32()),
        pa.field("project_id", pa.string()),
        pa.field("field_name", pa.string()),
        pa.field("due_source", pa.string()),
        pa.field("project_owner", pa.string()),
        pa.field("project_number", pa.int32()),
        pa.field("project_title", pa.string()),
        pa.field("due_date", pa.date32()),
        pa.field("iteration_title", pa.string()),
        pa.field("iteration_start_date", pa.date32()),
        pa.field("iteration_duration", pa.int32()),
    ]
)  # the candidates one run saw (Candidate's fields), compared with the latest stretches in SQL


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


class ProjectWatch:
    """Which of a repository's items have project entries that changed since the last run, from
    the project pages asked over REST with the ETags of last time (module docstring). State, per
    project ("Organization/login/number"): the due fields' ETag and ids, and each page's URL, ETag,
    next URL and a digest of each of the repository's entries on it (by item number)."""

    def __init__(self, client: GitHubClient, full_name: str, options: ProjectOptions) -> None:
        self.client, self.full_name, self.options = client, full_name, options
        self.names = {n.strip().casefold() for n in options.due_date_fields}
        self.projects: dict[str, dict[str, Any]] = {}  # what this run saw, saved by the caller

    @staticmethod
    def base(project: str) -> str:
        kind, login, number = project.split("/")
        return f"/{'orgs' if kind == 'Organization' else 'users'}/{login}/projectsV2/{number}"

    def changed(self, state: dict[str, Any]) -> set[int] | None:
        """Numbers of the items whose entries changed, joined or left a watched project since
        `state` (every item of a project that is gone); None when the REST projects API cannot be
        used (the caller then asks the open items)."""
        if state.get("unavailable"):
            return None
        numbers: set[int] = set()
        for project, stored in (state.get("projects") or {}).items():
            try:
                numbers |= self.walk(project, stored)
            except NotFound:  # the project is gone (or hidden now): ask its items again, stop watching
                numbers |= {int(n) for page in stored.get("pages") or [] for n in page["items"]}
            except RateLimited:
                raise
            except GitHubError:
                return None
        return numbers

    def walk(self, project: str, stored: dict[str, Any] | None) -> set[int]:
        """One project's pages, each asked with its stored ETag; returns the numbers of the items
        whose project entry changed (its updated_at, archived state or due field values), joined or
        left, and keeps the pages seen. A page also changes when an issue on it does (each item
        carries its issue): only the entries that differ are asked again."""
        base = self.base(project)
        stored = stored or {}
        fields = self._due_field_ids(base, stored.get("fields"))
        params = {"per_page": self.client.settings.per_page, "q": f"repo:{self.full_name}"}
        if fields[1]:
            params["fields"] = ",".join(str(i) for i in fields[1])
        before = {page["url"]: page for page in stored.get("pages") or []}
        seen_before = {n: fp for page in before.values() for n, fp in page["items"].items()}
        url: str | None = f"{base}/items?{urlencode(params)}"
        pages: list[dict[str, Any]] = []
        while url and all(page["url"] != url for page in pages):
            old = before.get(url)
            response = self.client.get(url, etag=old["etag"] if old else None)
            if response.status == 304 and old is not None:
                pages.append(old)
                url = old["next"]
                continue
            items = self._fingerprints(response.data or [])
            pages.append({"url": url, "etag": response.etag, "next": response.next_url, "items": items})
            url = response.next_url
        seen = {n: fp for page in pages for n, fp in page["items"].items()}
        self.projects[project] = {"fields": fields, "pages": pages}
        return {int(n) for n in seen.keys() | seen_before.keys() if seen.get(n) != seen_before.get(n)}

    def _due_field_ids(self, base: str, stored: list[Any] | None) -> list[Any]:
        """[ETag, ids] of the project's due fields (date fields named in the options, iterations)."""
        response = self.client.get(f"{base}/fields", {"per_page": 100}, stored[0] if stored else None)
        if response.status == 304 and stored:
            return stored
        ids = sorted(
            int(f["id"])
            for f in response.data or []
            if str(f.get("data_type", "")).lower() == "iteration"
            or (
                str(f.get("data_type", "")).lower() == "date"
                and str(f.get("name", "")).strip().casefold() in self.names
            )
        )
        return [response.etag, ids]

    def _fingerprints(self, items: list[dict[str, Any]]) -> dict[str, str]:
        """This repository's issues and pull requests among a page's project items: number (as a
        JSON key) -> a digest of the entry's own state (not its issue's)."""
        wanted = self.full_name.casefold()
        out = {}
        for item in items:
            content = item.get("content") or {}
            parts = urlsplit(str(content.get("html_url") or "")).path.strip("/").split("/")
            if len(parts) >= 4 and f"{parts[0]}/{parts[1]}".casefold() == wanted and content.get("number"):
                own = [
                    item.get("id"), item.get("updated_at"), item.get("archived_at"),
                    [f for f in item.get("fields") or [] if str(f.get("data_type", "")).lower() != "title"],
                ]  # fmt: skip
                digest = hashlib.sha256(json.dumps(own, sort_keys=True).encode()).hexdigest()[:16]
                out[str(int(content["number"]))] = digest
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
        self.asked: list[int] = []
        self.result = StepResult(step=STEP, repo=key)
        self.watch = ProjectWatch(client, full_name, options)

    def due_items(self) -> list[int]:
        """The items to ask (module docstring): never asked, changed since, or on a changed project
        page (every open item when nothing is watched yet or the watch cannot be used)."""
        state = (read_cursor(self.con, GITHUB, self.key) or {}).get(WATCH)
        on_changed_pages: set[int] | None = None
        if isinstance(state, dict) and state.get("version") == WATCH_VERSION:
            on_changed_pages = self.watch.changed(state)
            self.result.details["watch"] = "unavailable" if on_changed_pages is None else "used"
        rows = self.con.execute(
            """SELECT i.number, i.is_pull_request,
                      p.number IS NULL OR i.fetched_at > p.fetched_at, i.payload->>'$.state' = 'open'
               FROM raw_github__issues i
               LEFT JOIN raw_github__project_items p ON p.repo = i.repo AND p.number = i.number
               WHERE i.repo = ? AND i.gone_reason IS NULL
               ORDER BY i.number""",
            [self.key],
        ).fetchall()
        chosen = [
            r for r in rows
            if r[2] or (r[3] if on_changed_pages is None else r[0] in on_changed_pages)
        ]  # fmt: skip
        self.is_pull = {r[0]: bool(r[1]) for r in chosen}
        self.asked = [r[0] for r in chosen]
        return list(self.asked)

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
        self._watch_from_now()

    def _watch_from_now(self) -> None:
        """Every item asked is stored: keep the pages this run saw (listing the projects not watched
        yet), so the next run asks only what changes after now."""
        rows = self.con.execute(
            """SELECT DISTINCT p->>'$.owner.__typename', p->>'$.owner.login', p->>'$.number'
               FROM (SELECT unnest(json_extract(payload, '$[*].project')) AS p
                     FROM raw_github__project_items WHERE repo = ? AND count_project_items > 0)
               WHERE p->>'$.owner.login' IS NOT NULL""",
            [self.key],
        ).fetchall()
        narrowed = {n.strip().casefold() for n in self.options.projects}
        for kind, login, number in sorted(rows):
            project = f"{kind}/{login}/{number}"
            if project in self.watch.projects or (
                narrowed and f"{login}/{number}".casefold() not in narrowed
            ):
                continue
            try:
                self.watch.walk(project, None)
            except RateLimited:
                raise
            except GitHubError as exc:
                # GraphQL just showed the project, so REST cannot list it (a GitHub Enterprise
                # Server without the projectsV2 endpoints, a refused request): the next run asks
                # the open items, as without a watch, and tries again.
                reason = self.client.scrub(str(exc))
                self.result.details["watch"] = f"unavailable: {reason}"
                self._save_watch({"version": WATCH_VERSION, "unavailable": reason, "projects": {}})
                return
        self._save_watch({"version": WATCH_VERSION, "projects": self.watch.projects})

    def _save_watch(self, state: dict[str, Any]) -> None:
        with transaction(self.con):
            if self.result.details.get("watch") == "used":
                # The items not asked are on pages that answered 304: this run saw their due dates
                # unchanged, so their latest stretches reach this run (as an asked item's do).
                self.con.execute(
                    """UPDATE raw_github__project_due_observations o SET last_observed_at = $now, last_run_id = $run
                       FROM (SELECT number, project_id, field_name, max(first_observed_at) AS first_observed_at
                             FROM raw_github__project_due_observations WHERE repo = $repo GROUP BY ALL) latest
                       WHERE o.repo = $repo AND o.number = latest.number AND o.project_id = latest.project_id
                         AND o.field_name = latest.field_name AND o.first_observed_at = latest.first_observed_at
                         AND NOT list_contains($asked, o.number)""",
                    {"now": self.now or utc_now(), "run": self.run_id, "repo": self.key, "asked": self.asked},
                )
            cursor = read_cursor(self.con, GITHUB, self.key) or {}
            cursor[WATCH] = state
            write_cursor(self.con, GITHUB, self.key, cursor, self.run_id)

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
            self._observe(done, now)
        self.result.count_rows_added += sum(1 for row in rows if stored.get(row["number"]) != row["payload"])

    def _observe(self, done: dict[int, list[dict[str, Any]]], now: datetime) -> None:
        """Record the due dates this run saw on the items in `done`, set-wise (one statement per
        kind of change, not per item): per (item, project, field), a date equal to the latest
        stretch's extends it; a new or different date starts a stretch; a dated stretch whose
        candidate is gone (value cleared, item off the project) is followed by a NULL stretch; a
        NULL stretch still unseen extends."""
        seen = pa.Table.from_pylist(
            [
                {"number": number, **vars(c)}
                for number, nodes in done.items()
                for c in candidates(nodes, self.options)
            ],
            schema=OBSERVED,
        )
        asked = pa.table({"number": pa.array(list(done), pa.int32())})
        same = "l.number = s.number AND l.project_id = s.project_id AND l.field_name = s.field_name"
        params = {"repo": self.key, "now": now, "run": self.run_id}
        columns = """repo, number, project_id, field_name, due_source, project_owner, project_number,
                     project_title, due_date, iteration_title, iteration_start_date, iteration_duration,
                     first_observed_at, last_observed_at, first_run_id, last_run_id"""
        with registered(self.con, "perftrust_seen", seen), registered(self.con, "perftrust_asked", asked):
            self.con.execute(
                """CREATE OR REPLACE TEMP TABLE perftrust_latest AS
                   SELECT o.* FROM raw_github__project_due_observations o SEMI JOIN perftrust_asked a USING (number)
                   WHERE o.repo = $repo
                   QUALIFY row_number() OVER (
                       PARTITION BY o.number, o.project_id, o.field_name ORDER BY o.last_observed_at DESC) = 1""",
                {"repo": self.key},
            )
            try:
                self.con.execute(
                    f"""UPDATE raw_github__project_due_observations o
                        SET last_observed_at = $now, last_run_id = $run,
                            project_title = coalesce(x.seen_title, o.project_title)
                        FROM (SELECT l.number, l.project_id, l.field_name, l.first_observed_at,
                                     s.project_title AS seen_title
                              FROM perftrust_latest l LEFT JOIN perftrust_seen s ON {same}
                              WHERE (s.number IS NOT NULL AND s.due_date IS NOT DISTINCT FROM l.due_date)
                                 OR (s.number IS NULL AND l.due_date IS NULL)) x
                        WHERE o.repo = $repo AND o.number = x.number AND o.project_id = x.project_id
                          AND o.field_name = x.field_name AND o.first_observed_at = x.first_observed_at""",
                    params,
                )
                self.con.execute(
                    f"""INSERT INTO raw_github__project_due_observations ({columns})
                        SELECT $repo, s.number, s.project_id, s.field_name, s.due_source, s.project_owner,
                               s.project_number, s.project_title, s.due_date, s.iteration_title,
                               s.iteration_start_date, s.iteration_duration, $now, $now, $run, $run
                        FROM perftrust_seen s LEFT JOIN perftrust_latest l ON {same}
                        WHERE l.number IS NULL OR l.due_date IS DISTINCT FROM s.due_date
                        UNION ALL
                        SELECT $repo, l.number, l.project_id, l.field_name, l.due_source, l.project_owner,
                               l.project_number, l.project_title, NULL, NULL, NULL, NULL, $now, $now, $run, $run
                        FROM perftrust_latest l ANTI JOIN perftrust_seen s ON {same}
                        WHERE l.due_date IS NOT NULL""",
                    params,
                )
            finally:
                self.con.execute("DROP TABLE IF EXISTS perftrust_latest")


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
    with recorded_step(result, client, rest=True, graphql=True):
        sync.run()
    if result.status == "running":
        result.status = "succeeded" if result.count_rows_added else "unchanged"
    return result
