"""Finding recordings and their metadata; decoding and checking audio."""
from __future__ import annotations

import wave
from datetime import datetime

import numpy as np
import pytest

from pipeline.audio.decode import AudioError, load_call
from pipeline.ingest.recordings import discover


def write_wav(path, channels: list[np.ndarray], rate=8000):
    data = np.stack(channels, axis=1) if len(channels) > 1 else channels[0][:, None]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())


def tone(seconds=2.0, freq=220.0, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * freq * t)


def test_manifest_and_filename_pattern(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "20261123T101500_a007_inv-1.mp3").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "manifest.csv").write_text(
        "file,call_id,agent_id,agent_name,started_at,channel_layout\n"
        "a.wav,call-a,a001,Sarah,2026-11-20T09:00:00,agent_right\n"
        "gone.wav,call-gone,a001,Sarah,,\n"
    )
    calls = {c.call_id: c for c in discover(tmp_path)}
    assert set(calls) == {"call-a", "inv-1", "call-gone"}
    assert calls["call-a"].agent_id == "a001" and calls["call-a"].channel_layout == "agent_right"
    assert calls["inv-1"].agent_id == "a007" and calls["inv-1"].started_at == datetime(2026, 11, 23, 10, 15)


def test_bad_manifest_row_fails_only_that_call_and_names_the_row(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "b.wav").write_bytes(b"x")
    (tmp_path / "manifest.csv").write_text("file,agent_id,started_at\na.wav,a001,yesterday-ish\nb.wav,a002,2026-11-20\n")
    calls = {c.call_id: c for c in discover(tmp_path)}
    assert "manifest.csv:2" in calls["a"].problem and "started_at" in calls["a"].problem
    assert calls["b"].problem is None and calls["b"].agent_id == "a002"


def test_unknown_columns_are_ignored_with_a_warning(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "manifest.csv").write_text("file,agent_id,colour\na.wav,a001,blue\n")
    warnings: list[str] = []
    calls = discover(tmp_path, warnings=warnings)
    assert calls[0].agent_id == "a001" and calls[0].problem is None
    assert any("colour" in w for w in warnings)


def test_unreadable_manifest_fails_every_call_with_the_reason(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    (tmp_path / "manifest.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    calls = discover(tmp_path)
    assert calls[0].problem and "manifest unusable" in calls[0].problem


def test_stereo_split_and_layout(tmp_path):
    path = tmp_path / "s.wav"
    write_wav(path, [tone(freq=200), tone(freq=300) * 0.5])
    left = load_call(path)
    right = load_call(path, "agent_right")
    assert left.layout == "agent_left" and right.layout == "agent_right"
    assert np.abs(left.agent).max() > np.abs(left.customer).max()
    assert np.abs(right.customer).max() > np.abs(right.agent).max()
    assert abs(left.agent.size - 2 * 16000) <= 2  # resampled to 16 kHz


def test_identical_channels_are_mono(tmp_path):
    path = tmp_path / "m.wav"
    write_wav(path, [tone(), tone()])
    assert load_call(path).layout == "mono"


@pytest.mark.parametrize("make,reason", [
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("this is not audio"), "could not decode"),
    (lambda p: write_wav(p, [tone(0.2)]), "too short"),
    (lambda p: write_wav(p, [tone(), tone(freq=300), tone(freq=400)]), "3 channels"),
])
def test_unusable_recordings_get_a_reason(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=reason):
        load_call(path)


def test_truncated_wav(tmp_path):
    path = tmp_path / "t.wav"
    write_wav(path, [tone(3.0)])
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioError):
        load_call(path)


def test_a_recording_cut_short_mid_frame_is_read_as_far_as_it_goes(tmp_path):
    """PyAV (av 18) gives up at a FLAC frame cut in half; ffmpeg, the fallback, reads up to it,
    as every recording was read before decoding moved in-process: a call is not lost to its last
    frame. (Asserted on the outcome, which holds whichever decoder reads it.)"""
    from pathlib import Path

    whole = Path(__file__).resolve().parent.parent / "data" / "samples" / "c07_no_closing_thanks.flac"
    path = tmp_path / "cut.flac"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    audio = load_call(path)
    assert audio.layout == "agent_left"
    assert audio.duration_s == pytest.approx(load_call(whole).duration_s / 3, rel=0.2)
