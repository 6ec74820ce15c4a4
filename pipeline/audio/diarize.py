"""Tell agent from customer on a mono recording, by voice pitch.

Mono recordings are where commercial tools mix the parties up. We keep it simple and honest:
measure the pitch of every voiced 40 ms frame, split the frames into a low and a high voice,
smooth the labels over half a second, and cut the speech where the voice changes (turns often
follow each other with less pause than speech detection needs to separate them). The voice that
speaks first is the agent (the agent answers the call). When the two voices are too close to
tell apart, `separable` is False and the call is flagged for a human rather than guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.records import Span

FRAME_S, HOP_S = 0.04, 0.02


@dataclass(frozen=True)
class Diarization:
    agent: list[Span]
    customer: list[Span]
    separable: bool
    pitch_hz: tuple[float, float]  # (agent, customer) median pitch


def frame_pitch(samples: np.ndarray, sample_rate: int = 16_000) -> np.ndarray:
    """Pitch (Hz) of each 40 ms frame every 20 ms, by autocorrelation in 60-330 Hz; 0 = unvoiced."""
    frame, hop = int(FRAME_S * sample_rate), int(HOP_S * sample_rate)
    if samples.size < frame:
        return np.zeros(0)
    count = 1 + (samples.size - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(samples, frame)[::hop][:count]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames**2).sum(axis=1)
    spectrum = np.fft.rfft(frames * np.hanning(frame), n=2 * frame, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    lo, hi = sample_rate // 330, sample_rate // 60  # adult voices; higher is hiss
    lags = corr[:, lo:hi].argmax(axis=1) + lo
    rows = np.arange(count)
    strength = corr[rows, lags] / np.maximum(corr[:, 0], 1e-12)
    # A peak on the edge of the search range is hiss (s, f, sh), not a voice.
    peak = (lags > lo) & (lags < hi - 1)
    peak &= corr[rows, lags] >= corr[rows, np.maximum(lags - 1, 0)]
    loud = energy > 0.05 * np.median(energy[energy > 0]) if (energy > 0).any() else energy > 0
    return np.where((strength > 0.4) & peak & loud, sample_rate / lags, 0.0)


def _two_groups(values: np.ndarray) -> float:
    """The cut between two groups of (log) values that leaves the least spread inside each."""
    ordered = np.sort(values)
    n = ordered.size
    csum, csq = np.cumsum(ordered), np.cumsum(ordered**2)
    i = np.arange(1, n)
    left = csq[:-1] - csum[:-1] ** 2 / i
    right = (csq[-1] - csq[:-1]) - (csum[-1] - csum[:-1]) ** 2 / (n - i)
    cut = int(np.argmin(left + right)) + 1
    return float((ordered[cut - 1] + ordered[cut]) / 2)


def split_speakers(samples: np.ndarray, spans: list[Span], sample_rate: int = 16_000, min_ratio: float = 1.15) -> Diarization:
    """Cut speech spans into agent and customer stretches by voice pitch (first voice = agent)."""
    pitch = frame_pitch(samples, sample_rate)
    times = np.arange(pitch.size) * HOP_S + FRAME_S / 2
    in_speech = np.zeros(pitch.size, dtype=bool)
    for span in spans:
        in_speech |= (times >= span.start) & (times <= span.end)
    voiced = in_speech & (pitch > 0)
    if voiced.sum() < 10:
        return Diarization(list(spans), [], False, (0.0, 0.0))
    logs = np.log(pitch[voiced])
    cut = _two_groups(logs)
    low, high = float(np.exp(np.median(logs[logs < cut]))), float(np.exp(np.median(logs[logs >= cut])))
    share = float(np.mean(logs < cut))
    separable = high / low >= min_ratio and 0.05 <= share <= 0.95
    # Label voiced frames, carry labels across unvoiced ones, smooth over half a second.
    label = np.full(pitch.size, np.nan)
    label[voiced] = (np.log(pitch[voiced]) >= cut).astype(float)
    index = np.where(voiced)[0]
    nearest = index[np.clip(np.searchsorted(index, np.arange(pitch.size)), 0, index.size - 1)]
    filled = label[nearest]
    window = int(0.5 / HOP_S)
    smooth = np.convolve(filled, np.ones(window) / window, mode="same") >= 0.5
    first_high = bool(smooth[index[0]])
    agent, customer = [], []
    for span in spans:
        inside = np.where((times >= span.start) & (times <= span.end))[0]
        if not inside.size:
            continue
        start = span.start
        for k in range(1, inside.size + 1):
            if k == inside.size or smooth[inside[k]] != smooth[inside[k - 1]]:
                end = span.end if k == inside.size else float(times[inside[k]])
                is_agent = bool(smooth[inside[k - 1]]) == first_high
                (agent if is_agent else customer).append(Span(round(start, 2), round(end, 2)))
                start = end
    pitches = (high, low) if first_high else (low, high)
    return Diarization(_drop_short(agent), _drop_short(customer), separable, pitches)


def _drop_short(spans: list[Span], min_s: float = 0.3) -> list[Span]:
    """Stretches under `min_s` are voice-change flicker, not turns: leave them out."""
    return [s for s in spans if s.duration >= min_s]
