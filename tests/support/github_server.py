"""A local, stateful, GitHub-compatible REST server for tests (no network beyond 127.0.0.1).

``GitHubServer(dataset)`` serves a :class:`tests.support.github_scenario.Dataset` through the read
endpoints perftrust's extractor uses, with GitHub's observable behaviour:

* payloads shaped like real ones (user objects, ``pull_request`` key on PRs in ``/issues``,
  ``state_reason``, milestones with ``due_on``, timelines, reviews...), all API URLs rooted at
  ``base_url`` so PyGithub's lazy completion and ``Link`` following stay on this server;
* pagination with ``per_page`` (default 30, capped at ``per_page_max``) and ``page``, and a ``Link``
  header ordered ``prev, next, last, first`` whose URLs, like GitHub's, use ``/repositories/{id}/...``
  (``link_style="repos"`` keeps the requested path instead) with the query preserved;
* ``ETag: W/"<sha256 of body>"`` on every 200; a matching ``If-None-Match`` gets a bodiless 304 that
  is not counted against the quota; ``X-RateLimit-*`` headers on every response; ``/rate_limit`` is
  free; an exhausted quota answers 403 ``API rate limit exceeded for user ID ...`` until ``reset_at``
  (then the quota refills, as GitHub's window does);
* ``GET /user``: the authenticated user (``login``, ``user_id``), shaped like GitHub's public-user
  answer for a token without the ``user`` scope; every authorized response carries
  ``X-OAuth-Scopes`` (per token, ``token_scopes``; default ``repo``) as classic tokens get, or no such
  header for a token mapped to None, as fine-grained and GitHub App tokens get;
* 401 ``Bad credentials`` without a valid ``Authorization: token X`` / ``Bearer X``; 404 ``Not Found``
  for unknown routes, deleted repositories and milestones; 301 with ``Location:
  {base_url}/repositories/{id}{rest}`` for renamed repositories and to the new home of a transferred
  issue;
* injectable faults (:meth:`GitHubServer.inject`): 5xx, secondary rate limits (403/429 with
  ``Retry-After``), delays longer than the client's timeout, truncated JSON, HTML bodies, dropped
  connections, any status/body/headers;
* random faults: ``fault_rate`` (0..1, settable at any time) makes that share of requests not
  otherwise faulted answer 500, 502 or 503 or drop the connection half-way through the body
  (:data:`RANDOM_FAULTS`), drawn from ``random.Random(fault_seed)``; ``random_faults`` counts them.

* GitHub Projects over REST (``/orgs/{org}/projectsV2/{n}/items`` and ``/fields``, the same under
  ``/users/{login}``): a project's items with their content (the issue or pull request as the lists
  render it) and the values of the fields named in ``fields`` (ids, comma-separated or ``fields[]``),
  filtered by ``q`` (only the ``repo:OWNER/NAME`` qualifier is applied; archived items are left out),
  paged by cursor (``after``, ``Link: <...after=...>; rel="next"``) like GitHub's projectsV2 lists;
  the fields with their iterations. A changed value changes the item's ``updated_at`` and the page's
  ETag.
* ``POST /graphql``: GitHub's GraphQL API over the same dataset, validated against GitHub's published
  schema and charged by GitHub's formula per token (:mod:`tests.support.github_graphql`,
  :attr:`GitHubServer.graphql`); it spends GraphQL points, never the REST quota.

Every request is logged (:attr:`GitHubServer.requests`) with whether it consumed quota.  Dataset
mutations (``dataset.advance``, ``server.rename_repo``...) are visible to the next request.

Speed: item JSON is serialized once per dataset version and pages are joined from those bytes (a
full 16k-request sync of 10k issues + 3k PRs costs ~0.2 ms of server time per request); responses
use HTTP/1.1 keep-alive.  An internal error answers 500 and is kept in ``server.errors``.

Semantics worth knowing when writing tests:

* Injected fault responses count against the quota (GitHub counts requests, not successes); 304s,
  401s, ``/rate_limit`` and 403s caused by an exhausted quota do not.  A conditional request that
  matches still gets its 304 while the quota is exhausted.
* The log records requests in answer order, each entry before its response is written (a delayed
  request is logged when its delay ends);
  :func:`endpoint_of` maps both ``/repos/o/r/...`` and ``/repositories/{id}/...`` to one template.
* ``since`` filters ``updated_at >= since``; it accepts ``Z``, offsets, fractions and plain dates and
  answers 422 for anything else.  ``/pulls`` ignores ``since`` (like GitHub).
* A deleted account (``user`` None in the dataset) is ``null`` in issues, comments, reviews and the
  pulls list, but GitHub's ``ghost`` user (login ``ghost``, id 10137) in timelines and in
  ``GET /pulls/{n}`` (whose schemas do not allow null there).
* Timeline ``reviewed`` entries are shaped like GitHub's: ``user`` and ``submitted_at`` (no
  ``actor``/``created_at``) and a lowercase ``state``.
* Deleting a milestone makes it ``null`` in its issues without changing their ``updated_at``;
  changing a due date changes no issue either: only re-reading ``/milestones`` reveals it.
* PyGithub follows a 301 with the Location's path only: the query string is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from tests.support.github_graphql import GraphQLEndpoint
from tests.support.github_scenario import (
    GHOST,
    Commit,
    Dataset,
    ForkRepo,
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
    ReviewComment,
    TimelineEvent,
    User,
)

__all__ = ["RANDOM_FAULTS", "Fault", "GitHubServer", "LoggedRequest", "endpoint_of"]

JSON = dict[str, Any]

DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
REDIRECT_DOCS = "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"
WEB = "https://github.com"


class LoggedRequest(NamedTuple):
    """One answered request: ``query`` keeps the last value of each parameter."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    counted_against_quota: bool  # consumed one unit of the core quota

    @property
    def counted(self) -> bool:
        """Short alias of ``counted_against_quota``."""
        return self.counted_against_quota


@dataclass
class Fault:
    """An injected misbehaviour, applied to the next ``times`` requests whose path matches ``pattern``."""

    pattern: re.Pattern[str]
    status: int | None = None
    times: int = 1
    headers: dict[str, str | None] = field(default_factory=dict)
    body: Any = None
    delay: float | None = None
    truncate: bool = False
    non_json: bool = False
    disconnect: bool = False
    hits: int = 0


# What a random fault (GitHubServer.fault_rate) does: a server error, or a connection dropped half-way.
RANDOM_FAULTS: tuple[dict[str, Any], ...] = (
    {"status": 500},
    {"status": 502},
    {"status": 503},
    {"disconnect": True},
)


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> _Response:
    return _Response(status, _dumps(value), dict(headers or {}))


def _error(status: int, message: str, documentation_url: str = DOCS, **extra: Any) -> _Response:
    return _json_response(
        status, {"message": message, **extra, "documentation_url": documentation_url, "status": str(status)}
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class _BadRequest(Exception):
    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


# --------------------------------------------------------------------------------------------------
# Routing table: (regex on the path after the repository prefix, endpoint template, handler name)
# --------------------------------------------------------------------------------------------------

_REPO_ROUTES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), template, handler)
    for pattern, template, handler in (
        (r"", "", "repo"),
        (r"/issues", "/issues", "issues"),
        (r"/issues/comments", "/issues/comments", "issue_comments"),
        (r"/issues/(\d+)", "/issues/{issue_number}", "issue"),
        (r"/issues/(\d+)/timeline", "/issues/{issue_number}/timeline", "timeline"),
        (r"/issues/(\d+)/comments", "/issues/{issue_number}/comments", "item_comments"),
        (r"/milestones", "/milestones", "milestones"),
        (r"/milestones/(\d+)", "/milestones/{milestone_number}", "milestone"),
        (r"/pulls", "/pulls", "pulls"),
        (r"/pulls/comments", "/pulls/comments", "review_comments"),
        (r"/pulls/(\d+)", "/pulls/{pull_number}", "pull"),
        (r"/pulls/(\d+)/reviews", "/pulls/{pull_number}/reviews", "reviews"),
        (r"/pulls/(\d+)/comments", "/pulls/{pull_number}/comments", "pull_review_comments"),
        (r"/commits/([^/]+)", "/commits/{ref}", "commit"),
    )
)
_REPOS_PREFIX = re.compile(r"/repos/([^/]+)/([^/]+)(/.*)?")
_REPOSITORIES_PREFIX = re.compile(r"/repositories/(\d+)(/.*)?")
_ORG_REPOS = re.compile(r"/orgs/([^/]+)/repos")
_PROJECT_LISTS = re.compile(r"/(orgs|users)/([^/]+)/projectsV2/(\d+)/(items|fields)")


