"""The whole pipeline on the bundled sample calls: real audio through pydub, Silero VAD,
faster-whisper (Whisper base), spaCy and DuckDB, orchestrated by the real Prefect flow.

Each sample's expected item results and holds are labels stored beside it
(data/samples/labels.json); every labelled finding must be found, and none extra.
"""
from __future__ import annotations

import json
import shutil
import struct

import pytest

from conftest import SAMPLES
from pipeline.store.database import Store

LABELS = {label["call_id"]: label for label in json.loads((SAMPLES / "labels.json").read_text())}
PHRASE_ITEMS = ("greeting", "introduce_name", "introduce_company", "duration", "explanation", "thank_you")
BAD_FILES = {
    "empty_file": ("empty_file.wav", lambda p: p.write_bytes(b""), "empty file"),
    "text_as_wav": ("text_as_wav.wav", lambda p: p.write_text("RIFF? no, a text file\n" * 20), "could not decode"),
    "header_only": ("header_only.wav", lambda p: p.write_bytes(
        b"RIFF" + struct.pack("<I", 36 + 32000) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
        + b"data" + struct.pack("<I", 32000)), "could not decode|too short"),
}


@pytest.fixture(scope="session")
def batch(tmp_path_factory, prefect_harness):
    """Score a copy of data/samples plus broken files, through the nightly flow, into a new DuckDB."""
    from flows.nightly import nightly_scoring

    recordings = tmp_path_factory.mktemp("recordings")
    for path in SAMPLES.iterdir():
        if path.is_file():
            shutil.copy(path, recordings / path.name)
    for name, make, _ in BAD_FILES.values():
        make(recordings / name)
    db = tmp_path_factory.mktemp("db") / "callqa.duckdb"
    outcome = nightly_scoring(recordings=str(recordings), db=str(db), model="base", concurrency=2)
    return recordings, db, outcome


@pytest.fixture(scope="session")
def store(batch):
    return Store(batch[1])


def test_every_sample_is_scored_and_broken_files_fail_alone(batch, store):
    _, _, outcome = batch
    calls = store.query("SELECT call_id, status, error FROM calls").set_index("call_id")
    assert set(LABELS) <= set(calls.index)
    assert (calls.loc[list(LABELS), "status"] == "scored").all(), calls.loc[list(LABELS)]
    for call_id, (_, _, reason) in BAD_FILES.items():
        assert calls.loc[call_id, "status"] == "failed"
        assert pytest.approx(0) != len(calls.loc[call_id, "error"])
        assert any(r in calls.loc[call_id, "error"] for r in reason.split("|")), calls.loc[call_id, "error"]
    assert outcome["scored"] == len(LABELS) and outcome["failed"] == len(BAD_FILES)


@pytest.mark.parametrize("call_id", sorted(LABELS))
def test_labelled_items_and_findings(store, call_id):
    expected = LABELS[call_id]["expected_items"]
    results = store.query(
        "SELECT item_id, outcome, reason FROM item_results WHERE call_id = ?", [call_id]
    ).set_index("item_id")
    got = results["outcome"].to_dict()
    assert got == expected, results.to_string()
    findings = store.query("SELECT item_id, speaker, text, start_s, end_s FROM findings WHERE call_id = ?", [call_id])
    for item in PHRASE_ITEMS:
        mine = findings[findings.item_id == item]
        if expected[item] == "pass":
            assert len(mine), f"{item}: no evidence"
            assert (mine.speaker == "agent").all()
            assert (mine.end_s >= mine.start_s).all() and mine.text.str.len().min() > 0
        else:
            assert mine.empty, f"{item}: unexpected findings\n{mine.to_string()}"


@pytest.mark.parametrize("call_id", sorted(LABELS))
def test_labelled_holds(store, call_id):
    expected = LABELS[call_id]["expected_holds"]
    holds = store.query("SELECT start_s, duration_s FROM holds WHERE call_id = ? ORDER BY hold_idx", [call_id])
    assert len(holds) == len(expected), holds.to_string()
    for got, want in zip(holds.itertuples(), expected):
        assert got.start_s == pytest.approx(want["start_s"], abs=3.0)
        assert got.duration_s == pytest.approx(want["duration_s"], abs=4.0)


def test_metrics_and_speakers(store):
    metrics = store.query("SELECT * FROM metrics").set_index("call_id")
    for call_id in LABELS:
        m = metrics.loc[call_id]
        assert 0 <= m.time_to_answer_s < 10
        assert m.agent_talk_s > 10 and m.customer_talk_s > 2
        assert 0 < m.silence_share < 1
    speakers = store.query("SELECT DISTINCT call_id, speaker FROM utterances")
    assert set(speakers.speaker) == {"agent", "customer"}
    layouts = store.query("SELECT call_id, channel_layout FROM calls WHERE status = 'scored'").set_index("call_id")
    for call_id, label in LABELS.items():
        assert layouts.loc[call_id, "channel_layout"] == label["channel_layout"]


