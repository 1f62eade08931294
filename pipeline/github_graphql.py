"""GitHub issues, pull requests, timelines and reviews through the GraphQL API (the default path:
`[github] api = "graphql"`; `api = "rest"` uses pipeline.github_sync).

Why: the REST path spends one list page per 100 items plus one timeline request per changed item
and one reviews request per changed pull request (about 1.6 requests an item). GitHub charges a
GraphQL query by the connections it may fetch, not by items: one query for 100 issues with their
first 100 timeline items, assignees and labels costs 3 points. So issues and pull requests are read
100 at a time with everything the signals use, and only items with more than one page of timeline
(or labels, assignees, review requests) page on, by themselves, many in one query (aliases).

What stays REST (cheaper there, or one path per fact): the repository, milestones and review
comments (conditional requests make an unchanged night free) and items that left the repository.
Commit-author logins (REST: one commit request per email) are asked 100 commits per query
(aliases `c0: object(oid: ...)`, 1 point a query: no connections), giving REST's rows. A cheap "anything changed?" probe (the newest-updated item, asked
with its ETag: a free 304 when nothing changed) comes before any GraphQL query.

Output: the same raw tables, keys and envelope as `pipeline.github_sync` (raw_github__issues,
raw_github__pull_requests, raw_github__timeline_events, raw_github__reviews), with payloads in
REST's shape for every field the staging views and metrics read; `url` is `/graphql`. GraphQL's
own shapes are normalised to REST's: a bot's login gains `[bot]` (`renovate` + Bot ->
`renovate[bot]`), `body` "" becomes null for issues and pull requests, a deleted account is the
`ghost` user in timelines (null elsewhere, as in REST), ids come from `fullDatabaseId` (a string;
`databaseId` is a 32-bit Int that fails for newer ids), enums are lower-cased where REST has
lower case. Not available through GraphQL, so absent (NULL in staging): the REST id of a pull
request's issue half (stg_github__issues.issue_id of PRs) and the ids of timeline events other
than comments and reviews (stg_github__timeline_events.event_id). Reviews are the timeline's
PULL_REQUEST_REVIEW items (one connection serves both tables); `comments` is counted from the
timeline's comments. Timeline event_index is the position among the event types asked for
(`ISSUE_TYPES` / `PULL_TYPES`: every type perftrust reads), where REST counts every type.

Incremental, with the REST path's safety: issues by `filterBy.since` (the updatedAt of the last
committed issue, inclusive), pull requests (which have no `since` in GraphQL) ordered by
UPDATED_AT after the cursor GitHub gave for the last committed one (GitHub's cursors on ordered
connections carry the sort value and id, so they stay valid as items change). Each item is
committed with its timeline and reviews, and the cursors move in the same transaction, only over
committed items; an unchanged item (same updatedAt as stored) is neither paged on nor rewritten.
Faults: 502/504 and timeouts halve the page size (down to 1, then retries with backoff); errors in
a 200 answer stop at the first damaged item (the items before it are committed), FORBIDDEN names
the missing permission, NOT_FOUND of the repository is NotFound; the GraphQL budget is watched
through `rateLimit` in every query (wait for the reset when near, else stop cleanly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from pipeline.db import transaction
from pipeline.github_client import (
    GitHubClient,
    GitHubError,
    GraphQLResponse,
    HeavyQuery,
    NotFound,
    TransientGitHubError,
    recorded_step,
)
from pipeline.github_sync import (
    ISSUES,
    PULLS,
    REVIEWS,
    TIMELINE,
    GitHubSyncOptions,
    Progress,
    _json,
    _replace_rows,
    _Sync,
    parse_time,
)
from pipeline.runs import StepResult, utc_now

GRAPHQL_URL = "/graphql"  # the `url` envelope of rows this path writes
GHOST = {
    "login": "ghost",
    "id": 10137,
    "node_id": "MDQ6VXNlcjEwMTM3",
    "type": "User",
}  # GitHub's deleted user

# Timeline item types asked for, and the REST event name of each GraphQL type.
_COMMON_TYPES = {
    "ISSUE_COMMENT": ("IssueComment", "commented"),
    "ASSIGNED_EVENT": ("AssignedEvent", "assigned"),
    "UNASSIGNED_EVENT": ("UnassignedEvent", "unassigned"),
    "MILESTONED_EVENT": ("MilestonedEvent", "milestoned"),
    "DEMILESTONED_EVENT": ("DemilestonedEvent", "demilestoned"),
    "LABELED_EVENT": ("LabeledEvent", "labeled"),
    "UNLABELED_EVENT": ("UnlabeledEvent", "unlabeled"),
    "RENAMED_TITLE_EVENT": ("RenamedTitleEvent", "renamed"),
    "CLOSED_EVENT": ("ClosedEvent", "closed"),
    "REOPENED_EVENT": ("ReopenedEvent", "reopened"),
    "CROSS_REFERENCED_EVENT": ("CrossReferencedEvent", "cross-referenced"),
    "CONNECTED_EVENT": ("ConnectedEvent", "connected"),
    "DISCONNECTED_EVENT": ("DisconnectedEvent", "disconnected"),
}
_PULL_ONLY_TYPES = {
    "PULL_REQUEST_REVIEW": ("PullRequestReview", "reviewed"),
    "REVIEW_REQUESTED_EVENT": ("ReviewRequestedEvent", "review_requested"),
    "REVIEW_REQUEST_REMOVED_EVENT": ("ReviewRequestRemovedEvent", "review_request_removed"),
    "READY_FOR_REVIEW_EVENT": ("ReadyForReviewEvent", "ready_for_review"),
    "CONVERT_TO_DRAFT_EVENT": ("ConvertToDraftEvent", "convert_to_draft"),
    "MERGED_EVENT": ("MergedEvent", "merged"),
}
ISSUE_TYPES = list(_COMMON_TYPES)
PULL_TYPES = [*_COMMON_TYPES, *_PULL_ONLY_TYPES]
_EVENT_OF = {typename: event for typename, event in [*_COMMON_TYPES.values(), *_PULL_ONLY_TYPES.values()]}

_ACTOR = "fragment actor on Actor { __typename login ... on User { databaseId } ... on Bot { databaseId } ... on Organization { databaseId } ... on Mannequin { databaseId } }"
_REVIEW = "fragment review on PullRequestReview { id fullDatabaseId author { ...actor } authorAssociation body state submittedAt commit { oid } url }"
_SOURCE = "__typename ... on Issue { number repository { nameWithOwner } } ... on PullRequest { number repository { nameWithOwner } }"
_EVENT = "id createdAt actor { ...actor }"
_ISSUE_TIMELINE = f"""__typename
  ... on IssueComment {{ id fullDatabaseId author {{ ...actor }} authorAssociation body createdAt updatedAt url }}
  ... on AssignedEvent {{ {_EVENT} assignee {{ ...actor }} }}
  ... on UnassignedEvent {{ {_EVENT} assignee {{ ...actor }} }}
  ... on MilestonedEvent {{ {_EVENT} milestoneTitle }}
  ... on DemilestonedEvent {{ {_EVENT} milestoneTitle }}
  ... on LabeledEvent {{ {_EVENT} label {{ name color }} }}
  ... on UnlabeledEvent {{ {_EVENT} label {{ name color }} }}
  ... on RenamedTitleEvent {{ {_EVENT} previousTitle currentTitle }}
  ... on ClosedEvent {{ {_EVENT} stateReason closer {{ __typename ... on Commit {{ oid }} }} }}
  ... on ReopenedEvent {{ {_EVENT} stateReason }}
  ... on CrossReferencedEvent {{ {_EVENT} source {{ {_SOURCE} }} }}
  ... on ConnectedEvent {{ {_EVENT} source {{ {_SOURCE} }} }}
  ... on DisconnectedEvent {{ {_EVENT} source {{ {_SOURCE} }} }}"""
_PULL_TIMELINE = f"""{_ISSUE_TIMELINE}
  ... on PullRequestReview {{ ...review }}
  ... on ReviewRequestedEvent {{ {_EVENT} requestedReviewer {{ __typename ...actor ... on Team {{ slug name }} }} }}
  ... on ReviewRequestRemovedEvent {{ {_EVENT} requestedReviewer {{ __typename ...actor ... on Team {{ slug name }} }} }}
  ... on ReadyForReviewEvent {{ {_EVENT} }}
  ... on ConvertToDraftEvent {{ {_EVENT} }}
  ... on MergedEvent {{ {_EVENT} commit {{ oid }} }}"""
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"
_LABEL = "name color description isDefault id"
_REQUESTED = "requestedReviewer { __typename ...actor ... on Team { slug name } }"
# The connections of an item that may need more pages, with the selection of one node.
_CONNECTIONS: dict[str, tuple[str, str]] = {
    "timelineItems": ("first: $first, after: $after, itemTypes: $types", ""),
    "assignees": ("first: $first, after: $after", "...actor"),
    "labels": ("first: $first, after: $after", _LABEL),
    "reviewRequests": ("first: $first, after: $after", _REQUESTED),
}
_ITEM_COMMON = f"""id number fullDatabaseId title body url createdAt updatedAt closedAt locked authorAssociation
  author {{ ...actor }}
  milestone {{ number title dueOn state url }}
  assignees(first: 10) {{ {_PAGE_INFO} nodes {{ ...actor }} }}
  labels(first: 100) {{ {_PAGE_INFO} nodes {{ {_LABEL} }} }}"""
_ISSUE_FIELDS = f"""{_ITEM_COMMON}
  state stateReason(enableDuplicate: true)
  timelineItems(first: 100, itemTypes: $types) {{ {_PAGE_INFO} nodes {{ {_ISSUE_TIMELINE} }} }}"""
_PULL_FIELDS = f"""{_ITEM_COMMON}
  state isDraft mergedAt mergeCommit {{ oid }} baseRefName baseRefOid headRefName headRefOid
  headRepository {{ nameWithOwner }}
  reviewRequests(first: 100) {{ {_PAGE_INFO} nodes {{ {_REQUESTED} }} }}
  timelineItems(first: 100, itemTypes: $types) {{ {_PAGE_INFO} nodes {{ {_PULL_TIMELINE} }} }}"""
_RATE = "rateLimit { cost remaining resetAt }"

ISSUES_QUERY = f"""query perftrustIssues($owner: String!, $name: String!, $first: Int!, $after: String, $since: DateTime, $types: [IssueTimelineItemsItemType!]) {{
  {_RATE}
  repository(owner: $owner, name: $name) {{
    issues(first: $first, after: $after, filterBy: {{since: $since}}, orderBy: {{field: UPDATED_AT, direction: ASC}}) {{
      totalCount {_PAGE_INFO}
      edges {{ cursor node {{ {_ISSUE_FIELDS} }} }}
    }}
  }}
}}
{_ACTOR}"""
PULLS_QUERY = f"""query perftrustPulls($owner: String!, $name: String!, $first: Int!, $after: String, $types: [PullRequestTimelineItemsItemType!]) {{
  {_RATE}
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: ASC}}) {{
      totalCount {_PAGE_INFO}
      edges {{ cursor node {{ {_PULL_FIELDS} }} }}
    }}
  }}
}}
{_ACTOR}
{_REVIEW}"""


def more_query(jobs: list[tuple[int, str, bool]]) -> str:
    """One query for the next page of several items' connections (aliases m0, m1...): jobs are
    (number, connection, is_pull); variables $n{i} (number) and $a{i} (after) per job."""
    params = ["$owner: String!", "$name: String!", "$first: Int!"]
    parts = []
    uses_types = {"issue": False, "pull": False}
    for index, (_, connection, is_pull) in enumerate(jobs):
        params += [f"$n{index}: Int!", f"$a{index}: String"]
        on = "PullRequest" if is_pull else "Issue"
        args, selection = _CONNECTIONS[connection]
        args = args.replace("$after", f"$a{index}")
        if connection == "timelineItems":
            kind = "pull" if is_pull else "issue"
            uses_types[kind] = True
            args = args.replace("$types", "$pullTypes" if is_pull else "$issueTypes")
            selection = _PULL_TIMELINE if is_pull else _ISSUE_TIMELINE
        parts.append(
            f"m{index}: issueOrPullRequest(number: $n{index}) {{ ... on {on} {{ "
            f"{connection}({args}) {{ {_PAGE_INFO} nodes {{ {selection} }} }} }} }}"
        )
    if uses_types["issue"]:
        params.append("$issueTypes: [IssueTimelineItemsItemType!]")
    if uses_types["pull"]:
        params.append("$pullTypes: [PullRequestTimelineItemsItemType!]")
    fragments = [_ACTOR] + ([_REVIEW] if uses_types["pull"] else [])
    body = "\n    ".join(parts)
    return (
        f"query perftrustMore({', '.join(params)}) {{\n  {_RATE}\n  repository(owner: $owner, name: $name) {{\n"
        f"    {body}\n  }}\n}}\n" + "\n".join(fragments)
    )


def commit_logins_query(count: int) -> str:
    """The account behind the author of `count` commits in one query (aliases c0, c1...; variables
    $o0, $o1... the commit ids). No connection is asked, so GitHub charges 1 point for the whole
    query and counts no nodes against its 500,000-node limit."""
    params = ", ".join(["$owner: String!", "$name: String!", *(f"$o{i}: GitObjectID!" for i in range(count))])
    body = "\n    ".join(
        f"c{i}: object(oid: $o{i}) {{ ... on Commit {{ oid author {{ user {{ login databaseId }} }} }} }}"
        for i in range(count)
    )
    return (
        f"query perftrustCommitLogins({params}) {{\n  {_RATE}\n  repository(owner: $owner, name: $name) {{\n"
        f"    {body}\n  }}\n}}"
    )


_DEFAULT_OPTIONS = GitHubSyncOptions()


@dataclass(frozen=True)
class GraphQLOptions:
    page_size: int = 100  # items per list query (halved on 502/504/timeouts, down to 1)
    more_batch: int = 50  # item connections paged on per query
    min_remaining: int = 10  # stop (or wait for the reset) when the budget falls below this
    commit_batch: int = 100  # commits whose author login one query asks for (1 point a query)
    max_commit_logins: int = 10_000  # commit author emails looked up per run (100 points at most)


# --------------------------------------------------------------------------------------------------
# GraphQL shapes -> REST shapes
# --------------------------------------------------------------------------------------------------


def rest_user(actor: dict[str, Any] | None) -> dict[str, Any] | None:
    """A REST user object from a GraphQL actor; a Bot's login gets REST's `[bot]` suffix."""
    if actor is None:
        return None
    typename = str(actor.get("__typename") or "User")
    login = str(actor.get("login") or "")
    if typename == "Bot" and not login.endswith("[bot]"):
        login += "[bot]"
    return {"login": login, "id": actor.get("databaseId"), "type": typename}


def _ghost_if_none(actor: dict[str, Any] | None) -> dict[str, Any]:
    """REST timelines show a deleted account as GitHub's `ghost` user; GraphQL gives null."""
    return rest_user(actor) or dict(GHOST)


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _label(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "node_id": node.get("id"),
        "name": node.get("name"),
        "color": node.get("color"),
        "description": node.get("description"),
        "default": node.get("isDefault"),
    }


