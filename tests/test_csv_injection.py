"""The report's CSV exports neutralise spreadsheet formulas (OWASP, "CSV Injection").

A real report is rendered (`perftrust report`) over the hand-built database of the report tests plus
items whose issue title, assignee login, commit subject and author name are formulas. Every cell
of every CSV is read back with Python's csv module and checked against the database: a text cell
that starts with = + - @ tab or carriage return carries one leading single quote and is otherwise
the value itself; every other text cell is the value; numbers (negative ones too) are written as
numbers, without a quote."""

from __future__ import annotations

import csv
from collections import Counter
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.db import connect
from pipeline.identities import rebuild_identities
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.run import compute_metrics
from reports.csv_export import export_tables
from tests.support.report_db import AS_OF, Seeder, seed_small_db

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(1)",
    "\tx",
    "\rx",
    '=1+2";=1+2',  # OWASP's example: a quote and a separator inside the payload
]
HARMLESS = ["a,b;c\nd", "x=1", "'already quoted"]


def _neutralised(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = seed_small_db(tmp_path_factory.mktemp("hostile") / "hostile.duckdb", metrics=False)
    con = connect(path)
    seeder = Seeder(con, {})
    for i, text in enumerate([*FORMULAS, *HARMLESS]):
        number = 100 + i
        seeder.milestone(number, "2024-06-20")
        # The text is the issue title and the assignee's login ...
        seeder.item(number, text, [text], number, closed="2024-06-18T10:00:00Z")
        # ... and a commit's author name and subject.
        when = datetime(2024, 6, 10, 10) + timedelta(hours=i)
        seeder.commit(text, f"{text}\n\nbody", when.isoformat(), f"hostile{i}@example.org")
    seeder.done()
    rebuild_identities(con, Settings())
    compute_metrics(con, MetricSettings(as_of=AS_OF))
    # Negative numbers (early delivery does not occur in the scenario): they must stay numbers.
    con.execute("UPDATE fct_commitments SET slip_days = -2 WHERE number = 100")
    con.execute(
        "UPDATE metric_follow_through SET slip_days_median = -2.5 "
        "WHERE contributor_id = 'github:dave' AND period_type = 'window'"
    )
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture(scope="module")
def csv_dir(hostile_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile-report")
    result = CliRunner().invoke(main, ["report", "--db", str(hostile_db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "csv"


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _is_text(dtype: str) -> bool:
    return dtype.startswith("VARCHAR") or dtype.endswith("[]")


def _is_number(dtype: str) -> bool:
    return dtype in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT") or (
        dtype.startswith("DECIMAL")
    )


def test_every_cell_of_every_csv_is_neutralised_or_left_as_it_is(hostile_db: Path, csv_dir: Path) -> None:
    with closing(connect(hostile_db, read_only=True)) as con:
        tables = export_tables(con)
        assert {"fct_commitments", "fct_credits", "metric_follow_through"} <= set(tables)
        for table in tables:
            described = [(str(d[0]), str(d[1])) for d in con.execute(f'DESCRIBE "{table}"').fetchall()]
            header, rows = _read(csv_dir / f"{table}.csv")
            assert header == [name for name, _ in described], table
            count = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            assert len(rows) == count, table
            projected = ", ".join(
                f"array_to_string(\"{n}\", ' ')" if d.endswith("[]") else f'"{n}"' for n, d in described
            )
            stored = con.execute(f'SELECT {projected} FROM "{table}"').fetchall()
            for position, (name, dtype) in enumerate(described):
                got = [row[position] for row in rows]
                values: list[Any] = [row[position] for row in stored]
                if _is_text(dtype):
                    want = ["" if v is None else _neutralised(v) for v in values]
                    assert Counter(got) == Counter(want), (table, name)
                    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in got), (
                        table,
                        name,
                    )
                else:
                    assert not any(cell.startswith("'") for cell in got), (table, name)
                    if _is_number(dtype):
                        numbers = [float(cell) for cell in got if cell != ""]
                        assert Counter(numbers) == Counter(float(v) for v in values if v is not None), (
                            table,
                            name,
                        )


def test_the_formulas_reach_the_csv_neutralised_and_quoted(csv_dir: Path) -> None:
    header, rows = _read(csv_dir / "fct_commitments.csv")
    logins = {row[header.index("assignee_login")] for row in rows}
    assert {"'" + f for f in FORMULAS} <= logins
    assert set(HARMLESS) <= logins  # not a formula: unchanged
    raw = (csv_dir / "fct_commitments.csv").read_bytes().decode("utf-8")  # \r kept as it is
    # Quoted, inner double quotes doubled: the separator in the payload never starts a new cell.
    assert '"\'=1+2"";=1+2"' in raw
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in raw
    assert '"a,b;c\nd"' in raw
    assert '"\'\rx"' in raw and '"\'\tx"' in raw
    for line in raw.splitlines():
        assert not line.startswith(("=", "+", "-", "@"))


def test_negative_numbers_stay_numbers(csv_dir: Path) -> None:
    header, rows = _read(csv_dir / "fct_commitments.csv")
    (row,) = [r for r in rows if r[header.index("number")] == "100"]
    assert row[header.index("slip_days")] == "-2"
    assert row[header.index("assignee_login")] == "'" + FORMULAS[0]
    raw_line = next(
        line
        for line in (csv_dir / "fct_commitments.csv").read_text(encoding="utf-8").splitlines()
        if ",100," in line
    )
    assert ",-2," in raw_line  # unquoted: a spreadsheet reads a number
    header, rows = _read(csv_dir / "metric_follow_through.csv")
    medians = [r[header.index("slip_days_median")] for r in rows]
    assert "-2.5" in medians and "'-2.5" not in medians
