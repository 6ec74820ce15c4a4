"""Importing existing transcripts: formats, timing, speakers, bad files, and the database."""
from __future__ import annotations

import json

import pytest

from pipeline.ingest.transcripts import (
    TranscriptError, import_transcripts, language_code, read_transcripts, timed_utterances, Turn,
)


def _jsonl(path, *calls):
    path.write_text("\n".join(json.dumps(c) for c in calls) + "\n", encoding="utf-8")
    return path


MODEL_CALL = {
    "id": "t1", "language": "en-US", "agent_id": "a9",
    "turns": [
        {"speaker": "agent", "text": "Good morning, thank you for calling Contoso Bank, my name is Sarah.", "start_ms": 1000, "duration_ms": 4000},
        {"speaker": "caller", "text": "Hi, my name is Tom, I lost my card.", "start_ms": 6000, "duration_ms": 3000},
        {"speaker": "rep", "text": "Sorry to hear that. Let me check your account, one moment please.", "start_ms": 10000, "duration_ms": 3500},
        {"speaker": "Representative", "text": "Thanks for holding. I'll send a new card, it takes about five working days.", "start_ms": 45000, "duration_ms": 5000},
        {"speaker": "user", "text": "Great, thanks.", "start_ms": 51000, "duration_ms": 1000},
        {"speaker": "agent", "text": "Thank you for calling, goodbye.", "start_ms": 53000, "duration_ms": 2000},
    ],
}


def test_jsonl_call_becomes_a_scored_call_result(tmp_path, scorecard):
    [result] = import_transcripts(_jsonl(tmp_path / "calls.jsonl", MODEL_CALL), scorecard)
    assert result.ok and result.meta.call_id == "t1" and result.meta.agent_id == "a9"
    assert result.channel_layout == "transcript" and result.model == "" and result.language == "en"
    assert [u.speaker for u in result.utterances] == ["agent", "customer", "agent", "agent", "customer", "agent"]
    assert all(not u.words for u in result.utterances)
    assert [(h.start, h.end) for h in result.holds] == [(13.5, 45.0)]
    assert result.metrics.duration_s == 56.0 and result.metrics.hold_count == 1
    assert result.metrics.time_to_answer_s == 1.0
    items = {i.item_id: i.outcome for i in result.score.items}
    assert items["introduce_name"] == "pass" and items["hold_announced"] == "pass"
    assert items["hold_thanked"] == "pass" and items["duration"] == "pass" and items["thank_you"] == "pass"


def test_turns_without_times_get_synthetic_ones(tmp_path, scorecard):
    call = {"id": "chat", "turns": [
        {"speaker": "agent", "text": "one two three four five"},            # 2 s
        {"speaker": "customer", "text": "a b c d e f g h i j"},              # 4 s
        {"speaker": "agent", "text": "bye"},
    ]}
    [result] = import_transcripts(_jsonl(tmp_path / "chat.jsonl", call), scorecard)
    spans = [(u.start, u.end) for u in result.utterances]
    assert spans == [(0.0, 2.0), (2.7, 6.7), (7.4, 7.8)]
    assert result.holds == [] and result.metrics.duration_s == 8.8
    assert result.language == scorecard.language


def test_partly_timed_turns_follow_on():
    utterances = timed_utterances([Turn("agent", "hello there", 5.0, 6.0), Turn("customer", "hi")])
    assert (utterances[1].start, utterances[1].end) == (6.7, 7.1)


def test_json_list_and_csv(tmp_path, scorecard):
    listed = tmp_path / "calls.json"
    listed.write_text(json.dumps([MODEL_CALL, {**MODEL_CALL, "id": "t2"}], indent=2), encoding="utf-8")
    assert [r.meta.call_id for r in import_transcripts(listed, scorecard)] == ["t1", "t2"]

    csv_file = tmp_path / "calls.csv"
    csv_file.write_text(
        "call_id,speaker,start,end,text,agent_id\n"
        "c1,agent,0.5,4,\"Hello, Fabrikam Insurance, this is Maya speaking.\",a7\n"
        "c2,agent,1,3,Hi there.,a8\n"
        "c1,Client,5,8,\"Hi, I need a quote.\",\n"
        "c1,agent,40,44,\"Thanks for waiting, I'll email it today.\",\n",
        encoding="utf-8",
    )
    results = {r.meta.call_id: r for r in import_transcripts(csv_file, scorecard)}
    assert set(results) == {"c1", "c2"} and results["c1"].meta.agent_id == "a7"
    c1 = results["c1"]
    assert [(u.speaker, u.start, u.end) for u in c1.utterances] == [("agent", 0.5, 4.0), ("customer", 5.0, 8.0), ("agent", 40.0, 44.0)]
    assert [(h.start, h.end) for h in c1.holds] == [(4.0, 40.0)]
    assert {i.item_id: i.outcome for i in c1.score.items}["introduce_name"] == "pass"


@pytest.mark.parametrize("speaker,expected", [
    ("caller", "customer"), ("User", "customer"), ("client", "customer"), ("CUSTOMER", "customer"),
    ("rep", "agent"), ("representative", "agent"), ("assistant", "agent"), ("Agent", "agent"),
])
def test_speaker_synonyms(tmp_path, speaker, expected):
    [call] = read_transcripts(_jsonl(tmp_path / "s.jsonl", {"id": "x", "turns": [{"speaker": speaker, "text": "hi"}]}))
    assert call.turns[0].speaker == expected