class _Shapes:
    """REST-shaped payloads for one repository (API URLs rooted at the client's base URL)."""

    def __init__(self, api: str, full_name: str) -> None:
        self.api = api.rstrip("/")
        self.full_name = full_name

    def milestone(self, node: dict[str, Any] | None) -> dict[str, Any] | None:
        if node is None:
            return None
        return {
            "number": node.get("number"),
            "title": node.get("title"),
            "state": _lower(node.get("state")),
            "due_on": node.get("dueOn"),
            "html_url": node.get("url"),
        }

    def issue(self, node: dict[str, Any], is_pull: bool, timeline: list[dict[str, Any]]) -> dict[str, Any]:
        assignees = [rest_user(a) for a in node["assignees"]["nodes"]]
        number = node["number"]
        payload: dict[str, Any] = {
            # A pull request's REST issue id is not served by GraphQL (its fullDatabaseId is the pull's).
            "id": None if is_pull else _int(node.get("fullDatabaseId")),
            "node_id": node.get("id"),
            "url": f"{self.api}/repos/{self.full_name}/issues/{number}",
            "repository_url": f"{self.api}/repos/{self.full_name}",
            "html_url": node.get("url"),
            "number": number,
            "title": node.get("title"),
            "user": rest_user(node.get("author")),
            "labels": [_label(label) for label in node["labels"]["nodes"]],
            "state": "open" if node.get("state") == "OPEN" else "closed",
            "locked": node.get("locked"),
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": self.milestone(node.get("milestone")),
            "comments": sum(1 for e in timeline if e.get("__typename") == "IssueComment"),
            "created_at": node.get("createdAt"),
            "updated_at": node.get("updatedAt"),
            "closed_at": node.get("closedAt"),
            "author_association": node.get("authorAssociation"),
            "body": node.get("body") or None,  # GraphQL's "" is REST's null
            "state_reason": None if is_pull else _lower(node.get("stateReason")),
        }
        if is_pull:
            payload["draft"] = node.get("isDraft")
            payload["pull_request"] = {
                "url": f"{self.api}/repos/{self.full_name}/pulls/{number}",
                "html_url": node.get("url"),
                "merged_at": node.get("mergedAt"),
            }
        return payload

    def pull(self, node: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, Any]:
        issue = self.issue(node, True, [])
        head_repo = node.get("headRepository")
        reviewers = [r.get("requestedReviewer") for r in requests]
        return {
            "id": _int(node.get("fullDatabaseId")),
            "node_id": node.get("id"),
            "url": f"{self.api}/repos/{self.full_name}/pulls/{node['number']}",
            "html_url": node.get("url"),
            "number": node["number"],
            "state": issue["state"],
            "locked": node.get("locked"),
            "title": node.get("title"),
            "user": issue["user"],
            "body": issue["body"],
            "created_at": node.get("createdAt"),
            "updated_at": node.get("updatedAt"),
            "closed_at": node.get("closedAt"),
            "merged_at": node.get("mergedAt"),
            "merge_commit_sha": (node.get("mergeCommit") or {}).get("oid"),
            "assignee": issue["assignee"],
            "assignees": issue["assignees"],
            "requested_reviewers": [rest_user(r) for r in reviewers if r and r.get("__typename") != "Team"],
            "requested_teams": [
                {"slug": r.get("slug"), "name": r.get("name")}
                for r in reviewers
                if r and r.get("__typename") == "Team"
            ],
            "labels": issue["labels"],
            "milestone": issue["milestone"],
            "draft": node.get("isDraft"),
            "head": {
                "ref": node.get("headRefName"),
                "sha": node.get("headRefOid"),
                "repo": {"full_name": head_repo["nameWithOwner"]} if head_repo else None,
            },
            "base": {"ref": node.get("baseRefName"), "sha": node.get("baseRefOid")},
            "author_association": node.get("authorAssociation"),
        }

    def review(self, node: dict[str, Any], number: int) -> dict[str, Any]:
        return {
            "id": _int(node.get("fullDatabaseId")),
            "node_id": node.get("id"),
            "user": rest_user(node.get("author")),
            "body": node.get("body"),  # a review's empty body is "" in REST too
            "state": node.get("state"),
            "html_url": node.get("url"),
            "pull_request_url": f"{self.api}/repos/{self.full_name}/pulls/{number}",
            "author_association": node.get("authorAssociation"),
            "submitted_at": node.get("submittedAt"),
            "commit_id": (node.get("commit") or {}).get("oid"),
        }

    def _source(self, node: dict[str, Any] | None) -> dict[str, Any]:
        if not node:
            return {"type": "issue", "issue": None}
        full = (node.get("repository") or {}).get("nameWithOwner") or self.full_name
        issue: dict[str, Any] = {"number": node.get("number"), "repository_url": f"{self.api}/repos/{full}"}
        if node.get("__typename") == "PullRequest":
            issue["pull_request"] = {"url": f"{self.api}/repos/{full}/pulls/{node.get('number')}"}
        return {"type": "issue", "issue": issue}

    def event(self, node: dict[str, Any], number: int, is_pull: bool) -> dict[str, Any]:
        """A REST timeline entry from a GraphQL timeline item."""
        typename = node.get("__typename", "")
        event = _EVENT_OF.get(typename, typename)
        if typename == "IssueComment":
            author = _ghost_if_none(node.get("author"))
            kind = "pull" if is_pull else "issues"
            return {
                "id": _int(node.get("fullDatabaseId")),
                "node_id": node.get("id"),
                "html_url": node.get("url") or f"https://github.com/{self.full_name}/{kind}/{number}",
                "issue_url": f"{self.api}/repos/{self.full_name}/issues/{number}",
                "user": author,
                "created_at": node.get("createdAt"),
                "updated_at": node.get("updatedAt"),
                "author_association": node.get("authorAssociation"),
                "body": node.get("body"),
                "event": "commented",
                "actor": author,
            }
        if typename == "PullRequestReview":
            review = self.review(node, number)
            review["user"] = _ghost_if_none(node.get("author"))
            review["state"] = _lower(review["state"])
            review["event"] = "reviewed"
            return review
        out: dict[str, Any] = {
            "node_id": node.get("id"),
            "actor": _ghost_if_none(node.get("actor")),
            "event": event,
            "commit_id": None,
            "created_at": node.get("createdAt"),
        }
        if typename in ("AssignedEvent", "UnassignedEvent"):
            out["assignee"] = _ghost_if_none(node.get("assignee"))
            out["assigner"] = out["actor"]
        elif typename in ("MilestonedEvent", "DemilestonedEvent"):
            out["milestone"] = {"title": node.get("milestoneTitle")}
        elif typename in ("LabeledEvent", "UnlabeledEvent"):
            label = node.get("label") or {}
            out["label"] = {"name": label.get("name"), "color": label.get("color")}
        elif typename == "RenamedTitleEvent":
            out["rename"] = {"from": node.get("previousTitle"), "to": node.get("currentTitle")}
        elif typename in ("ReviewRequestedEvent", "ReviewRequestRemovedEvent"):
            out["review_requester"] = out["actor"]
            reviewer = node.get("requestedReviewer")
            if reviewer and reviewer.get("__typename") == "Team":
                out["requested_team"] = {"slug": reviewer.get("slug"), "name": reviewer.get("name")}
            else:
                out["requested_reviewer"] = _ghost_if_none(reviewer)
        elif typename in ("ClosedEvent", "ReopenedEvent"):
            out["state_reason"] = _lower(node.get("stateReason"))
            closer = node.get("closer") or {}
            if closer.get("__typename") == "Commit":
                out["commit_id"] = closer.get("oid")
        elif typename == "MergedEvent":
            out["commit_id"] = (node.get("commit") or {}).get("oid")
        elif typename in ("CrossReferencedEvent", "ConnectedEvent", "DisconnectedEvent"):
            out["source"] = self._source(node.get("source"))
            if typename == "CrossReferencedEvent":
                # REST's cross-referenced entries have no id, node_id or commit_id.
                return {k: v for k, v in out.items() if k not in ("node_id", "commit_id")} | {
                    "updated_at": node.get("createdAt")
                }
        return out


