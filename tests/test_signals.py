"""Stopping `callqa score`: Ctrl-C, a systemd stop, a SIGTERM to callqa alone, a kill -9.

What a stop must do (flows/schedule.py, `OneOffRun`): end within seconds with 128 + the signal's
number and no traceback, keep only complete calls in the database (the call in hand is
abandoned whole; a re-run scores it and the rest, nothing twice), leave the Prefect flow run
Cancelled, and leave nothing running: not the temporary Prefect server, not a decoder.

Every test drives the real CLI as a subprocess in its own session, as a terminal or systemd
starts it, with its own PREFECT_HOME: every process a run starts carries it in its environment,
which is how "nothing is left running" is checked (as in test_schedule.py). The temporary server
is gone once callqa has exited, so the flow run's state is read from its SQLite database.
"""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import SAMPLES, left_running, processes_with, settle

CALLQA = str(Path(sys.executable).with_name("callqa"))
# Different content in every file (a copy of one call would be stored as a duplicate of it).
SOURCES = ("c01_model_call.ogg", "c07_no_closing_thanks.flac", "c02_no_name.mp3")
SLICE_MS = 25_000
STOP_WITHIN_S = 10.0


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """Six 25 s calls (two slices of three sample calls), dated an hour back (settled)."""
    from pydub import AudioSegment

    folder = tmp_path_factory.mktemp("recordings")
    for i, source in enumerate(SOURCES):
        audio = AudioSegment.from_file(SAMPLES / source)
        for j, start in enumerate((0, SLICE_MS)):
            audio[start:start + SLICE_MS].export(folder / f"call{2 * i + j}.mp3", format="mp3")
    settle(folder)
    return folder


class Scoring:
    """`callqa score` in its own session, with its own PREFECT_HOME; stdout and stderr kept apart."""

    def __init__(self, tmp_path: Path, recordings: Path, name: str = "run") -> None:
        self.home, self.db = tmp_path / "prefect", tmp_path / "callqa.duckdb"
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "COLUMNS": "200"}
        env.pop("PREFECT_API_URL", None)
        self.started = time.monotonic()
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                [CALLQA, "score", str(recordings), "--db", str(self.db), "--model", "tiny.en", "--concurrency", "1"],
                env=env, cwd=tmp_path, stdout=out, stderr=err, start_new_session=True,
            )

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output()):
            assert self.process.poll() is None, f"callqa exited ({self.process.returncode}) before {pattern!r}:\n{self.output()[-4000:]}"
            assert time.monotonic() < deadline, f"no {pattern!r} within {timeout:g} s:\n{self.output()[-4000:]}"
            time.sleep(0.2)

    def stop(self, sig: int, to_group: bool) -> tuple[int, float]:
        """The signal (to the whole group, as Ctrl-C or a systemd stop; else to callqa alone);
        the exit code and how long the exit took."""
        sent = time.monotonic()
        if to_group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"callqa still running 60 s after {signal.Signals(sig).name}:\n{self.output()[-4000:]}")
        return code, time.monotonic() - sent

    def kill_leftovers(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in processes_with(self.home):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def flow_runs(self) -> list[tuple[str, str]]:
        """(name, state type) of every flow run, from the temporary server's SQLite."""
        with sqlite3.connect(f"file:{self.home / 'prefect.db'}?mode=ro", uri=True) as con:
            return con.execute("SELECT name, state_type FROM flow_run").fetchall()

    def task_run_states(self) -> list[str]:
        with sqlite3.connect(f"file:{self.home / 'prefect.db'}?mode=ro", uri=True) as con:
            return [row[0] for row in con.execute("SELECT state_type FROM task_run")]


def _calls(db: Path) -> dict[str, dict]:
    """Every stored call with what it has: call_scores, item_results, metrics rows; attempts, run."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""SELECT c.call_id, c.status, c.attempts, c.run_id,
            (SELECT count(*) FROM call_scores s WHERE s.call_id = c.call_id),
            (SELECT count(*) FROM item_results r WHERE r.call_id = c.call_id),
            (SELECT count(*) FROM metrics m WHERE m.call_id = c.call_id)
            FROM calls c ORDER BY c.call_id""").fetchall()
    keys = ("status", "attempts", "run_id", "scores", "items", "metrics")
    return {row[0]: dict(zip(keys, row[1:])) for row in rows}


def _assert_complete(calls: dict[str, dict]) -> None:
    for call_id, call in calls.items():
        assert call["status"] == "scored", (call_id, call)
        assert call["scores"] == 1 and call["items"] > 0 and call["metrics"] == 1, (call_id, call)


def _assert_stopped_cleanly(run: Scoring, sig: int, code: int, took: float) -> dict[str, dict]:
    """Code 128+sig within seconds, no traceback, one stop line, nothing running, only complete
    calls (as many as the line says), the flow run Cancelled. Returns the stored calls."""
    name = signal.Signals(sig).name
    output = run.output()
    print(f"{name}: exit {code} {took:.2f} s after the signal")  # shown with pytest -s
    assert code == 128 + sig, output[-4000:]
    assert took < STOP_WITHIN_S, f"the stop took {took:.1f} s"
    assert "Traceback" not in output and "Error flushing" not in output, output[-4000:]
    last = run.err.read_text().strip().splitlines()[-1]
    saved = re.match(rf"stopped by {name}: (\d) of 6 call\(s\) saved \(\d scored, 0 failed\), (\d) left for the next run", last)
    assert saved, last
    assert last.endswith(": Cancelled"), last
    assert left_running(run.home) == {}, "processes left running"
    calls = _calls(run.db)
    assert 1 <= len(calls) == int(saved[1]) < 6 and int(saved[2]) == 6 - len(calls)
    _assert_complete(calls)
    ((_, state),) = run.flow_runs()
    assert state == "CANCELLED"
    assert not {"RUNNING", "PENDING"} & set(run.task_run_states())
    return calls


