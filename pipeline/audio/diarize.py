"""Tell agent from customer on a mono recording, by voice pitch.

Mono recordings are where commercial tools mix the parties up. We keep it simple and honest:
measure the pitch of every voiced 40 ms frame, split the frames into a low and a high voice,
smooth the labels over half a second, and cut the speech where the voice changes (turns often
follow each other with less pause than speech detection needs to separate them). The voice that
speaks first is the agent (the agent answers the call). When the two voices are too close to
tell apart, `separable` is False and the call is flagged for a human rather than guessed.

Too close shows two ways: the two pitch groups lie near each other (`min_ratio`), or they lie
apart but the "speaker" flips back and forth without a pause far faster than people take turns
(`flicker`): the split is following one voice's intonation, or two voices of similar pitch, not
the turns. Measured on real speech (8-16 kHz): a real two-party call 10-21 changes without a
pause a minute of speech, and half its speech in stretches of 2.0 s or longer; one speaker, or two
similar voices (one pitch-shifted to the other's), 24-44 changes a minute and stretches of 1.1-1.8 s.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.records import Span

FRAME_S, HOP_S = 0.04, 0.02


# Flicker: when the pitch split changes speaker implausibly often (see the module docstring).
QUICK_GAP_S = 0.3           # a change of speaker with less pause than this is "without a pause"
FLICKER_MIN_SPEECH_S = 20.0  # less speech than this: too little to judge the turn-taking
FLICKER_MIN_CHANGES = 5
FLICKER_RATE = 24.0         # changes without a pause per minute of speech: always flicker
FLICKER_RATE_SHORT = 15.0   # ... or this many, when half the speech is in stretches under
FLICKER_TYPICAL_S = 1.8     # this long (time-weighted median stretch)


@dataclass(frozen=True)
class Turns:
    """How the split takes turns: changes of speaker without a pause per minute of speech, and
    the typical stretch (half of the speech lies in stretches at least this long)."""

    quick_changes: int
    per_minute: float
    typical_s: float

    @property
    def flicker(self) -> bool:
        return self.quick_changes >= FLICKER_MIN_CHANGES and (
            self.per_minute >= FLICKER_RATE
            or (self.per_minute >= FLICKER_RATE_SHORT and self.typical_s < FLICKER_TYPICAL_S)
        )


@dataclass(frozen=True)
class Diarization:
    agent: list[Span]
    customer: list[Span]
    separable: bool
    pitch_hz: tuple[float, float]  # (agent, customer) median pitch
    reason: str = ""  # why not separable, in words for the flag
    turns: Turns | None = None


def turn_taking(agent: list[Span], customer: list[Span], speech_s: float) -> Turns | None:
    """The split's turn-taking; None with less than FLICKER_MIN_SPEECH_S of speech."""
    stretches = sorted([(s.start, s.end, "agent") for s in agent] + [(s.start, s.end, "customer") for s in customer])
    if speech_s < FLICKER_MIN_SPEECH_S or not stretches:
        return None
    quick = sum(
        1 for prev, cur in zip(stretches, stretches[1:])
        if cur[2] != prev[2] and cur[0] - prev[1] < QUICK_GAP_S
    )
    lengths = np.sort(np.array([end - start for start, end, _ in stretches]))
    half = np.searchsorted(np.cumsum(lengths), lengths.sum() / 2)
    typical = float(lengths[min(half, lengths.size - 1)])
    return Turns(quick, round(quick / (speech_s / 60.0), 1), round(typical, 2))


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
        return Diarization(list(spans), [], False, (0.0, 0.0), "too little voiced speech to hear two voices")
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
    agent, customer = _drop_short(agent), _drop_short(customer)
    reason = ""
    if high / low < min_ratio:
        reason = f"voices of {low:.0f} and {high:.0f} Hz, too close in pitch"
    elif not 0.05 <= share <= 0.95:
        reason = f"one voice has {100 * max(share, 1 - share):.0f} % of the voiced speech"
    turns = turn_taking(agent, customer, sum(s.duration for s in spans))
    if separable and turns is not None and turns.flicker:
        separable = False
        reason = (f"the speaker changes {turns.per_minute:.0f} times a minute without a pause, half the speech "
                  f"in stretches of {turns.typical_s:.1f} s or less: similar voices, or one")
    return Diarization(agent, customer, separable, pitches, reason, turns)


def _drop_short(spans: list[Span], min_s: float = 0.3) -> list[Span]:
    """Stretches under `min_s` are voice-change flicker, not turns: leave them out."""
    return [s for s in spans if s.duration >= min_s]
