"""What a report is asked for (ReportOptions) and what rendering produced (ReportResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pipeline.config import Settings


@dataclass(frozen=True)
class ReportOptions:
    web_url: str = "https://github.com"  # base for links; GitHub Enterprise: https://HOST
    team: str | None = None  # team name shown in the title
    # Restrict profiles, overview and the attention list to these dim_contributors ids (a team).
    contributor_ids: tuple[str, ...] | None = None
    pseudonymize: bool = False  # stable pseudonyms for every person-naming field
    # None: the as_of the metric tables were computed at. Another date: the metrics are recomputed for
    # it on a temporary copy of the database (the given one is never written).
    as_of: date | None = None
    settings: Settings = field(default_factory=Settings)


@dataclass(frozen=True)
class ReportResult:
    html_path: Path
    markdown_path: Path
    csv_dir: Path
    count_contributors: int
    seconds: float


def api_url_to_web_url(api_url: str) -> str:
    """The web address links point at, from the API address perftrust syncs from.

    https://api.github.com -> https://github.com; https://HOST/api/v3 (GitHub Enterprise Server)
    -> https://HOST; https://api.SUB.ghe.com -> https://SUB.ghe.com; anything else (a local test
    server) is its own web address."""
    parts = urlsplit(api_url.strip().rstrip("/"))
    host, path = parts.netloc, parts.path.rstrip("/")
    if path.endswith("/api/v3"):
        path = path[: -len("/api/v3")]
    elif not path and (host == "api.github.com" or (host.startswith("api.") and host.endswith(".ghe.com"))):
        host = host[len("api.") :]
    return urlunsplit((parts.scheme or "https", host, path, "", ""))