def test_agent_scorecards(store):
    weekly = store.query("SELECT * FROM agent_scorecards WHERE period = 'week'")
    assert {"a001", "a002", "a003"} <= set(weekly.agent_id)
    assert weekly.calls.sum() == len(LABELS)
    assert weekly.holds_over_60s.sum() == sum(
        sum(h["duration_s"] > 60 for h in label["expected_holds"]) for label in LABELS.values())
    daily = store.query("SELECT * FROM agent_scorecards WHERE period = 'day'")
    assert daily.calls.sum() == len(LABELS)
    rates = store.query("SELECT * FROM agent_item_pass_rates WHERE period = 'week'")
    assert rates.pass_rate.dropna().between(0, 1).all()  # NaN: the item never applied


def test_flags_say_why(store):
    flagged = store.query("SELECT call_id, flag_reasons FROM call_scores WHERE flagged").set_index("call_id")
    for call_id, label in LABELS.items():
        if label["expected_items"].get("hold_within_standard") == "fail":
            assert call_id in flagged.index
            assert any("hold" in r for r in flagged.loc[call_id, "flag_reasons"])


def test_rerun_adds_nothing_twice_and_scores_new_files(batch, store):
    from flows.nightly import nightly_scoring

    recordings, db, _ = batch
    tables = ("calls", "utterances", "holds", "metrics", "findings", "item_results", "call_scores")
    before = {t: int(store.query(f"SELECT count(*) AS n FROM {t}").n[0]) for t in tables}
    again = nightly_scoring(recordings=str(recordings), db=str(db), model="base")
    assert again["scored"] == 0 and again["skipped"] == len(LABELS)
    assert again["failed"] == len(BAD_FILES)  # failed files are retried, and fail again
    after = {t: int(store.query(f"SELECT count(*) AS n FROM {t}").n[0]) for t in tables}
    assert after == before
    from pydub import AudioSegment  # a new recording: the same call re-encoded, so other bytes

    AudioSegment.from_file(recordings / LABELS["c02_no_name"]["file"]).export(recordings / "late_arrival.wav", format="wav")
    third = nightly_scoring(recordings=str(recordings), db=str(db), model="base")
    assert third["scored"] == 1
    assert [c["call_id"] for c in third["calls"] if c["status"] == "scored"] == ["late_arrival"]
    assert store.query("SELECT status, agent_id FROM calls WHERE call_id = 'late_arrival'").values.tolist() == [["scored", "unknown"]]


def test_cli_reads_results_back(batch):
    from typer.testing import CliRunner

    from flows.cli import app

    _, db, _ = batch
    runner = CliRunner()
    agents = runner.invoke(app, ["agents", "--db", str(db), "--period", "day"], env={"COLUMNS": "200"})
    assert agents.exit_code == 0 and "a001" in agents.output
    flagged = runner.invoke(app, ["calls", "--flagged", "--db", str(db)], env={"COLUMNS": "200"})
    assert flagged.exit_code == 0 and "c05_long_hold" in flagged.output
    shown = runner.invoke(app, ["show", "c01_model_call", "--db", str(db)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "introduce_name" in shown.output and "agent" in shown.output and "customer" in shown.output


def test_rescore_with_a_new_scorecard_version_keeps_the_old_and_needs_no_audio(batch, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app
    from pipeline.rescore import rescore
    from pipeline.store.reads import compare_versions as compare
    from pipeline.scoring.scorecard import DEFAULT_SCORECARD, load_scorecard

    _, db, _ = batch
    copy = tmp_path / "rescore.duckdb"
    shutil.copy(db, copy)
    store = Store(copy)
    old = load_scorecard()
    lenient = tmp_path / "aidet-90s.yaml"
    lenient.write_text(DEFAULT_SCORECARD.read_text().replace("max_s: 60", "max_s: 90"))
    new = load_scorecard(lenient)
    done = rescore(store, new)  # no model is loaded anywhere in this test
    assert done.calls == len(LABELS) + 1  # the samples and the late arrival
    moved = compare(store, "aidet", old.version, new.version).set_index("call_id")
    assert moved.loc["c05_long_hold", "change"] > 0
    assert "hold_within_standard fail→pass" in moved.loc["c05_long_hold", "items_moved"]
    assert moved.loc["c01_model_call", "change"] == 0
    versions = store.query("SELECT DISTINCT scorecard_version FROM call_scores WHERE call_id = 'c05_long_hold'")
    assert set(versions.scorecard_version) == {old.version, new.version}
    latest = store.query("SELECT scorecard_version FROM latest_scores WHERE call_id = 'c05_long_hold'")
    assert latest.scorecard_version[0] == new.version
    runner = CliRunner()
    sop = runner.invoke(app, ["rescore", "--db", str(copy), "--scorecard", "scorecards/sop.yaml"], env={"COLUMNS": "200"})
    assert sop.exit_code == 0 and "re-scored" in sop.output
    shown = runner.invoke(app, ["compare", "aidet", old.version, new.version, "--db", str(copy)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "c05_long_hold" in shown.output
    bands = store.query("SELECT band FROM latest_scores WHERE scorecard_id = 'sop'")
    assert bands.band.notna().all()
