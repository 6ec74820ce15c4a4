"""Card numbers never reach the database: a spoken card payment through the whole nightly flow.

Every text the database holds (utterances, their word lists, findings, reasons, flags, errors)
is searched for any run of digits or number words that passes Luhn.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.privacy.redact import has_card_number
from pipeline.store.database import Store

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def card_call_db(tmp_path_factory, prefect_harness):
    from flows.nightly import nightly_scoring

    folder = tmp_path_factory.mktemp("payments")
    shutil.copy(DATA / "pii_call.flac", folder / "card_payment.flac")
    db = tmp_path_factory.mktemp("db") / "callqa.duckdb"
    outcome = nightly_scoring(recordings=str(folder), db=str(db), model="base", language="en")
    assert outcome["scored"] == 1
    return Store(db)


def _all_text(store: Store) -> list[str]:
    texts = []
    for table, columns in {
        "utterances": ["text", "words"], "findings": ["text"], "item_results": ["reason"],
        "calls": ["error"], "call_scores": ["array_to_string(flag_reasons, ' ')"],
    }.items():
        for column in columns:
            texts += [t for (t,) in store.query(f"SELECT {column} AS t FROM {table}").itertuples(index=False) if t]
    return texts


def test_no_card_number_survives_anywhere_in_the_database(card_call_db):
    card = json.loads((DATA / "pii_call.json").read_text())["card"]
    texts = _all_text(card_call_db)
    assert texts, "the call left no text at all"
    for text in texts:
        words = " ".join(w[0] for w in json.loads(text)) if text.startswith("[[") else text
        assert not has_card_number(words), words
        assert card not in words.replace(" ", "").replace("-", "")


def test_redactions_are_recorded_without_the_words(card_call_db):
    found = card_call_db.query("SELECT kind, speaker FROM redactions")
    assert "card" in set(found.kind) and set(found.speaker) <= {"agent", "customer"}
    assert "customer" in set(found[found.kind == "card"].speaker)
    assert list(card_call_db.query("SELECT * FROM redactions").columns) == ["call_id", "kind", "speaker", "start_s", "end_s"]
    text = " ".join(card_call_db.query("SELECT text FROM utterances WHERE speaker = 'customer'").text)
    assert "[CARD]" in text