def endpoint_of(path: str) -> str:
    """The OpenAPI-style template of a request path (``/repositories/{id}/x`` counts as ``/repos/...``).

    >>> endpoint_of("/repositories/7/issues/12/timeline")
    '/repos/{owner}/{repo}/issues/{issue_number}/timeline'
    """
    path = urlsplit(path).path.rstrip("/") or "/"
    rest: str | None = None
    if m := _REPOSITORIES_PREFIX.fullmatch(path):
        rest = m.group(2) or ""
    elif m := _REPOS_PREFIX.fullmatch(path):
        rest = m.group(3) or ""
    if rest is not None:
        for pattern, template, _ in _REPO_ROUTES:
            if pattern.fullmatch(rest):
                return "/repos/{owner}/{repo}" + template
        return "/repos/{owner}/{repo}" + rest
    if _ORG_REPOS.fullmatch(path):
        return "/orgs/{org}/repos"
    if m := _PROJECT_LISTS.fullmatch(path):
        owner = "{org}" if m.group(1) == "orgs" else "{username}"
        return f"/{m.group(1)}/{owner}/projectsV2/{{project_number}}/{m.group(4)}"
    return path


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------

_EVENT_NODE_PREFIX: dict[str, str] = {
    "assigned": "AE",
    "unassigned": "UAE",
    "milestoned": "MIE",
    "demilestoned": "DEME",
    "labeled": "LE",
    "renamed": "RTE",
    "closed": "CE",
    "reopened": "REE",
    "review_requested": "RRE",
    "review_request_removed": "RRRE",
    "ready_for_review": "RFRE",
    "merged": "ME",
}


def _node(prefix: str, number: int) -> str:
    return f"{prefix}_lADO{number:x}"