# --------------------------------------------------------------------------------------------------
# The sync
# --------------------------------------------------------------------------------------------------


@dataclass
class _Item:
    """One issue or pull request of a list page while its connections are completed."""

    cursor: str
    node: dict[str, Any]
    is_pull: bool
    changed: bool
    # connection -> every node so far, and the cursor to continue after (None: complete)
    nodes: dict[str, list[dict[str, Any]]]
    after: dict[str, str | None]

    @property
    def complete(self) -> bool:
        return all(cursor is None for cursor in self.after.values())


class _GraphQLSync(_Sync):
    """The REST sync's stages for what REST does best, GraphQL for issues, pulls, timelines, reviews."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        client: GitHubClient,
        full_name: str,
        key: str,
        run_id: str,
        options: GitHubSyncOptions,
        progress: Progress | None,
        graphql: GraphQLOptions,
    ) -> None:
        super().__init__(con, client, full_name, key, run_id, options, progress)
        self.graphql = graphql
        self.page_size = graphql.page_size
        self.rate: dict[str, Any] = {}  # rateLimit of the last answer: checked before the next query
        self.known: dict[int, datetime | None] = {}

    # -- transport ---------------------------------------------------------------------------------
    def _ask(self, build: Callable[[int], tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        """One query built for the current page size; 502/504/timeouts halve it (down to 1, then
        retried with backoff); returns `data`, raising on errors that damage the repository itself."""
        self._check_budget()
        attempt = 0
        while True:
            query, variables = build(self.page_size)
            try:
                response = self.client.graphql(query, variables)
            except HeavyQuery:
                if self.page_size > 1:
                    self.page_size = max(1, self.page_size // 2)
                    self.result.details["graphql_page_size"] = self.page_size
                    continue
                self.client.back_off_heavy_query(attempt, f"{self.full_name} even one item at a time")
                attempt += 1
                continue
            if response.errors and _is_timeout(response.errors) and not response.data and self.page_size > 1:
                # "Something went wrong while executing your query": GitHub's words for a timeout.
                self.page_size = max(1, self.page_size // 2)
                continue
            self.rate = (response.data or {}).get("rateLimit") or self.rate
            if response.data is None or response.data.get("repository") is None:
                raise _errors_to_exception(response, self.full_name)
            return response.data | {"__errors": response.errors}

    def _check_budget(self) -> None:
        """Before a query: wait for the reset when the budget is nearly gone (and the reset is near
        enough), else stop cleanly; what earlier answers brought is committed by then."""
        if self.client.wait_for_graphql_budget(self.rate, self.graphql.min_remaining):
            self.rate = {}

    def nothing_changed(self) -> tuple[bool, str | None]:
        """The newest-updated issue or PR, asked with last run's ETag: a free 304 when nothing changed
        (only trusted once both streams have completed at least once)."""
        ready = "graphql_issues_since" in self.cursor and "graphql_pulls_after" in self.cursor
        etag = self.cursor.get("graphql_probe_etag") if ready else None
        response = self.client.get(
            f"{self.base}/issues",
            {"state": "all", "sort": "updated", "direction": "desc", "per_page": 1},
            etag,
        )
        return response.status == 304, response.etag

    def items(self) -> None:
        unchanged, probe_etag = self.nothing_changed()
        if unchanged:
            return
        self.known = dict(
            self.con.execute(
                "SELECT number, updated_at FROM raw_github__issues WHERE repo = ?", [self.key]
            ).fetchall()
        )
        self._stream(is_pull=False)
        self._stream(is_pull=True)
        with transaction(self.con):  # both streams are complete: the probe's ETag may answer next run
            self._save_cursor(
                graphql_probe_etag=probe_etag,
                graphql_issues_since=self.cursor.get("graphql_issues_since"),
                graphql_pulls_after=self.cursor.get("graphql_pulls_after"),
            )

    def commit_logins(self) -> None:
        """REST's commit_logins (the account behind each commit author email not yet known, one
        commit per email), `commit_batch` commits per query: the same rows for a point per 100.

        One difference GitHub's schema makes: a commit's `author.user` is a User, so a commit
        authored by a GitHub App bot gives no login here where REST names the bot; bot commits carry
        noreply emails (`ID+name[bot]@users.noreply.github.com`), read without asking, so the rows
        only differ for a bot committing under another address."""
        asks = self.commit_login_asks(self.graphql.max_commit_logins)
        owner, name = self.full_name.split("/", 1)
        while asks:
            batch = asks[: self.graphql.commit_batch]

            def build(size: int, batch: list[tuple[str, str]] = batch) -> tuple[str, dict[str, Any]]:
                chosen = batch[: max(1, min(len(batch), size))]
                variables: dict[str, Any] = {"owner": owner, "name": name}
                variables |= {f"o{i}": sha for i, (_, sha) in enumerate(chosen)}
                return commit_logins_query(len(chosen)), variables

            data = self._ask(build)
            repository = data["repository"]
            failed = {
                str(path[1])
                for path in (e.get("path") or [] for e in data["__errors"])
                if len(path) >= 2 and path[0] == "repository"
            }
            answered = [k for k in repository if k.startswith("c") and k[1:].isdigit()]
            now = utc_now()
            found: list[tuple[Any, ...]] = []
            for index in range(len(answered)):
                email, sha = batch[index]
                if f"c{index}" in failed:  # GitHub failed on this one: asked again next run
                    continue
                commit = repository.get(f"c{index}") or {}  # null: not on GitHub (local only, rewritten)
                user = (commit.get("author") or {}).get("user") or {}
                found.append(
                    (self.key, email, sha, user.get("login"), user.get("databaseId"), now, self.run_id)
                )
            self.store_commit_logins(found)
            if failed:
                self.result.warnings.append(
                    f"GitHub could not say who wrote {len(failed)} commits of {self.full_name} "
                    f"({_describe(data['__errors'])}); asked again next run"
                )
            asks = asks[len(answered) :]

    def _stream(self, is_pull: bool) -> None:
        owner, name = self.full_name.split("/", 1)
        after: str | None = self.cursor.get("graphql_pulls_after") if is_pull else None
        since = None if is_pull else self.cursor.get("graphql_issues_since")
        done = 0
        while True:

            def build(size: int, after: str | None = after) -> tuple[str, dict[str, Any]]:
                variables: dict[str, Any] = {"owner": owner, "name": name, "first": size, "after": after}
                if is_pull:
                    return PULLS_QUERY, variables | {"types": PULL_TYPES}
                return ISSUES_QUERY, variables | {"since": since, "types": ISSUE_TYPES}

            try:
                data = self._ask(build)
            except GitHubError as exc:
                if is_pull and after is not None and "INVALID_CURSOR_ARGUMENTS" in str(exc):
                    # GitHub no longer knows the cursor: read the pull requests again from the start.
                    self.result.warnings.append(
                        f"GitHub refused the saved pull request cursor of {self.full_name}; reading all again"
                    )
                    after = None
                    continue
                raise
            connection = data["repository"]["pullRequests" if is_pull else "issues"]
            edges = [e for e in connection.get("edges") or []]
            items, damaged = self._items(edges, is_pull, data["__errors"])
            self.changed = self.changed or bool(items)
            try:
                self._complete(items)
            finally:
                self._commit_items(items, is_pull)
            if damaged is not None:
                raise damaged
            done += len(edges)
            if self.progress:
                self.progress(done, max(done, int(connection.get("totalCount") or 0)))
            if not connection["pageInfo"]["hasNextPage"] or not edges:
                break
            after = connection["pageInfo"]["endCursor"]

    def _items(
        self, edges: list[dict[str, Any] | None], is_pull: bool, errors: list[dict[str, Any]]
    ) -> tuple[list[_Item], GitHubError | None]:
        """The page's items up to the first one GitHub could not answer whole (an error inside it, or
        null in its place): those after it are dropped, and the error is raised once the items
        before it are committed."""
        damaged_at = _first_damaged_index(errors, edges)
        items: list[_Item] = []
        for index, edge in enumerate(edges):
            node = (edge or {}).get("node")
            if index == damaged_at or node is None:
                return items, _errors_to_exception(GraphQLResponse(None, errors, {}), self.full_name)
            changed = self.known.get(node["number"]) != parse_time(node.get("updatedAt"))
            conns = ["timelineItems", "assignees", "labels"] + (["reviewRequests"] if is_pull else [])
            items.append(
                _Item(
                    cursor=edge["cursor"] if edge else "",
                    node=node,
                    is_pull=is_pull,
                    changed=changed,
                    nodes={c: list(node[c]["nodes"]) for c in conns},
                    after={
                        c: node[c]["pageInfo"]["endCursor"]
                        if changed and node[c]["pageInfo"]["hasNextPage"]
                        else None
                        for c in conns
                    },
                )
            )
        if errors and damaged_at is None:
            # Errors outside any item (rateLimit...): nothing of the items is missing, but say so.
            self.result.warnings.append(f"GitHub's GraphQL answer had errors: {_describe(errors)}")
        return items, None

    def _complete(self, items: list[_Item]) -> None:
        """Page on every changed item's connections that have more than one page, many per query."""
        owner, name = self.full_name.split("/", 1)
        while True:
            jobs = [(item, c) for item in items for c, cursor in item.after.items() if cursor is not None]
            if not jobs:
                return
            batch = jobs[: self.graphql.more_batch]

            def build(size: int, batch: list[tuple[_Item, str]] = batch) -> tuple[str, dict[str, Any]]:
                chosen = batch[: max(1, min(len(batch), size))]
                specs = [(item.node["number"], c, item.is_pull) for item, c in chosen]
                variables: dict[str, Any] = {
                    "owner": owner,
                    "name": name,
                    "first": max(1, size),
                    "issueTypes": ISSUE_TYPES,
                    "pullTypes": PULL_TYPES,
                }
                if not any(c == "timelineItems" and not p for _, c, p in specs):
                    variables.pop("issueTypes")
                if not any(c == "timelineItems" and p for _, c, p in specs):
                    variables.pop("pullTypes")
                for index, (item, c) in enumerate(chosen):
                    variables[f"n{index}"] = item.node["number"]
                    variables[f"a{index}"] = item.after[c]
                return more_query(specs), variables

            data = self._ask(build)
            answered = [k for k in data["repository"] if k.startswith("m")]
            for index in range(len(answered)):
                item, c = batch[index]
                part = (data["repository"].get(f"m{index}") or {}).get(c)
                if part is None:
                    # The item went (deleted, transferred) or GitHub failed on it: not committed this run.
                    raise _errors_to_exception(GraphQLResponse(None, data["__errors"], {}), self.full_name)
                item.nodes[c].extend(part["nodes"])
                item.after[c] = part["pageInfo"]["endCursor"] if part["pageInfo"]["hasNextPage"] else None

    def _commit_items(self, items: list[_Item], is_pull: bool) -> None:
        """Commit the leading complete items of a page (with their timelines and reviews) and move the
        stream's cursor over them, in one transaction."""
        prefix: list[_Item] = []
        for item in items:
            if not item.complete:
                break
            prefix.append(item)
        if not prefix:
            return
        shapes = _Shapes(self.client.settings.base_url, self.full_name)
        now = utc_now()
        changed = [i for i in prefix if i.changed]
        issue_rows, pull_rows, timeline_rows, review_rows = [], [], [], []
        for item in changed:
            number = item.node["number"]
            timeline = item.nodes["timelineItems"]
            payload = shapes.issue(
                item.node
                | {
                    "assignees": {"nodes": item.nodes["assignees"]},
                    "labels": {"nodes": item.nodes["labels"]},
                },
                item.is_pull,
                timeline,
            )
            updated = parse_time(item.node.get("updatedAt"))
            issue_rows.append(
                {"repo": self.key, "number": number, "is_pull_request": item.is_pull, "updated_at": updated,
                 "payload": _json(payload), "url": GRAPHQL_URL, "fetched_at": now, "run_id": self.run_id,
                 "gone_reason": None}
            )  # fmt: skip
            for index, entry in enumerate(timeline):
                event = shapes.event(entry, number, item.is_pull)
                timeline_rows.append(
                    {"repo": self.key, "issue_number": number, "event_index": index, "event": event.get("event"),
                     "payload": _json(event), "fetched_at": now, "run_id": self.run_id}
                )  # fmt: skip
            if item.is_pull:
                pull = shapes.pull(
                    item.node
                    | {
                        "assignees": {"nodes": item.nodes["assignees"]},
                        "labels": {"nodes": item.nodes["labels"]},
                    },
                    item.nodes["reviewRequests"],
                )
                pull_rows.append(
                    {"repo": self.key, "number": number, "updated_at": updated, "payload": _json(pull),
                     "url": GRAPHQL_URL, "fetched_at": now, "run_id": self.run_id}
                )  # fmt: skip
                for entry in timeline:
                    if entry.get("__typename") == "PullRequestReview":
                        review = shapes.review(entry, number)
                        review_rows.append(
                            {"repo": self.key, "pull_number": number, "review_id": review["id"],
                             "payload": _json(review), "fetched_at": now, "run_id": self.run_id}
                        )  # fmt: skip
        last = prefix[-1]
        cursor = (
            {"graphql_pulls_after": last.cursor, "graphql_pulls_since": last.node.get("updatedAt")}
            if is_pull
            else {"graphql_issues_since": last.node.get("updatedAt")}
        )
        numbers = [i.node["number"] for i in changed]
        with transaction(self.con):
            _replace_rows(self.con, "raw_github__issues", ["repo", "number"], issue_rows, ISSUES)
            self._replace_children(
                "raw_github__timeline_events", "issue_number", numbers, timeline_rows, TIMELINE
            )
            if is_pull:
                _replace_rows(self.con, "raw_github__pull_requests", ["repo", "number"], pull_rows, PULLS)
                self._replace_children("raw_github__reviews", "pull_number", numbers, review_rows, REVIEWS)
            self._save_cursor(**cursor)
        for item in changed:
            self.known[item.node["number"]] = parse_time(item.node.get("updatedAt"))
        self.result.count_rows_added += len(changed)


