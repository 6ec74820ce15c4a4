"""Throughput levers of transcribe.py (issue 12): the customer's own beam, regions that fit a
window padded, and the language-detection pass handing its encoder run to the first window.

Span arithmetic and the hand-over are tested without a model; one test with Whisper base checks
that the hand-over saves one encoder run and changes no word."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import transcribe
from pipeline.audio.transcribe import (
    SAMPLE_RATE, TranscribeOptions, _first_window, _Encoder, _take_encoded, decode_regions, pack_windows,
)
from pipeline.records import Span

REAL_CALL = Path(__file__).resolve().parent.parent / "data" / "samples" / "real_auto_repairs_40.flac"


def test_the_customer_beam_applies_to_the_customer_channel_only():
    options = TranscribeOptions(beam_size=5, customer_beam_size=None)
    assert options.for_customer() is options  # unset: the same beam on both channels
    greedy = TranscribeOptions(beam_size=5, max_gap_s=3.0)
    assert greedy.customer_beam_size == 1  # the default: greedy on the customer's channel
    assert greedy.for_customer().beam_size == 1 and greedy.beam_size == 5
    assert greedy.for_customer().max_gap_s == 3.0  # nothing else changes


def test_an_english_only_customer_model_only_on_calls_in_english():
    options = TranscribeOptions(customer_model="tiny.en")
    assert options.model is None  # the agent's channel: the call's model
    assert TranscribeOptions(language="en", customer_model="tiny.en").for_customer().model == "tiny.en"
    assert TranscribeOptions(language="no", customer_model="tiny.en").for_customer().model is None
    assert TranscribeOptions(language=None, customer_model="tiny.en").for_customer().model is None
    assert TranscribeOptions(language="no", customer_model="base").for_customer().model == "base"


def test_a_padded_region_still_fits_in_whisper_window():
    spans = [Span(10 + i * 3.0, 10 + i * 3.0 + 2.5) for i in range(30)]  # 90 s of talk, 0.5 s pauses
    options = TranscribeOptions(max_gap_s=2.0, max_region_s=30.0, lead_s=1.0, tail_s=0.3)
    regions = decode_regions(spans, 200.0, options)
    assert all(r.duration <= 30.0 for r in regions), regions  # none goes to the sequential decoder
    assert all(any(r.start <= s.start and s.end <= r.end for r in regions) for s in spans)


def test_the_detection_window_is_the_first_decoding_window_sample_for_sample():
    samples = np.arange(60 * SAMPLE_RATE, dtype=np.float32)
    spans = [Span(2.0, 6.5), Span(7.1, 12.0), Span(20.0, 33.0), Span(40.0, 45.0)]
    options = TranscribeOptions(max_gap_s=2.0)
    first = pack_windows([r for r in decode_regions(spans, 60.0, options) if r.duration <= 30])[0]
    glued = np.concatenate([samples[int(r.start * SAMPLE_RATE):int(r.end * SAMPLE_RATE)] for r in first])
    assert np.array_equal(_first_window(samples, spans, options), glued)
    assert _first_window(samples, [Span(0.0, 45.0)], options) is None  # one long stretch: the old way


class _Model:
    def __init__(self):
        self.encoded = 0

    def encode(self, features):
        self.encoded += 1
        return ("fresh", features.shape)

    feature_extractor = "the real model's"


def test_the_kept_encoder_output_is_used_once_and_only_for_the_same_features():
    model, features = _Model(), np.ones((80, 3000), np.float32)
    reusing = _Encoder(model, (features, "kept"))
    assert reusing.feature_extractor == "the real model's"  # everything else is the model's
    assert reusing.encode(features[None]) == "kept" and model.encoded == 0
    assert reusing.encode(features[None]) == ("fresh", (1, 80, 3000))  # once only
    other = _Encoder(model, (features, "kept"))
    assert other.encode(np.zeros((1, 80, 3000), np.float32))[0] == "fresh"  # other audio: encoded
    assert other.encode(features[None])[0] == "fresh"  # and the kept one is dropped, never stale
    batch = _Encoder(model, (features, "kept"))
    assert batch.encode(np.stack([features, features]))[0] == "fresh"  # only a batch of one


def test_the_encoder_reads_only_the_frames_that_hold_audio_when_asked():
    batch = np.zeros((2, 80, 3000), np.float32)
    batch[0, :, :1234], batch[1, :, :300] = 0.3, -0.2  # 12.34 s and 3 s of audio, padded to 30 s
    assert transcribe.context_frames(batch) == 1300  # the longest, in whole seconds
    assert transcribe.context_frames(batch, min_context_s=20) == 2000
    assert transcribe.context_frames(np.ones((1, 80, 3000), np.float32), 10) == 3000  # never past the window
    assert transcribe.context_frames(np.zeros((1, 80, 3000), np.float32)) == 100
    model = _Model()
    assert _Encoder(model).encode(batch) == ("fresh", (2, 80, 3000))  # by default: Whisper's 30 s
    assert _Encoder(model, min_context_s=5).encode(batch) == ("fresh", (2, 80, 1300))


def test_a_kept_encoder_run_belongs_to_its_thread_and_is_taken_once():
    model = _Model()
    with transcribe._ENCODED_LOCK:
        transcribe._ENCODED[(id(model), threading.get_ident())] = ("features", "output")
    seen = []
    worker = threading.Thread(target=lambda: seen.append(_take_encoded(model)))
    worker.start()
    worker.join()
    assert seen == [None]  # another worker's call never gets it
    assert _take_encoded(model) == ("features", "output")
    assert _take_encoded(model) is None


@pytest.fixture(scope="module")
def base():
    from pipeline.audio.models import load_model

    return load_model("base", cpu_threads=2)


def test_detection_hands_its_encoder_run_to_the_first_window_and_no_word_changes(base, monkeypatch):
    from pipeline.audio import activity
    from pipeline.audio.decode import load_call

    agent = load_call(REAL_CALL, layout="agent_left").agent[:60 * SAMPLE_RATE]
    spans = activity.speech_spans(agent)
    options = TranscribeOptions(language="en", vocabulary=("Platinum Motors",))
    runs = []
    real_encode = type(base).encode
    monkeypatch.setattr(type(base), "encode", lambda self, f: runs.append(1 if f.ndim == 2 else f.shape[0]) or real_encode(self, f))

    plain, _ = transcribe.transcribe_channel(base, agent, "agent", options, spans)
    without = sum(runs)
    runs.clear()
    language, probability = transcribe.detect_language(base, agent, spans, options)
    shared, _ = transcribe.transcribe_channel(base, agent, "agent", options, spans)
    assert (language, sum(runs)) == ("en", without)  # detection and decoding: as many runs as decoding alone
    assert probability > 0.6
    assert [(w.text, w.start, w.end) for u in shared for w in u.words] == [(w.text, w.start, w.end) for u in plain for w in u.words]


def test_in_place_decoding_reads_each_region_from_its_own_slice_in_the_recording_time(monkeypatch):
    """The sequential decoder (regions over 30 s, repetition loops) is given one region's audio at
    a time, never the whole channel (whose log-mel features alone took 2.5 GB for 60 minutes),
    and its words come back in the recording's time; the hint goes to the first region only."""
    from pipeline.audio.models import load_model

    tiny = load_model("tiny.en", cpu_threads=2)
    agent = __import__("pipeline.audio.decode", fromlist=["load_call"]).load_call(REAL_CALL, layout="agent_left").agent
    from pipeline.audio import activity

    spans = activity.speech_spans(agent[:90 * SAMPLE_RATE])
    regions = decode_regions(spans, 90.0, TranscribeOptions())[:3]
    given = []
    real_transcribe = type(tiny).transcribe
    monkeypatch.setattr(type(tiny), "transcribe",
                        lambda self, audio, **kw: given.append((audio.size, "initial_prompt" in kw)) or real_transcribe(self, audio, **kw))
    words, language = transcribe._decode_in_place(tiny, agent, regions, TranscribeOptions(vocabulary=("Platinum Motors",)), "en")
    assert [size for size, _ in given] == [int(r.end * SAMPLE_RATE) - int(r.start * SAMPLE_RATE) for r in regions]
    assert [hint for _, hint in given] == [True] + [False] * (len(regions) - 1)
    assert words and language == "en"
    assert all(any(r.start - 0.1 <= w.start and w.end <= r.end + 0.1 for r in regions) for w in words), words



