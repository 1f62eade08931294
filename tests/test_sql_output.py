"""What `perftrust sql` prints, and the run summary: values exactly as stored, never read as markup.

Every query runs the command line (click's runner, in-process) against a real database synced from
a git repository whose commits carry brackets ("[pre-commit.ci]", "dependabot[bot]", "[/]"), a
terminal escape sequence and a long message."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len
from rich.console import Console

from pipeline import cli
from pipeline.cli import main
from pipeline.config import RepositoryConfig, Settings
from pipeline.db import connect
from pipeline.git_repo import RepoSpec
from pipeline.runs import StepResult
from pipeline.sql_output import format_table
from pipeline.sync import run_sync
from tests.conftest import GitRepo

ESCAPED = "\x1b[31mred\x1b[0m\tand a tab"  # a subject that would colour a terminal
LONG = "Rewrite the parser " + "and explain why at length " * 30


@dataclass(frozen=True)
class Synced:
    db: Path


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Synced:
    root = tmp_path_factory.mktemp("sql-output")
    old = {k: os.environ.get(k) for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    os.environ.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    try:
        repo = GitRepo(root / "project")
        repo.commit(
            "[pre-commit.ci] pre-commit autoupdate",
            {"a.txt": "a\n"},
            author=("dependabot[bot]", "bot@example.org"),
        )
        repo.commit("x [/] y [bold]z[/bold]", {"b.txt": "b\n"})
        repo.commit(ESCAPED, {"c.txt": "c\n"})
        repo.commit(LONG, {"d.txt": "d\n"}, author=("Bo", "bo@example.org"))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    db = root / "perftrust.duckdb"
    con = connect(db)
    run_sync(con, Settings(), [RepositoryConfig(RepoSpec(repo.path))])
    con.execute("CHECKPOINT")
    con.close()
    return Synced(db)


def _sql(synced: Synced, *args: str, columns: int | None = None) -> Result:
    env = {"COLUMNS": None if columns is None else str(columns)}
    return CliRunner().invoke(main, ["sql", "--db", str(synced.db), *args], env=env)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


SUBJECTS = "SELECT subject, author_name FROM fct_commits ORDER BY authored_at"


def test_brackets_print_exactly_in_a_table(synced: Synced) -> None:
    out = _ok(_sql(synced, SUBJECTS))

    assert "[pre-commit.ci] pre-commit autoupdate" in out
    assert "dependabot[bot]" in out
    assert "x [/] y [bold]z[/bold]" in out  # no MarkupError, no markup read


def test_literal_values_print_exactly_in_every_format(synced: Synced) -> None:
    query = "SELECT '[red]not red[/red]' AS m, '[/]' AS c, NULL AS n, 12345 AS i, '/usr/bin 0x1f' AS p"

    table = _ok(_sql(synced, query))
    assert "[red]not red[/red]" in table and "[/]" in table and "/usr/bin 0x1f" in table
    assert "\x1b" not in table  # no highlighting: not a single colour code
    assert "NULL" in table and "12345" in table and "(1 row)" in table
    assert (
        _ok(_sql(synced, "--format", "csv", query))
        == "m,c,n,i,p\n[red]not red[/red],[/],,12345,/usr/bin 0x1f\n"
    )
    assert json.loads(_ok(_sql(synced, "--format", "json", query))) == [
        {"m": "[red]not red[/red]", "c": "[/]", "n": None, "i": 12345, "p": "/usr/bin 0x1f"}
    ]


def test_an_escape_sequence_is_neutralised_in_a_table_and_exact_in_csv_and_json(synced: Synced) -> None:
    query = "SELECT subject FROM fct_commits WHERE subject LIKE '%red%'"

    table = _ok(_sql(synced, query))
    assert "\x1b" not in table and "\t" not in table
    assert "\\x1b[31mred\\x1b[0m\\tand a tab" in table
    row = [line for line in table.splitlines() if "red" in line]
    assert len(row) == 1  # one row, one line

    as_csv = _ok(_sql(synced, "--format", "csv", query))
    assert list(csv.reader(io.StringIO(as_csv, newline=""))) == [["subject"], [ESCAPED]]
    as_json = _ok(_sql(synced, "--format", "json", query))
    assert json.loads(as_json) == [{"subject": ESCAPED}]
    assert "\x1b" not in as_json  # JSON escapes it: \u001b


def test_c1_controls_and_newlines_in_a_value(synced: Synced) -> None:
    query = "SELECT chr(155) || '2J' || chr(10) || 'second line' || chr(127) AS v"  # 0x9b: a one-byte CSI

    table = _ok(_sql(synced, query))
    assert "\x9b" not in table and "\x7f" not in table
    assert "\\x9b2J\\nsecond line\\x7f" in table
    as_json = _ok(_sql(synced, "--format", "json", query))
    assert "\x9b" not in as_json and json.loads(as_json) == [{"v": "\x9b2J\nsecond line\x7f"}]


def test_csv_lines_end_in_a_newline_alone_and_values_keep_theirs(synced: Synced) -> None:
    result = _sql(synced, "--format", "csv", SUBJECTS)
    out = _ok(result)
    assert b"\r" not in result.stdout_bytes  # checked on the bytes: click's .stdout drops \r before \n
    assert out.splitlines()[0] == "subject,author_name"
    assert out.count("\n") == 5 and out.endswith("\n")

    # A value's own line ends are kept, and quoted as before (a lone \r too).
    query = "SELECT 'a' || chr(13) || chr(10) || 'b' AS v, 'c' || chr(13) AS w"
    values = _sql(synced, "--format", "csv", query)
    assert values.exit_code == 0, values.output
    assert values.stdout_bytes == b'v,w\n"a\r\nb","c\r"\n'  # (.stdout would turn \r\n into \n)
    assert list(csv.reader(io.StringIO(values.stdout_bytes.decode(), newline=""))) == [
        ["v", "w"],
        ["a\r\nb", "c\r"],
    ]


def test_a_misspelled_table_or_column_keeps_duckdbs_hint(synced: Synced) -> None:
    table = _sql(synced, "SELECT * FROM fct_comits")
    assert table.exit_code == 2 and isinstance(table.exception, SystemExit)
    assert (
        "error: the query failed: Catalog Error: Table with name fct_comits does not exist!" in table.output
    )
    assert 'Did you mean "fct_commits"?' in table.output
    assert "fix:" in table.output

    column = _sql(synced, "SELECT authr_name FROM fct_commits")
    assert column.exit_code == 2
    assert "Candidate bindings:" in column.output and '"author_name"' in column.output

    syntax = _sql(synced, "SELEC 1")
    assert syntax.exit_code == 2
    lines = syntax.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "LINE 1: SELEC 1" in line)
    # The caret still points at the place DuckDB names (both lines are indented alike).
    assert lines[at + 1].index("^") == lines[at].index("SELEC")


def test_a_long_value_is_cut_to_the_width_with_a_note(synced: Synced) -> None:
    out = _ok(_sql(synced, "SELECT author_name, message FROM fct_commits ORDER BY authored_at", columns=100))

    assert all(cell_len(line) <= 100 for line in out.splitlines()), out
    assert "…" in out and LONG.strip() not in out
    assert "note: values cut at … to fit in 100 characters" in out and "--format json" in out
    assert "(4 rows)" in out
    assert sum("│" in line for line in out.splitlines()) == 4  # one line per row, the layout kept

    whole = json.loads(
        _ok(_sql(synced, "--format", "json", "SELECT message FROM fct_commits WHERE author_name = 'Bo'"))
    )
    assert whole == [{"message": LONG.strip()}]


def test_many_columns_show_one_field_per_line_within_the_width(synced: Synced) -> None:
    out = _ok(_sql(synced, "SELECT * FROM fct_commits ORDER BY authored_at LIMIT 2", columns=80))

    assert all(cell_len(line) <= 80 for line in out.splitlines()), out
    assert "── row 1 " in out and "── row 2 " in out
    assert any(line.startswith("author_name ") and "│ dependabot[bot]" in line for line in out.splitlines())
    assert "note: 21 columns do not fit in 80 characters: one line per field" in out
    assert "(2 rows)" in out.splitlines()


def test_without_a_terminal_or_columns_the_width_is_120(synced: Synced) -> None:
    out = _ok(_sql(synced, "SELECT message, sha, author_name, author_email FROM fct_commits"))

    assert max(cell_len(line) for line in out.splitlines()) == 120


def test_row_counts_are_singular_and_plural(synced: Synced) -> None:
    assert _ok(_sql(synced, "SELECT 1 AS one")).splitlines()[-1] == "(1 row)"
    assert _ok(_sql(synced, "SELECT 1 AS one WHERE false")).splitlines()[-1] == "(0 rows)"
    assert _ok(_sql(synced, "SELECT * FROM range(2)")).splitlines()[-1] == "(2 rows)"


def test_a_table_measures_wide_characters_and_falls_back_to_ascii() -> None:
    text = format_table(["名前", "n"], [("日本語" * 30, 1), (None, 22)], 60, ascii_only=True)

    lines = text.splitlines()
    assert all(cell_len(line) <= 60 for line in lines)
    assert lines[0].startswith("+-") and lines[1].startswith("| 名前")
    assert "..." in text and "NULL" in text and "…" not in text
    assert lines[3].endswith("|  1 |") and lines[4].endswith("| 22 |")  # numbers to the right


def test_the_run_summary_prints_keys_paths_warnings_and_errors_exactly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=120, color_system=None))
    failed = StepResult(
        step="git_sync",
        repo="acme/[/]x [bold]x[/bold]",
        status="failed",
        warnings=["ref [/] skipped [bold]x[/bold]", "\x1b[2Jcleared the screen"],
        error_message="cannot read [/] [bold]x[/bold]",
        details={"kept_last_good_data": True},
    )
    fine = StepResult(step="git_sync", repo="dependabot[bot]/[x]", status="succeeded", count_rows_added=3)
    published = tmp_path / "[/]" / "[bold]x[/bold].duckdb"

    cli._print_summary("sync", "0123456789abcdef", "partial", [failed, fine], 2, 1.5, published)

    out = buffer.getvalue()
    assert "acme/[/]x [bold]x[/bold]" in out and "dependabot[bot]/[x]" in out
    assert "warning acme/[/]x [bold]x[/bold]: ref [/] skipped [bold]x[/bold]" in out
    assert "\x1b" not in out and "warning acme/[/]x [bold]x[/bold]: \\x1b[2Jcleared the screen" in out
    assert (
        "failed acme/[/]x [bold]x[/bold]: cannot read [/] [bold]x[/bold] "
        "[its data from the last good sync stays published]" in out
    )
    assert f"published {published}" in out
    assert "perftrust sync - run 01234567 - partial" in out and "commits added: 3" in out
