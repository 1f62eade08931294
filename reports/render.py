"""render_reports: the database (read-only) -> report.html, summary.md and csv/*.csv, written atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from pipeline.db import connect
from pipeline.errors import PerftrustError
from pipeline.metrics.pseudonyms import pseudonym
from pipeline.metrics.settings import MetricSettings, parse_as_of
from reports.csv_export import EXTRA_TABLES, write_csvs
from reports.data import Scope, build_report
from reports.html import render_html
from reports.markdown import render_markdown
from reports.measures import METRIC_TABLES, RATE_MEASURES
from reports.options import ReportOptions, ReportResult

_RUN_METRICS = "run `perftrust run` or `perftrust metrics` first"


def render_reports(db_path: Path, out_dir: Path, options: ReportOptions) -> ReportResult:
    """Write out_dir/report.html, out_dir/summary.md and out_dir/csv/<table>.csv.

    The database is opened read-only. When options.as_of differs from the date the metric tables
    were computed for, the metrics are recomputed for it on a temporary copy."""
    started = time.perf_counter()
    _check_web_url(options.web_url)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PerftrustError(
            f"{out_dir} is a file, not a folder", "pass --out DIR with a folder (it is created)"
        )
    _check_no_file_above(out_dir)
    con = connect(Path(db_path), read_only=True)
    try:
        _check_tables(con, Path(db_path))
        computed = _computed_with(con)
        if options.as_of is None and computed is None:
            if _count_metric_rows(con) == 0:
                raise PerftrustError(f"the metric tables in {db_path} are empty", _RUN_METRICS)
            raise PerftrustError(
                f"cannot tell which date the metric tables in {db_path} were computed for "
                "(they predate metric_runs and nobody was active in their trailing window)",
                "pass --as-of YYYY-MM-DD, or run `perftrust metrics` again",
            )
        if computed is not None and (options.as_of is None or options.as_of == computed.as_of):
            count = _render(con, _scope(con, options, computed, db_path), out_dir)
        else:
            assert options.as_of is not None
            with _recomputed(con, Path(db_path), options) as copy:
                fresh = _computed_with(copy) or _Computed.from_settings(options)
                scope = _scope(copy, options, fresh, db_path)
                if computed is not None and computed.pseudonymized:
                    # The tables were written pseudonymized: the report of another date is too.
                    scope = replace(scope, pseudonymize=True)
                count = _render(copy, scope, out_dir)
    finally:
        con.close()
    return ReportResult(
        html_path=out_dir / "report.html",
        markdown_path=out_dir / "summary.md",
        csv_dir=out_dir / "csv",
        count_contributors=count,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class _Computed:
    """What the metric tables were computed with: from metric_runs, or inferred from the tables of
    a database written before metric_runs existed (None: not known, the settings are used)."""

    as_of: date
    window_start: date
    min_n: int | None
    timezone: str | None
    include_bots: bool | None
    pseudonymized: bool

    @staticmethod
    def from_settings(options: ReportOptions) -> _Computed:
        assert options.as_of is not None
        metrics = options.settings.metrics
        start = date.fromordinal(options.as_of.toordinal() - metrics.window_days + 1)
        return _Computed(options.as_of, start, metrics.min_n, metrics.timezone, metrics.include_bots, False)


def _computed_with(con: duckdb.DuckDBPyConnection) -> _Computed | None:
    has_runs = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'metric_runs'"
    ).fetchall()[0][0]
    if has_runs:
        found = con.execute(
            """SELECT as_of_date, window_start, min_n, timezone, is_bots_included, is_pseudonymized
               FROM metric_runs ORDER BY computed_at DESC LIMIT 1"""
        ).fetchall()
        if found:
            as_of, start, min_n, timezone, bots, pseudonymized = found[0]
            return _Computed(as_of, start, int(min_n), str(timezone), bool(bots), bool(pseudonymized))
    window = _tables_window(con)
    if window is None:
        return None
    return _Computed(window[0], window[1], None, None, None, _ids_pseudonymized(con))


_OUT_FIX = (
    "pass --out DIR with a folder you can write (it is created if missing), or change "
    "[reports].output_dir in perftrust.toml"
)
# A folder that cannot be made or written: permissions, a read-only or special file system (/proc),
# a missing or non-folder parent. Other errors (a full disk) are not about the folder chosen.
_UNWRITABLE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EEXIST}


def _check_no_file_above(out_dir: Path) -> None:
    """Refuse at once a folder that could never be made: one below a file."""
    for parent in out_dir.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise PerftrustError(
                    f"cannot write the report into the folder {out_dir}: {parent} is a file, so no folder "
                    "can be made below it (no report file was written or changed)",
                    _OUT_FIX,
                )
            return


def _unwritable(out_dir: Path, exc: OSError | duckdb.Error) -> PerftrustError:
    if isinstance(exc, OSError):
        # mkdir under /proc/self (or a vanished parent) says ENOENT: the folder cannot be made there.
        reason = "it cannot be created there" if exc.errno == errno.ENOENT else (exc.strerror or str(exc))
        if exc.filename and Path(exc.filename) != out_dir:
            reason += f": {exc.filename}"
    else:
        reason = str(exc).splitlines()[0]
    return PerftrustError(
        f"cannot write the report into the folder {out_dir} ({reason}); no report file was changed", _OUT_FIX
    )


def _check_web_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PerftrustError(
            f"the web address for links {url!r} is not an http(s) URL",
            "set it like https://github.com or https://ghe.example.com",
        )


def _check_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    present = {
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "UNION SELECT view_name FROM duckdb_views() WHERE database_name = current_database()"
        ).fetchall()
    }
    missing = [t for t in (*METRIC_TABLES, *EXTRA_TABLES, "dim_contributors") if t not in present]
    if missing:
        raise PerftrustError(
            f"the database {path} has no metric tables ({', '.join(missing)} missing)", _RUN_METRICS
        )


def _count_metric_rows(con: duckdb.DuckDBPyConnection) -> int:
    return sum(int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in METRIC_TABLES)


def _tables_window(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """(as_of date, window start) of the metric tables: their window rows end at as_of."""
    parts = " UNION ALL ".join(
        f"SELECT period_start, period_end FROM {t} WHERE period_type = 'window'" for t in METRIC_TABLES
    )
    end, start = con.execute(
        f"SELECT max(period_end), arg_max(period_start, period_end) FROM ({parts})"
    ).fetchall()[0]
    return None if end is None else (end, start)


def _ids_pseudonymized(con: duckdb.DuckDBPyConnection) -> bool:
    """The metric tables were written by `perftrust metrics --pseudonymize`: their person ids are
    pseudonyms, not dim_contributors ids."""
    parts = " UNION ALL ".join(
        f"SELECT contributor_id FROM {t} WHERE contributor_id IS NOT NULL" for t in METRIC_TABLES
    )
    unknown, total = con.execute(
        f"""SELECT count(*) FILTER (WHERE contributor_id NOT IN (SELECT contributor_id FROM dim_contributors)
                                     AND contributor_id LIKE 'person-%'), count(*)
            FROM (SELECT DISTINCT contributor_id FROM ({parts}))"""
    ).fetchall()[0]
    return bool(total) and unknown == total


def _effective_min_n(con: duckdb.DuckDBPyConnection, configured: int) -> int:
    """The minimum n the tables were computed with: the configured one when their is_enough_data_*
    flags agree with it, else the smallest n the tables call enough (the report must not say
    "minimum 5" beside a rate the tables computed with a minimum of 3)."""
    short: int | None = None
    enough: int | None = None
    for m in RATE_MEASURES:
        n, flag = m.n_columns[0], m.enough_column
        top, bottom = con.execute(
            f"SELECT max({n}) FILTER (WHERE NOT {flag}), min({n}) FILTER (WHERE {flag}) FROM {m.table}"
        ).fetchall()[0]
        if top is not None:
            short = max(short or 0, int(top))
        if bottom is not None:
            enough = min(enough if enough is not None else int(bottom), int(bottom))
    if (short is None or short < configured) and (enough is None or enough >= configured):
        return configured
    return enough if enough is not None else (short or 0) + 1


def _scope(
    con: duckdb.DuckDBPyConnection, options: ReportOptions, computed: _Computed, db_path: Path
) -> Scope:
    metrics = options.settings.metrics
    return Scope(
        as_of=computed.as_of,
        window_start=computed.window_start,
        window_days=(computed.as_of - computed.window_start).days + 1,
        min_n=computed.min_n if computed.min_n is not None else _effective_min_n(con, metrics.min_n),
        timezone=computed.timezone or metrics.timezone,
        web_url=options.web_url.rstrip("/"),
        pseudonymize=options.pseudonymize or computed.pseudonymized,
        team=options.team,
        team_ids=_team_ids(con, options, computed.pseudonymized),
        ids_pseudonymized=computed.pseudonymized,
        include_bots=metrics.include_bots if computed.include_bots is None else computed.include_bots,
        db_path=str(db_path),
    )


def _team_ids(
    con: duckdb.DuckDBPyConnection, options: ReportOptions, ids_pseudonymized: bool
) -> tuple[str, ...] | None:
    if options.contributor_ids is None:
        return None
    team = options.team or "the team"
    if not options.contributor_ids:
        raise PerftrustError(
            f"{team} has no members", "list its members' contributor ids in the configuration"
        )
    known = {
        str(r[0])
        for r in con.execute(
            "SELECT contributor_id FROM dim_contributors WHERE contributor_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(options.contributor_ids)],
        ).fetchall()
    }
    unknown = [c for c in options.contributor_ids if c not in known]
    if unknown:
        raise PerftrustError(
            f"{team} names contributors the database does not know: {', '.join(sorted(unknown))}",
            'use ids from `perftrust sql "SELECT contributor_id, display_name FROM dim_contributors ORDER BY 2"`',
        )
    ids = sorted(set(options.contributor_ids))
    return tuple(pseudonym(i) or "" for i in ids) if ids_pseudonymized else tuple(ids)


@contextlib.contextmanager
def _recomputed(
    con: duckdb.DuckDBPyConnection, db_path: Path, options: ReportOptions
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A temporary copy of the database with the metrics recomputed for options.as_of.

    The file is copied while our read-only connection is open: DuckDB lets no writer in meanwhile,
    so the copy is consistent. The given database is never opened for writing."""
    assert options.as_of is not None
    metrics = options.settings.metrics
    settings = MetricSettings(
        as_of=parse_as_of(options.as_of.isoformat(), metrics.timezone),
        window_days=metrics.window_days,
        min_n=metrics.min_n,
        timezone=metrics.timezone,
        review_response_hours=metrics.review_response_hours,
        include_bots=metrics.include_bots,
    )
    from pipeline.metrics.run import compute_metrics  # Polars and the metric code: only when needed

    with tempfile.TemporaryDirectory(prefix="perftrust-report-") as tmp:
        copy_path = Path(tmp) / "copy.duckdb"
        shutil.copyfile(db_path, copy_path)
        wal = Path(f"{db_path}.wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{copy_path}.wal"))
        copy = connect(copy_path)
        try:
            compute_metrics(copy, settings)
            yield copy
        finally:
            copy.close()


