"""Detection against labels: the metrics, the labels file, the `import` and `eval` commands."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli.corpus import register
from pipeline.scoring.evaluate import Disagreement, LabelError, evaluate, load_labels, render_text

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "data" / "eval"


def test_metrics_on_a_hand_made_case():
    labels = {
        "c1": {"greeting": "pass", "thank_you": "pass", "hold_thanked": "na"},
        "c2": {"greeting": "pass", "thank_you": "fail", "hold_thanked": "fail"},
        "c3": {"greeting": "fail", "thank_you": "pass", "hold_thanked": "pass"},
        "c4": {"greeting": "pass"},
    }
    predicted = {
        "c1": {"greeting": "pass", "thank_you": "uncertain", "hold_thanked": "na"},
        "c2": {"greeting": "pass", "thank_you": "pass", "hold_thanked": "fail"},
        "c3": {"greeting": "pass", "thank_you": "pass"},  # hold_thanked missing
        "c9": {"greeting": "pass"},                         # not labelled: ignored
    }
    report = evaluate(predicted, labels)
    assert report.calls == 3 and report.missing_calls == ["c4"]

    greeting = report.items["greeting"]
    assert (greeting.tp, greeting.fp, greeting.fn, greeting.tn) == (2, 1, 0, 0)
    assert greeting.precision == pytest.approx(2 / 3) and greeting.recall == 1.0
    assert greeting.f1 == pytest.approx(0.8)

    thanks = report.items["thank_you"]
    assert (thanks.tp, thanks.fp, thanks.fn, thanks.tn, thanks.uncertain) == (1, 1, 1, 0, 1)
    assert thanks.precision == 0.5 and thanks.recall == 0.5 and thanks.f1 == 0.5
    assert thanks.confusion[("pass", "uncertain")] == 1

    held = report.items["hold_thanked"]
    assert (held.tp, held.fp, held.fn, held.tn) == (0, 0, 1, 2)
    assert held.precision is None and held.recall == 0.0 and held.f1 == 0.0
    assert held.confusion[("pass", "missing")] == 1 and held.accuracy == pytest.approx(2 / 3)

    overall = report.overall
    assert (overall.tp, overall.fp, overall.fn, overall.tn) == (3, 2, 2, 2) and overall.n == 9
    assert set(report.disagreements) == {
        Disagreement("c3", "greeting", "fail", "pass"), Disagreement("c1", "thank_you", "pass", "uncertain"),
        Disagreement("c2", "thank_you", "fail", "pass"), Disagreement("c3", "hold_thanked", "pass", "missing"),
    }
    text = render_text(report)
    assert "greeting" in text and "0.80" in text and "pred uncertain" in text and "pred missing" in text
    assert "labelled but not predicted (1): c4" in text


def test_no_pass_anywhere_gives_undefined_figures():
    report = evaluate({"c": {"x": "na"}}, {"c": {"x": "na"}})
    stats = report.items["x"]
    assert stats.precision is None and stats.recall is None and stats.f1 is None and stats.accuracy == 1.0
    assert "-" in render_text(report)


def test_labels_files_json_and_jsonl(tmp_path):
    listed = tmp_path / "a.json"
    listed.write_text(json.dumps([{"call_id": "c1", "expected_items": {"greeting": "pass"}, "script": []}]))
    lines = tmp_path / "b.jsonl"
    lines.write_text('{"call_id": "c2", "expected_items": {"greeting": "fail"}}\n\n')
    assert load_labels(listed, lines) == {"c1": {"greeting": "pass"}, "c2": {"greeting": "fail"}}
    samples = load_labels(ROOT / "data" / "samples" / "labels.json")
    assert len(samples) == 12 and samples["c02_no_name"]["introduce_name"] == "fail"

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"call_id": "c3", "expected_items": {"greeting": "maybe"}}\n')
    with pytest.raises(LabelError, match=r"bad.jsonl:1: .*'maybe'"):
        load_labels(bad)
    with pytest.raises(LabelError, match="labelled twice"):
        load_labels(listed, listed)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _write_corpus(tmp_path):
    calls = [
        {"id": "k1", "turns": [
            {"speaker": "agent", "text": "Hello, thank you for calling Contoso Bank, my name is Sarah.", "start_ms": 500, "duration_ms": 4000},
            {"speaker": "customer", "text": "Hi, what's my balance?", "start_ms": 5000, "duration_ms": 1500},
            {"speaker": "agent", "text": "It's forty pounds. Thank you for calling, bye.", "start_ms": 7000, "duration_ms": 3000},
        ]},
        {"id": "k2", "turns": [
            {"speaker": "agent", "text": "Yes?", "start_ms": 500, "duration_ms": 500},
            {"speaker": "customer", "text": "Thank you, my name is Ann.", "start_ms": 1500, "duration_ms": 1500},
        ]},
    ]
    transcripts = tmp_path / "calls.jsonl"
    transcripts.write_text("\n".join(json.dumps(c) for c in calls) + "\n")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([
        {"call_id": "k1", "expected_items": {"greeting": "pass", "introduce_name": "pass", "thank_you": "pass", "explanation": "pass"}},
        {"call_id": "k2", "expected_items": {"greeting": "fail", "introduce_name": "fail", "thank_you": "fail"}},
    ]))
    return transcripts, labels


def test_import_then_eval_from_the_database(tmp_path):
    transcripts, labels = _write_corpus(tmp_path)
    db = tmp_path / "qa.duckdb"
    runner = CliRunner()
    result = runner.invoke(_app(), ["import", str(transcripts), "--db", str(db)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "imported 2 calls" in result.output and "k1" in result.output and "k2" in result.output

    result = runner.invoke(_app(), ["eval", str(labels), "--db", str(db)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "introduce_name" in result.output and "f1" in result.output
    assert "Disagreements (1)" in result.output  # k1 explanation: labelled pass, not said
    assert "explanation" in result.output

    # a labelled call the database lacks: report the rest, exit 1
    extra = tmp_path / "more.json"
    extra.write_text(json.dumps([{"call_id": "k3", "expected_items": {"greeting": "pass"}}]))
    result = runner.invoke(_app(), ["eval", str(labels), str(extra), "--db", str(db)], terminal_width=200)
    assert result.exit_code == 1 and "k3" in result.output and "no result" in result.output


def test_eval_with_transcripts_needs_no_database(tmp_path):
    transcripts, labels = _write_corpus(tmp_path)
    result = CliRunner().invoke(
        _app(), ["eval", str(labels), "--transcripts", str(transcripts), "--db", str(tmp_path / "none.duckdb")],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "none.duckdb").exists()
    assert "greeting" in result.output


def test_command_errors(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "turns": [{"speaker": "bot", "text": "hi"}]}\n')
    result = runner.invoke(_app(), ["import", str(bad), "--db", str(tmp_path / "qa.duckdb")], terminal_width=200)
    assert result.exit_code == 1 and "bad.jsonl:1" in result.output and "unknown speaker" in result.output
    _, labels = _write_corpus(tmp_path)
    result = runner.invoke(_app(), ["eval", str(labels), "--db", str(tmp_path / "missing.duckdb")], terminal_width=200)
    assert result.exit_code == 2 and "no callqa database" in result.output


def test_eval_corpus_runs_and_prints_per_item_f1():
    """The labelled corpus in data/eval, scored in memory: it runs and reports every item (no thresholds)."""
    labels = [EVAL / "shared_labels.json", EVAL / "synthetic_labels.json"]
    transcripts = [EVAL / "shared_transcripts.jsonl", EVAL / "synthetic_transcripts.jsonl"]
    expected = load_labels(*labels)
    assert len(expected) >= 36  # + the 12 audio samples in data/samples/labels.json: 40 and more
    args = ["eval", *map(str, labels)] + [a for t in transcripts for a in ("--transcripts", str(t))]
    result = CliRunner().invoke(_app(), args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"{len(expected)} calls" in result.output
    for item in ("greeting", "introduce_name", "introduce_company", "duration", "explanation", "thank_you",
                 "hold_announced", "hold_within_standard", "hold_thanked"):
        assert item in result.output
    assert "f1" in result.output and "Confusion" in result.output


def test_corpus_labels_cover_every_transcript_and_item():
    from pipeline.ingest.transcripts import read_transcripts

    for stem in ("shared", "synthetic"):
        calls = read_transcripts(EVAL / f"{stem}_transcripts.jsonl")
        labels = load_labels(EVAL / f"{stem}_labels.json")
        assert {c.call_id for c in calls} == set(labels)
        assert all(len(items) == 9 for items in labels.values())
