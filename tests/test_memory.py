"""Memory bounded by design, and an overlong recording failing once.

Decoding and speech activity stream over a recording in chunks (`decode.CHUNK_S`,
`activity.VAD_BLOCK`), a stereo call's samples stay on disk (`samples.Samples`) and Whisper gets
its windows a few batches at a time (`transcribe.WINDOWS_PER_CALL`). Measured as the peak RSS of
a fresh subprocess that decodes a 2-hour recording and finds its speech, with a generous margin
(1.5 GB; measured about 1.0 GB for two hours of talk on both channels). Performance itself is
measured in bench/, not asserted here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.audio.decode import AudioError, load_call
from pipeline.batch import plan_batch
from pipeline.process import process_call
from pipeline.store.database import Store
from pipeline.store.writes import save_call

ROOT = Path(__file__).resolve().parent.parent
REAL_CALL = ROOT / "data" / "samples" / "real_auto_repairs_40.flac"
PEAK_LIMIT_MB = 1500

# The process's own peak RSS (VmHWM): ru_maxrss would start at pytest's own size, which a
# subprocess inherits through fork and keeps through exec on Linux.
_PEAK = """
def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
"""

# Decode and speech activity in a fresh process; prints what it found and its peak RSS.
_MEASURE = _PEAK + """
import json, sys
from pipeline.audio import activity
from pipeline.audio.decode import load_call
audio = load_call(sys.argv[1])
channels = [audio.mixed] if audio.layout == "mono" else [audio.agent, audio.customer]
speech = [sum(s.duration for s in activity.speech_spans(c)) for c in channels]
print(json.dumps({"layout": audio.layout, "duration_s": audio.duration_s, "speech_s": speech,
                  "peak_mb": peak_mb()}))
"""


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def _measure(path: Path) -> dict:
    env = {**os.environ, "CALLQA_MAX_CALL_MINUTES": "150"}
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_streamed_speech_activity_is_faster_whispers_exactly():
    """Streaming changes memory, not answers: the spans equal `get_speech_timestamps` on the
    whole channel, whatever the block size."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from pipeline.audio import activity

    audio = load_call(REAL_CALL, "agent_left")
    vad = VadOptions(threshold=0.5, min_silence_duration_ms=500, speech_pad_ms=100, min_speech_duration_ms=200)
    for channel in (audio.agent, audio.customer[: 16_000 * 61 + 100]):  # and a length off the frame grid
        whole = [(c["start"], c["end"]) for c in get_speech_timestamps(channel, vad)]
        for block in (activity.VAD_BLOCK, 10_000, 37):  # 10,000: faster-whisper's own batch
            probs = activity.speech_probabilities(channel, block)
            assert activity.spans_from_probabilities(probs, channel.size, vad) == whole
    assert [(s.start, s.end) for s in activity.speech_spans(audio.agent)] == [
        (c["start"] / 16_000, c["end"] / 16_000) for c in get_speech_timestamps(audio.agent, vad)]


@pytest.mark.slow
def test_two_hours_of_silence_at_48_khz_stereo_stay_under_the_memory_bound(tmp_path):
    path = tmp_path / "silent_2h.flac"
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "7200", "-c:a", "flac", str(path))
    started = time.perf_counter()
    found = _measure(path)
    assert found["duration_s"] == pytest.approx(7200, abs=1)
    assert found["speech_s"] == [0.0]  # one silent signal twice: mono, no speech
    assert found["peak_mb"] < PEAK_LIMIT_MB, found
    assert time.perf_counter() - started < 600  # reasonably: Silero runs hundreds of times real time


@pytest.mark.slow
def test_two_hours_of_talk_on_both_channels_stay_under_the_memory_bound(tmp_path):
    """The real call looped for two hours, at 48 kHz: both parties talk all the way through."""
    path = tmp_path / "talk_2h.flac"
    _ffmpeg("-stream_loop", "-1", "-i", str(REAL_CALL), "-t", "7200", "-ar", "48000", "-c:a", "flac", str(path))
    found = _measure(path)
    assert found["layout"] == "agent_left" and found["duration_s"] == pytest.approx(7200, abs=1)
    assert all(s > 600 for s in found["speech_s"]), found  # speech found all through the call
    assert found["peak_mb"] < PEAK_LIMIT_MB, found


