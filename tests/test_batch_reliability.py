"""What a real night meets: files still being written, changed recordings, call ids taken twice,
failures that cannot pass until the file changes, retention run from elsewhere, imports that
would replace a recording. Through the real flow (Whisper tiny.en on short real-audio clips:
these tests are about what the batch decides, not about what Whisper hears)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydub import AudioSegment

from conftest import SAMPLES
from pipeline.batch import split_unsettled
from pipeline.records import CallMeta
from pipeline.store.database import Store

CALLQA = str(Path(sys.executable).with_name("callqa"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Short stereo clips with different content (15 s of sample calls)."""
    folder = tmp_path_factory.mktemp("clips")
    out = {}
    for name, source in (("one", "c07_no_closing_thanks.flac"), ("two", "c02_no_name.mp3"),
                         ("three", "c01_model_call.ogg"), ("four", "c03_no_duration.ogg")):
        AudioSegment.from_file(SAMPLES / source)[:15000].export(folder / f"{name}.wav", format="wav")
        out[name] = folder / f"{name}.wav"
    return out


def _old(path: Path) -> Path:
    """Give a file an mtime well in the past, as a recording finished long ago has."""
    past = time.time() - 3600
    os.utime(path, (past, past))
    return path


def _run(folder: Path, db: Path) -> dict:
    from flows.nightly import nightly_scoring

    return nightly_scoring(recordings=str(folder), db=str(db), model="tiny.en", language="en", concurrency=1)


def test_a_file_still_growing_is_left_for_the_next_run(tmp_path):
    growing = tmp_path / "growing.wav"
    growing.write_bytes(b"RIFF")
    settled = tmp_path / "done.wav"
    settled.write_bytes(b"RIFF" * 10)
    _old(settled)
    stop = threading.Event()

    def record():
        while not stop.is_set():
            with open(growing, "ab") as fh:
                fh.write(b"\0" * 1000)
            time.sleep(0.05)

    writer = threading.Thread(target=record)
    writer.start()
    try:
        calls = [CallMeta("growing", str(growing)), CallMeta("done", str(settled))]
        finished, writing = split_unsettled(calls, recent_s=60, wait_s=0.5)
    finally:
        stop.set()
        writer.join()
    assert [c.call_id for c in finished] == ["done"] and [c.call_id for c in writing] == ["growing"]


@pytest.mark.slow  # a flow run of its own: the fast tier has one end-to-end batch
def test_a_night_of_awkward_recordings(tmp_path, clips, prefect_harness):
    folder, db = tmp_path / "in", tmp_path / "qa.duckdb"
    folder.mkdir()
    # two files whose names give the same call id (inv-1), one empty file, one exact copy of another
    shutil.copy(clips["one"], folder / "20261123T101500_a001_inv-1.wav")
    shutil.copy(clips["two"], folder / "20261124T090000_a002_inv-1.wav")
    (folder / "empty.wav").write_bytes(b"")
    shutil.copy(clips["one"], folder / "copy_of_one.wav")
    for path in folder.iterdir():
        _old(path)

    first = _run(folder, db)
    store = Store(db)
    calls = store.query("SELECT call_id, status, permanent_failure, source_path, attempts FROM calls").set_index("call_id")
    inv = [c for c in calls.index if c.startswith("inv-1")]
    assert len(inv) == 2 and (calls.loc[inv, "status"] == "scored").all()  # neither hidden behind the other
    assert calls.loc["empty", "status"] == "failed" and calls.loc["empty", "permanent_failure"]
    assert calls.loc["copy_of_one", "status"] == "failed" and calls.loc["copy_of_one", "permanent_failure"]
    assert all(Path(p).is_absolute() for p in calls.source_path)
    assert first["failed"] == 2

    # nothing changed: nothing scored, nothing retried, nothing failed again
    second = _run(folder, db)
    assert (second["scored"], second["failed"]) == (0, 0)
    assert any("not retried until they change" in w for w in second["warnings"])

    # the recorder rewrites one call (it was still being written when scored): scored again
    changed = folder / "20261123T101500_a001_inv-1.wav"
    target = next(c for c in inv if store.query("SELECT source_path FROM calls WHERE call_id = ?", [c]).source_path[0] == str(changed))
    shutil.copy(clips["three"], changed)
    _old(changed)
    shutil.copy(clips["four"], folder / "empty.wav")  # the empty file is now a recording
    _old(folder / "empty.wav")
    third = _run(folder, db)
    assert third["scored"] == 2, third
    after = Store(db).query("SELECT call_id, status, attempts FROM calls").set_index("call_id")
    assert after.loc[target, "attempts"] == 2 and after.loc["empty", "status"] == "scored"
    assert len(after) == len(calls)  # replaced, never duplicated


