"""Finding recordings and their metadata; decoding and checking audio."""
from __future__ import annotations

import wave
from datetime import datetime

import numpy as np
import pytest

from pipeline.audio import AudioError, load_call
from pipeline.inputs import ManifestError, discover


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


def test_bad_manifest_names_the_row(tmp_path):
    (tmp_path / "manifest.csv").write_text("file,started_at\na.wav,yesterday-ish\n")
    with pytest.raises(ManifestError, match="manifest.csv:2"):
        discover(tmp_path)
    (tmp_path / "manifest.csv").write_text("file,colour\na.wav,blue\n")
    with pytest.raises(ManifestError, match="unknown column"):
        discover(tmp_path)


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
