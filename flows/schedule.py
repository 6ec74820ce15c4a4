"""Serving the nightly flow on a schedule, against a real Prefect server.

Prefect only runs schedules with a real API server: the temporary one a plain flow call starts
cannot schedule ("Cannot schedule flows on an ephemeral server"). So `callqa serve`:

1. uses the server in PREFECT_API_URL when one is configured, and starts nothing; otherwise
2. starts `prefect server start` on 127.0.0.1:PORT (SQLite under PREFECT_HOME, default
   ~/.local/share/callqa/prefect) in its own session, so that a Ctrl-C in the terminal reaches
   callqa and not the server, and waits until /api/health answers;
3. registers the deployment `callqa-nightly/callqa-nightly` with its schedule (cron or interval,
   in an IANA time zone) and serves it: each scheduled run is a subprocess of this one;
4. on Ctrl-C or SIGTERM cancels a run in progress, pauses the schedule, stops the runner, and
   only then stops the server it started (SIGTERM, then SIGKILL to its process group): the server
   must outlive its clients, or they hang for minutes on connection retries.

Prefect itself is imported lazily, after PREFECT_HOME and PREFECT_API_URL are settled: Prefect
reads its settings once, when it is first imported.
"""
from __future__ import annotations

import asyncio
import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

DEFAULT_CRON = "0 2 * * *"
DEFAULT_PORT = 4200
HOST = "127.0.0.1"
DEPLOYMENT_NAME = "callqa-nightly"
SERVER_START_TIMEOUT_S = 180.0
SERVER_STOP_TIMEOUT_S = 20.0


class ServeError(RuntimeError):
    """Something the user can fix (a busy port, an unreachable server): one line, no traceback."""


# ---------------------------------------------------------------------------------------------
# Where things live, which time zone


def default_prefect_home() -> Path:
    """PREFECT_HOME when set, else the per-user callqa directory ($XDG_DATA_HOME/callqa/prefect)."""
    explicit = os.environ.get("PREFECT_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(data) / "callqa" / "prefect"


def prepare_environment() -> Path:
    """Before Prefect is imported: PREFECT_HOME (created if missing) and the quiet, offline defaults."""
    from pipeline.settings import apply_quiet_environment

    apply_quiet_environment()
    home = default_prefect_home()
    os.environ["PREFECT_HOME"] = str(home)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)  # Prefect itself creates only the last level
    return home


def _iana(name: str) -> Optional[str]:
    """`name` as an IANA zone name if it is one this machine knows, else None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name.strip().lstrip(":")
    if "zoneinfo/" in name:  # TZ=/usr/share/zoneinfo/Europe/Oslo
        name = name.split("zoneinfo/", 1)[1]
    if not name or name.startswith("/") or ".." in name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


def local_timezone() -> str:
    """The machine's IANA time zone: $TZ, /etc/timezone, the /etc/localtime link; else UTC."""
    candidates = [os.environ.get("TZ", "")]
    try:
        candidates.append(Path("/etc/timezone").read_text().splitlines()[0])
    except (OSError, IndexError):
        pass
    try:
        candidates.append(os.path.realpath("/etc/localtime"))
    except OSError:
        pass
    for candidate in candidates:
        zone = _iana(candidate) if candidate else None
        if zone:
            return zone
    return "UTC"


def make_schedule(cron: Optional[str] = None, interval: Optional[float] = None, timezone: Optional[str] = None):
    """A Prefect schedule: `cron` (default nightly at 02:00) or every `interval` seconds, in `timezone`.

    Raises ValueError with a one-line reason for a bad cron string, interval or zone.
    """
    from pydantic import ValidationError
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    if cron is not None and interval is not None:
        raise ValueError("give either --cron or --interval, not both")
    zone = timezone or local_timezone()
    if _iana(zone) is None:
        raise ValueError(f"unknown time zone: {zone!r} (give an IANA name such as Europe/Oslo or UTC)")
    try:
        if interval is not None:
            if interval <= 0:
                raise ValueError(f"the interval must be positive, not {interval:g} s")
            return IntervalSchedule(interval=datetime.timedelta(seconds=interval), timezone=zone)
        return CronSchedule(cron=cron or DEFAULT_CRON, timezone=zone)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(str(first.get("msg", exc)).removeprefix("Value error, ")) from None


def describe_schedule(schedule) -> str:
    if getattr(schedule, "cron", None):
        return f"cron {schedule.cron!r} in {schedule.timezone}"
    return f"every {schedule.interval.total_seconds():g} s, time zone {schedule.timezone}"


# ---------------------------------------------------------------------------------------------
# The local Prefect server


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether the Prefect API at `api_url` (ending in /api) answers its health check."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_port(port: int) -> None:
    """Refuse a port that is taken before anything starts (ServeError names what to do)."""
    if not 1 <= port <= 65535:
        raise ServeError(f"not a port: {port}")
    if port_free(port):
        return
    url = f"http://{HOST}:{port}/api"
    if api_healthy(url):
        raise ServeError(
            f"a Prefect server already answers on port {port}: use it with PREFECT_API_URL={url}, "
            "or choose another --port"
        )
    raise ServeError(f"port {port} is in use: choose another with --port")


