"""What Whisper gives the detectors: no lost speech, true times, no invented thanks.

Real audio throughout: the real role-played call data/samples/real_auto_repairs_40.flac (agent
left, caller right, 8 kHz; Apache-2.0, see data/samples/LICENSE-realaudio.txt) and recordings
cut from it here with numpy. Whisper's words move with the CPU, so on audio the tests assert
coverage with slack, times within whole stretches of speech or silence, and outcomes that are
not `pass`; the span arithmetic is tested exactly without audio.
"""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import activity
from pipeline.audio.activity import ActivityOptions, without_bleed
from pipeline.audio.transcribe import (
    TranscribeOptions, coverage, decode_regions, decoder_hint, heard_probability, spoken_words, transcribe_channel,
    uncovered,
)
from pipeline.records import Span, Word

ROOT = Path(__file__).resolve().parent.parent
REAL_CALL = ROOT / "data" / "samples" / "real_auto_repairs_40.flac"
RATE = 16_000


def w(text: str, start: float, end: float, p: float = 0.9) -> Word:
    return Word(text, start, end, p)


# --- span arithmetic, exact ----------------------------------------------------------------------

def test_regions_never_reach_across_a_long_silence():
    spans = [Span(1, 3), Span(4, 6), Span(20, 22), Span(22.5, 24)]
    regions = decode_regions(spans, 30.0, TranscribeOptions(max_gap_s=5, lead_s=1.0, tail_s=0.2))
    assert regions == [Span(0.0, 6.2), Span(19.0, 24.2)]


def test_regions_stop_growing_at_whisper_window_and_never_overlap():
    spans = [Span(i * 4.0, i * 4.0 + 3.5) for i in range(20)]  # 80 s of talk, 0.5 s pauses
    regions = decode_regions(spans, 79.7, TranscribeOptions(max_gap_s=5, max_region_s=30, lead_s=1.0, tail_s=0.4))
    assert len(regions) == 3 and all(r.duration <= 30 + 1.4 for r in regions)
    assert all(a.end <= b.start for a, b in zip(regions, regions[1:]))
    assert regions[0].start == 0.0 and regions[-1].end == 79.7  # padding stays inside the call
    assert all(any(r.start <= s.start and s.end <= r.end for r in regions) for s in spans)


def test_uncovered_and_coverage():
    spans = [Span(0, 2), Span(10, 14), Span(30, 31)]
    words = [w("hello", 0.2, 0.6), w("there", 10.5, 11.0), w("late", 31.2, 31.5)]
    assert uncovered(spans, words) == []
    assert coverage(spans, words) == 1.0
    assert uncovered(spans, words[:2]) == [Span(30, 31)]
    assert uncovered(spans, words, slack_s=0.1) == [Span(30, 31)]  # 'late' starts 0.2 s after it
    assert coverage(spans, words[1:], slack_s=0.1) == pytest.approx(4 / 7)


def test_words_over_silence_are_dropped():
    spans = [Span(0, 5), Span(40, 45)]
    words = [w("we'll", 1, 1.3), w("call", 4.8, 5.2), w("Thank", 20, 20.4), w("you.", 20.4, 20.8), w("right", 39.8, 40.1)]
    assert [x.text for x in spoken_words(words, spans)] == ["we'll", "call", "right"]


def test_words_of_a_window_whisper_judged_silent_stay_but_cannot_pass_unseen():
    assert heard_probability(0.95, 0.1) == 0.95
    assert heard_probability(0.95, 0.85) == pytest.approx(0.15)
    assert heard_probability(0.95, 0.85) < 0.5  # under the scorecard's uncertain_below


