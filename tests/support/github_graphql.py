"""The GraphQL half of the local GitHub server: GitHub's published schema, executed over the dataset.

``GitHubServer`` answers ``POST /graphql`` through :class:`GraphQLEndpoint`, which

* parses and validates every query against GitHub's real schema (``schema.graphql.gz`` from
  octokit/graphql-schema, see ``../shared/data/github-graphql/PROVENANCE.md``), so a query the
  product sends that GitHub would reject is rejected here too, with GitHub-shaped ``errors``;
* charges each query by GitHub's formula (:func:`query_cost`: the requests needed for every
  connection, a connection nested under ``first: 100`` counting 100 times, divided by 100 and
  rounded, at least 1), keeps a budget per token (``graphql_quota`` points an hour), answers
  ``rateLimit { cost remaining resetAt limit used nodeCount }`` and ``X-RateLimit-*`` headers with
  ``X-RateLimit-Resource: graphql``; an exhausted budget answers 200 with a ``RATE_LIMITED`` error;
* refuses what GitHub refuses before executing: ``first``/``last`` missing on a connection whose
  nodes are asked for (MISSING_PAGINATION_BOUNDARIES), above 100 (EXCESSIVE_PAGINATION), more than
  500,000 possible nodes (MAX_NODE_LIMIT_EXCEEDED), a cursor it did not issue (INVALID_CURSOR_ARGUMENTS);
* executes with resolvers over the same :class:`~tests.support.github_scenario.Dataset` objects
  the REST endpoints render: repository (renames followed, deleted -> NOT_FOUND), issues and
  pullRequests (``filterBy.since``, ``orderBy``, ``states``, keyset cursors like GitHub's, which
  encode the sort value and id, so a cursor stays valid while items change), issue / pullRequest /
  issueOrPullRequest by number, milestones, timelineItems (``itemTypes``, ``since``) with the event
  types the dataset holds, reviews, reviewRequests, assignees, labels, comments, authors as ``User``
  or ``Bot`` (a bot's ``login`` without ``[bot]``, as GitHub's GraphQL API has it), commits by oid
  (author email and linked user), ``databaseId`` (32-bit Int: a larger id is an error there) and
  ``fullDatabaseId`` (BigInt, a string), ``body`` ``""`` where REST has null, and a deleted
  account as a null author/actor; ``Issue.projectItems`` / ``PullRequest.projectItems`` over the
  dataset's projects (``add_projects``): ``ProjectV2Item`` with its ``project`` (owner, number,
  title, url) and ``fieldValues`` (the Title text value, date values, iteration values with
  ``startDate``, ``duration``, ``title``, ``iterationId``, each with its ``field``);
* injects GraphQL's own faults: errors in a 200 answer with partial data (:meth:`inject_error`: a
  field fails with FORBIDDEN / NOT_FOUND / any type, and null bubbles up as GitHub's executor does),
  502 for queries above a node count (``timeout_above_nodes``, GitHub's "couldn't respond in time"
  for heavy queries), and the budget running out (``exhaust``). HTTP-level faults (5xx, delays,
  secondary limits) come from ``GitHubServer.inject`` on the path ``/graphql``.

Only the fields perftrust reads (and their close neighbours) have resolvers; any other field of
the schema validates but resolves to null (an error when the schema says non-null), so a query that
strays is noticed. Cost and node counts are logged per query in ``GraphQLEndpoint.log``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import OperationType

from tests.support.github_scenario import (
    Dataset,
    Issue,
    IssueComment,
    Label,
    Milestone,
    Project,
    ProjectField,
    ProjectItem,
    ProjectIteration,
    Repository,
    Review,
    TimelineEvent,
    User,
)

JSON = dict[str, Any]
WEB = "https://github.com"
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "github-graphql"
MAX_NODES = 500_000  # GitHub's node limit per call
MAX_PAGE = 100  # first/last between 1 and 100
INT_MAX = 2**31 - 1

# REST timeline event name -> GraphQL timeline item type (the itemTypes enum value).
ITEM_TYPES: dict[str, str] = {
    "assigned": "ASSIGNED_EVENT",
    "unassigned": "UNASSIGNED_EVENT",
    "milestoned": "MILESTONED_EVENT",
    "demilestoned": "DEMILESTONED_EVENT",
    "labeled": "LABELED_EVENT",
    "renamed": "RENAMED_TITLE_EVENT",
    "closed": "CLOSED_EVENT",
    "reopened": "REOPENED_EVENT",
    "cross-referenced": "CROSS_REFERENCED_EVENT",
    "commented": "ISSUE_COMMENT",
    "review_requested": "REVIEW_REQUESTED_EVENT",
    "review_request_removed": "REVIEW_REQUEST_REMOVED_EVENT",
    "ready_for_review": "READY_FOR_REVIEW_EVENT",
    "reviewed": "PULL_REQUEST_REVIEW",
    "merged": "MERGED_EVENT",
}
_TYPENAMES: dict[str, str] = {
    "assigned": "AssignedEvent",
    "unassigned": "UnassignedEvent",
    "milestoned": "MilestonedEvent",
    "demilestoned": "DemilestonedEvent",
    "labeled": "LabeledEvent",
    "renamed": "RenamedTitleEvent",
    "closed": "ClosedEvent",
    "reopened": "ReopenedEvent",
    "cross-referenced": "CrossReferencedEvent",
    "review_requested": "ReviewRequestedEvent",
    "review_request_removed": "ReviewRequestRemovedEvent",
    "ready_for_review": "ReadyForReviewEvent",
    "merged": "MergedEvent",
}


@functools.cache
def github_schema(directory: Path = SCHEMA_DIR) -> GraphQLSchema:
    """GitHub's schema, built once per process (1.5 s: it is 1.2 MB of SDL).

    GitHub's published SDL is not valid by the letter of the spec (two fields of
    EnterpriseOwnerInfo are defined twice; some implementations are deprecated where their
    interface field is not), so SDL and schema validation are skipped: GitHub's schema is the
    authority here, and queries are still validated against it in full.
    """
    sdl = gzip.decompress((directory / "schema.graphql.gz").read_bytes()).decode()
    return build_schema(sdl, assume_valid_sdl=True, assume_valid=True)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cursor(key: Any) -> str:
    """GitHub's cursors are base64 of ``cursor:v2:`` and the sort key; ours carry JSON instead of msgpack."""
    return base64.b64encode(b"cursor:v2:" + json.dumps(key, separators=(",", ":")).encode()).decode()