@pytest.mark.slow  # a flow run of its own: the fast tier has one end-to-end batch
def test_retention_from_another_directory_deletes_only_the_scored_recordings(tmp_path, clips, prefect_harness):
    folder, db = tmp_path / "in", tmp_path / "qa.duckdb"
    folder.mkdir()
    shutil.copy(clips["one"], folder / "keep.wav")
    _old(folder / "keep.wav")
    _run(folder, db)
    with Store(db).transaction() as con:
        con.execute("UPDATE calls SET started_at = TIMESTAMP '2020-01-01'")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "in").mkdir(parents=True)
    decoy = elsewhere / "in" / "keep.wav"  # same relative name, another directory
    decoy.write_bytes(b"someone else's file")
    done = subprocess.run([CALLQA, "retention", "--days", "30", "--delete-recordings", "--db", str(db)],
                          cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert decoy.read_bytes() == b"someone else's file"
    assert not (folder / "keep.wav").exists()


@pytest.mark.slow  # a flow run of its own: the fast tier has one end-to-end batch
def test_an_import_never_replaces_a_scored_recording(tmp_path, clips, prefect_harness):
    folder, db = tmp_path / "in", tmp_path / "qa.duckdb"
    folder.mkdir()
    shutil.copy(clips["one"], folder / "c1.wav")
    _old(folder / "c1.wav")
    _run(folder, db)
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(json.dumps({"id": "c1", "turns": [{"speaker": "agent", "text": "hello", "start_ms": 0, "duration_ms": 900}]}) + "\n"
                          + json.dumps({"id": "t2", "turns": [{"speaker": "agent", "text": "hello", "start_ms": 0, "duration_ms": 900}]}) + "\n")
    done = subprocess.run([CALLQA, "import", str(transcript), "--db", str(db)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 1 and "already holds a scored recording" in done.stdout
    calls = Store(db).query("SELECT call_id, channel_layout FROM calls ORDER BY call_id")
    assert calls.values.tolist() == [["c1", "agent_left"], ["t2", "transcript"]]


@pytest.mark.slow
def test_through_the_cli_growing_overlong_and_imported_files_and_a_rescore_during_a_run(tmp_path, clips):
    """`callqa score` on a folder where one file is still being written and one is over the length
    limit; `callqa rescore` while a run holds the database; retention never deletes an imported
    transcript file."""
    folder, db = tmp_path / "in", tmp_path / "qa.duckdb"
    folder.mkdir()
    shutil.copy(clips["one"], folder / "done.wav")
    long = AudioSegment.from_file(clips["two"]) * 3  # 45 s, over a 0.5-minute limit
    long.export(folder / "too_long.wav", format="wav")
    for path in folder.iterdir():
        _old(path)
    growing = folder / "growing.wav"
    growing.write_bytes(clips["three"].read_bytes()[:44])
    stop = threading.Event()

    def record():
        data = clips["three"].read_bytes()
        step = 0
        while not stop.is_set():
            step += 1
            with open(growing, "ab") as fh:
                fh.write(data[44 + (step - 1) * 2000: 44 + step * 2000])
            time.sleep(0.1)

    writer = threading.Thread(target=record)
    writer.start()
    env = {**os.environ, "COLUMNS": "250", "CALLQA_MAX_CALL_MINUTES": "0.5"}
    try:
        done = subprocess.run([CALLQA, "score", str(folder), "--db", str(db), "--model", "tiny.en", "--concurrency", "1"],
                              capture_output=True, text=True, env=env, timeout=600)
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    calls = Store(db).query("SELECT call_id, status, error, permanent_failure FROM calls").set_index("call_id")
    assert calls.loc["done", "status"] == "scored"
    assert "over the 0.5-minute limit" in calls.loc["too_long", "error"]
    assert calls.loc["too_long", "permanent_failure"]
    assert "growing" not in calls.index and "still being written" in done.stdout

    # a rescore while another run holds the database: busy, exit 3, one line
    holder = subprocess.Popen([sys.executable, "-c", f"import time\nfrom pipeline.store.database import Store\n"
                               f"with Store({str(db)!r}).run_lock():\n print('held', flush=True); time.sleep(20)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = subprocess.run([CALLQA, "rescore", "--db", str(db)], capture_output=True, text=True, env=env, timeout=120)
        assert busy.returncode == 3 and "Traceback" not in busy.stderr and len(busy.stderr.strip().splitlines()) == 1
    finally:
        holder.kill()
        holder.wait()

    # an imported transcript's file is never deleted by retention
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(json.dumps({"id": "t1", "turns": [{"speaker": "agent", "text": "hello", "start_ms": 0}]}) + "\n")
    assert subprocess.run([CALLQA, "import", str(transcript), "--db", str(db)], capture_output=True, env=env,
                          timeout=300).returncode == 0
    with Store(db).transaction() as con:
        con.execute("UPDATE calls SET started_at = TIMESTAMP '2020-01-01'")
    purge = subprocess.run([CALLQA, "retention", "--days", "30", "--delete-recordings", "--db", str(db)],
                           capture_output=True, text=True, env=env, timeout=120)
    assert purge.returncode == 0 and transcript.exists() and "imported transcript" in purge.stdout
    assert not (folder / "done.wav").exists()  # the scored recording inside the folder went
