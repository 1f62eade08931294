"""CSV exports of every metric table (and fct_commitments, fct_credits), written by DuckDB itself.

Lists (evidence_keys) become one space-separated string: keys never contain spaces. With
pseudonymize, every column that names a person gets the same pseudonym `perftrust metrics
--pseudonymize` writes (pipeline.metrics.common.pseudonym: person-<first 10 hex of sha256>).

Spreadsheet formulas are neutralised as OWASP's "CSV Injection" page describes: a text cell (a
VARCHAR column, or a list joined into one) whose value starts with `=`, `+`, `-`, `@`, a tab (0x09)
or a carriage return (0x0D) gets a leading single quote (`'=HYPERLINK(...)`), so Excel, LibreOffice
and Google Sheets show it as text instead of running it. Every text cell is enclosed in double quotes
(a double quote inside is doubled), so a comma, semicolon or line break inside it never starts
another cell whatever separator the spreadsheet guesses. Numeric, date and boolean columns are
written as they are: a negative number stays a number (-2, unquoted). An empty text is "" and NULL
an empty unquoted field. Done in the SQL of the COPY, never row by row in Python."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.metrics.pseudonyms import is_person_column
from reports.data import Scope

EXTRA_TABLES = ("fct_commitments", "fct_credits")

# First characters a spreadsheet reads as the start of a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutralised_sql(expr: str) -> str:
    """expr with a single quote in front when it starts like a formula (vectorised, in SQL)."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS)
    return f"CASE WHEN left({expr}, 1) IN ({starts}) THEN chr(39) || {expr} ELSE {expr} END"


def _pseudonym_sql(expr: str) -> str:
    # Same as pipeline.metrics.common.pseudonym, in SQL so a large table never passes through Python.
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE 'person-' || substr(sha256({expr}), 1, 10) END"


def _commitment_key_sql(expr: str) -> str:
    """github:commitment:<repo>#<n>/<login>: the login is a person-naming field."""
    login = _pseudonym_sql(f"regexp_extract({expr}, '#[0-9]+/(.+)$', 1)")
    return (
        f"CASE WHEN {expr} LIKE 'github:commitment:%' AND regexp_matches({expr}, '#[0-9]+/.+$') "
        f"THEN regexp_extract({expr}, '^(.*#[0-9]+/)', 1) || {login} ELSE {expr} END"
    )


def is_personal(column: str) -> bool:
    """The columns pipeline.metrics.common pseudonymizes."""
    return is_person_column(column)


def export_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    found = con.execute(
        r"""SELECT table_name FROM duckdb_tables()
            WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary
              AND (table_name LIKE 'metric\_%' ESCAPE '\' OR table_name IN ?)
            ORDER BY table_name""",
        [list(EXTRA_TABLES)],
    ).fetchall()
    return [str(r[0]) for r in found]


def _select(con: duckdb.DuckDBPyConnection, table: str, scope: Scope) -> tuple[str, list[object], list[str]]:
    """The SELECT of one export, its parameters, and its text columns (quoted in the file)."""
    described = con.execute(f'DESCRIBE "{table}"').fetchall()
    # Tables written by `perftrust metrics --pseudonymize` already hold pseudonyms in the person
    # columns (not again), but their commitment keys still end in the assignee's login.
    hide_columns = scope.pseudonymize and not scope.ids_pseudonymized
    hide_keys = scope.pseudonymize
    columns, text_columns = [], []
    for name, dtype, *_ in described:
        quoted = f'"{name}"'
        expr = quoted
        if hide_columns and dtype == "VARCHAR" and is_personal(name):
            expr = _pseudonym_sql(quoted)
        elif hide_keys and name == "commitment_key":
            expr = _commitment_key_sql(quoted)
        if str(dtype).endswith("[]"):
            inner = _commitment_key_sql("k") if hide_keys else "k"
            expr = f"array_to_string(list_transform({quoted}, lambda k: {inner}), ' ')"
        if str(dtype).startswith("VARCHAR") or str(dtype).endswith("[]"):
            expr = _neutralised_sql(f"({expr})")
            text_columns.append(quoted)
        columns.append(f"{expr} AS {quoted}")
    names = [str(d[0]) for d in described]
    where, params = "TRUE", list[object]()
    if scope.team_ids is not None:
        team = list(scope.team_ids)
        if "giver_contributor_id" in names:
            where = (
                "(giver_contributor_id IN (SELECT unnest(?::VARCHAR[])) "
                "OR receiver_contributor_id IN (SELECT unnest(?::VARCHAR[])))"
            )
            params = [team, team]
        elif "team_id" in names:
            where = "(contributor_id IS NULL OR contributor_id IN (SELECT unnest(?::VARCHAR[])))"
            params = [team]
        elif "contributor_id" in names:
            where = "contributor_id IN (SELECT unnest(?::VARCHAR[]))"
            params = [team]
    if "period_type" in names:
        order = "period_type, period_start, team_id NULLS FIRST, contributor_id"
    else:
        order = f'"{names[0]}"'
    sql = f'SELECT * FROM (SELECT {", ".join(columns)} FROM "{table}" WHERE {where}) ORDER BY {order}'
    return sql, params, text_columns


def write_csvs(
    con: duckdb.DuckDBPyConnection, scope: Scope, directory: Path, suffix: str, written: list[Path]
) -> None:
    """Each table to directory/<table>.csv<suffix>, appended to `written` before it is started (the
    caller renames them into place, or removes them all if anything fails)."""
    for table in export_tables(con):
        sql, params, text_columns = _select(con, table, scope)
        target = directory / f"{table}.csv{suffix}"
        written.append(target)
        literal = str(target).replace("'", "''")
        quote = f", FORCE_QUOTE ({', '.join(text_columns)})" if text_columns else ""
        con.execute(f"COPY ({sql}) TO '{literal}' (FORMAT csv, HEADER true{quote})", params or None)