class _Renderer:
    """Builds GitHub JSON objects from dataset objects; API URLs are rooted at ``api``."""

    def __init__(self, api: str) -> None:
        self.api = api
        self._users: dict[int, JSON] = {}

    # -- people and repositories ----------------------------------------------------------------

    def user(self, who: User | None) -> JSON | None:
        return None if who is None else self.actor(who)

    def actor(self, who: User | None) -> JSON:
        """A user object; a deleted account (None) is GitHub's ``ghost`` user."""
        who = who or GHOST
        cached = self._users.get(who.id)
        if cached is None:
            url = f"{self.api}/users/{quote(who.login, safe='')}"
            html = (
                f"{WEB}/apps/{who.login.removesuffix('[bot]')}" if who.type == "Bot" else f"{WEB}/{who.login}"
            )
            cached = {
                "login": who.login,
                "id": who.id,
                "node_id": who.node_id,
                "avatar_url": who.avatar_url or f"https://avatars.githubusercontent.com/u/{who.id}?v=4",
                "gravatar_id": "",
                "url": url,
                "html_url": html,
                "followers_url": f"{url}/followers",
                "following_url": f"{url}/following{{/other_user}}",
                "gists_url": f"{url}/gists{{/gist_id}}",
                "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
                "subscriptions_url": f"{url}/subscriptions",
                "organizations_url": f"{url}/orgs",
                "repos_url": f"{url}/repos",
                "events_url": f"{url}/events{{/privacy}}",
                "received_events_url": f"{url}/received_events",
                "type": who.type,
                "user_view_type": "public",
                "site_admin": who.site_admin,
            }
            self._users[who.id] = cached
        return cached

    def repo_core(self, repo: Repository | ForkRepo, open_count: int) -> JSON:
        """The fields shared by ``repository``, ``minimal-repository`` and ``full-repository``."""
        full = repo.full_name
        url = f"{self.api}/repos/{full}"
        fork = isinstance(repo, ForkRepo)
        pushed = repo.created_at if fork else (getattr(repo, "pushed_at", None) or repo.created_at)
        return {
            "id": repo.id,
            "node_id": repo.node_id,
            "name": repo.name,
            "full_name": full,
            "private": False,
            "owner": self.actor(repo.owner),
            "html_url": f"{WEB}/{full}",
            "description": None if fork else getattr(repo, "description", None),
            "fork": fork,
            "url": url,
            "forks_url": f"{url}/forks",
            "keys_url": f"{url}/keys{{/key_id}}",
            "collaborators_url": f"{url}/collaborators{{/collaborator}}",
            "teams_url": f"{url}/teams",
            "hooks_url": f"{url}/hooks",
            "issue_events_url": f"{url}/issues/events{{/number}}",
            "events_url": f"{url}/events",
            "assignees_url": f"{url}/assignees{{/user}}",
            "branches_url": f"{url}/branches{{/branch}}",
            "tags_url": f"{url}/tags",
            "blobs_url": f"{url}/git/blobs{{/sha}}",
            "git_tags_url": f"{url}/git/tags{{/sha}}",
            "git_refs_url": f"{url}/git/refs{{/sha}}",
            "trees_url": f"{url}/git/trees{{/sha}}",
            "statuses_url": f"{url}/statuses/{{sha}}",
            "languages_url": f"{url}/languages",
            "stargazers_url": f"{url}/stargazers",
            "contributors_url": f"{url}/contributors",
            "subscribers_url": f"{url}/subscribers",
            "subscription_url": f"{url}/subscription",
            "commits_url": f"{url}/commits{{/sha}}",
            "git_commits_url": f"{url}/git/commits{{/sha}}",
            "comments_url": f"{url}/comments{{/number}}",
            "issue_comment_url": f"{url}/issues/comments{{/number}}",
            "contents_url": f"{url}/contents/{{+path}}",
            "compare_url": f"{url}/compare/{{base}}...{{head}}",
            "merges_url": f"{url}/merges",
            "archive_url": f"{url}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{url}/downloads",
            "issues_url": f"{url}/issues{{/number}}",
            "pulls_url": f"{url}/pulls{{/number}}",
            "milestones_url": f"{url}/milestones{{/number}}",
            "notifications_url": f"{url}/notifications{{?since,all,participating}}",
            "labels_url": f"{url}/labels{{/name}}",
            "releases_url": f"{url}/releases{{/id}}",
            "deployments_url": f"{url}/deployments",
            "created_at": _iso(repo.created_at),
            "updated_at": _iso(pushed),
            "pushed_at": _iso(pushed),
            "git_url": f"git://github.com/{full}.git",
            "ssh_url": f"git@github.com:{full}.git",
            "clone_url": f"{WEB}/{full}.git",
            "svn_url": f"{WEB}/{full}",
            "homepage": None,
            "size": 2048,
            "stargazers_count": 0 if fork else 42,
            "watchers_count": 0 if fork else 42,
            "language": "C++",
            "has_issues": not fork,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": not fork,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0 if fork else 3,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "public",
            "forks": 0 if fork else 3,
            "open_issues": open_count,
            "watchers": 0 if fork else 42,
            "default_branch": "main" if fork else getattr(repo, "default_branch", "main"),
        }

    @staticmethod
    def permissions() -> JSON:
        return {"admin": False, "maintain": False, "push": False, "triage": True, "pull": True}

    def full_repo(self, repo: Repository, open_count: int) -> JSON:
        body = self.repo_core(repo, open_count)
        body.update(
            permissions=self.permissions(),
            temp_clone_token="",
            allow_squash_merge=True,
            allow_merge_commit=True,
            allow_rebase_merge=True,
            allow_auto_merge=False,
            delete_branch_on_merge=False,
            allow_update_branch=False,
            use_squash_pr_title_as_default=False,
            squash_merge_commit_message="COMMIT_MESSAGES",
            squash_merge_commit_title="COMMIT_OR_PR_TITLE",
            merge_commit_message="PR_TITLE",
            merge_commit_title="MERGE_MESSAGE",
            organization=self.actor(repo.owner) if repo.owner.type == "Organization" else None,
            network_count=3,
            subscribers_count=7,
        )
        return body

    def minimal_repo(self, repo: Repository, open_count: int) -> JSON:
        body = self.repo_core(repo, open_count)
        body["permissions"] = self.permissions()
        return body

    # -- issues -------------------------------------------------------------------------------------

    def label(self, repo: Repository, label: Label) -> JSON:
        return {
            "id": label.id,
            "node_id": label.node_id,
            "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def milestone(self, repo: Repository, m: Milestone, counts: tuple[int, int]) -> JSON:
        url = f"{self.api}/repos/{repo.full_name}/milestones/{m.number}"
        return {
            "url": url,
            "html_url": f"{WEB}/{repo.full_name}/milestone/{m.number}",
            "labels_url": f"{url}/labels",
            "id": m.id,
            "node_id": m.node_id,
            "number": m.number,
            "title": m.title,
            "description": m.description,
            "creator": self.user(m.creator),
            "open_issues": counts[0],
            "closed_issues": counts[1],
            "state": m.state,
            "created_at": _iso(m.created_at),
            "updated_at": _iso(m.updated_at),
            "due_on": _iso(m.due_on),
            "closed_at": _iso(m.closed_at),
        }

    @staticmethod
    def reactions(url: str) -> JSON:
        return {
            "url": f"{url}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        }

    def issue(self, repo: Repository, item: Issue, milestone: JSON | None, *, single: bool = False) -> JSON:
        url = f"{self.api}/repos/{repo.full_name}/issues/{item.number}"
        kind = "pull" if item.pull is not None else "issues"
        html = f"{WEB}/{repo.full_name}/{kind}/{item.number}"
        assignees = [self.actor(a) for a in item.assignees]
        body: JSON = {
            "url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "id": item.id,
            "node_id": item.node_id,
            "number": item.number,
            "title": item.title,
            "user": self.user(item.user),
            "labels": [self.label(repo, label) for label in item.labels],
            "state": item.state,
            "locked": item.locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": milestone,
            "comments": len(item.comments),
            "created_at": _iso(item.created_at),
            "updated_at": _iso(item.updated_at),
            "closed_at": _iso(item.closed_at),
            "author_association": item.author_association,
            "active_lock_reason": None,
        }
        if item.pull is not None:
            body["draft"] = item.pull.draft
            pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{item.number}"
            body["pull_request"] = {
                "url": pull_url,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": _iso(item.pull.merged_at),
            }
        body["body"] = item.body
        if single:
            body["closed_by"] = self.user(item.closed_by) if item.state == "closed" else None
        body["reactions"] = self.reactions(url)
        body["timeline_url"] = f"{url}/timeline"
        body["performed_via_github_app"] = None
        body["state_reason"] = item.state_reason
        return body

    def issue_comment(self, repo: Repository, c: IssueComment, *, is_pull: bool) -> JSON:
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{c.id}"
        kind = "pull" if is_pull else "issues"
        return {
            "url": url,
            "html_url": f"{WEB}/{repo.full_name}/{kind}/{c.issue_number}#issuecomment-{c.id}",
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{c.issue_number}",
            "id": c.id,
            "node_id": c.node_id,
            "user": self.user(c.user),
            "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at),
            "author_association": c.author_association,
            "body": c.body,
            "reactions": self.reactions(url),
            "performed_via_github_app": None,
        }

    def timeline_event(self, repo: Repository, item: Issue, e: TimelineEvent, source: JSON | None) -> JSON:
        if e.comment is not None:
            body = self.issue_comment(repo, e.comment, is_pull=item.pull is not None)
            body["user"] = self.actor(e.comment.user)  # timeline entries never have a null user
            body["event"] = "commented"
            body["actor"] = self.actor(e.actor)
            return body
        if e.review is not None:
            body = self.review(repo, e.review)
            body["user"] = self.actor(e.review.user)
            body["state"] = e.review.state.lower()
            body["event"] = "reviewed"
            return body
        if e.event == "cross-referenced":
            return {
                "actor": self.actor(e.actor),
                "created_at": _iso(e.created_at),
                "updated_at": _iso(e.created_at),
                "source": {"type": "issue", "issue": source},
                "event": "cross-referenced",
            }
        commit_url = f"{self.api}/repos/{repo.full_name}/commits/{e.commit_id}" if e.commit_id else None
        body = {
            "id": e.id,
            "node_id": _node(_EVENT_NODE_PREFIX.get(e.event, "E"), e.id),
            "url": f"{self.api}/repos/{repo.full_name}/issues/events/{e.id}",
            "actor": self.actor(e.actor),
            "event": e.event,
            "commit_id": e.commit_id,
            "commit_url": commit_url,
            "created_at": _iso(e.created_at),
        }
        if e.event in ("assigned", "unassigned"):
            body["assignee"] = self.actor(e.assignee)
            body["assigner"] = self.actor(e.actor)
        elif e.event in ("milestoned", "demilestoned"):
            body["milestone"] = {"title": e.milestone_title or ""}
        elif e.event == "labeled" and e.label is not None:
            body["label"] = {"name": e.label.name, "color": e.label.color}
        elif e.event == "renamed":
            body["rename"] = {"from": e.rename_from or "", "to": e.rename_to or ""}
        elif e.event in ("review_requested", "review_request_removed"):
            body["review_requester"] = self.actor(e.actor)
            body["requested_reviewer"] = self.actor(e.requested_reviewer)
        elif e.event in ("closed", "reopened"):
            body["state_reason"] = e.state_reason
        body["performed_via_github_app"] = None
        return body

    # -- pull requests ------------------------------------------------------------------------------

    def _branch(self, label_owner: str, ref: str, sha: str, user: JSON | None, repo: JSON | None) -> JSON:
        return {"label": f"{label_owner}:{ref}", "ref": ref, "sha": sha, "user": user, "repo": repo}

    def pull(
        self, repo: Repository, item: Issue, milestone: JSON | None, repo_json: JSON, *, full: bool
    ) -> JSON:
        pull = item.pull
        assert pull is not None
        base_url = f"{self.api}/repos/{repo.full_name}"
        url = f"{base_url}/pulls/{item.number}"
        html = f"{WEB}/{repo.full_name}/pull/{item.number}"
        issue_url = f"{base_url}/issues/{item.number}"
        statuses = f"{base_url}/statuses/{pull.head_sha}"
        assignees = [self.actor(a) for a in item.assignees]
        head_repo = pull.head_repo
        if head_repo is None:
            head_owner = item.user.login if item.user else "ghost"
            # The full object documents a non-null user: a deleted account is the "ghost" user there.
            head_user = self.actor(item.user) if full else self.user(item.user)
            head = self._branch(head_owner, pull.head_ref, pull.head_sha, head_user, None)
        elif isinstance(head_repo, ForkRepo):
            fork_json = self.repo_core(head_repo, 0)
            head = self._branch(
                head_repo.owner.login, pull.head_ref, pull.head_sha, self.actor(head_repo.owner), fork_json
            )
        else:
            head = self._branch(
                repo.owner.login, pull.head_ref, pull.head_sha, self.actor(repo.owner), repo_json
            )
        base = self._branch(repo.owner.login, pull.base_ref, pull.base_sha, self.actor(repo.owner), repo_json)
        body: JSON = {
            "url": url,
            "id": pull.id,
            "node_id": item.node_id,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "number": item.number,
            "state": item.state,
            "locked": item.locked,
            "title": item.title,
            "user": self.actor(item.user) if full else self.user(item.user),
            "body": item.body,
            "created_at": _iso(item.created_at),
            "updated_at": _iso(item.updated_at),
            "closed_at": _iso(item.closed_at),
            "merged_at": _iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "requested_reviewers": [self.actor(r) for r in pull.requested_reviewers],
            "requested_teams": [],
            "labels": [self.label(repo, label) for label in item.labels],
            "milestone": milestone,
            "draft": pull.draft,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{base_url}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": statuses,
            "head": head,
            "base": base,
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{base_url}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": item.author_association,
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if full:
            is_open = item.state == "open"
            body.update(
                merged=pull.merged_at is not None,
                mergeable=True if is_open else None,
                rebaseable=True if is_open else None,
                mergeable_state="clean" if is_open else "unknown",
                merged_by=self.user(pull.merged_by),
                comments=len(item.comments),
                review_comments=len(pull.review_comments),
                maintainer_can_modify=pull.maintainer_can_modify,
                commits=pull.commits,
                additions=pull.additions,
                deletions=pull.deletions,
                changed_files=pull.changed_files,
            )
        return body

    def review(self, repo: Repository, r: Review) -> JSON:
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{r.pull_number}"
        html = f"{WEB}/{repo.full_name}/pull/{r.pull_number}#pullrequestreview-{r.id}"
        return {
            "id": r.id,
            "node_id": r.node_id,
            "user": self.user(r.user),
            "body": r.body,
            "state": r.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": r.author_association,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": _iso(r.submitted_at),
            "commit_id": r.commit_id,
        }

    def review_comment(self, repo: Repository, c: ReviewComment) -> JSON:
        url = f"{self.api}/repos/{repo.full_name}/pulls/comments/{c.id}"
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{c.pull_number}"
        html = f"{WEB}/{repo.full_name}/pull/{c.pull_number}#discussion_r{c.id}"
        return {
            "url": url,
            "pull_request_review_id": c.review_id,
            "id": c.id,
            "node_id": c.node_id,
            "diff_hunk": c.diff_hunk,
            "path": c.path,
            "commit_id": c.commit_id,
            "original_commit_id": c.commit_id,
            "user": self.user(c.user),
            "body": c.body,
            "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": c.author_association,
            "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pull_url}},
            "reactions": self.reactions(url),
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": c.line,
            "original_line": c.line,
            "side": "RIGHT",
            "original_position": 4,
            "position": 4,
            "subject_type": "line",
        }

    def commit(self, repo: Repository, c: Commit) -> JSON:
        url = f"{self.api}/repos/{repo.full_name}/commits/{c.sha}"
        html = f"{WEB}/{repo.full_name}/commit/{c.sha}"
        tree = c.sha[::-1]
        path = quote(c.filename, safe="")
        return {
            "sha": c.sha,
            "node_id": f"C_kwDO{c.sha[:20]}",
            "commit": {
                "author": {"name": c.author_name, "email": c.author_email, "date": _iso(c.authored_at)},
                "committer": {
                    "name": c.committer_name,
                    "email": c.committer_email,
                    "date": _iso(c.committed_at),
                },
                "message": c.message,
                "tree": {"sha": tree, "url": f"{self.api}/repos/{repo.full_name}/git/trees/{tree}"},
                "url": f"{self.api}/repos/{repo.full_name}/git/commits/{c.sha}",
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "url": url,
            "html_url": html,
            "comments_url": f"{url}/comments",
            "author": self.user(c.author),
            "committer": self.user(c.committer),
            "parents": [
                {
                    "sha": p,
                    "url": f"{self.api}/repos/{repo.full_name}/commits/{p}",
                    "html_url": f"{WEB}/{repo.full_name}/commit/{p}",
                }
                for p in c.parents
            ],
            "stats": {"total": c.additions + c.deletions, "additions": c.additions, "deletions": c.deletions},
            "files": [
                {
                    "sha": c.sha[1:] + c.sha[0],
                    "filename": c.filename,
                    "status": "modified",
                    "additions": c.additions,
                    "deletions": c.deletions,
                    "changes": c.additions + c.deletions,
                    "blob_url": f"{html.replace('/commit/', '/blob/')}/{path}",
                    "raw_url": f"{html.replace('/commit/', '/raw/')}/{path}",
                    "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{path}?ref={c.sha}",
                    "patch": "@@ -1,3 +1,3 @@\n context\n-old\n+new",
                }
            ],
        }


# --------------------------------------------------------------------------------------------------
# Query helpers
# --------------------------------------------------------------------------------------------------


def _parse_since(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise _BadRequest(
            _error(
                422,
                "Validation Failed",
                errors=[{"resource": "Search", "field": "since", "code": "invalid", "value": value}],
            )
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _desc(query: Mapping[str, str], default: bool) -> bool:
    direction = query.get("direction")
    if direction == "asc":
        return False
    if direction == "desc":
        return True
    return default


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def version_string(self) -> str:
        return "GitHub.com"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    request_body: bytes = b""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # Kept for POST /graphql; every other route ignores request bodies.
        self.request_body = self.rfile.read(length) if length else b""
        self.server.app._handle(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    app: GitHubServer

    def handle_error(self, request: Any, client_address: Any) -> None:  # client went away: not our problem
        return


class GitHubServer:
    """A GitHub REST look-alike on ``127.0.0.1:<free port>`` serving ``dataset``; use as a context manager."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        tokens: Iterable[str] = frozenset({"valid-token"}),
        per_page_max: int = 100,
        quota: int = 5000,
        reset_at: int | None = None,
        link_style: Literal["repositories", "repos"] = "repositories",
        token_scopes: Mapping[str, str | None] | None = None,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        graphql_quota: int = 5000,
        graphql_timeout_above_nodes: int | None = None,
    ) -> None:
        self.dataset = dataset
        # POST /graphql (tests.support.github_graphql): built on first use, as GitHub's schema takes
        # a second or two to load. graphql_quota is points per hour per token.
        self.graphql_quota = graphql_quota
        self.graphql_timeout_above_nodes = graphql_timeout_above_nodes
        self._graphql: GraphQLEndpoint | None = None
        self.fault_rate = fault_rate  # share of requests answered with a random fault (RANDOM_FAULTS)
        self.random_faults = 0  # how many were
        self._fault_rng = random.Random(fault_seed)
        # A token listed in token_scopes is valid too. Its value is the X-OAuth-Scopes header a classic
        # token gets ("" for no scopes), or None for a fine-grained or GitHub App token (no header).
        self.token_scopes: dict[str, str | None] = dict(token_scopes or {})
        self.tokens = set(tokens) | set(self.token_scopes)
        self.per_page_max = per_page_max
        self.link_style = link_style
        self.quota = quota
        self.used = 0
        self.reset_at = reset_at if reset_at is not None else int(time.time()) + 3600
        self.user_id = 1_000_001  # the authenticated user, quoted in rate-limit messages
        self.login = "perftrust-tester"  # ... and its login, answered by GET /user
        self._log: list[LoggedRequest] = []
        self.errors: list[str] = []  # tracebacks of internal errors (answered as 500); should stay empty
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._request_ids = iter(range(0x10000, 1 << 62))
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._cache_version = -1
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._render: _Renderer | None = None
        self._base_url = ""

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> GitHubServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.app = self
        self._httpd = httpd
        self._base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._render = _Renderer(self._base_url)
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="github-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> GitHubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self._base_url:
            raise RuntimeError("GitHubServer is not started")
        return self._base_url

    # -- observation --------------------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the request log (completion order)."""
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def counted_requests(self) -> int:
        return sum(1 for r in self.requests if r.counted)

    def requests_by_endpoint(self, *, counted_only: bool = False) -> dict[str, int]:
        """``{endpoint template: number of requests}`` (see :func:`endpoint_of`)."""
        totals: dict[str, int] = {}
        for r in self.requests:
            if r.counted or not counted_only:
                key = endpoint_of(r.path)
                totals[key] = totals.get(key, 0) + 1
        return totals

    @property
    def graphql(self) -> GraphQLEndpoint:
        """The GraphQL endpoint: its budget, log, points charged and injectable GraphQL faults."""
        with self._lock:
            if self._graphql is None:
                self._graphql = GraphQLEndpoint(self.graphql_quota, self.graphql_timeout_above_nodes)
            return self._graphql

    # -- quota --------------------------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        with self._lock:
            self._roll_quota()
            return max(0, self.quota - self.used)

    def exhaust_quota(self, reset_at: float | None = None) -> None:
        """Use up the core quota until ``reset_at`` (epoch seconds; default in one hour)."""
        with self._lock:
            self.used = self.quota
            self.reset_at = int(reset_at if reset_at is not None else time.time() + 3600)

    def reset_quota(self) -> None:
        with self._lock:
            self.used = 0
            self.reset_at = int(time.time()) + 3600

    def _roll_quota(self) -> None:
        now = time.time()
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = int(now) + 3600

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.quota),
            "X-RateLimit-Remaining": str(max(0, self.quota - self.used)),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Used": str(min(self.used, self.quota)),
            "X-RateLimit-Resource": "core",
        }

    # -- faults and state changes -------------------------------------------------------------------

    def inject(
        self,
        path_regex: str,
        *,
        status: int | None = None,
        times: int = 1,
        headers: Mapping[str, str | None] | None = None,
        body: Any = None,
        delay: float | None = None,
        truncate: bool = False,
        non_json: bool = False,
        disconnect: bool = False,
    ) -> Fault:
        """Misbehave on the next ``times`` requests whose path (no query) matches ``path_regex`` (re.search).

        Faults are consumed in injection order.  ``status`` alone sends a GitHub-style error body
        (403 and 429 are secondary rate limits with ``Retry-After: 60``); ``body`` replaces the body
        (a str/bytes is sent as is, anything else as JSON); ``headers`` add or (value None) remove
        headers; ``delay`` sleeps first (then answers normally unless another option is set);
        ``truncate`` sends the normal response cut in half with a matching Content-Length;
        ``disconnect`` announces the full length, sends half and closes the connection; ``non_json``
        sends an HTML error page (status 200 unless ``status``).
        """
        fault = Fault(
            pattern=re.compile(path_regex),
            status=status,
            times=times,
            headers=dict(headers or {}),
            body=body,
            delay=delay,
            truncate=truncate,
            non_json=non_json,
            disconnect=disconnect,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def rename_repo(self, full_name: str, new_name: str) -> None:
        self.dataset.rename_repo(full_name, new_name)

    def delete_repo(self, full_name: str) -> None:
        self.dataset.delete_repo(full_name)

    def delete_milestone(self, full_name: str, number: int) -> None:
        self.dataset.delete_milestone(full_name, number)

    def change_milestone_due(self, full_name: str, number: int, new_due: datetime | None) -> None:
        self.dataset.change_milestone_due(full_name, number, new_due)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    fault.hits += 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
            random_fault = self.fault_rate > 0 and path.rstrip("/") != "/rate_limit"
            if random_fault and self._fault_rng.random() < self.fault_rate:
                self.random_faults += 1
                kind = self._fault_rng.choice(RANDOM_FAULTS)
                return Fault(pattern=re.compile(re.escape(path)), hits=1, **kind)
        return None

    # -- request handling ---------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        method = req.command
        split = urlsplit(req.path)
        path = split.path
        pairs = parse_qsl(split.query, keep_blank_values=True)
        query = dict(pairs)
        request_id = f"{next(self._request_ids):X}:{threading.get_ident() % 0xFFFF:X}"

        token = self._token_of(req.headers.get("Authorization"))
        if token is None:
            response = _error(401, "Bad credentials")
            response.headers.update(
                {
                    "X-RateLimit-Limit": "60",
                    "X-RateLimit-Remaining": "59",
                    "X-RateLimit-Reset": str(int(time.time()) + 3600),
                    "X-RateLimit-Used": "1",
                    "X-RateLimit-Resource": "core",
                }
            )
            self._send(req, response, method, path, query, counted=False, request_id=request_id)
            return

        if path.rstrip("/") == "/graphql":
            self._handle_graphql(req, token, method, path, query, request_id)
            return

        fault = self._take_fault(path)
        if fault is not None and fault.delay:
            self._stop.wait(fault.delay)
        if fault is not None and (fault.status is not None or fault.body is not None or fault.non_json):
            response = self._fault_response(fault, request_id)
            with self._lock:
                self._roll_quota()
                self.used += 1
                response.headers = {**self._rate_headers(), **self._scope_headers(token), **response.headers}
            self._apply_header_overrides(response, fault)
            self._send(req, response, method, path, query, counted=True, request_id=request_id)
            return

        is_rate_limit = path.rstrip("/") == "/rate_limit" and method == "GET"
        if is_rate_limit:
            with self._lock:
                self._roll_quota()
                response = _json_response(200, self._rate_limit_body())
                response.headers.update(self._rate_headers())
                response.headers.update(self._scope_headers(token))
                response.headers["Cache-Control"] = "no-cache"
            self._send(req, response, method, path, query, counted=False, request_id=request_id)
            return

        try:
            with self.dataset.lock:
                if self.dataset.version != self._cache_version:
                    self._cache.clear()
                    self._cache_version = self.dataset.version
                response = self._route(method, path, pairs, query)
        except _BadRequest as bad:
            response = bad.response
        except Exception as exc:  # a bug of this fake: answer 500 and keep the traceback for the test
            with self._lock:
                self.errors.append(traceback.format_exc())
            response = _json_response(500, {"message": f"GitHubServer internal error: {exc!r}"})

        counted = True
        if response.status == 200:
            etag = 'W/"' + hashlib.sha256(response.body).hexdigest() + '"'
            response.headers["ETag"] = etag
            response.headers.setdefault("Cache-Control", "private, max-age=60, s-maxage=60")
            response.headers.setdefault(
                "Vary", "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding"
            )
            if self._etag_matches(req.headers.get("If-None-Match"), etag):
                response = _Response(
                    304, b"", {"ETag": etag, "Cache-Control": response.headers["Cache-Control"]}
                )
                counted = False
        with self._lock:
            self._roll_quota()
            if counted and self.used >= self.quota:
                response = _error(
                    403,
                    f"API rate limit exceeded for user ID {self.user_id}. If you reach out to GitHub Support "
                    f"for help, please include the request ID {request_id} and timestamp "
                    f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}.",
                    RATE_DOCS,
                )
                counted = False
            elif counted:
                self.used += 1
            response.headers = {**self._rate_headers(), **self._scope_headers(token), **response.headers}
        if fault is not None:
            self._apply_header_overrides(response, fault)
        self._send(
            req,
            response,
            method,
            path,
            query,
            counted=counted,
            request_id=request_id,
            truncate=fault is not None and fault.truncate,
            disconnect=fault is not None and fault.disconnect,
        )

    def _handle_graphql(
        self, req: _Handler, token: str, method: str, path: str, query: dict[str, str], request_id: str
    ) -> None:
        """POST /graphql: HTTP faults as for REST (without touching the REST quota), then the endpoint.
        Logged with counted_against_quota False: GraphQL spends points (server.graphql), not core requests."""
        endpoint = self.graphql
        fault = self._take_fault(path)
        if fault is not None and fault.delay:
            self._stop.wait(fault.delay)
        if fault is not None and (fault.status is not None or fault.body is not None or fault.non_json):
            response = self._fault_response(fault, request_id)
            response.headers = {
                **endpoint.rate_headers(token),
                **self._scope_headers(token),
                **response.headers,
            }
            self._apply_header_overrides(response, fault)
            self._send(req, response, method, path, query, counted=False, request_id=request_id)
            return
        if method != "POST":
            response = _error(404, "Not Found")
        else:
            try:
                answer = endpoint.answer(req.request_body, token, self.dataset)
                response = _Response(answer.status, _dumps(answer.body), answer.headers)
            except Exception as exc:  # a bug of this fake: answer 500 and keep the traceback for the test
                with self._lock:
                    self.errors.append(traceback.format_exc())
                response = _json_response(500, {"message": f"GitHubServer internal error: {exc!r}"})
        response.headers = {**self._scope_headers(token), **response.headers}
        if fault is not None:
            self._apply_header_overrides(response, fault)
        self._send(
            req,
            response,
            method,
            path,
            query,
            counted=False,
            request_id=request_id,
            truncate=fault is not None and fault.truncate,
            disconnect=fault is not None and fault.disconnect,
        )

    def _token_of(self, header: str | None) -> str | None:
        """The valid token an ``Authorization`` header carries, else None."""
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        return token if scheme.lower() in ("token", "bearer") and token in self.tokens else None

    def _scope_headers(self, token: str) -> dict[str, str]:
        """``X-OAuth-Scopes`` as GitHub sends it to a classic token; nothing for fine-grained/App tokens."""
        scopes = self.token_scopes.get(token, "repo")
        return {} if scopes is None else {"X-OAuth-Scopes": scopes}

    @staticmethod
    def _etag_matches(header: str | None, etag: str) -> bool:
        if not header:
            return False
        bare = etag.removeprefix("W/")
        return any(tag.strip().removeprefix("W/") == bare or tag.strip() == "*" for tag in header.split(","))

    @staticmethod
    def _apply_header_overrides(response: _Response, fault: Fault) -> None:
        for key, value in fault.headers.items():
            for existing in [k for k in response.headers if k.lower() == key.lower()]:
                del response.headers[existing]
            if value is not None:
                response.headers[key] = value

    def _fault_response(self, fault: Fault, request_id: str) -> _Response:
        status = fault.status if fault.status is not None else 200
        if fault.non_json:
            reason = _reason(status)
            page = (
                f"<!DOCTYPE html>\n<html><head><title>{status} {reason} · GitHub</title></head>"
                f"<body><h1>{status} {reason}</h1><p>We couldn't respond to your request in time. "
                f"Sorry about that. Please try resubmitting your request and contact us if the problem "
                f"persists.</p></body></html>\n"
            )
            body = fault.body if isinstance(fault.body, (str, bytes)) else page
            return _Response(
                status, body.encode() if isinstance(body, str) else body, {}, "text/html; charset=utf-8"
            )
        if fault.body is not None:
            if isinstance(fault.body, bytes):
                return _Response(status, fault.body)
            if isinstance(fault.body, str):
                return _Response(status, fault.body.encode())
            return _json_response(status, fault.body)
        if status in (403, 429):
            response = _error(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                f"If you reach out to GitHub Support for help, please include the request ID {request_id}.",
                SECONDARY_DOCS,
            )
            response.headers["Retry-After"] = "60"
            return response
        if status == 404:
            return _error(404, "Not Found")
        if status == 401:
            return _error(401, "Bad credentials")
        if status == 422:
            return _error(422, "Validation Failed")
        if status == 500:
            return _json_response(500, {"message": "Server Error"})
        if status == 502:
            return _json_response(502, {"message": "Server Error"})
        if status == 503:
            return _json_response(
                503,
                {
                    "message": "Sorry, this response took too long to generate. Please try again later.",
                    "documentation_url": DOCS,
                    "code": "service_unavailable",
                },
            )
        return _error(status, _reason(status))

    def _send(
        self,
        req: _Handler,
        response: _Response,
        method: str,
        path: str,
        query: dict[str, str],
        *,
        counted: bool,
        request_id: str,
        truncate: bool = False,
        disconnect: bool = False,
    ) -> None:
        body = response.body
        declared = len(body)
        if truncate:
            body = body[: len(body) // 2]
            declared = len(body)
        elif disconnect:
            body = body[: len(body) // 2]
        # Logged before the bytes leave, so a client that got the answer always finds it in the log.
        with self._lock:
            self._log.append(LoggedRequest(method, path, query, response.status, counted))
        try:
            req.send_response(response.status)
            if response.status != 304:
                req.send_header("Content-Type", response.content_type)
            req.send_header("Content-Length", str(0 if response.status == 304 else declared))
            req.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            req.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            for key, value in response.headers.items():
                req.send_header(key, value)
            req.send_header("X-GitHub-Request-Id", request_id)
            if disconnect:
                req.send_header("Connection", "close")
            req.end_headers()
            if method != "HEAD" and response.status != 304:
                req.wfile.write(body)
            if disconnect:
                req.close_connection = True
                req.wfile.flush()
                req.connection.shutdown(socket.SHUT_RDWR)
        except (BrokenPipeError, ConnectionResetError, OSError):
            req.close_connection = True

    def _rate_limit_body(self) -> JSON:
        core = {
            "limit": self.quota,
            "used": min(self.used, self.quota),
            "remaining": max(0, self.quota - self.used),
            "reset": self.reset_at,
        }
        later = int(time.time()) + 3600

        def bucket(limit: int) -> JSON:
            return {"limit": limit, "used": 0, "remaining": limit, "reset": later}

        return {
            "resources": {
                "core": core,
                "search": bucket(30),
                "graphql": bucket(5000),
                "integration_manifest": bucket(5000),
                "source_import": bucket(100),
                "code_scanning_upload": bucket(1000),
                "actions_runner_registration": bucket(10000),
                "scim": bucket(15000),
                "dependency_snapshots": bucket(100),
                "code_search": bucket(10),
            },
            "rate": dict(core),
        }

    # -- routing ------------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, pairs: list[tuple[str, str]], query: dict[str, str]
    ) -> _Response:
        if method not in ("GET", "HEAD"):
            return _error(404, "Not Found")
        path = path.rstrip("/") or "/"
        repo: Repository | None = None
        rest = ""
        if m := _REPOSITORIES_PREFIX.fullmatch(path):
            rest = m.group(2) or ""
            repo = next(
                (r for r in self.dataset.repositories if r.id == int(m.group(1)) and not r.deleted), None
            )
            if repo is None:
                return _error(404, "Not Found")
        elif m := _REPOS_PREFIX.fullmatch(path):
            full_name = f"{m.group(1)}/{m.group(2)}"
            rest = m.group(3) or ""
            lowered = full_name.lower()
            repo = next(
                (r for r in self.dataset.repositories if r.full_name.lower() == lowered and not r.deleted),
                None,
            )
            if repo is None:
                renamed = next(
                    (
                        r
                        for r in self.dataset.repositories
                        if not r.deleted and lowered in (n.lower() for n in r.former_names)
                    ),
                    None,
                )
                if renamed is None:
                    return _error(404, "Not Found")
                return self._moved(f"/repositories/{renamed.id}{rest}", pairs)
        elif m := _ORG_REPOS.fullmatch(path):
            return self._org_repos(m.group(1), path, pairs, query)
        elif m := _PROJECT_LISTS.fullmatch(path):
            kind, login, number, what = m.groups()
            return self._project_list(kind, login, int(number), what, path, pairs, query)
        elif path == "/user":
            return self._authenticated_user()
        else:
            return _error(404, "Not Found")

        for pattern, _template, handler in _REPO_ROUTES:
            if match := pattern.fullmatch(rest):
                link_path = f"/repositories/{repo.id}{rest}" if self.link_style == "repositories" else path
                return self._repo_handler(handler, repo, match.groups(), link_path, pairs, query)
        return _error(404, "Not Found")

    def _authenticated_user(self) -> _Response:
        """``GET /user`` as GitHub answers a token without the ``user`` scope (the public profile)."""
        me = User(
            login=self.login, id=self.user_id, node_id=f"U_kgDO{self.user_id:X}", name="Perftrust Tester"
        )
        body = {
            **self.r.actor(me),
            "name": me.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "notification_email": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": _iso(self.dataset.start),
            "updated_at": _iso(self.dataset.start),
        }
        response = _json_response(200, body)
        response.headers["X-Accepted-OAuth-Scopes"] = ""
        return response

    def _moved(self, target: str, pairs: list[tuple[str, str]]) -> _Response:
        location = f"{self.base_url}{target}" + (f"?{urlencode(pairs)}" if pairs else "")
        response = _error(301, "Moved Permanently", REDIRECT_DOCS, url=location)
        response.headers["Location"] = location
        return response

    def _repo_handler(
        self,
        handler: str,
        repo: Repository,
        groups: tuple[str | Any, ...],
        link_path: str,
        pairs: list[tuple[str, str]],
        query: dict[str, str],
    ) -> _Response:
        number = int(groups[0]) if groups and str(groups[0]).isdigit() else 0
        if handler == "repo":
            return _Response(
                200,
                self._cached(
                    ("repo", repo.id), lambda: _dumps(self.r.full_repo(repo, self._open_count(repo)))
                ),
            )
        if handler == "issues":
            return self._page(self._issue_list(repo, query), link_path, pairs, query)
        if handler == "issue_comments":
            return self._page(self._comment_list(repo, query), link_path, pairs, query)
        if handler in ("issue", "timeline", "item_comments"):
            hit = repo.items.get(number)
            if hit is None:
                return _error(404, "Not Found")
            item: Issue = hit
            if item.transferred_to is not None:
                transfer = item.transferred_to
                suffix = {"issue": "", "timeline": "/timeline", "item_comments": "/comments"}[handler]
                return self._moved(
                    f"/repositories/{transfer.repo_id}/issues/{transfer.number}{suffix}", pairs
                )
            if handler == "issue":
                return _Response(
                    200,
                    self._cached(
                        ("issue1", repo.id, number), lambda: _dumps(self._issue_json(repo, item, single=True))
                    ),
                )
            if handler == "timeline":
                return self._page(self._timeline(repo, item), link_path, pairs, query)
            comments = self._cached(
                ("item_comments", repo.id, number),
                lambda: [_dumps(self.r.issue_comment(repo, c, is_pull=item.is_pull)) for c in item.comments],
            )
            return self._page(comments, link_path, pairs, query)
        if handler == "milestones":
            return self._page(self._milestone_list(repo, query), link_path, pairs, query)
        if handler == "milestone":
            milestone = repo.milestones.get(number)
            if milestone is None or milestone.deleted:
                return _error(404, "Not Found")
            return _Response(200, _dumps(self._milestone_json(repo, milestone)))
        if handler == "pulls":
            return self._page(self._pull_list(repo, query), link_path, pairs, query)
        if handler == "review_comments":
            return self._page(self._review_comment_list(repo, query), link_path, pairs, query)
        if handler in ("pull", "reviews", "pull_review_comments"):
            candidate = repo.items.get(number)
            if candidate is None or candidate.pull is None or candidate.transferred_to is not None:
                return _error(404, "Not Found")
            pr_item: Issue = candidate
            pull = candidate.pull
            if handler == "pull":
                return _Response(
                    200,
                    self._cached(
                        ("pull1", repo.id, number), lambda: _dumps(self._pull_json(repo, pr_item, full=True))
                    ),
                )
            if handler == "reviews":
                reviews = self._cached(
                    ("reviews", repo.id, number),
                    lambda: [_dumps(self.r.review(repo, r)) for r in pull.reviews],
                )
                return self._page(reviews, link_path, pairs, query)
            comments = self._cached(
                ("pull_rc", repo.id, number),
                lambda: [_dumps(self.r.review_comment(repo, c)) for c in pull.review_comments],
            )
            return self._page(comments, link_path, pairs, query)
        if handler == "commit":
            ref = str(groups[0]).lower()
            commit = repo.commits.get(ref)
            if commit is None and len(ref) >= 7:
                matches = [c for sha, c in repo.commits.items() if sha.startswith(ref)]
                commit = matches[0] if len(matches) == 1 else None
            if commit is None:
                return _error(422, f"No commit found for SHA: {groups[0]}")
            found = commit
            return _Response(
                200, self._cached(("commit", repo.id, found.sha), lambda: _dumps(self.r.commit(repo, found)))
            )
        return _error(404, "Not Found")

    # -- cached building blocks ---------------------------------------------------------------------

    @property
    def r(self) -> _Renderer:
        if self._render is None:
            raise RuntimeError("GitHubServer is not started")
        return self._render

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        value = self._cache.get(key)
        if value is None:
            value = build()
            self._cache[key] = value
        return value

    def _open_count(self, repo: Repository) -> int:
        return int(
            self._cached(("open", repo.id), lambda: sum(1 for i in repo.visible_items() if i.state == "open"))
        )

    def _milestone_counts(self, repo: Repository) -> dict[int, tuple[int, int]]:
        def build() -> dict[int, tuple[int, int]]:
            counts: dict[int, list[int]] = {}
            for item in repo.visible_items():
                if item.milestone is not None:
                    slot = counts.setdefault(item.milestone.number, [0, 0])
                    slot[0 if item.state == "open" else 1] += 1
            return {n: (c[0], c[1]) for n, c in counts.items()}

        result: dict[int, tuple[int, int]] = self._cached(("ms_counts", repo.id), build)
        return result

    def _milestone_json(self, repo: Repository, milestone: Milestone | None) -> JSON | None:
        if milestone is None or milestone.deleted:
            return None
        result: JSON = self._cached(
            ("ms", repo.id, milestone.number),
            lambda: self.r.milestone(
                repo, milestone, self._milestone_counts(repo).get(milestone.number, (0, 0))
            ),
        )
        return result

    def _repo_json(self, repo: Repository) -> JSON:
        result: JSON = self._cached(
            ("repo_core", repo.id), lambda: self.r.repo_core(repo, self._open_count(repo))
        )
        return result

    def _issue_json(self, repo: Repository, item: Issue, *, single: bool = False) -> JSON:
        return self.r.issue(repo, item, self._milestone_json(repo, item.milestone), single=single)

    def _issue_bytes(self, repo: Repository, item: Issue) -> bytes:
        result: bytes = self._cached(
            ("issue", repo.id, item.number), lambda: _dumps(self._issue_json(repo, item))
        )
        return result

    def _pull_json(self, repo: Repository, item: Issue, *, full: bool) -> JSON:
        return self.r.pull(
            repo, item, self._milestone_json(repo, item.milestone), self._repo_json(repo), full=full
        )

    def _pull_simple_bytes(self, repo: Repository, item: Issue) -> bytes:
        result: bytes = self._cached(
            ("pull", repo.id, item.number), lambda: _dumps(self._pull_json(repo, item, full=False))
        )
        return result

    def _timeline(self, repo: Repository, item: Issue) -> list[bytes]:
        def build() -> list[bytes]:
            out = []
            for event in item.timeline:
                source = None
                if event.source_number is not None:
                    source_item = repo.items.get(event.source_number)
                    if source_item is not None:
                        source = self._issue_json(repo, source_item)
                out.append(_dumps(self.r.timeline_event(repo, item, event, source)))
            return out

        result: list[bytes] = self._cached(("timeline", repo.id, item.number), build)
        return result

    # -- lists --------------------------------------------------------------------------------------

    def _issue_list(self, repo: Repository, query: dict[str, str]) -> list[bytes]:
        state = query.get("state", "open")
        sort = query.get("sort", "created")
        desc = _desc(query, True)
        since = _parse_since(query.get("since"))
        milestone = query.get("milestone")
        assignee = query.get("assignee")
        creator = query.get("creator")
        labels = [name for name in query.get("labels", "").split(",") if name]
        key = ("issues", repo.id, state, sort, desc, since, milestone, assignee, creator, tuple(labels))

        def build() -> list[bytes]:
            items = [i for i in repo.visible_items() if state == "all" or i.state == state]
            if since is not None:
                items = [i for i in items if i.updated_at >= since]
            if milestone == "none":
                items = [i for i in items if i.milestone is None or i.milestone.deleted]
            elif milestone == "*":
                items = [i for i in items if i.milestone is not None and not i.milestone.deleted]
            elif milestone:
                items = [i for i in items if i.milestone is not None and str(i.milestone.number) == milestone]
            if assignee == "none":
                items = [i for i in items if not i.assignees]
            elif assignee == "*":
                items = [i for i in items if i.assignees]
            elif assignee:
                items = [i for i in items if any(a.login == assignee for a in i.assignees)]
            if creator:
                items = [i for i in items if i.user is not None and i.user.login == creator]
            if labels:
                items = [i for i in items if set(labels) <= {label.name for label in i.labels}]
            if sort == "updated":
                items.sort(key=lambda i: (i.updated_at, i.number), reverse=desc)
            elif sort == "comments":
                items.sort(key=lambda i: (len(i.comments), i.number), reverse=desc)
            else:
                items.sort(key=lambda i: (i.created_at, i.number), reverse=desc)
            return [self._issue_bytes(repo, i) for i in items]

        result: list[bytes] = self._cached(key, build)
        return result

    def _comment_list(self, repo: Repository, query: dict[str, str]) -> list[bytes]:
        since = _parse_since(query.get("since"))
        sort = query.get("sort")
        desc = _desc(query, False) if sort else False
        key = ("issue_comments", repo.id, since, sort, desc)

        def build() -> list[bytes]:
            pairs = [(item, c) for item in repo.visible_items() for c in item.comments]
            if since is not None:
                pairs = [(i, c) for i, c in pairs if c.updated_at >= since]
            if sort == "updated":
                pairs.sort(key=lambda p: (p[1].updated_at, p[1].id), reverse=desc)
            elif sort == "created":
                pairs.sort(key=lambda p: (p[1].created_at, p[1].id), reverse=desc)
            else:
                pairs.sort(key=lambda p: p[1].id)
            return [_dumps(self.r.issue_comment(repo, c, is_pull=i.is_pull)) for i, c in pairs]

        result: list[bytes] = self._cached(key, build)
        return result

    def _milestone_list(self, repo: Repository, query: dict[str, str]) -> list[bytes]:
        state = query.get("state", "open")
        sort = query.get("sort", "due_on")
        desc = _desc(query, False)
        key = ("milestones", repo.id, state, sort, desc)

        def build() -> list[bytes]:
            milestones = [m for m in repo.live_milestones() if state == "all" or m.state == state]
            far = datetime.max.replace(tzinfo=UTC)
            if sort == "completeness":
                counts = self._milestone_counts(repo)

                def complete(m: Milestone) -> tuple[float, int]:
                    o, c = counts.get(m.number, (0, 0))
                    return (c / (o + c) if o + c else 0.0, m.number)

                milestones.sort(key=complete, reverse=desc)
            else:
                milestones.sort(key=lambda m: (m.due_on or far, m.number), reverse=desc)
            return [_dumps(self._milestone_json(repo, m)) for m in milestones]

        result: list[bytes] = self._cached(key, build)
        return result

    def _pull_list(self, repo: Repository, query: dict[str, str]) -> list[bytes]:
        state = query.get("state", "open")
        sort = query.get("sort", "created")
        desc = _desc(query, sort == "created")
        base = query.get("base")
        key = ("pulls", repo.id, state, sort, desc, base)

        def build() -> list[bytes]:
            items = [i for i in repo.pulls() if state == "all" or i.state == state]
            if base:
                items = [i for i in items if i.pull is not None and i.pull.base_ref == base]
            if sort == "updated":
                items.sort(key=lambda i: (i.updated_at, i.number), reverse=desc)
            elif sort == "popularity":
                items.sort(key=lambda i: (len(i.comments), i.number), reverse=desc)
            elif sort == "long-running":
                now = self.dataset.now
                items.sort(key=lambda i: ((i.closed_at or now) - i.created_at, i.number), reverse=desc)
            else:
                items.sort(key=lambda i: (i.created_at, i.number), reverse=desc)
            return [self._pull_simple_bytes(repo, i) for i in items]

        result: list[bytes] = self._cached(key, build)
        return result

    def _review_comment_list(self, repo: Repository, query: dict[str, str]) -> list[bytes]:
        since = _parse_since(query.get("since"))
        sort = query.get("sort")
        desc = _desc(query, False) if sort else False
        key = ("review_comments", repo.id, since, sort, desc)

        def build() -> list[bytes]:
            comments = [c for item in repo.pulls() if item.pull for c in item.pull.review_comments]
            if since is not None:
                comments = [c for c in comments if c.updated_at >= since]
            if sort == "updated":
                comments.sort(key=lambda c: (c.updated_at, c.id), reverse=desc)
            elif sort == "created":
                comments.sort(key=lambda c: (c.created_at, c.id), reverse=desc)
            else:
                comments.sort(key=lambda c: c.id)
            return [_dumps(self.r.review_comment(repo, c)) for c in comments]

        result: list[bytes] = self._cached(key, build)
        return result

    def _org_repos(
        self, org: str, path: str, pairs: list[tuple[str, str]], query: dict[str, str]
    ) -> _Response:
        repos = [
            r for r in self.dataset.repositories if r.owner.login.lower() == org.lower() and not r.deleted
        ]
        if not repos and org.lower() != self.dataset.org.login.lower():
            return _error(404, "Not Found")
        sort = query.get("sort", "created")
        desc = _desc(query, sort != "full_name")
        if sort == "full_name":
            repos.sort(key=lambda r: r.full_name.lower(), reverse=desc)
        elif sort in ("updated", "pushed"):
            repos.sort(key=lambda r: (r.pushed_at or r.created_at, r.id), reverse=desc)
        else:
            repos.sort(key=lambda r: (r.created_at, r.id), reverse=desc)
        items = [_dumps(self.r.minimal_repo(r, self._open_count(r))) for r in repos]
        return self._page(items, path, pairs, query)

    # -- GitHub Projects (REST) ----------------------------------------------------------------------

    def _project_list(
        self, kind: str, login: str, number: int, what: str, path: str,
        pairs: list[tuple[str, str]], query: dict[str, str],
    ) -> _Response:  # fmt: skip
        owner_type = "Organization" if kind == "orgs" else "User"
        project = next(
            (
                p for p in self.dataset.projects
                if p.owner.login.lower() == login.lower() and p.owner.type == owner_type and p.number == number
            ),
            None,
        )  # fmt: skip
        if project is None:
            return _error(404, "Not Found")
        project_url = f"{self.base_url}/{kind}/{project.owner.login}/projectsV2/{project.number}"
        if what == "fields":
            return self._cursor_page(
                [(str(f.id), _dumps(self._project_field(f, project_url))) for f in project.fields],
                path,
                pairs,
                query,
            )
        wanted: set[int] = set()
        for key, value in pairs:
            if key in ("fields", "fields[]"):
                wanted |= {int(v) for v in value.split(",") if v.strip().isdigit()}
        repos = {
            token.removeprefix("repo:").lower()
            for token in query.get("q", "").split()
            if token.startswith("repo:")
        }
        entries = [
            e for e in project.items
            if not e.archived and (not repos or e.repo.full_name.lower() in repos)
        ]  # fmt: skip
        asked = tuple(sorted(wanted))

        def rendered(e: ProjectItem) -> bytes:
            key = ("project_item", project.id, e.id, asked)
            return bytes(
                self._cached(key, lambda: _dumps(self._project_item(project, e, project_url, asked)))
            )

        return self._cursor_page([(str(e.id), rendered(e)) for e in entries], path, pairs, query)

    def _project_field(self, f: ProjectField, project_url: str) -> JSON:
        out: JSON = {
            "id": f.id,
            "node_id": f.node_id,
            "name": f.name,
            "data_type": f.data_type.lower(),
            "project_url": project_url,
            "created_at": _iso(self.dataset.start),
            "updated_at": _iso(self.dataset.start),
        }
        if f.data_type == "ITERATION":
            out["configuration"] = {
                "duration": f.iterations[0].duration if f.iterations else 14,
                "start_day": 1,
                "iterations": [self._iteration(i) for i in f.iterations],
            }
        return out

    def _iteration(self, i: ProjectIteration) -> JSON:
        return {
            "id": i.id,
            "title": {"raw": i.title, "html": i.title},
            "start_date": i.start_date.isoformat(),
            "duration": i.duration,
            "completed": i.last_day < self.dataset.now.date(),
        }

    def _project_item(
        self, project: Project, entry: ProjectItem, project_url: str, wanted: tuple[int, ...]
    ) -> JSON:
        item, repo = entry.content, entry.repo
        is_pull = item.pull is not None
        content = self._pull_json(repo, item, full=False) if is_pull else self._issue_json(repo, item)
        fields: list[JSON] = []
        for f in project.fields:
            if f.data_type != "TITLE" and f.id not in wanted:
                continue  # GitHub: the title always, other fields when asked for by id
            value: Any = entry.values.get(f.name)
            if f.data_type == "TITLE":
                value = {
                    "raw": item.title, "html": item.title, "number": item.number,
                    "url": content.get("html_url"), "issue_id": item.id, "state": item.state,
                    "state_reason": item.state_reason, "is_draft": False,
                }  # fmt: skip
            elif isinstance(value, ProjectIteration):
                value = self._iteration(value)
            elif value is not None:
                value = value.isoformat()
            fields.append({"id": f.id, "name": f.name, "data_type": f.data_type.lower(), "value": value})
        return {
            "id": entry.id,
            "node_id": entry.node_id,
            "project_url": project_url,
            "content_type": "PullRequest" if is_pull else "Issue",
            "content": content,
            "creator": self.r.user(self.dataset.humans[0]),  # who put it on the project: not modelled
            "created_at": _iso(entry.created_at),
            "updated_at": _iso(entry.updated_at),
            "archived_at": None,
            "item_url": f"{project_url}/items/{entry.id}",
            "fields": fields,
        }

    def _cursor_page(
        self,
        items: list[tuple[str, bytes]],
        link_path: str,
        pairs: list[tuple[str, str]],
        query: dict[str, str],
    ) -> _Response:
        """A page of a cursor-paged list (the projectsV2 endpoints): ``after`` is the opaque cursor of
        the last item of the page before, ``Link`` has rel="next" while more items follow."""
        try:
            per_page = int(query.get("per_page", "30"))
        except ValueError:
            per_page = 30
        per_page = 30 if per_page < 1 else min(per_page, self.per_page_max)
        start = 0
        if after := query.get("after"):
            try:
                key = base64.b64decode(after).decode().removeprefix("cursor:")
            except (ValueError, UnicodeDecodeError):
                return _error(400, "Invalid cursor")
            keys = [k for k, _ in items]
            start = keys.index(key) + 1 if key in keys else len(items)
        chunk = items[start : start + per_page]
        response = _Response(200, b"[" + b",".join(v for _, v in chunk) + b"]")
        if start + per_page < len(items) and chunk:
            cursor = base64.b64encode(f"cursor:{chunk[-1][0]}".encode()).decode()
            out = [(k, v) for k, v in pairs if k not in ("after", "before")] + [("after", cursor)]
            response.headers["Link"] = f'<{self.base_url}{link_path}?{urlencode(out)}>; rel="next"'
        return response

    # -- pagination ---------------------------------------------------------------------------------

    def _page(
        self, items: list[bytes], link_path: str, pairs: list[tuple[str, str]], query: dict[str, str]
    ) -> _Response:
        try:
            per_page = int(query.get("per_page", "30"))
        except ValueError:
            per_page = 30
        per_page = 30 if per_page < 1 else min(per_page, self.per_page_max)
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        response = _Response(200, b"[" + b",".join(chunk) + b"]")
        if last > 1:
            response.headers["Link"] = self._link(link_path, pairs, page, last)
        return response

    def _link(self, link_path: str, pairs: list[tuple[str, str]], page: int, last: int) -> str:
        def url(target: int) -> str:
            out = [(k, str(target) if k == "page" else v) for k, v in pairs]
            if not any(k == "page" for k, _ in pairs):
                out.append(("page", str(target)))
            return f"<{self.base_url}{link_path}?{urlencode(out)}>"

        rels: list[str] = []
        if page > 1:
            rels.append(f'{url(min(page - 1, last))}; rel="prev"')
        if page < last:
            rels.append(f'{url(page + 1)}; rel="next"')
            rels.append(f'{url(last)}; rel="last"')
        if page > 1:
            rels.append(f'{url(1)}; rel="first"')
        return ", ".join(rels)
