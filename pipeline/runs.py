"""pipeline_runs, pipeline_run_steps and sync_state: what each run did, and where each source stands."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.secrets import scrub

if TYPE_CHECKING:
    import duckdb


def utc_now() -> datetime:
    """Naive UTC timestamp, the convention of every *_at column."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class StepResult:
    """What one step (a source on one repository) did; written to pipeline_run_steps."""

    step: str
    repo: str
    status: str = "running"
    count_rows_added: int = 0
    count_api_requests: int = 0
    count_not_modified: int = 0
    warnings: list[str] = field(default_factory=list)
    error_message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=utc_now)
    started_clock: float = field(default_factory=time.perf_counter)
    duration_seconds: float = 0.0
    transient: bool = False  # failed in a way a retry may fix; not stored


def start_run(
    con: duckdb.DuckDBPyConnection,
    command: str,
    run_id: str | None = None,
    started_at: datetime | None = None,
    flow_run_id: str | None = None,
) -> str:
    """A pipeline_runs row with status running; run_id and started_at are given when the run began
    before this database existed (the nightly build)."""
    run_id = run_id or str(uuid.uuid4())
    con.execute(
        """INSERT INTO pipeline_runs (run_id, command, started_at, status, perftrust_version, flow_run_id)
           VALUES (?, ?, ?, ?, ?, ?)""",
        [run_id, command, started_at or utc_now(), "running", __version__, flow_run_id],
    )
    return run_id


def record_step(con: duckdb.DuckDBPyConnection, run_id: str, result: StepResult) -> None:
    if not result.duration_seconds:  # set already when the step ran in another process
        result.duration_seconds = time.perf_counter() - result.started_clock
    con.execute(
        """INSERT OR REPLACE INTO pipeline_run_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            run_id,
            result.step,
            scrub(result.repo),
            result.status,
            result.started_at,
            utc_now(),
            result.duration_seconds,
            result.count_rows_added,
            result.count_api_requests,
            result.count_not_modified,
            [scrub(w) for w in result.warnings],
            scrub(result.error_message) if result.error_message else None,
            scrub(json.dumps(result.details, sort_keys=True, default=str)),
        ],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, steps: list[StepResult], error_message: str | None = None
) -> str:
    failed = sum(1 for s in steps if s.status == "failed")
    if error_message is not None or (steps and failed == len(steps)):
        status = "failed"
    elif failed:
        status = "partial"
    else:
        status = "succeeded"
    now = utc_now()
    remaining = [
        s.details["rate_limit_remaining"] for s in steps if s.details.get("rate_limit_remaining") is not None
    ]
    con.execute(
        """UPDATE pipeline_runs SET finished_at = ?, status = ?, count_steps = ?, count_failed_steps = ?,
           count_rows_added = ?, error_message = ?, count_api_requests = ?, count_not_modified = ?,
           rate_limit_remaining = ?, duration_seconds = date_diff('millisecond', started_at, ?) / 1000.0
           WHERE run_id = ?""",
        [
            now,
            status,
            len(steps),
            failed,
            sum(s.count_rows_added for s in steps),
            scrub(error_message) if error_message else None,
            sum(s.count_api_requests for s in steps),
            sum(s.count_not_modified for s in steps),
            remaining[-1] if remaining else None,
            now,
            run_id,
        ],
    )
    return status


def read_cursor(con: duckdb.DuckDBPyConnection, source: str, repo: str) -> dict[str, Any] | None:
    rows = con.execute(
        "SELECT cursor FROM sync_state WHERE source = ? AND repo = ?", [source, repo]
    ).fetchall()
    if not rows:
        return None
    value = json.loads(rows[0][0])
    assert isinstance(value, dict)
    return value


def write_cursor(
    con: duckdb.DuckDBPyConnection, source: str, repo: str, cursor: dict[str, Any], run_id: str
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?)",
        [source, repo, json.dumps(cursor, sort_keys=True), utc_now(), run_id],
    )
