"""Serving the nightly flow on a schedule, against a real Prefect server; and the Prefect API and
the signal handling of a one-off run (`callqa score`: `TemporaryServer`, `OneOffRun`, at the end).

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
import contextvars
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

    stop_signal = signal.SIGTERM
    """What `stop()` sends first (SIGKILL follows after its timeout)."""
    cwd: Optional[Path] = None
    """The server's working directory (None: callqa's)."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "prefect", "server", "start", "--host", HOST,
                "--port", str(self.port), "--analytics-off", "--no-prompt"]

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": HOST,
            "PREFECT_SERVER_API_PORT": str(self.port),
        }
        env.pop("PREFECT_API_URL", None)  # the server is the API; it needs no client setting
        return env

    def start(self, timeout: float = SERVER_START_TIMEOUT_S) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the server process and return at once (`wait_ready` waits until it answers)."""
        self.home.mkdir(parents=True, exist_ok=True)
        command = self.command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- callqa: {' '.join(command)} at {time.ctime()}\n".encode())
            log.flush()
            # Own session: the terminal's Ctrl-C goes to callqa, which stops the server last.
            self.process = subprocess.Popen(command, env=self.environment(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.cwd)

    def wait_ready(self, timeout: float = SERVER_START_TIMEOUT_S, interval: float = 0.5,
                   interrupted: Callable[[], bool] = lambda: False) -> None:
        """Wait until /api/health answers; ServeError if the server stops or `timeout` passes.

        Returns early, without error, as soon as `interrupted()` is true (the caller checks why).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not interrupted():
            if self.process.poll() is not None:
                raise ServeError(f"the Prefect server stopped at start (exit {self.process.returncode}): "
                                 f"{self._log_tail()} (log: {self.log_path})")
            if api_healthy(self.api_url, timeout=1.0):
                return
            time.sleep(interval)
        if not interrupted():
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
        for sig, wait in ((self.stop_signal, timeout), (signal.SIGKILL, 10.0)):
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
# One-off runs (`callqa score`): a temporary server that Ctrl-C cannot reach, and a clean stop
#
# With no server configured, Prefect starts a temporary API server for the run as a child in
# callqa's own process group. A Ctrl-C (SIGINT to the foreground group) or a systemd stop
# (SIGTERM to the group) killed that server together with callqa, which then hung ~220 s on
# connection retries with a traceback, leaving its flow run RUNNING for ever; a SIGTERM to callqa
# alone orphaned the server. So `callqa score` starts the same temporary server itself, where no
# signal meant for callqa reaches it (`TemporaryServer`), and handles the signals itself
# (`OneOffRun`): stop taking calls, abandon the call in hand, mark the run Cancelled, stop the
# server, exit 128 + the signal's number.

TEMPORARY_SERVER_STOP_TIMEOUT_S = 5.0
STOP_WRITE_WAIT_S = 30.0
"""How long a stop waits for a database write in progress (one call's transaction) to commit."""
STOP_API_WAIT_S = 8.0
"""How long a stop waits for the Prefect API to record the cancellation."""


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class TemporaryServer(LocalServer):
    """The Prefect API of one `callqa score` run: the app Prefect itself starts when no server is
    configured (uvicorn, no UI, an ephemeral server's services, SQLite under PREFECT_HOME, about the
    same start-up cost), made safe to stop:

    - in its own session, so the terminal's Ctrl-C and a SIGTERM to callqa's process group do not
      reach it: it outlives its client, which can still mark its run Cancelled;
    - it ignores SIGTERM (systemd's default KillMode=control-group signals every process of a unit
      at once) and stops on SIGINT, which only callqa sends it;
    - it stops when callqa dies, even by SIGKILL (Linux PR_SET_PDEATHSIG): nothing is orphaned.
    """

    stop_signal = signal.SIGINT

    def __init__(self, home: Path, port: Optional[int] = None) -> None:
        super().__init__(port or free_port(), home)
        self.log_path = self.home / "callqa-score-server.log"
        self.cwd = self.home  # `python -m` looks in its working directory first: not the user's

    def command(self) -> list[str]:
        return [sys.executable, "-m", "flows.schedule", "--temporary-server", str(self.port), str(os.getpid())]

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               # what Prefect sets for its own temporary server: no UI, the ephemeral set of services
               "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        return env

    def stop(self, timeout: float = TEMPORARY_SERVER_STOP_TIMEOUT_S) -> None:
        super().stop(timeout)


