"""Evidence keys (the deterministic keys in metric rows) -> what they are and where they live on GitHub."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A repository key that is a GitHub owner/name (the README: keys are owner/name for GitHub remotes);
# other keys (a local directory name) have no web page to link to.
_OWNER_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GITHUB_KEY = re.compile(r"^github:(?P<kind>[a-z_]+):(?P<repo>[^#]+)#(?P<number>\d+)(?:/(?P<rest>.+))?$")
_GIT_KEY = re.compile(
    r"^git:(?P<kind>commit|trailer):(?P<repo>.+)@(?P<sha>[0-9a-fA-F]+)(?:#(?P<index>\d+))?$"
)

# Shown in this order inside a profile's evidence list: (one, many).
KIND_LABELS = {
    "commitment": ("commitment", "commitments"),
    "issue": ("issue", "issues"),
    "pr": ("pull request", "pull requests"),
    "review_request": ("review request", "review requests"),
    "review": ("review", "reviews"),
    "comment": ("comment", "comments"),
    "review_comment": ("review comment", "review comments"),
    "commit": ("commit", "commits"),
    "trailer": ("credit trailer", "credit trailers"),
    "other": ("other key", "other keys"),
}


@dataclass(frozen=True)
class EvidenceRef:
    key: str
    kind: str  # a KIND_LABELS key
    repo: str | None
    number: int | None  # issue or pull request number
    sha: str | None
    extra: str | None  # review id, comment id, event index, trailer index, or the commitment's login


def parse_key(key: str) -> EvidenceRef:
    match = _GITHUB_KEY.match(key)
    if match:
        kind = match["kind"]
        return EvidenceRef(
            key,
            kind if kind in KIND_LABELS else "other",
            match["repo"],
            int(match["number"]),
            None,
            match["rest"],
        )
    match = _GIT_KEY.match(key)
    if match:
        return EvidenceRef(key, match["kind"], match["repo"], None, match["sha"].lower(), match["index"])
    return EvidenceRef(key, "other", None, None, None, None)


def is_github_repo(repo: str | None) -> bool:
    return repo is not None and bool(_OWNER_NAME.match(repo))


def item_url(web_url: str, repo: str, number: int, is_pull_request: bool) -> str | None:
    if not is_github_repo(repo):
        return None
    return f"{web_url.rstrip('/')}/{repo}/{'pull' if is_pull_request else 'issues'}/{number}"


def commit_url(web_url: str, repo: str, sha: str) -> str | None:
    if not is_github_repo(repo):
        return None
    return f"{web_url.rstrip('/')}/{repo}/commit/{sha}"


def ref_url(web_url: str, ref: EvidenceRef, is_pull_request: bool | None = None) -> str | None:
    """The GitHub page of the thing a key names. Issue comments live on /issues/N, which GitHub
    redirects to /pull/N for pull requests, so an unknown item kind is still a working link."""
    if ref.repo is None:
        return None
    if ref.sha is not None:
        return commit_url(web_url, ref.repo, ref.sha)
    if ref.number is None:
        return None
    if ref.kind in ("pr", "review", "review_request", "review_comment"):
        base = item_url(web_url, ref.repo, ref.number, True)
    else:
        base = item_url(web_url, ref.repo, ref.number, bool(is_pull_request))
    if base is None:
        return None
    if ref.kind == "review" and ref.extra:
        return f"{base}#pullrequestreview-{ref.extra}"
    if ref.kind == "review_comment" and ref.extra:
        return f"{base}#discussion_r{ref.extra}"
    if ref.kind == "comment" and ref.extra:
        return f"{base}#issuecomment-{ref.extra}"
    return base