def test_ctrl_c_stops_within_seconds_and_keeps_only_whole_calls(tmp_path, recordings):
    """Ctrl-C in the terminal: SIGINT to the whole foreground process group, mid-batch, as the
    next call is decoded or transcribed (in-process; a file PyAV cannot read goes to ffmpeg as a
    child process, which gets the SIGINT too and fails that call: "could not decode", a failure
    never retried). The call in hand must be abandoned, not stored as failed."""
    run = Scoring(tmp_path, recordings)
    try:
        run.wait_for(r"\[1/6\] call\d")
        code, took = run.stop(signal.SIGINT, to_group=True)
        calls = _assert_stopped_cleanly(run, signal.SIGINT, code, took)  # every stored call scored
    finally:
        run.kill_leftovers()
    assert len(calls) < 6


@pytest.mark.slow
def test_a_systemd_stop_then_a_rerun_scores_the_rest_and_nothing_twice(tmp_path, recordings):
    """systemd's stop (KillMode=control-group or mixed: SIGTERM to the group), then the next run."""
    run = Scoring(tmp_path, recordings)
    try:
        run.wait_for(r"\[1/6\] call\d")
        code, took = run.stop(signal.SIGTERM, to_group=True)
        first = _assert_stopped_cleanly(run, signal.SIGTERM, code, took)
    finally:
        run.kill_leftovers()
    rerun = Scoring(tmp_path, recordings, name="rerun")
    try:
        assert rerun.process.wait(timeout=600) == 0, rerun.output()[-4000:]
    finally:
        rerun.kill_leftovers()
    assert f"scored {6 - len(first)}, failed 0, skipped {len(first)} (already scored)" in rerun.output()
    calls = _calls(rerun.db)
    assert sorted(calls) == [f"call{i}" for i in range(6)]
    _assert_complete(calls)
    assert all(call["attempts"] == 1 for call in calls.values()), calls  # nothing scored twice
    assert all(calls[call_id]["run_id"] == first[call_id]["run_id"] for call_id in first)  # kept as they were
    assert sorted(state for _, state in rerun.flow_runs()) == ["CANCELLED", "COMPLETED"]
    assert left_running(rerun.home) == {}


def test_sigterm_to_the_main_process_only_leaves_nothing_running(tmp_path, recordings):
    """`kill PID` or systemd's KillMode=mixed: only callqa gets the signal, mid-batch."""
    run = Scoring(tmp_path, recordings)
    try:
        run.wait_for(r"\[1/6\] call\d")
        code, took = run.stop(signal.SIGTERM, to_group=False)
        _assert_stopped_cleanly(run, signal.SIGTERM, code, took)
    finally:
        run.kill_leftovers()


def test_a_stop_while_starting_stops_the_server_too(tmp_path, recordings):
    """Ctrl-C while the Prefect server is still starting: no flow run, nothing scored, nothing left."""
    run = Scoring(tmp_path, recordings)
    try:
        deadline = time.monotonic() + 60
        while not (run.home / "callqa-score-server.log").exists():  # the server is being started
            assert run.process.poll() is None and time.monotonic() < deadline, run.output()
            time.sleep(0.1)
        code, took = run.stop(signal.SIGINT, to_group=True)
        print(f"SIGINT while starting: exit {code} {took:.2f} s after the signal")
        assert code == 130 and took < STOP_WITHIN_S, (code, took, run.output())
        assert run.err.read_text().strip().splitlines()[-1].startswith("stopped by SIGINT while starting: nothing scored")
        assert "Traceback" not in run.output()
        assert left_running(run.home) == {}, "processes left running"
        assert not run.db.exists() or _calls(run.db) == {}
    finally:
        run.kill_leftovers()


@pytest.mark.slow
def test_kill_9_of_callqa_takes_its_prefect_server_with_it(tmp_path, recordings):
    """SIGKILL cannot be handled: the temporary server notices its parent died and stops itself."""
    run = Scoring(tmp_path, recordings)
    try:
        run.wait_for(r"call\(s\) to score")
        run.process.kill()
        run.process.wait()
        assert left_running(run.home, grace_s=15) == {}, "processes left running"
    finally:
        run.kill_leftovers()


# --- the flow's side, without a process: RunControl ---------------------------------------------


def test_after_a_stop_nothing_is_written_and_the_summary_says_what_was():
    from flows.nightly import RunControl, RunStopped

    control = RunControl()
    assert control.summary() == "nothing scored; the next run scores every new recording"
    control.planned = 4
    for call_id, scored in (("a", True), ("b", False)):
        control.started(call_id)
        with control.writing():
            control.saved(call_id, scored)
    control.started("c")
    control.request_stop()
    with pytest.raises(RunStopped):
        with control.writing():
            pytest.fail("a write after the stop")
    assert control.summary() == ("2 of 4 call(s) saved (1 scored, 1 failed), 2 left for the next run; "
                                 "abandoned in progress, nothing of it written: c")


def test_the_write_lock_waits_for_a_write_in_progress():
    """The stop takes the write lock only once a transaction in progress has ended."""
    import threading

    from flows.nightly import RunControl

    control, events = RunControl(), []
    inside = threading.Event()

    def write() -> None:
        with control.writing():
            inside.set()
            time.sleep(0.3)
            events.append("committed")

    writer = threading.Thread(target=write)
    writer.start()
    inside.wait(5)
    control.request_stop()
    assert control.writes.acquire(timeout=5)
    events.append("stop holds the lock")
    writer.join()
    assert events == ["committed", "stop holds the lock"]
