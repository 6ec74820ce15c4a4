"""`callqa serve`: a real local Prefect server, a run that the schedule created, a clean stop.

The end-to-end tests drive the real CLI as a subprocess in its own session, as a terminal or
systemd would, with their own PREFECT_HOME and a free port; they read the Prefect API over HTTP.
Every process they start carries that PREFECT_HOME in its environment, which is how "nothing is
left running" is checked.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import duckdb
import httpx
import pytest
from packaging.version import Version
from typer.testing import CliRunner

from conftest import SAMPLES, left_running, processes_with

CALLQA = str(Path(sys.executable).with_name("callqa"))
CALL = "c01_model_call"


# --- versions ---------------------------------------------------------------------------------


def test_installed_versions_are_consistent():
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    # Known breakages that `pip check` does not see (../shared/STACK.md, pyproject.toml):
    assert Version(version("sqlalchemy")) < Version("2.1"), "SQLAlchemy 2.1 crashes Prefect 3.8's scheduler"
    assert Version(version("fastapi")) < Version("0.151"), "fastapi 0.151+ breaks Prefect 3.8.8 (Body(min_items=...))"
    assert Version(version("prefect")) == Version("3.8.8")


# --- schedule and usage -------------------------------------------------------------------------


def test_local_timezone_follows_tz_and_falls_back_to_a_real_zone(monkeypatch):
    from zoneinfo import ZoneInfo

    from flows.schedule import local_timezone

    monkeypatch.setenv("TZ", "America/New_York")
    assert local_timezone() == "America/New_York"
    monkeypatch.setenv("TZ", ":/usr/share/zoneinfo/Europe/Oslo")
    assert local_timezone() == "Europe/Oslo"
    monkeypatch.setenv("TZ", "not a zone")
    ZoneInfo(local_timezone())  # /etc/timezone, /etc/localtime, else UTC: always a valid zone


def test_schedule_carries_the_timezone():
    from flows.schedule import make_schedule

    nightly = make_schedule(timezone="Europe/Oslo")
    assert (nightly.cron, nightly.timezone) == ("0 2 * * *", "Europe/Oslo")
    every = make_schedule(interval=15, timezone="UTC")
    assert every.interval.total_seconds() == 15 and every.timezone == "UTC"
    for bad in (dict(cron="0 2 * *"), dict(timezone="Mars/Olympus"), dict(cron="* * * * *", interval=60)):
        with pytest.raises(ValueError):
            make_schedule(**bad)


@pytest.mark.parametrize("args, message", [
    (["--cron", "* * * * *", "--interval", "60"], "not both"),
    (["--cron", "0 2 * *"], "Invalid cron string"),
    (["--timezone", "Mars/Olympus"], "unknown time zone"),
    (["--model", "no-such-model"], ""),
])
def test_usage_mistakes_exit_2_before_anything_starts(tmp_path, args, message):
    from flows.cli import app

    result = CliRunner().invoke(app, ["serve", str(SAMPLES), "--db", str(tmp_path / "x.duckdb"), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "x.duckdb").exists()


def test_a_busy_port_is_refused_with_one_line():
    from flows.schedule import ServeError, check_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ServeError, match="in use"):
            check_port(busy.getsockname()[1])


# --- end to end: a real server, the real CLI ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serving:
    """`callqa serve` in its own session (as a terminal or systemd runs it), and the API it uses."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.home, self.port = tmp_path / "prefect", _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.log = tmp_path / "serve.log"
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_RUNNER_POLL_FREQUENCY": "3", "COLUMNS": "200"}
        env.pop("PREFECT_API_URL", None)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([CALLQA, "serve", *args, "--port", str(self.port)], env=env, cwd=tmp_path,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, **kwargs):
        return httpx.get(self.api + path, timeout=10, **kwargs)

    def post(self, path: str, body: dict):
        return httpx.post(self.api + path, json=body, timeout=10)

    def wait_for(self, what: str, probe, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"callqa serve exited ({self.process.returncode}):\n{self.output()}"
            try:
                found = probe()
            except httpx.HTTPError:
                found = None
            if found:
                return found
            time.sleep(1)
        pytest.fail(f"no {what} within {timeout:g} s:\n{self.output()[-6000:]}")

    def deployment(self):
        response = self.get("/deployments/name/callqa-nightly/callqa-nightly")
        return response.json() if response.status_code == 200 else None

    def stop(self, sig: int, to_group: bool, timeout: float = 90) -> int:
        if to_group:
            os.killpg(self.process.pid, sig)  # Ctrl-C in a terminal: the whole foreground group
        else:
            self.process.send_signal(sig)  # systemd (KillMode=mixed), kill PID: the main process only
        return self.process.wait(timeout=timeout)

    def kill_leftovers(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in processes_with(self.home):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(SAMPLES / f"{CALL}.ogg", folder)
    return folder


def test_serve_scores_on_schedule_then_ctrl_c_stops_everything(tmp_path, recordings):
    """A run created by the schedule (not by hand) scores the call; Ctrl-C leaves nothing running."""
    db = tmp_path / "callqa.duckdb"
    serving = Serving(tmp_path, str(recordings), "--db", str(db), "--model", "tiny.en", "--interval", "15",
                      "--timezone", "Europe/Oslo", "--min-hold", "15", "--concurrency", "1")
    try:
        deployment = serving.wait_for("deployment", serving.deployment, timeout=180)
        (schedule,) = [s["schedule"] for s in deployment["schedules"]]
        assert schedule["interval"] == 15 and schedule["timezone"] == "Europe/Oslo"
        params = deployment["parameters"]
        assert (params["db"], params["model"], params["min_hold_s"], params["concurrency"]) == (str(db), "tiny.en", 15.0, 1)
        assert params["recordings"] == str(recordings.resolve())

        def completed_run():
            runs = serving.post("/flow_runs/filter", {
                "deployments": {"id": {"any_": [deployment["id"]]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
            }).json()
            assert not [r for r in runs if r["state_type"] != "COMPLETED"], runs
            return runs[0] if runs else None

        run = serving.wait_for("completed run", completed_run, timeout=180)
        assert run["auto_scheduled"] is True  # created by the server's scheduler, not `prefect deployment run`
        assert run["state_type"] == "COMPLETED" and run["parameters"]["db"] == str(db)

        assert serving.stop(signal.SIGINT, to_group=True) == 0, serving.output()
        assert left_running(serving.home) == {}, "processes left running"
    finally:
        serving.kill_leftovers()
    assert "Stopped." in serving.output()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT status FROM calls WHERE call_id = ?", [CALL]).fetchall() == [("scored",)]


def test_sigterm_to_the_main_process_stops_server_and_pauses_schedule(tmp_path, recordings):
    """systemd's stop (SIGTERM to the main process only): the server it started goes too."""
    args = [str(recordings), "--db", str(tmp_path / "callqa.duckdb"), "--model", "tiny.en", "--cron", "0 3 * * *"]
    serving = Serving(tmp_path, *args)
    try:
        deployment = serving.wait_for("deployment", serving.deployment, timeout=180)
        assert deployment["schedules"][0]["schedule"]["cron"] == "0 3 * * *"
        assert deployment["schedules"][0]["schedule"]["timezone"]  # the machine's zone, never unset (UTC)
        serving.wait_for("serving", lambda: "Ctrl-C stops" in serving.output(), timeout=60)
        assert serving.stop(signal.SIGTERM, to_group=False) == 0, serving.output()
        assert left_running(serving.home) == {}, "processes left running"
    finally:
        serving.kill_leftovers()
    assert "All deployments have been paused" in serving.output()
