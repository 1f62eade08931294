"""A short Markdown summary to paste into an issue or a chat: team-level figures and what is due.

No per-person rates here: a chat thread is the wrong place for them (the HTML report has the
profiles with their n, intervals and evidence). Repository text is escaped by default: every str
that goes into a line passes through `md()` unless it is wrapped in Raw."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reports.coverage import Notice, plural
from reports.data import DUE_SOON_DAYS, Report

ATTENTION_LIMIT = 15
# Only what can open markup mid-line (lines never start with repository text): backslash escapes
# show up verbatim in chat tools that do not read CommonMark, so they are kept to the few needed.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


@dataclass(frozen=True)
class Raw:
    """Markdown written by this module itself (not escaped)."""

    text: str


def md(value: str | Raw) -> str:
    """Text shown as text in GitHub-flavoured Markdown: markup characters backslash-escaped, line
    breaks flattened, and a zero-width space after @ so a name or title never mentions anyone."""
    if isinstance(value, Raw):
        return value.text
    flat = " ".join(value.split())
    return _SPECIAL.sub(r"\\\1", flat).replace("@", "@\u200b")


def _line(*parts: str | Raw) -> str:
    return "".join(md(p) for p in parts)


def _row(cells: Sequence[str | Raw]) -> str:
    return "| " + " | ".join(md(c) for c in cells) + " |"


def _link(text: str, url: str | None) -> Raw:
    if not url:
        return Raw(md(text))
    # URLs are built from the configured base and owner/name keys; <> keeps any parenthesis intact.
    return Raw(f"[{md(text)}](<{url.replace('>', '%3E')}>)")


def _code_block(command: str) -> list[str]:
    """A fenced block the command cannot close (a fence longer than any run of backticks in it)."""
    longest = max((len(run) for run in re.findall(r"`+", command)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sh", *command.splitlines(), fence]


def notice_lines(notices: Sequence[Notice]) -> list[str]:
    """The coverage notices as Markdown: each a paragraph, its command in a code block."""
    out: list[str] = []
    for text, command in notices:
        out += [_line(Raw("**Note:** "), text), ""]
        if command:
            out += [*_code_block(command), ""]
    return out


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def render_markdown(report: Report) -> str:
    scope = report.scope
    who = scope.team or "all contributors"
    out = [
        _line(Raw("## "), f"Performance-trust signals: {who}, as of {scope.as_of.isoformat()}"),
        "",
        _line(
            Raw("> "),
            "Signals of performance trust read from repository activity: a start for a conversation, "
            "not a verdict on a person, and no measure of interpersonal trust. Every rate shows its n and "
            f"95% interval; below n = {scope.min_n} it says not enough data. No score, no ranking.",
        ),
        "",
        _line(
            f"Window {scope.window_start.isoformat()} to {scope.as_of.isoformat()} ({scope.window_days} days), "
            f"{plural(len(report.people), 'person', 'people')}."
        ),
        "",
        _line(Raw("**Data:** "), " ".join(report.coverage.facts(window=False))),
        "",
        *notice_lines(report.coverage.notices()),
        _line(Raw("### "), "Team signals over the window"),
        "",
        _line(
            "A team rate pools its members' cases; its 95% interval counts people, not cases, as the "
            "unit, so one very active person cannot make it look surer than it is."
        ),
        "",
        _row([Raw("signal"), Raw("team rate"), Raw("95% interval"), Raw("n")]),
        _row([Raw("---"), Raw("---:"), Raw("---"), Raw("---:")]),
    ]
    for family in report.overview:
        for mo in family.measures:
            team = mo.team
            if team is None:
                continue
            if team.missing is not None:
                shown, interval = f"not measured (needs {team.missing})", ""
            elif team.value is None:
                shown, interval = f"not enough data (minimum {scope.min_n})", ""
            else:
                shown = _pct(team.value)
                interval = f"{_pct(team.lower)} to {_pct(team.upper)}"
            out.append(_row([f"{family.family.title}: {mo.measure.label}", shown, interval, str(team.n)]))
    overdue = [a for a in report.attention if a.status == "overdue"]
    soon = [a for a in report.attention if a.status != "overdue"]
    out += [
        "",
        _line(
            Raw("### "),
            f"Needs attention: {len(overdue)} overdue, {len(soon)} due within {DUE_SOON_DAYS} days",
        ),
        "",
    ]
    if report.attention:
        out += [
            _row([Raw("due"), Raw("status"), Raw("item"), Raw("assignee"), Raw("due date from")]),
            _row([Raw("---")] * 5),
        ]
        for a in report.attention[:ATTENTION_LIMIT]:
            if a.status == "overdue":
                status = f"overdue {a.days} d"
            else:
                status = "due today" if a.days == 0 else f"due in {a.days} d"
            item = _link(f"{a.repo}#{a.number}", a.url)
            out.append(
                _row(
                    [
                        a.due_date.isoformat(),
                        status,
                        Raw(f"{item.text} {md(a.title)}"),
                        a.assignee,
                        a.due_evidence or "",
                    ]
                )
            )
        if len(report.attention) > ATTENTION_LIMIT:
            out += ["", _line(f"... and {len(report.attention) - ATTENTION_LIMIT} more in the HTML report.")]
    else:
        out.append(_line("Nothing overdue and nothing due soon."))
    q = report.quality
    synced = [r["git_synced_at"] or r["github_synced_at"] for r in q.repositories]
    latest = max((s for s in synced if s is not None), default=None)
    out += [
        "",
        _line(Raw("### "), "Data quality"),
        "",
        _line(
            Raw("- "),
            plural(len(q.repositories), "repository", "repositories")
            + (f", last synced {latest:%Y-%m-%d %H:%M} UTC" if latest else ", never synced"),
        ),
        _line(Raw("- "), f"{plural(q.api_requests_30d, 'GitHub API request')} in the last 30 days"),
        _line(
            Raw("- "),
            f"{plural(len(q.unresolved), 'identity', 'identities')} not resolved with confidence",
        ),
        _line(
            Raw("- "),
            f"{plural(len(q.bots), 'bot')} {'included' if q.include_bots else 'left out'}",
        ),
    ]
    if q.gaps:
        out.append(
            _line(
                Raw("- "),
                f"{plural(len(q.gaps), 'period')} of two weeks or more without data in a repository",
            )
        )
    out += [_line(Raw("- "), p) for p in q.problems]
    out += [
        "",
        _line("Full report with per-person profiles and evidence: report.html (CSV exports in csv/)."),
        "",
    ]
    return "\n".join(out)
