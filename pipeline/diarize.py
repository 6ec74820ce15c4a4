"""Tell agent from customer on a mono recording, by voice pitch.

Mono recordings are where commercial tools mix the parties up. We keep it simple and honest:
split the speech into stretches, measure each stretch's median pitch, split the stretches into
two groups by pitch, and call the group that speaks first the agent (the agent answers the
call). When the two groups' pitches are too close to tell apart, `separable` is False and the
call is flagged for a human rather than guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .records import Span


@dataclass(frozen=True)
class Diarization:
    agent: list[Span]
    customer: list[Span]
    separable: bool
    pitch_hz: tuple[float, float]  # (agent, customer) median pitch


def median_pitch(samples: np.ndarray, sample_rate: int = 16_000) -> float | None:
    """Median fundamental frequency of voiced 40 ms frames, by autocorrelation (60-400 Hz)."""
    frame, hop = int(0.04 * sample_rate), int(0.02 * sample_rate)
    if samples.size < frame:
        return None
    starts = np.arange(0, samples.size - frame, hop)
    frames = np.stack([samples[s : s + frame] for s in starts])
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames**2).sum(axis=1)
    frames = frames[energy > 0.1 * np.median(energy[energy > 0]) if (energy > 0).any() else energy > 0]
    if not len(frames):
        return None
    spectrum = np.fft.rfft(frames * np.hanning(frame), n=2 * frame, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    lo, hi = sample_rate // 400, sample_rate // 60
    lags = corr[:, lo:hi].argmax(axis=1) + lo
    strength = corr[np.arange(len(corr)), lags] / np.maximum(corr[:, 0], 1e-12)
    voiced = lags[strength > 0.3]
    return float(np.median(sample_rate / voiced)) if voiced.size else None


def split_speakers(samples: np.ndarray, spans: list[Span], sample_rate: int = 16_000, min_ratio: float = 1.15) -> Diarization:
    """Assign each stretch of speech to agent or customer by pitch (two groups, first speaker = agent)."""
    pitched = [(s, median_pitch(samples[int(s.start * sample_rate) : int(s.end * sample_rate)], sample_rate)) for s in spans]
    known = sorted(p for _, p in pitched if p)
    if len(known) < 2:
        return Diarization(list(spans), [], False, (known[0] if known else 0.0, 0.0))
    logs = np.log(known)
    # The split of the sorted log-pitches that leaves the least spread inside each group.
    costs = [logs[:i].var() * i + logs[i:].var() * (len(logs) - i) for i in range(1, len(logs))]
    cut = int(np.argmin(costs)) + 1
    low, high = float(np.median(known[:cut])), float(np.median(known[cut:]))
    threshold = float(np.sqrt(known[cut - 1] * known[cut]))
    first = next((p for _, p in pitched if p), low)
    agent_is_low = first < threshold
    agent, customer = [], []
    for span, pitch in pitched:
        is_low = (pitch or first) < threshold
        (agent if is_low == agent_is_low else customer).append(span)
    pitches = (low, high) if agent_is_low else (high, low)
    return Diarization(agent, customer, high / low >= min_ratio, pitches)