# The whole pipeline on one call in a fresh process: Whisper (the default model), redaction,
# detection and scoring; prints the call's outcome and the process's peak RSS.
_SCORE = _PEAK + """
import json, sys
from pipeline.audio.models import load_model
from pipeline.privacy.redact import Redactor
from pipeline.process import PipelineOptions, process_call
from pipeline.records import CallMeta
from pipeline.scoring.detect import Detector
from pipeline.scoring.scorecard import load_scorecard
from pipeline.settings import DEFAULT_MODEL
card = load_scorecard()
result = process_call(CallMeta("long", sys.argv[1], channel_layout="agent_left"), load_model(DEFAULT_MODEL), card,
                      PipelineOptions(), Detector(card), Redactor())
print(json.dumps({"error": result.error, "duration_s": result.metrics and result.metrics.duration_s,
                  "last_word_s": max((u.end for u in result.utterances), default=0),
                  "utterances": {s: sum(u.speaker == s for u in result.utterances) for s in ("agent", "customer")},
                  "peak_mb": peak_mb()}))
"""


@pytest.mark.slow
def test_two_hours_of_talk_through_the_whole_pipeline_stay_under_the_memory_bound(tmp_path):
    """Decoding, speech activity, Whisper on both channels, redaction, detection and scoring of a
    two-hour call of talk: the parties' samples stay on disk (`Samples`) and Whisper gets its
    windows a few batches at a time, so the peak does not grow with the call (measured about
    1.1 GB for two hours with Silero in 32 s blocks, 1.5 GB for one hour before). About 5 to 8
    minutes on 2 cores."""
    path = tmp_path / "talk_2h.flac"
    _ffmpeg("-stream_loop", "-1", "-i", str(REAL_CALL), "-t", "7200", "-ar", "48000", "-c:a", "flac", str(path))
    env = {**os.environ, "CALLQA_MAX_CALL_MINUTES": "150"}
    done = subprocess.run([sys.executable, "-c", _SCORE, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=2400)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["error"] is None and found["duration_s"] == pytest.approx(7200, abs=1), found
    assert found["last_word_s"] > 7000 and min(found["utterances"].values()) > 100, found  # heard to the end
    assert found["peak_mb"] < PEAK_LIMIT_MB, found


def test_an_overlong_recording_fails_fast_once_and_again_only_when_the_limit_is_raised(tmp_path, monkeypatch):
    folder = tmp_path / "calls"
    folder.mkdir()
    _ffmpeg("-i", str(REAL_CALL), "-t", "6", str(folder / "long.flac"))
    monkeypatch.setenv("CALLQA_MAX_CALL_MINUTES", "0.05")  # 3 s
    with pytest.raises(AudioError, match=r"recording is 0 minutes long, over the 0.05-minute limit") as error:
        load_call(folder / "long.flac")
    assert error.value.permanent

    store = Store(tmp_path / "calls.duckdb")
    plan = plan_batch(folder, store, settle=(0, 0))
    assert [c.call_id for c in plan.todo] == ["long"]
    started = time.perf_counter()
    result = process_call(plan.todo[0], model=None, scorecard=None)  # fails before any model is needed
    assert time.perf_counter() - started < 5
    assert result.permanent and "over the 0.05-minute limit" in result.error
    save_call(store, result, "run1")

    again = plan_batch(folder, store, settle=(0, 0))  # the next night: not tried again
    assert not again.todo and [c.call_id for c in again.not_retried] == ["long"]
    monkeypatch.setenv("CALLQA_MAX_CALL_MINUTES", "0.5")  # the limit raised past it: tried once more
    raised = plan_batch(folder, store, settle=(0, 0))
    assert [c.call_id for c in raised.todo] == ["long"]
    monkeypatch.setenv("CALLQA_MAX_CALL_MINUTES", "0.05")
    assert not plan_batch(folder, store, settle=(0, 0)).todo


def test_a_recording_of_unknown_length_stops_decoding_at_the_limit(tmp_path, monkeypatch):
    """A WAV whose header sizes are zero (as a crashed recorder leaves them) says nothing of its
    length: it is decoded up to the limit, no further, and fails with the same reason."""
    import wave

    import numpy as np

    path = tmp_path / "open_ended.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(np.random.default_rng(1).normal(0, 3000, (8000 * 20, 2)).astype("<i2").tobytes())
    data = bytearray(path.read_bytes())
    data[4:8] = data[40:44] = bytes(4)  # RIFF and data sizes unknown
    path.write_bytes(bytes(data))
    monkeypatch.setenv("CALLQA_MAX_CALL_MINUTES", "0.1")  # 6 s of the 20
    with pytest.raises(AudioError, match="over the 0.1-minute limit .*stopped decoding there") as error:
        load_call(path)
    assert error.value.permanent
    monkeypatch.setenv("CALLQA_MAX_CALL_MINUTES", "1")
    assert load_call(path).duration_s == pytest.approx(20, abs=0.01)
