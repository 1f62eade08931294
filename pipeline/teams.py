"""[teams] in perftrust.toml: members named by GitHub login, email or alias name -> contributor ids."""

from __future__ import annotations

import duckdb

from pipeline.config import Settings
from pipeline.errors import ConfigError


def team_contributor_ids(
    con: duckdb.DuckDBPyConnection, settings: Settings, team: str
) -> tuple[tuple[str, ...], list[str]]:
    """(contributor ids of the team's members, members that match nobody in the database)."""
    if team not in settings.teams:
        known = ", ".join(sorted(settings.teams)) or "none are configured"
        raise ConfigError(
            f"there is no team {team!r} in [teams]",
            f'use one of: {known}; or add {team} = ["login", "email"] under [teams] in perftrust.toml',
        )
    ids: set[str] = set()
    unmatched: list[str] = []
    for member in settings.teams[team]:
        # An alias name stands for its identities; otherwise the member is a login or an email.
        names = settings.aliases.get(member, (member,))
        found: set[str] = set()
        for name in names:
            login = name.removeprefix("github:")
            rows = con.execute(
                """SELECT DISTINCT contributor_id FROM dim_identities
                   WHERE lower(email) = lower($name) OR lower(github_login) = lower($login)""",
                {"name": name, "login": login},
            ).fetchall()
            found.update(r[0] for r in rows)
        if found:
            ids |= found
        else:
            unmatched.append(member)
    return tuple(sorted(ids)), unmatched