class LocalServer:
    """`prefect server start` on 127.0.0.1:`port`, in its own session; `stop()` ends all of it."""

    def __init__(self, port: int, home: Path) -> None:
        self.port, self.home = port, Path(home)
        self.api_url = f"http://{HOST}:{port}/api"
        self.ui_url = f"http://{HOST}:{port}"
        self.log_path = self.home / "callqa-server.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = SERVER_START_TIMEOUT_S) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": HOST,
            "PREFECT_SERVER_API_PORT": str(self.port),
        }
        env.pop("PREFECT_API_URL", None)  # the server is the API; it needs no client setting
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST,
                   "--port", str(self.port), "--analytics-off", "--no-prompt"]
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- callqa: {' '.join(command)} at {time.ctime()}\n".encode())
            log.flush()
            # Own session: the terminal's Ctrl-C goes to callqa, which stops the server last.
            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(f"the Prefect server stopped at start (exit {self.process.returncode}): "
                                 f"{self._log_tail()} (log: {self.log_path})")
            if api_healthy(self.api_url, timeout=1.0):
                return
            time.sleep(0.5)
        raise ServeError(f"the Prefect server did not answer within {timeout:g} s (log: {self.log_path})")

    def _log_tail(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    def stop(self, timeout: float = SERVER_STOP_TIMEOUT_S) -> None:
        """SIGTERM to the server's process group, SIGKILL after `timeout`; waits until it is gone."""
        process, self.process = self.process, None
        if process is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure nothing else of its group is left.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """No interruptions while the server is being stopped (a bounded wait)."""
    if _in_main_thread():
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    else:
        previous = {}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def prefect_api(port: int = DEFAULT_PORT, echo: Callable[[str], None] = print) -> Iterator[str]:
    """A Prefect API URL for the duration: the configured PREFECT_API_URL, else a server started here.

    Sets PREFECT_HOME (when unset) and PREFECT_API_URL in this process's environment, and in
    Prefect's settings, so flow-run subprocesses report to the same server.
    """
    prepare_environment()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if configured:
        if not api_healthy(configured, timeout=5.0):
            raise ServeError(f"PREFECT_API_URL={configured} does not answer; start that server, "
                             "or unset PREFECT_API_URL to let callqa start one")
        echo(f"Prefect server: {configured} (from PREFECT_API_URL; callqa starts none)")
        with temporary_settings(updates={PREFECT_API_URL: configured}):
            yield configured
        return

    check_port(port)
    server = LocalServer(port, Path(os.environ["PREFECT_HOME"]))
    echo(f"Starting the Prefect server on {server.ui_url} (PREFECT_HOME={server.home}, log {server.log_path}) ...")
    previous_term = signal.getsignal(signal.SIGTERM) if _in_main_thread() else None
    try:
        if _in_main_thread():  # a SIGTERM while the server starts still stops it
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        started = time.monotonic()
        server.start()
        echo(f"Prefect server ready in {time.monotonic() - started:.0f} s. UI: {server.ui_url}")
        os.environ["PREFECT_API_URL"] = server.api_url
        try:
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                yield server.api_url
        finally:
            os.environ.pop("PREFECT_API_URL", None)
    finally:
        with _signals_ignored():
            if server.process is not None:
                echo("Stopping the Prefect server ...")
            server.stop()
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------------------------
# Serving


def serve_flow(flow, *, schedule, parameters: dict[str, Any], name: str = DEPLOYMENT_NAME,
               echo: Callable[[str], None] = print) -> None:
    """Register `flow` as deployment `name` with `schedule` and run its scheduled runs until a signal.

    One run at a time (a run that is due while another is in progress waits). The first SIGINT or
    SIGTERM stops gracefully: a run in progress is cancelled, the schedule paused (no runs pile up
    while nothing serves them; serving again resumes it). A second signal stops waiting.
    """
    asyncio.run(_serve(flow, schedule=schedule, parameters=parameters, name=name, echo=echo))


async def _serve(flow, *, schedule, parameters: dict[str, Any], name: str, echo: Callable[[str], None]) -> None:
    from prefect.deployments.runner import EntrypointType
    from prefect.runner import Runner
    from prefect.settings import PREFECT_API_URL

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def request_stop(signum=None, frame=None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second signal: stop waiting for the graceful stop
        loop.call_soon_threadsafe(stop.set)

    class _Runner(Runner):
        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:  # Prefect's own would sys.exit
            request_stop()

    runner = _Runner(name=name, pause_on_shutdown=True, limit=1)
    deployment_id = await runner.aadd_flow(
        flow, name=name, schedule=schedule, parameters=parameters,
        description="callqa: score new recordings on a schedule (callqa serve)",
        tags=["callqa"], entrypoint_type=EntrypointType.MODULE_PATH,
    )
    ui = str(PREFECT_API_URL.value() or "").removesuffix("/api")
    echo(f"Serving deployment '{flow.name}/{name}' ({describe_schedule(schedule)}).")
    if ui:
        echo(f"Runs: {ui}/deployments/deployment/{deployment_id}  - Ctrl-C stops.")
    previous = {}
    if _in_main_thread():
        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        serving = asyncio.create_task(runner.start())
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            serving.result()  # the runner ended on its own: raise what ended it
            return
        echo("Stopping: cancelling any run in progress, pausing the schedule ...")
        for _ in range(300):  # a signal during the runner's start-up: let it finish starting
            if runner.started or serving.done():
                break
            await asyncio.sleep(0.1)
        if runner.started:
            await runner.astop()
        else:
            serving.cancel()
        try:
            await serving
        except asyncio.CancelledError:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