def test_language_codes():
    assert language_code("en-US", "en") == "en" and language_code("nb_NO", "en") == "nb"
    assert language_code(None, "en") == "en" and language_code("NL", "en") == "nl"


@pytest.mark.parametrize("content,suffix,expected", [
    ('{"id": "a", "turns": [{"speaker": "agent", "text": "hi"}]}\n{"id": "b", "turns": [{"speaker": "bot", "text": "hi"}]}\n',
     ".jsonl", ":2: call 'b' turn 1: unknown speaker 'bot'"),
    ('{"id": "a", "turns": [{"speaker": "agent", "text": "hi"}]}\n\n{"id": "b", "turns": [\n', ".jsonl", ":3: not valid JSON"),
    ('{"id": "a", "turns": []}\n', ".jsonl", ":1: call 'a' needs a non-empty list 'turns'"),
    ('{"turns": [{"speaker": "agent", "text": "hi"}]}\n', ".jsonl", ":1: the call has no 'id'"),
    ('{"id": "a", "turns": [{"speaker": "agent", "text": "hi", "start_ms": "soon"}]}\n', ".jsonl", "start_ms must be a number"),
    ('{"id": "a", "turns": [{"speaker": "agent", "text": "hi"}]}\n{"id": "a", "turns": [{"speaker": "agent", "text": "yo"}]}\n',
     ".jsonl", ":2: call id 'a' already used at"),
    ('[\n {"id": "a", "turns": [{"speaker": "agent", "text": "hi"}]},\n {"id": "b",\n  "turns": [{"speaker": "robot", "text": "x"}]}\n]',
     ".json", ":3: call 'b' turn 1: unknown speaker 'robot'"),
    ('[\n {"id": "a", "turns": []\n', ".json", "not valid JSON"),
    ("call_id,speaker,start,end,text\nc1,agent,0,1,hi\nc1,supervisor,1,2,hello\n", ".csv", ":3: unknown speaker 'supervisor'"),
    ("call_id,speaker,start,end,text\nc1,agent,zero,1,hi\n", ".csv", ":2: start must be a number"),
    ("call_id,speaker,text\nc1,agent,hi\n", ".csv", ":1: CSV header lacks start, end"),
    ("call_id,speaker,start,end,text\nc1,agent,5,1,hi\n", ".csv", ":2: end 1 is before start 5"),
    ("", ".jsonl", "the file is empty"),
])
def test_bad_files_name_the_file_and_line(tmp_path, content, suffix, expected):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TranscriptError) as error:
        read_transcripts(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_missing_file_is_a_transcript_error(tmp_path):
    with pytest.raises(TranscriptError, match="cannot read"):
        read_transcripts(tmp_path / "nope.jsonl")


def test_reimport_into_duckdb_adds_nothing_twice(tmp_path, scorecard):
    from pipeline.store.database import Store
    from pipeline.store.writes import save_call

    path = _jsonl(tmp_path / "calls.jsonl", MODEL_CALL, {**MODEL_CALL, "id": "t2", "agent_id": "a8"})
    store = Store(tmp_path / "qa.duckdb")
    counts = []
    for _ in range(2):
        for result in import_transcripts(path, scorecard):
            save_call(store, result)
        counts.append({
            table: int(store.query(f"SELECT count(*) AS n FROM {table}")["n"][0])
            for table in ("calls", "utterances", "holds", "metrics", "item_results", "call_scores", "findings")
        })
    assert counts[0] == counts[1]
    assert counts[0]["calls"] == 2 and counts[0]["utterances"] == 12 and counts[0]["holds"] == 2
    assert counts[0]["item_results"] == 2 * len(scorecard.items)
    calls = store.query("SELECT call_id, channel_layout, status, language, attempts FROM calls ORDER BY call_id")
    assert list(calls["channel_layout"]) == ["transcript", "transcript"] and set(calls["status"]) == {"scored"}
    assert list(calls["attempts"]) == [2, 2]


def test_imported_transcripts_are_redacted_before_they_are_stored(tmp_path, scorecard):
    from pipeline.privacy.redact import Redactor, has_card_number
    from pipeline.store.database import Store
    from pipeline.store.writes import save_call

    call = {"id": "pay1", "turns": [
        {"speaker": "agent", "text": "Thank you for calling, my name is Sam. Can I take the card number?", "start_ms": 0, "duration_ms": 4000},
        {"speaker": "customer", "text": "four five three two zero one five one one two eight three zero three six six", "start_ms": 5000, "duration_ms": 6000},
    ]}
    store = Store(tmp_path / "t.duckdb")
    for result in import_transcripts(_jsonl(tmp_path / "pay.jsonl", call), scorecard, redactor=Redactor()):
        save_call(store, result)
    texts = store.query("SELECT speaker, text FROM utterances ORDER BY start_s").values.tolist()
    assert texts and not any(has_card_number(t) for _, t in texts)
    assert texts[1] == ["customer", "[CARD]"]  # the exact placement, on text (audio tests cannot know it)
    assert texts[0][1].startswith("Thank you for calling")
    assert store.query("SELECT kind, speaker FROM redactions").values.tolist() == [["card", "customer"]]