def _uncursor(cursor: str, argument: str) -> Any:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True)
        if not raw.startswith(b"cursor:v2:"):
            raise ValueError(cursor)
        return json.loads(raw[len(b"cursor:v2:") :])
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(
            f"`{cursor}` does not appear to be a valid cursor.",
            extensions={"type": "INVALID_CURSOR_ARGUMENTS", "argument": argument},
        ) from None


# --------------------------------------------------------------------------------------------------
# Cost (GitHub's formula) and GitHub's pre-execution limits
# --------------------------------------------------------------------------------------------------


@dataclass
class QueryCost:
    requests: int = 0  # requests needed to fulfil every connection, each first/last assumed reached
    nodes: int = 0  # possible nodes (GitHub's node limit counts these)
    dry_run: bool = False  # rateLimit(dryRun: true): not charged
    errors: list[JSON] = field(default_factory=list)

    @property
    def points(self) -> int:
        """requests / 100, rounded to the nearest whole number (halves up), at least 1."""
        return max(1, math.floor(self.requests / 100 + 0.5))


def _is_connection(named: GraphQLNamedType) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
    )


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> QueryCost:
    """What GitHub would charge for this (valid) query, with the limits GitHub checks before running it."""
    cost = QueryCost()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)), None
    )
    if operation is None:
        return cost
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        cost.errors.extend({"message": e.message} for e in coerced)
        return cost
    root = schema.query_type if operation.operation == OperationType.QUERY else schema.mutation_type
    assert root is not None

    def walk(selection_set: SelectionSetNode | None, parent: GraphQLNamedType, multiplier: int) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                walk(selection.selection_set, target or parent, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    target = schema.get_type(fragment.type_condition.name.value)
                    walk(fragment.selection_set, target or parent, multiplier)
            elif isinstance(selection, FieldNode):
                visit(selection, parent, multiplier)

    def visit(node: FieldNode, parent: GraphQLNamedType, multiplier: int) -> None:
        name = node.name.value
        if name.startswith("__"):
            return
        fields = getattr(parent, "fields", None)
        if not fields or name not in fields:
            return
        definition = fields[name]
        args = get_argument_values(definition, node, coerced)
        named = get_named_type(definition.type)
        if name == "rateLimit" and parent is root and args.get("dryRun"):
            cost.dry_run = True
        if not _is_connection(named):
            walk(node.selection_set, named, multiplier)
            return
        limit = args.get("first") if args.get("first") is not None else args.get("last")
        asks_nodes = any(
            isinstance(s, FieldNode) and s.name.value in ("nodes", "edges")
            for s in (node.selection_set.selections if node.selection_set else ())
        )
        if limit is None:
            if asks_nodes:
                cost.errors.append(
                    {
                        "type": "MISSING_PAGINATION_BOUNDARIES",
                        "path": [name],
                        "locations": [_location(node)],
                        "message": f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
                    }
                )
            limit = 0
        elif limit > MAX_PAGE or limit < 0:
            bound = "first" if args.get("first") is not None else "last"
            cost.errors.append(
                {
                    "type": "EXCESSIVE_PAGINATION",
                    "path": [name],
                    "locations": [_location(node)],
                    "message": f"Requesting {limit} records on the `{name}` connection exceeds the `{bound}` limit of {MAX_PAGE} records.",
                }
            )
        cost.requests += multiplier
        cost.nodes += multiplier * limit
        if cost.nodes > MAX_NODES and not any(
            e.get("type") == "MAX_NODE_LIMIT_EXCEEDED" for e in cost.errors
        ):
            cost.errors.append(
                {
                    "type": "MAX_NODE_LIMIT_EXCEEDED",
                    "message": f"By the time this query traverses to the {name} connection, it is requesting up "
                    f"to {cost.nodes:,} possible nodes which exceeds the maximum limit of {MAX_NODES:,}.",
                }
            )
        walk(node.selection_set, named, multiplier * max(limit, 1) if asks_nodes else 0)

    walk(operation.selection_set, root, 1)
    return cost


def _location(node: FieldNode) -> JSON:
    loc = node.loc
    if loc is None:
        return {"line": 1, "column": 1}
    return {"line": loc.start_token.line, "column": loc.start_token.column}


# --------------------------------------------------------------------------------------------------
# Resolvers: dataset objects -> dicts whose callables graphql-core's default resolver calls with args
# --------------------------------------------------------------------------------------------------


def _page(
    items: Sequence[Any],
    keys: Sequence[int],
    to_node: Callable[[Any], Any],
    args: dict[str, Any],
    *,
    extra: JSON | None = None,
) -> JSON:
    """A connection over ``items`` (in order) whose cursors encode ``keys``, ascending positions
    (offset cursors, as GitHub's timelines and unordered lists have): first/after/last/before."""
    positions = list(range(len(items)))
    after, before = args.get("after"), args.get("before")
    if after is not None:
        key = _uncursor(after, "after")
        if not isinstance(key, int):
            raise GraphQLError(
                f"`{after}` does not appear to be a valid cursor.",
                extensions={"type": "INVALID_CURSOR_ARGUMENTS"},
            )
        positions = [i for i in positions if keys[i] > key]
    if before is not None:
        key = _uncursor(before, "before")
        if not isinstance(key, int):
            raise GraphQLError(
                f"`{before}` does not appear to be a valid cursor.",
                extensions={"type": "INVALID_CURSOR_ARGUMENTS"},
            )
        positions = [i for i in positions if keys[i] < key]
    total_window = len(positions)
    first, last = args.get("first"), args.get("last")
    if first is not None:
        positions = positions[:first]
    if last is not None:
        positions = positions[-last:] if last else []
    edges = [{"cursor": _cursor(keys[i]), "node": to_node(items[i])} for i in positions]
    return {
        "totalCount": len(items),
        "nodes": [e["node"] for e in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": first is not None and total_window > len(positions),
            "hasPreviousPage": last is not None and total_window > len(positions),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        **(extra or {}),
    }


@dataclass
class GraphQLFault:
    """Make the next ``times`` resolutions of ``field`` (a schema field name) fail with ``type``."""

    field: str
    type: str = "FORBIDDEN"
    message: str = "Resource not accessible by integration"
    times: int = 1
    hits: int = 0


class _Resolvers:
    """Builds the values the executor walks, for one query."""

    def __init__(self, endpoint: GraphQLEndpoint, dataset: Dataset) -> None:
        self.endpoint = endpoint
        self.ds = dataset

    def fault(self, name: str) -> None:
        fault = self.endpoint._take_field_fault(name)
        if fault is not None:
            raise GraphQLError(fault.message, extensions={"type": fault.type})

    # -- root ------------------------------------------------------------------------------------

    def root(self, rate: JSON) -> JSON:
        return {"repository": self.repository_field, "rateLimit": lambda info, **args: rate}

    def repository_field(self, info: Any, owner: str, name: str, followRenames: bool = True) -> JSON | None:
        self.fault("repository")
        wanted = f"{owner}/{name}".lower()
        for repo in self.ds.repositories:
            if repo.deleted:
                continue
            if repo.full_name.lower() == wanted or (
                followRenames and wanted in (n.lower() for n in repo.former_names)
            ):
                return self.repository(repo)
        raise GraphQLError(
            f"Could not resolve to a Repository with the name '{owner}/{name}'.",
            extensions={"type": "NOT_FOUND"},
        )

    # -- objects ---------------------------------------------------------------------------------

    def actor(self, who: User | None) -> JSON | None:
        if who is None:
            return None  # a deleted account: GraphQL gives null where REST's timelines say "ghost"
        if who.type == "Bot":
            login = who.login.removesuffix("[bot]")
            return {
                "__typename": "Bot",
                "login": login,
                "databaseId": who.id,
                "id": who.node_id,
                "url": f"{WEB}/apps/{login}",
                "resourcePath": f"/apps/{login}",
                "avatarUrl": who.avatar_url or f"https://avatars.githubusercontent.com/in/{who.id}?v=4",
            }
        return {
            "__typename": "Organization" if who.type == "Organization" else "User",
            "login": who.login,
            "databaseId": who.id,
            "id": who.node_id,
            "name": who.name,
            "email": who.email or "",
            "url": f"{WEB}/{who.login}",
            "resourcePath": f"/{who.login}",
            "avatarUrl": who.avatar_url or f"https://avatars.githubusercontent.com/u/{who.id}?v=4",
        }

    def repository(self, repo: Repository) -> JSON:
        def items(kind: str) -> Callable[..., JSON]:
            def resolve(info: Any, **args: Any) -> JSON:
                self.fault("issues" if kind == "issue" else "pullRequests")
                return self.item_connection(repo, kind, args)

            return resolve

        def by_number(kind: str) -> Callable[..., JSON | None]:
            def resolve(info: Any, number: int) -> JSON | None:
                item = repo.items.get(number)
                if item is None or item.transferred_to is not None:
                    raise GraphQLError(
                        f"Could not resolve to an issue or pull request with the number of {number}.",
                        extensions={"type": "NOT_FOUND"},
                    )
                if (kind == "issue" and item.pull is not None) or (kind == "pull" and item.pull is None):
                    raise GraphQLError(
                        f"Could not resolve to {'an Issue' if kind == 'issue' else 'a PullRequest'} "
                        f"with the number of {number}.",
                        extensions={"type": "NOT_FOUND"},
                    )
                return self.item(repo, item)

            return resolve

        def milestone(info: Any, number: int) -> JSON | None:
            found = repo.milestones.get(number)
            return self.milestone(repo, found) if found is not None and not found.deleted else None

        def milestones(info: Any, **args: Any) -> JSON:
            states = args.get("states")
            live = [m for m in repo.live_milestones() if not states or m.state.upper() in states]
            live.sort(key=lambda m: m.number)
            return _page(live, [m.number for m in live], lambda m: self.milestone(repo, m), args)

        def git_object(info: Any, oid: str | None = None, expression: str | None = None) -> JSON | None:
            self.fault("object")
            commit = repo.commits.get((oid or expression or "").lower())
            if commit is None:
                return None
            return {
                "__typename": "Commit",
                "oid": commit.sha,
                "abbreviatedOid": commit.sha[:7],
                "id": f"C_kwDO{commit.sha[:20]}",
                "message": commit.message,
                "url": f"{WEB}/{repo.full_name}/commit/{commit.sha}",
                "author": {
                    "name": commit.author_name,
                    "email": commit.author_email,
                    "date": _iso(commit.authored_at),
                    "user": self.actor(commit.author)
                    if commit.author and commit.author.type == "User"
                    else None,
                },
            }

        return {
            "__typename": "Repository",
            "id": repo.node_id,
            "databaseId": repo.id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "owner": self.actor(repo.owner),
            "url": f"{WEB}/{repo.full_name}",
            "issues": items("issue"),
            "pullRequests": items("pull"),
            "issue": by_number("issue"),
            "pullRequest": by_number("pull"),
            "issueOrPullRequest": by_number("any"),
            "milestone": milestone,
            "milestones": milestones,
            "object": git_object,
        }

    def item_connection(self, repo: Repository, kind: str, args: JSON) -> JSON:
        items = [i for i in repo.visible_items() if (i.pull is None) == (kind == "issue")]
        filters = args.get("filterBy") or {}
        states = args.get("states") or filters.get("states")
        if states:
            items = [i for i in items if _item_state(i) in states]
        since = filters.get("since")
        if since:
            moment = _parse_time(since)
            items = [i for i in items if i.updated_at >= moment]
        if args.get("labels"):
            wanted = set(args["labels"])
            items = [i for i in items if wanted & {label.name for label in i.labels}]
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        column = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"}.get(order["field"])
        descending = order["direction"] == "DESC"

        def sort_key(i: Issue) -> tuple[Any, int]:
            if column is None:
                return (len(i.comments), i.id)
            return (_iso(getattr(i, column)), i.id)

        items.sort(key=sort_key, reverse=descending)
        keys = [list(sort_key(i)) for i in items]
        return _keyset_page(items, keys, lambda i: self.item(repo, i), args, descending)

    def milestone(self, repo: Repository, m: Milestone) -> JSON:
        return {
            "__typename": "Milestone",
            "id": m.node_id,
            "number": m.number,
            "title": m.title,
            "description": m.description,
            "dueOn": _iso(m.due_on),
            "state": m.state.upper(),
            "closed": m.state == "closed",
            "createdAt": _iso(m.created_at),
            "updatedAt": _iso(m.updated_at),
            "closedAt": _iso(m.closed_at),
            "creator": self.actor(m.creator),
            "url": f"{WEB}/{repo.full_name}/milestone/{m.number}",
            "resourcePath": f"/{repo.full_name}/milestone/{m.number}",
        }

    def label(self, repo: Repository, label: Label) -> JSON:
        return {
            "__typename": "Label",
            "id": label.node_id,
            "name": label.name,
            "color": label.color,
            "description": label.description,
            "isDefault": label.default,
            "url": f"{WEB}/{repo.full_name}/labels/{label.name}",
        }

    def item(self, repo: Repository, item: Issue) -> JSON:
        is_pull = item.pull is not None
        kind = "pull" if is_pull else "issues"
        url = f"{WEB}/{repo.full_name}/{kind}/{item.number}"
        milestone = item.milestone if item.milestone is not None and not item.milestone.deleted else None

        def timeline(info: Any, **args: Any) -> JSON:
            self.fault("timelineItems")
            wanted = set(args.get("itemTypes") or ())
            entries = list(enumerate(item.timeline))
            if wanted:
                entries = [(n, e) for n, e in entries if ITEM_TYPES.get(e.event) in wanted]
            if args.get("since"):
                moment = _parse_time(args["since"])
                entries = [(n, e) for n, e in entries if e.created_at >= moment]
            skip = args.get("skip") or 0
            entries = entries[skip:]
            page = _page(
                entries,
                [n for n, _ in entries],
                lambda pair: self.timeline_item(repo, item, pair[1]),
                args,
            )
            page.update(
                filteredCount=len(entries),
                pageCount=len(page["nodes"]),
                updatedAt=_iso(item.updated_at),
                totalCount=len(entries),
            )
            return page

        def assignees(info: Any, **args: Any) -> JSON:
            return _page(item.assignees, list(range(len(item.assignees))), self.actor, args)

        def labels(info: Any, **args: Any) -> JSON:
            self.fault("labels")
            return _page(item.labels, list(range(len(item.labels))), lambda lab: self.label(repo, lab), args)

        def comments(info: Any, **args: Any) -> JSON:
            return _page(
                item.comments,
                list(range(len(item.comments))),
                lambda c: self.comment(repo, item, c),
                args,
            )

        def state_reason(info: Any, enableDuplicate: bool = False) -> str | None:
            reason = item.state_reason
            if reason is None:
                return None
            if reason == "duplicate" and not enableDuplicate:
                return "NOT_PLANNED"  # GitHub's answer to clients that did not opt in to DUPLICATE
            return reason.upper()

        body: JSON = {
            "__typename": "PullRequest" if is_pull else "Issue",
            "id": item.node_id,
            "number": item.number,
            "databaseId": (item.pull.id if item.pull else item.id),
            "fullDatabaseId": str(item.pull.id if item.pull else item.id),
            "title": item.title,
            "body": item.body or "",  # GraphQL's String! body: "" where REST has null
            "bodyText": (item.body or "").replace("\x00", ""),
            "url": url,
            "resourcePath": f"/{repo.full_name}/{kind}/{item.number}",
            "createdAt": _iso(item.created_at),
            "updatedAt": _iso(item.updated_at),
            "closedAt": _iso(item.closed_at),
            "closed": item.state == "closed",
            "locked": item.locked,
            "author": self.actor(item.user),
            "authorAssociation": item.author_association,
            "assignees": assignees,
            "labels": labels,
            "milestone": self.milestone(repo, milestone) if milestone is not None else None,
            "comments": comments,
            "timelineItems": timeline,
            "repository": lambda info, **args: self.repository(repo),
            "projectItems": lambda info, **args: self.project_items(item, args),
        }
        if not is_pull:
            body["state"] = item.state.upper()
            body["stateReason"] = state_reason
            return body
        pull = item.pull
        assert pull is not None

        def reviews(info: Any, **args: Any) -> JSON:
            self.fault("reviews")
            chosen = [r for r in pull.reviews if not args.get("states") or r.state in args["states"]]
            if args.get("author"):
                chosen = [r for r in chosen if r.user is not None and r.user.login == args["author"]]
            return _page(chosen, list(range(len(chosen))), lambda r: self.review(repo, r), args)

        def review_requests(info: Any, **args: Any) -> JSON:
            self.fault("reviewRequests")
            pending = pull.requested_reviewers
            return _page(
                pending,
                list(range(len(pending))),
                lambda who: {
                    "__typename": "ReviewRequest",
                    "id": f"RR_kwDO{who.id:x}{item.number:x}",
                    "asCodeOwner": False,
                    "requestedReviewer": self.actor(who),
                },
                args,
            )

        head = pull.head_repo
        body.update(
            state="MERGED" if pull.merged_at is not None else item.state.upper(),
            isDraft=pull.draft,
            merged=pull.merged_at is not None,
            mergedAt=_iso(pull.merged_at),
            mergedBy=self.actor(pull.merged_by),
            mergeCommit=(
                {"__typename": "Commit", "oid": pull.merge_commit_sha} if pull.merge_commit_sha else None
            ),
            baseRefName=pull.base_ref,
            baseRefOid=pull.base_sha,
            headRefName=pull.head_ref,
            headRefOid=pull.head_sha,
            headRepository=(
                None
                if head is None
                else {
                    "__typename": "Repository",
                    "id": head.node_id,
                    "databaseId": head.id,
                    "name": head.name,
                    "nameWithOwner": head.full_name,
                    "url": f"{WEB}/{head.full_name}",
                }
            ),
            reviews=reviews,
            reviewRequests=review_requests,
            permalink=url,
            additions=pull.additions,
            deletions=pull.deletions,
            changedFiles=pull.changed_files,
        )
        return body

    # -- GitHub Projects (ProjectsV2) ------------------------------------------------------------

    def project_items(self, item: Issue, args: JSON) -> JSON:
        """Issue.projectItems / PullRequest.projectItems: the item's entries on every project, in the
        order they were added; ``includeArchived`` (default true) as GitHub has it."""
        self.fault("projectItems")
        entries = sorted(
            (
                (project, entry)
                for project in self.ds.projects
                for entry in project.items
                if entry.content is item and (args.get("includeArchived", True) or not entry.archived)
            ),
            key=lambda pair: pair[1].id,
        )
        return _page(entries, list(range(len(entries))), lambda pair: self.project_item(*pair), args)

    def project(self, project: Project) -> JSON:
        kind = "orgs" if project.owner.type == "Organization" else "users"
        path = f"/{kind}/{project.owner.login}/projects/{project.number}"
        return {
            "__typename": "ProjectV2",
            "id": project.node_id,
            "fullDatabaseId": str(project.id),
            "number": project.number,
            "title": project.title,
            "closed": project.closed,
            "public": False,
            "template": False,
            "shortDescription": None,
            "readme": None,
            "createdAt": _iso(project.created_at),
            "updatedAt": _iso(max((i.updated_at for i in project.items), default=project.created_at)),
            "url": f"{WEB}{path}",
            "resourcePath": path,
            "owner": self.actor(project.owner),
            "creator": None,
        }

    def project_field(self, f: ProjectField) -> JSON:
        return {
            "__typename": "ProjectV2IterationField" if f.data_type == "ITERATION" else "ProjectV2Field",
            "id": f.node_id,
            "databaseId": f.id,
            "name": f.name,
            "dataType": f.data_type,
        }

    def project_item(self, project: Project, entry: ProjectItem) -> JSON:
        def field_values(info: Any, **args: Any) -> JSON:
            values: list[JSON] = []
            for f in project.fields:  # GitHub's default order: the fields' positions
                common = {
                    "id": _b64_id(f"PVTFV_{entry.id}_{f.id}"),
                    "field": self.project_field(f),
                    "createdAt": _iso(entry.created_at),
                    "updatedAt": _iso(entry.updated_at),
                    "creator": None,
                }
                value = entry.values.get(f.name)
                if f.data_type == "TITLE":
                    values.append(
                        common | {"__typename": "ProjectV2ItemFieldTextValue", "text": entry.content.title}
                    )
                elif isinstance(value, ProjectIteration):
                    values.append(
                        common
                        | {
                            "__typename": "ProjectV2ItemFieldIterationValue",
                            "iterationId": value.id,
                            "title": value.title,
                            "titleHTML": value.title,
                            "startDate": value.start_date.isoformat(),
                            "duration": value.duration,
                        }
                    )
                elif value is not None:
                    values.append(
                        common | {"__typename": "ProjectV2ItemFieldDateValue", "date": value.isoformat()}
                    )
            return _page(values, list(range(len(values))), lambda v: v, args)

        return {
            "__typename": "ProjectV2Item",
            "id": entry.node_id,
            "fullDatabaseId": str(entry.id),
            "isArchived": entry.archived,
            "type": "PULL_REQUEST" if entry.content.pull is not None else "ISSUE",
            "createdAt": _iso(entry.created_at),
            "updatedAt": _iso(entry.updated_at),
            "project": self.project(project),
            "fieldValues": field_values,
        }

    def comment(self, repo: Repository, item: Issue, c: IssueComment) -> JSON:
        kind = "pull" if item.pull is not None else "issues"
        return {
            "__typename": "IssueComment",
            "id": c.node_id,
            "databaseId": c.id,
            "fullDatabaseId": str(c.id),
            "author": self.actor(c.user),
            "authorAssociation": c.author_association,
            "body": c.body,
            "createdAt": _iso(c.created_at),
            "updatedAt": _iso(c.updated_at),
            "url": f"{WEB}/{repo.full_name}/{kind}/{c.issue_number}#issuecomment-{c.id}",
        }

    def review(self, repo: Repository, r: Review) -> JSON:
        url = f"{WEB}/{repo.full_name}/pull/{r.pull_number}#pullrequestreview-{r.id}"
        return {
            "__typename": "PullRequestReview",
            "id": r.node_id,
            "databaseId": r.id,
            "fullDatabaseId": str(r.id),
            "author": self.actor(r.user),
            "authorAssociation": r.author_association,
            "body": r.body,
            "state": r.state,
            "submittedAt": _iso(r.submitted_at),
            "createdAt": _iso(r.submitted_at),
            "publishedAt": _iso(r.submitted_at),
            "updatedAt": _iso(r.submitted_at),
            "commit": {"__typename": "Commit", "oid": r.commit_id},
            "url": url,
        }

    def timeline_item(self, repo: Repository, item: Issue, e: TimelineEvent) -> JSON:
        if e.comment is not None:
            return self.comment(repo, item, e.comment)
        if e.review is not None:
            return self.review(repo, e.review)
        typename = _TYPENAMES.get(e.event, "")
        body: JSON = {
            "__typename": typename,
            "id": f"{''.join(w[0] for w in e.event.split('_')).upper()}E_lADO{e.id:x}",
            "actor": self.actor(e.actor),
            "createdAt": _iso(e.created_at),
        }
        if e.event in ("assigned", "unassigned"):
            body["assignee"] = self.actor(e.assignee)
        elif e.event in ("milestoned", "demilestoned"):
            body["milestoneTitle"] = e.milestone_title or ""
        elif e.event == "labeled" and e.label is not None:
            body["label"] = self.label(repo, e.label)
        elif e.event == "renamed":
            body.update(previousTitle=e.rename_from or "", currentTitle=e.rename_to or "")
        elif e.event in ("review_requested", "review_request_removed"):
            body["requestedReviewer"] = self.actor(e.requested_reviewer)
        elif e.event in ("closed", "reopened"):
            body["stateReason"] = e.state_reason.upper() if e.state_reason else None
            if e.event == "closed":
                body["closer"] = {"__typename": "Commit", "oid": e.commit_id} if e.commit_id else None
                body["url"] = f"{WEB}/{repo.full_name}/issues/{item.number}#event-{e.id}"
        elif e.event == "merged":
            body["commit"] = {"__typename": "Commit", "oid": e.commit_id} if e.commit_id else None
            body["mergeRefName"] = item.pull.base_ref if item.pull else "main"
            body["url"] = f"{WEB}/{repo.full_name}/pull/{item.number}#event-{e.id}"
        elif e.event == "cross-referenced":
            source = repo.items.get(e.source_number or -1)
            body.update(
                source=self.item(repo, source) if source is not None else None,
                target=self.item(repo, item),
                isCrossRepository=False,
                referencedAt=_iso(e.created_at),
                willCloseTarget=False,
            )
        return body


def _b64_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _item_state(item: Issue) -> str:
    if item.pull is not None and item.pull.merged_at is not None:
        return "MERGED"
    return item.state.upper()


def _keyset_page(
    items: Sequence[Issue],
    keys: list[list[Any]],
    to_node: Callable[[Issue], JSON],
    args: JSON,
    descending: bool,
) -> JSON:
    """Keyset pagination as GitHub's ordered connections do: ``after`` a cursor means after its
    [sort value, id] in the list's order, whether or not that item is still where it was."""
    after = args.get("after")
    start = 0
    if after is not None:
        key = _uncursor(after, "after")
        if not (isinstance(key, list) and len(key) == 2):
            raise GraphQLError(
                f"`{after}` does not appear to be a valid cursor.",
                extensions={"type": "INVALID_CURSOR_ARGUMENTS"},
            )
        wanted = tuple(key)
        start = next(
            (n for n, k in enumerate(keys) if (tuple(k) < wanted if descending else tuple(k) > wanted)),
            len(keys),
        )
    window = list(range(start, len(items)))
    first = args.get("first")
    last = args.get("last")
    chosen = window[:first] if first is not None else window
    if last is not None:
        chosen = chosen[-last:] if last else []
    edges = [{"cursor": _cursor(keys[n]), "node": to_node(items[n])} for n in chosen]
    return {
        "totalCount": len(items),
        "nodes": [e["node"] for e in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": bool(chosen) and chosen[-1] < len(items) - 1,
            "hasPreviousPage": bool(chosen) and chosen[0] > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# --------------------------------------------------------------------------------------------------
# The endpoint
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQLLogEntry:
    status: int
    cost: int  # points charged (0 when refused or a dry run)
    requests: int  # GitHub's "requests" before dividing by 100
    nodes: int
    errors: tuple[str, ...]  # error types (or messages) in the answer
    operation: str  # the query's first line, for reading logs


@dataclass
class GraphQLAnswer:
    status: int
    body: JSON
    headers: dict[str, str]


class GraphQLEndpoint:
    """POST /graphql for one GitHubServer: validation, cost, budget per token, execution, faults."""

    def __init__(self, quota: int = 5000, timeout_above_nodes: int | None = None) -> None:
        self.schema = github_schema()
        self.quota = quota  # points per hour per token
        self.used: dict[str, int] = {}
        self.reset_at = int(time.time()) + 3600
        # Queries that could return more nodes than this answer 502 (GitHub's timeouts on heavy queries).
        self.timeout_above_nodes = timeout_above_nodes
        self.log: list[GraphQLLogEntry] = []
        self.points = 0  # every point charged, all tokens (for benchmarks)
        self._faults: list[GraphQLFault] = []
        self._documents: dict[str, tuple[DocumentNode | None, list[JSON]]] = {}
        self._lock = threading.Lock()

    # -- budget ------------------------------------------------------------------------------------

    def remaining(self, token: str) -> int:
        with self._lock:
            self._roll()
            return max(0, self.quota - self.used.get(token, 0))

    def exhaust(self, token: str, reset_at: float | None = None) -> None:
        with self._lock:
            self.used[token] = self.quota
            self.reset_at = int(reset_at if reset_at is not None else time.time() + 3600)

    def _roll(self) -> None:
        if time.time() >= self.reset_at:
            self.used.clear()
            self.reset_at = int(time.time()) + 3600

    def rate_headers(self, token: str) -> dict[str, str]:
        used = self.used.get(token, 0)
        return {
            "X-RateLimit-Limit": str(self.quota),
            "X-RateLimit-Remaining": str(max(0, self.quota - used)),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Used": str(min(used, self.quota)),
            "X-RateLimit-Resource": "graphql",
        }

    # -- faults ------------------------------------------------------------------------------------

    def inject_error(
        self,
        field_name: str,
        *,
        type: str = "FORBIDDEN",
        message: str = "Resource not accessible by integration",
        times: int = 1,
    ) -> GraphQLFault:
        """The next ``times`` resolutions of ``field_name`` fail: a 200 answer with partial data."""
        fault = GraphQLFault(field_name, type, message, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def _take_field_fault(self, name: str) -> GraphQLFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.field == name and fault.times > 0:
                    fault.times -= 1
                    fault.hits += 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- answering ---------------------------------------------------------------------------------

    def _document(self, query: str) -> tuple[DocumentNode | None, list[JSON]]:
        """Parsed and validated once per query text (the same text always validates the same way)."""
        cached = self._documents.get(query)
        if cached is not None:
            return cached
        try:
            document = parse(query)
        except GraphQLError as exc:
            result: tuple[DocumentNode | None, list[JSON]] = (None, [_github_error(exc, parse_error=True)])
        else:
            problems = validate(self.schema, document)
            result = (None, [_github_error(e) for e in problems]) if problems else (document, [])
        with self._lock:
            self._documents[query] = result
        return result

    def answer(self, raw: bytes, token: str, dataset: Dataset) -> GraphQLAnswer:
        try:
            request = json.loads(raw or b"{}")
            query = request["query"]
            variables = request.get("variables") or {}
            operation = request.get("operationName")
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            body: JSON = {
                "message": "Problems parsing JSON",
                "documentation_url": "https://docs.github.com/graphql",
            }
            return self._logged(GraphQLAnswer(400, body, {}), 0, QueryCost(), "")
        first_line = query.strip().split("\n", 1)[0][:80]
        document, errors = self._document(query)
        if document is None:
            return self._logged(
                GraphQLAnswer(200, {"errors": errors}, self.rate_headers(token)), 0, QueryCost(), first_line
            )
        cost = query_cost(self.schema, document, variables, operation)
        if cost.errors:
            return self._logged(
                GraphQLAnswer(200, {"errors": cost.errors}, self.rate_headers(token)), 0, cost, first_line
            )
        if self.timeout_above_nodes is not None and cost.nodes > self.timeout_above_nodes:
            body = {
                "data": None,
                "errors": [
                    {
                        "message": "Something went wrong while executing your query. This may be the result of a "
                        "timeout, or it could be a GitHub bug. Please include `5B0A:3C4D:1234567:89ABCDE:6650F00D` "
                        "when reporting this issue."
                    }
                ],
            }
            return self._logged(GraphQLAnswer(502, body, self.rate_headers(token)), 0, cost, first_line)
        points = 0 if cost.dry_run else cost.points
        with self._lock:
            self._roll()
            used = self.used.get(token, 0)
            if used + points > self.quota:
                headers = self.rate_headers(token)
                headers["X-RateLimit-Remaining"] = "0"
                body = {
                    "errors": [
                        {
                            "type": "RATE_LIMITED",
                            "code": "graphql_rate_limit",
                            "message": "API rate limit already exceeded for user ID 1000001.",
                        }
                    ]
                }
                answer = GraphQLAnswer(200, body, headers)
                points = 0
            else:
                self.used[token] = used + points
                self.points += points
                answer = None
                rate = {
                    "cost": cost.points,
                    "limit": self.quota,
                    "nodeCount": cost.nodes,
                    "remaining": self.quota - self.used[token],
                    "used": self.used[token],
                    "resetAt": _iso(datetime.fromtimestamp(self.reset_at, UTC)),
                }
                headers = self.rate_headers(token)
        if answer is not None:
            return self._logged(answer, 0, cost, first_line)
        with dataset.lock:
            resolvers = _Resolvers(self, dataset)
            result = execute(
                self.schema,
                document,
                root_value=resolvers.root(rate),
                variable_values=variables,
                operation_name=operation,
            )
            if hasattr(result, "__await__"):  # never: every resolver is synchronous
                raise RuntimeError("asynchronous result")
        out: JSON = {}
        if result.errors:
            out["errors"] = [_github_error(e) for e in result.errors]
        out["data"] = result.data
        return self._logged(GraphQLAnswer(200, out, headers), points, cost, first_line)

    def _logged(self, answer: GraphQLAnswer, points: int, cost: QueryCost, operation: str) -> GraphQLAnswer:
        kinds = tuple(
            str(e.get("type") or e.get("message", ""))[:60] for e in answer.body.get("errors") or ()
        )
        with self._lock:
            self.log.append(
                GraphQLLogEntry(answer.status, points, cost.requests, cost.nodes, kinds, operation)
            )
        return answer


def _github_error(error: GraphQLError, parse_error: bool = False) -> JSON:
    """graphql-core's error in GitHub's shape: ``type`` at the top level, ``path``, ``locations``."""
    out: JSON = {}
    extensions = dict(error.extensions or {})
    kind = extensions.pop("type", None)
    if kind is not None:
        out["type"] = kind
    if error.path is not None:
        out["path"] = list(error.path)
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if kind is None and not parse_error:
        code = "undefinedField" if "Cannot query field" in error.message else "graphqlValidation"
        extensions.setdefault("code", code)
    if extensions:
        out["extensions"] = extensions
    out["message"] = error.message
    return out


def points_of(log: Iterable[GraphQLLogEntry]) -> int:
    return sum(entry.cost for entry in log)
