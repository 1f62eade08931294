"""Secrets never leave perftrust: one function scrubs every text that may reach a user, a table,
a log or Prefect (error messages, warnings, text a server sent back, URLs).

What is removed: the value of GITHUB_TOKEN (and any other token given), anything shaped like a
GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), the credential after an
`Authorization`-style word (token, bearer, basic), and the user:password part of URLs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

REDACTED = "***"
TOKEN_ENV = "GITHUB_TOKEN"

# GitHub's token formats: classic (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server
# (ghs_), refresh (ghr_), fine-grained (github_pat_).
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})\b")
_AUTH_WORD = re.compile(
    r"(?i)\b(authorization:?\s*(?:token|bearer|basic)?|token|bearer|basic)(\s+)([A-Za-z0-9_\-.=+/]{16,})"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@]+@")


def known_tokens(extra: Iterable[str | None] = ()) -> list[str]:
    """The secret values to look for: GITHUB_TOKEN and any given, longest first."""
    values = [os.environ.get(TOKEN_ENV), *extra]
    # Very short values would scrub ordinary words; no real token is that short.
    return sorted({v for v in values if v and len(v) >= 8}, key=len, reverse=True)


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """text with every secret replaced by ***."""
    if not text:
        return text
    for token in known_tokens(extra):
        text = text.replace(token, REDACTED)
    text = _GITHUB_TOKEN.sub(REDACTED, text)
    text = _AUTH_WORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


def has_userinfo(url: str) -> bool:
    """True if url carries user:password@ (or a token@) before its host."""
    return bool(_URL_USERINFO.search(url))