def _keep_mode(existing: Path, new: Path) -> None:
    """A report an operator made private (chmod 600) stays private when it is written again."""
    try:
        mode = stat.S_IMODE(os.stat(existing).st_mode)
    except FileNotFoundError:
        return
    os.chmod(new, mode)


def _render(con: duckdb.DuckDBPyConnection, scope: Scope, out_dir: Path) -> int:
    """Render everything to temporary names, then move each into place (os.replace is atomic):
    a reader never sees a half-written file. The HTML report moves last."""
    report = build_report(con, scope)
    html = render_html(report)
    markdown = render_markdown(report)
    csv_dir = out_dir / "csv"
    try:
        csv_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(out_dir, exc) from exc
    suffix = f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    pending: list[Path] = []
    try:
        try:
            write_csvs(con, scope, csv_dir, suffix, pending)
            for name, text in (("summary.md", markdown), ("report.html", html)):
                target = out_dir / f"{name}{suffix}"
                pending.append(target)
                target.write_text(text, encoding="utf-8")
        except duckdb.IOException as exc:  # COPY ... TO: the folder refused the file
            raise _unwritable(out_dir, exc) from exc
        except OSError as exc:
            if exc.errno in _UNWRITABLE_ERRNOS:
                raise _unwritable(out_dir, exc) from exc
            raise
        for path in pending:
            final = path.with_name(path.name[: -len(suffix)])
            _keep_mode(final, path)
            os.replace(path, final)
        pending = []
    finally:
        for path in pending:
            path.unlink(missing_ok=True)
    return len(report.people)