def _run_temporary_server(port: int, parent: int) -> None:
    """The server side of `TemporaryServer`: `python -m flows.schedule --temporary-server PORT PARENT`."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # meant for callqa (uvicorn's handler below ignores it too)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGINT), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: callqa's own stop still ends the server
    if os.getppid() != parent:  # callqa died before the line above
        return
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            if sig == signal.SIGINT:  # from callqa, or its death; a SIGTERM is meant for callqa
                self.force_exit = self.should_exit
                self.should_exit = True

    config = uvicorn.Config("prefect.server.api.server:create_app", factory=True, host=HOST, port=port,
                            log_level="error", lifespan="on", timeout_graceful_shutdown=3)
    Server(config).run()
    # Shut down (connections closed, lifespan ended, database released): skip the interpreter's
    # teardown of the server's threads, which takes seconds more.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class OneOffRun:
    """One flow run for `callqa score` that Ctrl-C, SIGTERM or SIGHUP stop cleanly and promptly.

        with OneOffRun() as run:       # callqa's signal handlers from here on
            run.start_api()            # PREFECT_API_URL if configured, else a TemporaryServer (booting)
            ... import the flow ...    # while the server boots
            with run.api():            # waits until the API answers
                outcome = run.execute(control, lambda: flow(...))
        # on the way out: Prefect's logs and events flushed, then the server stopped

    The flow runs in a worker thread and the main thread only waits, so the signals stay callqa's
    (Prefect's engine installs its SIGTERM handler only when it runs in the main thread).
    `control` is the flow's `flows.nightly.RunControl`. On the first signal (`stop_now`):

    1. the flow takes no new call and nothing more is written: a call in hand is abandoned whole
       (Whisper cannot be interrupted, but a call is written in one transaction, so nothing of it
       is in the database; the next run scores it and every call left). The handler sets the
       flow's stop flag at once: a Ctrl-C to the group also kills the ffmpeg decoding a call,
       whose "could not decode" must be abandoned too, never stored (it would not be retried);
    2. a database write already in progress is waited for (up to STOP_WRITE_WAIT_S), then the
       run's write lock is kept: from then on no transaction is open and none can start;
    3. the flow run, and its unfinished task runs, are marked Cancelled through the API;
    4. one line on stderr says what happened: saved, left for the next run, abandoned;
    5. the server callqa started is stopped, any decoder (ffmpeg) it started is killed, and the
       process ends at once (os._exit: threads inside Whisper cannot be joined; step 2 makes it
       safe) with 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.

    A signal during start-up ends the same way, with nothing scored and no flow run. A second
    signal cuts the waits of steps 2 and 3 short.
    """

    def __init__(self, warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> None:
        self.warn = warn
        self.server: Optional[TemporaryServer] = None
        self.api_url: Optional[str] = None
        self.control: Any = None
        self.signum: Optional[int] = None  # the first stop signal
        self.hurry = False  # a second one came
        self.starting = True  # until the flow starts
        self._worker: Optional[threading.Thread] = None
        self._previous: dict[int, Any] = {}

    # --- signals -------------------------------------------------------------------------------

    def __enter__(self) -> "OneOffRun":
        if _in_main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
                    continue  # started under nohup: keep ignoring hang-ups
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.finish()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            self._previous.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        """While starting (imports, the server booting: nothing written, no flow run), stops at
        once. Later it only sets flags, lock-free (a handler interrupts its thread anywhere, perhaps
        holding a lock): the flow's stop flag, at once, and the main thread acts on the rest
        within a tenth of a second."""
        if self.signum is None:
            self.signum = signum
            if self.control is not None:
                self.control.request_stop()  # at once: a worker may be about to store a call
            if self.starting:
                self.stop_now()
        else:
            self.hurry = True

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def checkpoint(self) -> None:
        """Stop now if a signal came."""
        if self.requested:
            self.stop_now()

    # --- the API -------------------------------------------------------------------------------

    def start_api(self) -> None:
        """The configured PREFECT_API_URL, else a TemporaryServer, started now (not waited for)."""
        from pipeline.settings import apply_quiet_environment

        apply_quiet_environment()
        from prefect.settings import PREFECT_API_URL, PREFECT_HOME

        self.api_url = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
        if not self.api_url:
            self.server = TemporaryServer(Path(PREFECT_HOME.value()).expanduser())
            self.server.launch()
            self.api_url = self.server.api_url
        self.checkpoint()

    @contextmanager
    def api(self) -> Iterator[str]:
        """Wait until the API answers, then make it Prefect's for the duration."""
        from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

        if self.server is not None:
            self.server.wait_ready(interval=0.1, interrupted=lambda: self.requested)
        elif not api_healthy(self.api_url, timeout=5.0):
            raise ServeError(f"PREFECT_API_URL={self.api_url} does not answer; start that server, "
                             "or unset PREFECT_API_URL to let callqa start one")
        self.checkpoint()
        os.environ["PREFECT_API_URL"] = self.api_url
        updates: dict[Any, Any] = {PREFECT_API_URL: self.api_url}
        if self.server is not None:
            updates[PREFECT_UI_URL] = ""  # the temporary server has no UI: no "View at" link to it
        with temporary_settings(updates=updates):
            yield self.api_url

    # --- the run -------------------------------------------------------------------------------

    def execute(self, control: Any, call: Callable[[], Any]) -> Any:
        """`call()` (the flow) in a worker thread; its result, or its exception raised here.

        After a signal it never returns: `stop_now` ends the process.
        """
        self.control = control
        control.watched = True
        self.starting = False
        self.checkpoint()
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()  # Prefect's settings (`api()`) go with the flow

        def target() -> None:
            try:
                outcome["value"] = context.run(call)
            except BaseException as exc:  # handed to the main thread
                outcome["error"] = exc

        self._worker = threading.Thread(target=target, name="callqa-flow", daemon=True)
        self._worker.start()
        while self._worker.is_alive():
            self.checkpoint()
            self._worker.join(0.1)
        self.checkpoint()  # a signal as the run ended is still a stop, and told as one
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def finish(self) -> None:
        """After a run (or a failure): flush Prefect's logs and events, then stop the server.

        In that order: a client whose server has gone retries for minutes.
        """
        if self.server is None or self.server.process is None:
            return
        with _signals_ignored():
            _drain_prefect()
            self.server.stop()

    # --- stopping --------------------------------------------------------------------------------

    def stop_now(self) -> None:
        """Stop as the class docstring says, and end the process. Never returns."""
        signum = self.signum or signal.SIGTERM
        name = signal.Signals(signum).name
        control = self.control
        try:
            if control is None:  # still starting: no flow run, nothing written
                self.warn(f"stopped by {name} while starting: nothing scored; the next run scores every new recording")
            else:
                control.request_stop()
                self._wait_for_flow_run(control)
                if not self._hold_writes(control):
                    self.warn(f"stopping: a database write did not finish within {STOP_WRITE_WAIT_S:g} s; "
                              "stopping anyway (a transaction is never half-written)")
                line = f"stopped by {name}: {control.summary()}"
                if control.flow_run_id is not None:
                    line += self._cancel_flow_run(control.flow_run_id, line)
                self.warn(line)
        except BaseException as exc:  # never a traceback on the way out
            self.warn(f"stopped by {name} ({type(exc).__name__} while stopping: {exc})")
        _quiet_from_here()
        try:
            if self.server is not None:
                self.server.stop()
            _kill_children()
        finally:
            os._exit(128 + signum)

    def _wait_for_flow_run(self, control: Any, timeout: float = 3.0) -> None:
        """A signal just as the flow starts: let Prefect create the flow run, so it can be cancelled."""
        deadline = time.monotonic() + timeout
        while (control.flow_run_id is None and self._worker is not None and self._worker.is_alive()
               and time.monotonic() < deadline and not self.hurry):
            time.sleep(0.05)

    def _hold_writes(self, control: Any) -> bool:
        """Take the run's write lock (waiting for a write in progress) and keep it."""
        deadline = time.monotonic() + STOP_WRITE_WAIT_S
        while time.monotonic() < deadline and not self.hurry:
            if control.writes.acquire(timeout=0.2):
                return True
        return False

    def _cancel_flow_run(self, flow_run_id: Any, message: str) -> str:
        """Mark the flow run Cancelled (unless it already ended) and its unfinished task runs; what
        to add to the stop line. Bounded: an API that does not answer is given up on."""
        told: dict[str, str] = {}
        context = contextvars.copy_context()

        def cancel() -> None:
            from prefect.client.orchestration import get_client
            from prefect.client.schemas.filters import (
                FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterState, TaskRunFilterStateType,
            )
            from prefect.client.schemas.objects import StateType
            from prefect.states import Cancelled

            with get_client(sync_client=True) as client:
                client.set_flow_run_state(flow_run_id, Cancelled(message=message))
                run = client.read_flow_run(flow_run_id)
                told["run"] = f"; Prefect flow run '{run.name}': {run.state.name if run.state else 'no state'}"
                unfinished = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                    task_run_filter=TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(
                        any_=[StateType.RUNNING, StateType.PENDING, StateType.SCHEDULED]))),
                )
                for task_run in unfinished:
                    client.set_task_run_state(task_run.id, Cancelled(message=message), force=True)

        helper = threading.Thread(target=context.run, args=(cancel,), name="callqa-cancel", daemon=True)
        helper.start()
        deadline = time.monotonic() + STOP_API_WAIT_S
        while helper.is_alive() and time.monotonic() < deadline and not self.hurry:
            helper.join(0.1)
        return told.get("run", f"; the Prefect API did not answer: flow run {flow_run_id} may still show RUNNING")


def _drain_prefect(timeout: float = 5.0) -> None:
    """Send Prefect's queued logs and events now, while the server still answers."""
    if "prefect" not in sys.modules:
        return
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=timeout)
        EventsWorker.drain_all(timeout=timeout)
    except Exception:  # a flush that fails loses log lines, never the run
        pass


def _quiet_from_here() -> None:
    """After the stop line: nothing more on the terminal (Prefect's threads may still log)."""
    import logging

    logging.disable(logging.CRITICAL)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    except OSError:
        pass


def _kill_children() -> None:
    """SIGKILL this process's own child processes (ffmpeg decoding a recording): nothing is left."""
    me = os.getpid()
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:  # no /proc (not Linux): the decoders end when their output pipe closes
        return
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue


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


if __name__ == "__main__":  # the temporary server of a `callqa score` run (TemporaryServer)
    if len(sys.argv) == 4 and sys.argv[1] == "--temporary-server":
        _run_temporary_server(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit("usage: python -m flows.schedule --temporary-server PORT PARENT_PID")
