"""A temporary local Prefect API for `perftrust run`, started before Prefect is imported.

Prefect starts one itself when PREFECT_API_URL is unset, but only once the flow is called: the
caller first imports the Prefect server package (~4 s here) just to launch it, then waits for the
subprocess to import it again. Launching the same server command ourselves, first thing, lets it
boot on the other core while this process imports the flow (measured in the README: the fixed cost
of a Prefect run fell from about 12 s to about 7 s on the 2-core machine). The server also gets
PR_SET_PDEATHSIG, so a `perftrust run` killed with SIGKILL does not leave it running.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from pipeline.children import die_with_parent
from pipeline.errors import PerftrustError


def configured_api_url() -> str | None:
    """The Prefect API URL the user configured, read without importing Prefect (1 s or more):
    PREFECT_API_URL in the environment, else the active Prefect profile's (`prefect config set
    PREFECT_API_URL=...` writes it to $PREFECT_HOME/profiles.toml; PREFECT_PROFILES_PATH and
    PREFECT_PROFILE choose another file or profile, as for Prefect itself)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    import tomllib
    from pathlib import Path

    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # no profiles file (Prefect's defaults: no API), or one Prefect itself will reject
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    profile = profiles.get("profiles", {}).get(active, {})
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return url if isinstance(url, str) and url else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def temporary_api(startup_timeout: float = 90.0) -> Iterator[str | None]:
    """Yields the API URL this process should use; None when PREFECT_API_URL is set already.

    Call it before anything imports prefect: Prefect reads PREFECT_API_URL when it is imported (if
    it was imported already, e.g. under a test harness, Prefect's own settings apply)."""
    if configured_api_url() or "prefect" in sys.modules:
        yield None
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",  # what Prefect sets for its own temporary server
        "PREFECT__SERVER_FINAL": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "prefect.server.api.server:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
            "--lifespan",
            "on",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    os.environ["PREFECT_API_URL"] = url
    try:
        yield url
    finally:
        del os.environ["PREFECT_API_URL"]
        _drain_prefect()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _drain_prefect() -> None:
    """Send the logs and events Prefect still holds while the API is up: stopped first, its
    workers would retry against a closed port at exit for over a minute."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=10)


def check_configured_api(url: str, timeout: float = 10.0) -> None:
    """PREFECT_API_URL set by the user: fail early and clearly if nothing answers there."""
    try:
        wait_until_ready(url.rstrip("/"), timeout)
    except PerftrustError:
        where = "" if os.environ.get("PREFECT_API_URL") else " (in the active Prefect profile)"
        raise PerftrustError(
            f"PREFECT_API_URL is set to {url}{where}, but no Prefect API answers there",
            "start it (`prefect server start`), or unset PREFECT_API_URL (`prefect config unset "
            "PREFECT_API_URL` for a profile), or use `perftrust run --engine plain`",
        ) from None


def wait_until_ready(url: str, startup_timeout: float = 90.0) -> None:
    """Block until the API answers its health check (it boots while the caller imports)."""
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise PerftrustError(
        f"the temporary Prefect API at {url} did not start within {startup_timeout:.0f} s",
        "run `perftrust doctor`; or start `prefect server start` and set PREFECT_API_URL; "
        "or use `perftrust run --engine plain`",
    )
