"""Card numbers never reach the database: a spoken card payment through the whole nightly flow.

The card payment call (tests/data/pii_call.flac) is scored in the fast tier's one batch
(conftest.fast_batch), beside the sample calls. Every text the database holds (utterances, their
word lists, findings, reasons, flags, errors) is searched for any run of digits or number words
that passes Luhn.

What Whisper writes for "four five three two, zero one five one, ..." differs between CPUs (words,
digit groups, a digit misheard), so nothing here expects a particular `[CARD]` span: only that no
card number survives, and that the redaction log and the placeholders agree. Where a card number
is placed exactly is tested on text (test_redact.py, test_transcripts.py).
"""
from __future__ import annotations

import json
from pathlib import Path

from conftest import CARD_CALL
from pipeline.privacy.redact import PLACEHOLDERS, has_card_number
from pipeline.store.database import Store

DATA = Path(__file__).parent / "data"


def _all_text(store: Store) -> list[str]:
    texts = []
    for table, columns in {
        "utterances": ["text", "words"], "findings": ["text"], "item_results": ["reason"],
        "calls": ["error"], "call_scores": ["array_to_string(flag_reasons, ' ')"],
    }.items():
        for column in columns:
            rows = store.query(f"SELECT {column} AS t FROM {table} WHERE {column} IS NOT NULL").t
            texts += [t for t in rows if isinstance(t, str) and t]
    return texts


def test_the_card_payment_call_is_scored(fast_store):
    status = fast_store.query("SELECT status FROM calls WHERE call_id = ?", [CARD_CALL]).status.tolist()
    assert status == ["scored"]
    said = fast_store.query("SELECT count(*) AS n FROM utterances WHERE call_id = ? AND speaker = 'customer'", [CARD_CALL])
    assert said.n[0] > 0


def test_no_card_number_survives_anywhere_in_the_database(fast_store):
    card = json.loads((DATA / "pii_call.json").read_text())["card"]
    texts = _all_text(fast_store)
    assert texts, "the calls left no text at all"
    assert any(t.startswith("[[") for t in texts), "no word lists were searched"
    for text in texts:
        words = " ".join(w[0] for w in json.loads(text)) if text.startswith("[[") else text
        assert not has_card_number(words), words
        assert card not in words.replace(" ", "").replace("-", "")
        assert card[:8] not in words.replace(" ", "") and card[-8:] not in words.replace(" ", "")


def test_redactions_are_recorded_without_the_words_and_match_the_placeholders(fast_store):
    log = fast_store.query("SELECT * FROM redactions")
    assert list(log.columns) == ["call_id", "kind", "speaker", "start_s", "end_s"]
    assert set(log.speaker) <= {"agent", "customer"}
    assert set(log.kind) <= set(PLACEHOLDERS)
    # every placeholder ([CARD], [CVV], ...) in a stored utterance has its entry in the log, inside
    # that utterance
    utterances = fast_store.query("SELECT call_id, speaker, start_s, end_s, text FROM utterances")
    for u in utterances.itertuples():
        for kind, placeholder in PLACEHOLDERS.items():
            if placeholder not in u.text:
                continue
            mine = log[(log.call_id == u.call_id) & (log.kind == kind) & (log.speaker == u.speaker)
                       & (log.start_s >= u.start_s - 0.01) & (log.end_s <= u.end_s + 0.01)]
            assert len(mine), (u.text, log[log.call_id == u.call_id].to_string())
