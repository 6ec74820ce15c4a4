"""Past one machine: the nightly flow's calls on Dask workers, one loader writing the database.

Real parts: a real Dask LocalCluster of two worker processes (prefect-dask), real Whisper
(tiny.en, English given), a real DuckDB file, the Prefect test server. Workers stage each call's
rows as Parquet (`pipeline.worker`); the flow's process alone writes DuckDB.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from conftest import copy_samples, settle
from pipeline.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
CALLS = ["c01_model_call", "c04_short_hold_thanks", "c05_long_hold"]


def _counts(db: Path) -> dict:
    with Store(db).connect(read_only=True) as con:
        return {
            "calls": con.execute("SELECT count(*), count(DISTINCT call_id), max(attempts) FROM calls").fetchone(),
            "status": dict(con.execute("SELECT call_id, status FROM calls").fetchall()),
            "utterances": con.execute("SELECT count(*) - count(DISTINCT (call_id, idx)) FROM utterances").fetchone()[0],
            "scores": con.execute("SELECT count(*), count(DISTINCT call_id) FROM call_scores").fetchone(),
        }


def test_staged_calls_of_an_earlier_run_are_loaded_not_scored_again(tmp_path, prefect_harness):
    """A worker staged a call and the loader died before loading it: the next run loads it and
    does not transcribe it again; a worker's half-written folder is cleared."""
    from flows.nightly import nightly_scoring, staging_folder
    from pipeline.batch import plan_batch
    from pipeline.process import PipelineOptions
    from pipeline.scoring.scorecard import load_scorecard
    from pipeline.audio.transcribe import TranscribeOptions
    from pipeline.worker import score_and_stage

    recordings = tmp_path / "recordings"
    copy_samples(recordings, ["c01_model_call"])
    settle(recordings)
    db = tmp_path / "callqa.duckdb"
    staged = staging_folder(db)
    [meta] = plan_batch(recordings, Store(db), None).todo
    summary = score_and_stage(meta, load_scorecard(), PipelineOptions(model="tiny.en", transcribe=TranscribeOptions(language="en")),
                              staged, run_id="earlier")
    assert summary.status == "scored"
    half = staged / ".c-c02_no_name-0123456789ab.otherhost-4242.tmp"
    half.mkdir()
    (half / "calls.parquet").write_bytes(b"PAR1 half written")

    outcome = nightly_scoring(recordings=str(recordings), db=str(db), model="tiny.en", language="en", concurrency=1)
    assert (outcome["scored"], outcome["skipped"]) == (0, 1)  # loaded, so already scored: not transcribed again
    with Store(db).connect(read_only=True) as con:
        assert con.execute("SELECT call_id, status, run_id, attempts FROM calls").fetchall() == [
            ("c01_model_call", "scored", "earlier", 1)]
    assert list(staged.iterdir()) == []  # loaded folders and the dead worker's half folder are gone


@pytest.mark.parametrize("cluster", ["local:x", "local:0", "tcp://127.0.0.1:1", "nohost"])
def test_a_cluster_that_cannot_work_is_refused_at_once(tmp_path, cluster):
    from typer.testing import CliRunner

    from flows.cli import app

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    run = CliRunner().invoke(app, ["score", str(recordings), "--db", str(tmp_path / "x.duckdb"), "--cluster", cluster])
    assert run.exit_code == 2, run.output
    assert "--cluster" in run.output and "Traceback" not in run.output
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.slow
def test_calls_on_two_dask_workers_one_killed_mid_call(tmp_path, prefect_harness):
    """Three calls on a cluster of two worker processes; one worker is killed (SIGKILL) while it
    transcribes: Dask runs that call again on a live worker, and every call is stored exactly once."""
    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    from flows.nightly import nightly_scoring

    recordings = tmp_path / "recordings"
    copy_samples(recordings, CALLS)
    settle(recordings)
    db = tmp_path / "callqa.duckdb"
    killed: list[int] = []

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"CALLQA_THREADS": "1"}) as cluster, Client(cluster) as client:
        def kill_one_busy_worker() -> None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not killed:
                busy = [address for address, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(1)  # the call in hand, far from staged (its worker still loads Whisper and spaCy)
                    pids = client.run(os.getpid, workers=busy[:1])
                    if pids:
                        pid = next(iter(pids.values()))
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                time.sleep(0.2)

        killer = threading.Thread(target=kill_one_busy_worker, daemon=True)
        killer.start()
        flow = nightly_scoring.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        outcome = flow(recordings=str(recordings), db=str(db), model="tiny.en", language="en",
                       cluster=cluster.scheduler_address)
        killer.join(timeout=5)

    assert killed, "no worker was seen busy with a call"
    assert outcome["scored"] == len(CALLS) and outcome["failed"] == 0, outcome
    counts = _counts(db)
    assert counts["calls"] == (len(CALLS), len(CALLS), 1)  # each call once, loaded once
    assert set(counts["status"].values()) == {"scored"}
    assert counts["utterances"] == 0
    assert counts["scores"] == (len(CALLS), len(CALLS))
    staged = db.with_name(db.name + ".staging")
    assert [p.name for p in staged.iterdir() if not p.name.startswith(".")] == []