def test_a_long_call_reaches_faster_whisper_a_few_batches_at_a_time(monkeypatch):
    """faster-whisper computes the features of every window it is handed before decoding any (1 MB
    a window): the windows go in groups of `WINDOWS_PER_CALL` batches, so memory does not grow
    with the call, and no word changes (each window is decoded on its own either way)."""
    from faster_whisper import BatchedInferencePipeline

    from pipeline.audio import activity
    from pipeline.audio.decode import load_call
    from pipeline.audio.models import load_model

    tiny = load_model("tiny.en", cpu_threads=2)
    agent = load_call(REAL_CALL, layout="agent_left").agent
    spans = activity.speech_spans(agent)
    clips = []
    real = BatchedInferencePipeline.transcribe
    monkeypatch.setattr(BatchedInferencePipeline, "transcribe",
                        lambda self, audio, **kw: clips.append(len(kw["clip_timestamps"])) or real(self, audio, **kw))
    heard = {}
    for per_call in (100, 1):
        monkeypatch.setattr(transcribe, "WINDOWS_PER_CALL", per_call)
        clips.clear()
        utterances, _ = transcribe.transcribe_channel(tiny, agent, "agent", TranscribeOptions(language="en", batch_size=1), spans)
        heard[per_call] = [(w.text, w.start, w.end) for u in utterances for w in u.words]
    assert len(clips) > 2 and max(clips) == 1  # one window per call: groups of one batch of one
    starts = [w[1] for w in heard[1]]
    assert starts == sorted(starts)  # in time order, though batches run shortest window first
    assert [w[0] for w in heard[1]] == [w[0] for w in heard[100]] and heard[1]
    # times round to the hundredth from another offset in the glued audio: a hundredth apart at most
    assert all(abs(a[1] - b[1]) <= 0.011 and abs(a[2] - b[2]) <= 0.011 for a, b in zip(heard[1], heard[100]))
