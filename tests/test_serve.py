"""Scheduling for real: a Prefect server on a free loopback port, `perftrust serve` with a schedule
due within a minute, and the scheduled nightly run completing and landing data in DuckDB."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.support.history import grow_history

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the Prefect server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        # Look for due schedules every few seconds instead of every minute: the test waits less.
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    }
    env.pop("PREFECT_API_URL", None)
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/health", server, 120)
        yield {**env, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    finally:
        _stop(server)
        log.close()


def test_a_scheduled_nightly_run_completes_and_lands_data(
    tmp_path: Path, prefect_server: dict[str, str]
) -> None:
    grow_history(tmp_path / "repo", 25)
    config = tmp_path / "perftrust.toml"
    config.write_text(
        '[database]\npath = "perftrust.duckdb"\n[[repositories]]\npath = "repo"\n[reports]\noutput_dir = "out"\n',
        encoding="utf-8",
    )
    db = tmp_path / "perftrust.duckdb"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", "--config", str(config), "--cron", "* * * * *"],
        cwd=ROOT,
        env=prefect_server,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180  # the next minute boundary, plus the run itself
        rows: list[tuple[object, ...]] = []
        while time.monotonic() < deadline and not rows:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            if db.exists():
                with duckdb.connect(str(db), read_only=True) as con:
                    rows = con.execute(
                        "SELECT command, status, flow_run_id, count_rows_added FROM pipeline_runs"
                    ).fetchall()
            time.sleep(1)
        assert rows, "no scheduled run landed in time:\n" + (tmp_path / "serve.log").read_text()[-3000:]
        ((command, status, flow_run_id, added),) = rows
        assert (command, status, added) == ("run", "succeeded", 25) and flow_run_id

        # The run Prefect records is the scheduled one of our deployment, and it completed.
        import json

        with urllib.request.urlopen(
            f"{prefect_server['PREFECT_API_URL']}/flow_runs/{flow_run_id}"
        ) as response:
            flow_run = json.load(response)
        deadline = time.monotonic() + 60
        while flow_run["state_type"] != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(1)
            with urllib.request.urlopen(
                f"{prefect_server['PREFECT_API_URL']}/flow_runs/{flow_run_id}"
            ) as response:
                flow_run = json.load(response)
        assert flow_run["state_type"] == "COMPLETED"
        assert flow_run["deployment_id"] and flow_run["auto_scheduled"]
        assert (tmp_path / "out" / "report.html").exists()
    finally:
        _stop(serve)
        log.close()


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "serve", "--cron", "0 2 * * *"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PREFECT_API_URL is not set" in result.stderr and "prefect server start" in result.stderr


def test_run_with_an_unreachable_prefect_api_says_what_to_do(tmp_path: Path) -> None:
    grow_history(tmp_path / "repo", 3)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "run",
                "--repo",
                str(tmp_path / "repo"),
                "--db",
                str(tmp_path / "p.duckdb"),
            ],
            cwd=ROOT,
            env={**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    assert "no Prefect API answers there" in result.stderr and "--engine plain" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "p.duckdb").exists()
