"""Bad input, crashes and concurrency lose nothing: each case through the real flow or CLI.

One batch holds every kind of bad input beside good calls; it must not abort, each bad input
gets its reason (or a sensible result) recorded with the call, and the good calls score.

All of it is the slow tier (`make test-all`) except the scorecard check, which needs no audio.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import duckdb
import numpy as np
import pytest
from pydub import AudioSegment

from conftest import ROOT, SAMPLES, acceptable, settle
from pipeline.store.database import Store

CALLQA = str(Path(sys.executable).with_name("callqa"))
GOOD = "c01_model_call.ogg"
GOOD_LABEL = next(lb for lb in json.loads((SAMPLES / "labels.json").read_text()) if lb["file"] == GOOD)


def _wav(path: Path, channels: list[np.ndarray], rate: int) -> None:
    data = np.stack(channels, axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())


def _noise(seconds: float, rate: int = 8000, level: float = 0.001) -> np.ndarray:
    return np.random.default_rng(7).normal(0, level, int(seconds * rate))


def _music(seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    notes = 220 * 2 ** (np.floor(t * 2) % 8 / 12)  # a new note every half second
    return 0.2 * np.sin(2 * np.pi * notes * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))


def _make_inputs(folder: Path) -> dict[str, tuple[str, str]]:
    """Write every kind of input; returns call_id -> (expected status, expected reason text)."""
    good = AudioSegment.from_file(SAMPLES / GOOD)
    expect: dict[str, tuple[str, str]] = {}

    (folder / "empty.wav").write_bytes(b"")
    expect["empty"] = ("failed", "empty file")
    _wav(folder / "zero_length.wav", [np.zeros(0), np.zeros(0)], 8000)
    expect["zero_length"] = ("failed", "too short")
    header = b"RIFF" + struct.pack("<I", 36 + 64000) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16)
    (folder / "truncated.wav").write_bytes(header[:30])
    expect["truncated"] = ("failed", "could not decode")
    (folder / "notes.wav").write_text("call notes: customer rang about a bill\n" * 50)
    expect["notes"] = ("failed", "could not decode")
    odd_codec = header[:20] + struct.pack("<H", 0x2222) + header[22:] + b"\x00" * 64000
    (folder / "odd_codec.wav").write_bytes(odd_codec)
    expect["odd_codec"] = ("failed", "could not decode")
    _wav(folder / "silence.wav", [_noise(40), _noise(40)], 8000)
    expect["silence"] = ("failed", "no speech")
    _wav(folder / "music.wav", [_music(40), _noise(40)], 8000)
    expect["music"] = ("failed", "no speech")
    three = np.stack([_music(5)] * 3)
    _wav(folder / "three_channels.wav", list(three), 8000)
    expect["three_channels"] = ("failed", "3 channels")
    for rate in (44100, 48000):
        good.set_frame_rate(rate).export(folder / f"good_{rate}.wav", format="wav")
        expect[f"good_{rate}"] = ("scored", "")
    long_call = good + AudioSegment.silent(duration=(3600 - len(good) / 1000) * 1000, frame_rate=good.frame_rate).set_channels(2)
    long_call.export(folder / "sixty_minutes.flac", format="flac")
    expect["sixty_minutes"] = ("scored", "")
    shutil.copy(SAMPLES / "c07_no_closing_thanks.flac", folder / "Ärger café – 07.flac")
    expect["Ärger café – 07"] = ("scored", "")
    shutil.copy(SAMPLES / "c02_no_name.mp3", folder / "c02_no_name.mp3")
    shutil.copy(SAMPLES / "c02_no_name.mp3", folder / "c02_no_name_copy.mp3")
    expect["c02_no_name"] = ("scored", "")
    expect["c02_no_name_copy"] = ("failed", "same audio as call 'c02_no_name'")
    shutil.copy(SAMPLES / "c09_agent_right.m4a", folder / "c09_agent_right.m4a")
    expect["c09"] = ("scored", "")
    shutil.copy(SAMPLES / "c06_hold_no_apology.mp3", folder / "c06_hold_no_apology.mp3")
    expect["c06_hold_no_apology"] = ("failed", "manifest.csv:4: started_at")
    (folder / "manifest.csv").write_text(
        "file,call_id,agent_id,agent_name,started_at,channel_layout,phone_system_ref\n"
        "c09_agent_right.m4a,c09,a002,Daniel,2026-11-20T10:00:00,agent_right,X1\n"
        "missing.mp3,missing,a002,Daniel,2026-11-20T11:00:00,agent_left,X2\n"
        "c06_hold_no_apology.mp3,c06_hold_no_apology,a003,Priya,the day before yesterday,agent_left,X3\n"
    )
    expect["missing"] = ("failed", "file not found")
    return expect


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory, prefect_harness):
    from flows.nightly import nightly_scoring

    folder = tmp_path_factory.mktemp("bad inputs")
    expect = _make_inputs(folder)
    settle(folder)
    db = tmp_path_factory.mktemp("db") / "callqa.duckdb"
    outcome = nightly_scoring(recordings=str(folder), db=str(db), model="base")
    return folder, db, outcome, expect


@pytest.mark.slow
def test_every_bad_input_fails_alone_with_its_reason(bad_batch):
    _, db, outcome, expect = bad_batch
    calls = Store(db).query("SELECT call_id, status, error, agent_id, duration_s FROM calls").set_index("call_id")
    assert set(expect) <= set(calls.index), set(expect) - set(calls.index)
    for call_id, (status, reason) in expect.items():
        row = calls.loc[call_id]
        assert row.status == status, (call_id, row.error)
        if status == "failed":
            assert reason in row.error, (call_id, row.error)
    assert outcome["failed"] == sum(s == "failed" for s, _ in expect.values())
    assert any("phone_system_ref" in w for w in outcome["warnings"])
    assert calls.loc["c09", "agent_id"] == "a002"                 # row used
    assert calls.loc["Ärger café – 07", "agent_id"] == "unknown"  # no row: still scored
    assert calls.loc["sixty_minutes", "duration_s"] == pytest.approx(3600, abs=1)


@pytest.mark.slow
def test_odd_sample_rates_and_a_long_call_score_as_labelled(bad_batch):
    """Resampled copies are other audio to Whisper: each is held to c01's labels (a pass may be
    uncertain), not to the other copies' outcomes, and its hold to c01's within seconds."""
    _, db, _, _ = bad_batch
    store = Store(db)
    items = store.query("SELECT call_id, item_id, outcome FROM item_results")
    by_call = {cid: dict(zip(g.item_id, g.outcome)) for cid, g in items.groupby("call_id")}
    expected = GOOD_LABEL["expected_items"]
    [hold] = GOOD_LABEL["expected_holds"]
    for call_id in ("good_44100", "good_48000", "sixty_minutes"):
        got = by_call[call_id]
        assert set(got) == set(expected)
        wrong = {i: (expected[i], got[i]) for i in expected if got[i] not in acceptable(GOOD_LABEL["call_id"], i, expected[i])}
        assert not wrong, (call_id, wrong)
        holds = store.query("SELECT start_s, duration_s FROM holds WHERE call_id = ?", [call_id])
        assert len(holds) == 1, (call_id, holds)
        assert holds.start_s[0] == pytest.approx(hold["start_s"], abs=3)
        assert holds.duration_s[0] == pytest.approx(hold["duration_s"], abs=4)


@pytest.mark.slow
def test_rerun_after_fixing_the_manifest_scores_only_what_failed(bad_batch):
    from flows.nightly import nightly_scoring

    folder, db, first, expect = bad_batch
    manifest = folder / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("the day before yesterday", "2026-11-19T09:30:00"))
    again = nightly_scoring(recordings=str(folder), db=str(db), model="base")
    assert [c["call_id"] for c in again["calls"] if c["status"] == "scored"] == ["c06_hold_no_apology"]
    counts = Store(db).query("SELECT call_id, count(*) AS n FROM calls GROUP BY 1")
    assert (counts.n == 1).all()


def test_invalid_scorecard_is_refused_before_any_audio(tmp_path):
    card = tmp_path / "bad.yaml"
    card.write_text((ROOT / "scorecards" / "aidet.yaml").read_text().replace("weight: 10", "wieght: 10", 1))
    run = subprocess.run([CALLQA, "score", str(SAMPLES), "--db", str(tmp_path / "x.duckdb"), "--scorecard", str(card)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "bad.yaml:" in run.stderr and "wieght" in run.stderr  # errors go to stderr
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.slow
def test_exit_status_says_a_recording_failed(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "broken.wav").write_bytes(b"")
    run = subprocess.run([CALLQA, "score", str(folder), "--db", str(tmp_path / "x.duckdb")],
                         env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "broken" in run.stdout and "empty file" in run.stdout


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "200"}


def _scored(db: Path) -> int:
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT count(*) FROM calls WHERE status = 'scored'").fetchone()[0]
    except (duckdb.IOException, duckdb.CatalogException):
        return 0  # not created yet, or the run holds it this instant


@pytest.mark.slow
def test_kill_9_mid_batch_then_rerun_scores_every_call_exactly_once(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    names = ["c01_model_call.ogg", "c02_no_name.mp3", "c05_long_hold.m4a", "c07_no_closing_thanks.flac", "c09_agent_right.m4a"]
    for name in names:
        shutil.copy(SAMPLES / name, folder / name)
    db = tmp_path / "callqa.duckdb"
    # tiny.en: this test is about what the database keeps, not about what Whisper hears
    command = [CALLQA, "score", str(folder), "--db", str(db), "--concurrency", "1", "--model", "tiny.en"]
    run = subprocess.Popen(command, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while _scored(db) < 1 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.5)
    assert run.poll() is None, "the run finished before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    scored_before = _scored(db)
    assert 1 <= scored_before < len(names)
    rerun = subprocess.run(command, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-2000:]
    store = Store(db)
    calls = store.query("SELECT call_id, status FROM calls")
    assert sorted(calls.call_id) == sorted(Path(n).stem for n in names)
    assert (calls.status == "scored").all()
    per_call = store.query("""SELECT c.call_id,
        (SELECT count(*) FROM call_scores s WHERE s.call_id = c.call_id) AS scores,
        (SELECT count(*) FROM item_results r WHERE r.call_id = c.call_id) AS items,
        (SELECT count(*) FROM metrics m WHERE m.call_id = c.call_id) AS metrics,
        (SELECT count(*) - count(DISTINCT idx) FROM utterances u WHERE u.call_id = c.call_id) AS dup_utterances
        FROM calls c""")
    assert (per_call["scores"] == 1).all() and (per_call["items"] == 9).all() and (per_call["metrics"] == 1).all()
    assert (per_call.dup_utterances == 0).all()


@pytest.mark.slow
def test_second_run_is_refused_and_readers_get_in_while_one_writes(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    for name in ["c01_model_call.ogg", "c05_long_hold.m4a", "c11_two_holds.mp3"]:
        shutil.copy(SAMPLES / name, folder / name)
    db = tmp_path / "callqa.duckdb"
    first = subprocess.Popen([CALLQA, "score", str(folder), "--db", str(db), "--concurrency", "1", "--model", "tiny.en"],
                             env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not (db.with_name(db.name + ".lock").exists() and _scored(db) >= 1) and time.monotonic() < deadline:
        time.sleep(0.5)
    second = subprocess.run([CALLQA, "score", str(folder), "--db", str(db)], env=_env(tmp_path),
                            capture_output=True, text=True, timeout=120)
    reader = subprocess.run([CALLQA, "calls", "--db", str(db)], env=_env(tmp_path),
                            capture_output=True, text=True, timeout=120)
    still_running = first.poll() is None
    out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out[-2000:]
    if still_running:  # the checks ran while the first run was writing
        assert second.returncode == 3 and "another callqa run" in second.stderr
    assert reader.returncode == 0 and "c01_model_call" in reader.stdout
    assert _scored(db) == 3


@pytest.mark.slow
def test_retention_deletes_words_and_recordings_keeps_scores(bad_batch, tmp_path):
    from pipeline.store.retention import apply_retention

    folder, db, _, _ = bad_batch
    copy = tmp_path / "r.duckdb"
    shutil.copy(db, copy)
    store = Store(copy)
    before = store.query("SELECT count(*) AS n FROM call_scores").n[0]
    recording = folder / "keep-or-delete.flac"  # retention deletes only inside the run's folder
    shutil.copy(SAMPLES / "c07_no_closing_thanks.flac", recording)
    with store.connect() as con:
        con.execute("UPDATE calls SET source_path = ?, started_at = TIMESTAMP '2020-01-01' WHERE call_id = 'c09'", [str(recording)])
    purged = apply_retention(store, days=30, delete_recordings=True)
    assert purged.calls == 1 and purged.recordings_deleted == 1 and not recording.exists()
    assert store.query("SELECT count(*) AS n FROM utterances WHERE call_id = 'c09'").n[0] == 0
    assert store.query("SELECT count(*) AS n FROM findings WHERE call_id = 'c09' AND text IS NOT NULL AND speaker IS NOT NULL").n[0] == 0
    assert store.query("SELECT count(*) AS n FROM call_scores").n[0] == before
    assert store.query("SELECT count(*) AS n FROM metrics WHERE call_id = 'c09'").n[0] == 1
    assert store.query("SELECT count(*) AS n FROM utterances WHERE call_id = 'c02_no_name'").n[0] > 0
    assert apply_retention(store, days=30).calls == 0  # idempotent