def test_the_call_vocabulary_reaches_the_first_window_as_a_short_list():
    assert TranscribeOptions().vocabulary_as == "initial_prompt"
    assert decoder_hint(["Northwind Energy", " Contoso Bank", "", "Sarah", "Sarah"]) == {
        "initial_prompt": "Northwind Energy, Contoso Bank, Sarah."}
    assert decoder_hint(["Sarah"], "hotwords") == {"hotwords": "Sarah."}
    assert decoder_hint(["Sarah"], "none") == {} and decoder_hint([]) == {}
    with pytest.raises(ValueError):
        decoder_hint(["Sarah"], "prefix")


def test_bleed_is_the_other_party_not_this_one():
    rng = np.random.default_rng(1)
    speech = rng.normal(0, 0.1, 2 * RATE).astype(np.float32)
    own, other = np.zeros(10 * RATE, np.float32), np.zeros(10 * RATE, np.float32)
    own[1 * RATE:3 * RATE] = speech                                  # own speech at 1-3 s
    other[6 * RATE:8 * RATE] = speech                                # the other party at 6-8 s ...
    own[6 * RATE:8 * RATE] = speech * 10 ** (-30 / 20)               # ... heard 30 dB down on this line
    other[1 * RATE:3 * RATE] += speech * 0.5                         # overtalk: both loud at 1-3 s
    kept, bleed = without_bleed(own, other, [Span(1, 3), Span(6, 8)], [Span(1, 3), Span(6, 8)])
    assert kept == [Span(1, 3)] and bleed == [Span(6, 8)]
    kept, bleed = without_bleed(own, other, [Span(6, 8)], [], ActivityOptions())  # the other party silent: own
    assert kept == [Span(6, 8)] and not bleed


# --- real audio ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_call():
    from pipeline.audio.decode import load_call

    return load_call(REAL_CALL, layout="agent_left")


@pytest.fixture(scope="module")
def tiny():
    from pipeline.audio.models import load_model

    return load_model("tiny.en", cpu_threads=2)


@pytest.fixture(scope="module")
def base():
    from pipeline.audio.models import load_model

    return load_model("base", cpu_threads=2)


def test_an_excerpt_across_a_long_silence_keeps_its_words_and_their_times(real_call, tiny):
    """The customer's 40-70 s: the end of a turn, 9 s listening, then spelling a name. Decoded
    with the silence in between, every stretch of speech gets words, and no word lands in it."""
    samples = real_call.customer[40 * RATE:70 * RATE]
    spans = activity.speech_spans(samples)
    talk = [s for s in spans if s.duration >= 0.6]
    assert talk and any(s.start > 10 for s in talk), spans  # speech on both sides of the silence
    utterances, _ = transcribe_channel(tiny, samples, "customer", TranscribeOptions(language="en"), spans)
    words = [x for u in utterances for x in u.words]
    assert coverage(talk, words) >= 0.8, (talk, utterances)
    silence = Span(max(s.end for s in spans if s.start < 5) + 0.5, min(s.start for s in spans if s.start > 10) - 0.5)
    assert silence.duration > 5
    assert not [x for x in words if silence.start < (x.start + x.end) / 2 < silence.end], utterances


@pytest.mark.slow
@pytest.mark.parametrize("speaker", ["agent", "customer"])
def test_every_stretch_of_speech_on_the_real_call_is_transcribed(real_call, base, speaker):
    samples = getattr(real_call, speaker)
    spans = activity.speech_spans(samples)
    utterances, _ = transcribe_channel(base, samples, speaker, TranscribeOptions(language="en"), spans)
    words = [x for u in utterances for x in u.words]
    lost = uncovered(spans, words)
    assert coverage(spans, words) >= 0.95, lost
    assert not [s for s in lost if s.duration > 1.5], lost  # only short noises may stay wordless
    assert not [x for x in words if not any(x.end >= s.start - 0.5 and x.start <= s.end + 0.5 for s in spans)]
    if speaker == "customer":
        # Said between 0:37 and 1:29 (end of the first turn, the name spelt, the car's model):
        # words in each of those stretches, none in the silences around them, none moved to 2:07.
        for start, end in ((37.0, 43.5), (51.5, 65.0), (76.5, 89.5)):
            assert [x for x in words if start <= x.start <= end], (start, end, utterances)
        for start, end in ((44.0, 51.0), (90.0, 119.5)):
            assert not [x for x in words if start <= x.start <= end], (start, end, utterances)


