"""Stable pseudonyms for people (no polars: the report imports this without the metric stack)."""

from __future__ import annotations

import hashlib
import re

_PSEUDONYM = re.compile(r"^[a-z]+-[0-9a-f]{10}$")
_COMMITMENT_KEY = re.compile(r"^(github:commitment:.*#[0-9]+/)(.+)$")
_PERSON_SUFFIXES = ("_contributor_id", "_login", "_name", "_email")
# Columns named like a person's that name something else (fct_commitments.due_field_name: the GitHub
# Projects field a due date came from, e.g. "Target date").
NOT_PEOPLE = frozenset({"due_field_name"})
# Columns that may name a person without a person's suffix: the owner of a GitHub project is an
# organization or a user (a personal board), so it is hidden too.
ALSO_PEOPLE = frozenset({"due_project_owner"})


def is_person_column(column: str) -> bool:
    """A column that names a person (ids, logins, names, emails): pseudonymized when asked."""
    return (
        column == "contributor_id"
        or column in ALSO_PEOPLE
        or (column.endswith(_PERSON_SUFFIXES) and column not in NOT_PEOPLE)
    )


def pseudonym(value: str | None, kind: str = "person") -> str | None:
    """A stable pseudonym; one already (a table computed from pseudonymized tables) is kept as is."""
    if value is None:
        return None
    if _PSEUDONYM.match(value):
        return value
    return f"{kind}-{hashlib.sha256(value.encode('utf-8')).hexdigest()[:10]}"


def pseudonymized_key(key: str) -> str:
    """github:commitment:owner/name#N/login names its assignee: the login becomes the pseudonym."""
    match = _COMMITMENT_KEY.match(key)
    return f"{match.group(1)}{pseudonym(match.group(2))}" if match else key
