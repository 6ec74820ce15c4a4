"""The language a call is transcribed and scored in, through the real pipeline (process_call on a
real recording): the manifest's first; else Whisper's detection on the agent's speech when sure;
else the department's usual language with a note; English-only models refuse other languages.

Whisper's detection on espeak voices is poor and moves with the CPU, so the detection test accepts
either path but checks it is told truthfully: a confident detection scores in what was detected,
an unsure one in the department's language with a note saying so.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.audio.models import load_model
from pipeline.process import PipelineOptions, process_call
from pipeline.records import CallMeta

ROOT = Path(__file__).resolve().parent.parent
NB_CALL = ROOT / "data" / "samples_multilingual" / "m_nb_card_payment.mp3"


def _meta(**over) -> CallMeta:
    return CallMeta(call_id="m_nb_card_payment", path=str(NB_CALL), channel_layout="agent_left",
                    department="Oslo", **over)


def test_an_english_only_model_refuses_a_norwegian_department_before_transcribing(scorecard):
    options = PipelineOptions(model="tiny.en", department_languages={"Oslo": "nb"})
    result = process_call(_meta(), load_model("tiny.en"), scorecard, options)
    assert result.error and "English-only" in result.error and "'nb'" in result.error
    assert not result.utterances


def test_the_manifest_language_is_used_and_norwegian_is_scored_with_the_nb_pack(scorecard):
    result = process_call(_meta(language="nb"), load_model("base"), scorecard, PipelineOptions(model="base"))
    assert result.error is None
    assert result.language == "nb"  # Whisper was asked for 'no'; the pack is 'nb'
    assert not any("language detection" in f for f in result.score.flag_reasons)


@pytest.mark.slow
def test_without_a_manifest_language_detection_or_the_departments_language_with_a_note(scorecard):
    options = PipelineOptions(model="base", department_languages={"Oslo": "nb"})
    result = process_call(_meta(), load_model("base"), scorecard, options)
    assert result.error is None
    notes = [f for f in result.score.flag_reasons if "language detection unsure" in f]
    if notes:
        assert result.language == "nb" and "department 'Oslo'" in notes[0]
    else:
        assert result.language  # what Whisper detected with confidence, in the pack's code