def _is_timeout(errors: list[dict[str, Any]]) -> bool:
    return any(
        "timeout" in str(e.get("message", "")).lower()
        or "something went wrong" in str(e.get("message", "")).lower()
        for e in errors
    )


def _describe(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("path") or [])
    kind = first.get("type") or (first.get("extensions") or {}).get("code") or "error"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{kind}{' at ' + where if where else ''}: {first.get('message', '')}{more}"


def _first_damaged_index(errors: list[dict[str, Any]], edges: list[dict[str, Any] | None]) -> int | None:
    """The lowest edge index an error's path points into (repository.X.edges.N...)."""
    indexes = []
    for error in errors:
        path = error.get("path") or []
        if len(path) >= 4 and path[2] == "edges" and isinstance(path[3], int):
            indexes.append(path[3])
    return min(indexes) if indexes else None


def _errors_to_exception(response: GraphQLResponse, full_name: str) -> GitHubError:
    errors = response.errors
    kinds = {str(e.get("type") or "") for e in errors}
    text = _describe(errors) if errors else "no data"
    if "NOT_FOUND" in kinds and any(
        (e.get("path") or [None])[0] == "repository" and len(e.get("path") or []) == 1 for e in errors
    ):
        return NotFound(
            f"GitHub has no repository {full_name} (GraphQL NOT_FOUND): deleted, renamed away, or not visible to the token",
            "check the owner/name, and that the token can read it",
        )
    if "FORBIDDEN" in kinds:
        return GitHubError(
            f"GitHub refused part of the GraphQL answer for {full_name}: {text}",
            "give the token read access to issues and pull requests (classic token: the repo scope; "
            "fine-grained: Issues and Pull requests read)",
        )
    if _is_timeout(errors):
        return TransientGitHubError(f"GitHub's GraphQL API failed on {full_name}: {text}", "run again later")
    return GitHubError(f"GitHub's GraphQL API answered errors for {full_name}: {text}")


def sync_github_repository_graphql(
    con: duckdb.DuckDBPyConnection,
    client: GitHubClient,
    full_name: str,
    run_id: str,
    options: GitHubSyncOptions = _DEFAULT_OPTIONS,
    key: str | None = None,
    progress: Progress | None = None,
    graphql: GraphQLOptions = GraphQLOptions(),
) -> StepResult:
    """`pipeline.github_sync.sync_github_repository` with issues, pull requests, timelines and reviews
    read through GraphQL; same arguments, tables, StepResult and failure contract (`exc.step`).
    `details` adds graphql_queries and graphql_points."""
    sync = _GraphQLSync(con, client, full_name, key or full_name, run_id, options, progress, graphql)
    result = sync.result
    with recorded_step(result, client, graphql=True):
        sync.repository()
        sync.milestones()
        sync.items()
        sync.review_comments()
        sync.gone_items()
        if options.commit_logins:
            sync.commit_logins()
    result.status = "succeeded" if sync.changed else "unchanged"
    return result