def _write_stereo(path: Path, left: np.ndarray, right: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(np.stack([left, right], axis=1), -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_no_closing_thanks_from_bleed_or_silence(real_call, base, tmp_path):
    """The agent explains (real speech, no thanks), the customer says "Sounds great. Thank you
    so much" heard 30 dB down on the agent's line, then 20 s of line noise on both channels:
    what provokes Whisper's "Thank you." The agent never thanks: thank_you is never `pass`."""
    from pipeline.process import PipelineOptions, process_call
    from pipeline.records import CallMeta
    from pipeline.scoring.scorecard import load_scorecard

    def cut(x: np.ndarray, a: float, b: float) -> np.ndarray:
        return x[int(a * RATE):int(b * RATE)]

    explains = cut(real_call.agent, 140.5, 166.0)    # "The first availability ... as soon as we can."
    thanks = cut(real_call.customer, 229.5, 232.3)   # "All right. Sounds great. Thank you so much ..."
    n = int(50 * RATE)
    agent, customer = np.zeros(n, np.float32), np.zeros(n, np.float32)
    agent[:explains.size] = explains
    at = int(27 * RATE)
    customer[at:at + thanks.size] = thanks
    agent[at:at + thanks.size] += thanks * 10 ** (-30 / 20)
    rng = np.random.default_rng(7)
    agent += rng.normal(0, 1e-3, n).astype(np.float32)       # line noise, -60 dBFS
    customer += rng.normal(0, 1e-3, n).astype(np.float32)
    path = _write_stereo(tmp_path / "bleed_then_quiet.wav", agent, customer)

    result = process_call(CallMeta("bleed_then_quiet", str(path), channel_layout="agent_left"), base,
                          load_scorecard(), PipelineOptions(redact=False))
    assert result.ok, result.error
    agent_said = [u for u in result.utterances if u.speaker == "agent"]
    assert agent_said, "the agent's real speech must still be heard"
    assert not [u for u in agent_said if u.start > 26], agent_said  # nothing on the agent's side after
    thank_you = next(i for i in result.score.items if i.item_id == "thank_you")
    assert thank_you.outcome != "pass", (thank_you, agent_said)


# --- the introduced name against the manifest, exact on text ---------------------------------------

def test_an_introduction_far_from_the_manifest_name_is_flagged_not_failed():
    from pipeline.records import CallScore, Finding, ItemResult
    from pipeline.scoring.names import check_introduction, name_mismatch

    assert name_mismatch(["my name is Sarah."], "Sarah") is None
    assert name_mismatch(["you're speaking with Kathryn"], "Katherine Lee") is None   # Whisper's spelling
    assert name_mismatch(["I'm Michel,"], "Michelle") is None
    assert name_mismatch(["Priya speaking."], "") is None                          # no manifest name
    note = name_mismatch(["my name is Daniel."], "Priya")
    assert note and "Daniel" in note and "Priya" in note

    def scored(outcome: str, said: str) -> CallScore:
        item = ItemResult("introduce_name", "aidet", outcome, 10, False, "")
        finding = Finding("introduce_name", "phrases", "agent", said, 3.0, 4.0, 0.9)
        return CallScore("aidet", "v", 100.0, False, (), (item,), (finding,))

    flagged = check_introduction(scored("pass", "my name is Daniel."), "Priya")
    assert flagged.flagged and flagged.items[0].outcome == "pass" and "Priya" in flagged.flag_reasons[-1]
    assert check_introduction(scored("pass", "Priya speaking."), "Priya").flagged is False
    assert check_introduction(scored("fail", "my name is Daniel."), "Priya").flagged is False

