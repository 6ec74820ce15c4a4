"""Voice features of a recording, frame by frame: what tells two people apart on one channel.

Pitch alone does not: two men, two women, or one voice's intonation overlap in pitch, and the
mono split then follows the melody of the speech instead of the turns. The shape of the
spectrum (vocal tract, microphone, line) separates speakers far better, so each 10 ms frame gets
mel-frequency cepstral coefficients (MFCC) over the telephone band, the classic speaker feature,
plus its loudness (on a real mono call the agent's headset and the caller's line differ in level)
and its pitch (voices of one synthesiser, or of relatives, can share a spectrum and differ in pitch).
Plain numpy: no model, no download, the same on every machine.

Only the band both 8 kHz and 16 kHz calls carry (100-3,800 Hz) is used, so an 8 kHz call
resampled to 16 kHz and a wide-band one give comparable features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VoiceOptions:
    """How frames are cut and described.

    Attributes:
      frame_s: analysis window, 25 ms: short enough that a frame holds one sound.
      hop_s: one frame every 10 ms (100 a second), the usual speech rate of features.
      mels: mel bands over [low_hz, high_hz]; 24 covers the telephone band finely enough.
      ceps: cepstral coefficients kept after c0 (loudness, kept apart): 12, as in speaker
        recognition on telephone speech; the higher ones describe pitch harmonics, not the voice.
      low_hz, high_hz: the band used, the one 8 kHz telephone audio carries.
      pitch_frame_s: window of the pitch search, 40 ms: two periods of a 60 Hz voice.
      min_hz, max_hz: the pitch range searched, adult voices; a peak higher is hiss.
      chunk_s: frames are computed this much audio at a time, so a 2-hour call needs little memory.
    """

    frame_s: float = 0.025
    hop_s: float = 0.01
    mels: int = 24
    ceps: int = 12
    low_hz: float = 100.0
    high_hz: float = 3800.0
    pitch_frame_s: float = 0.04
    min_hz: float = 60.0
    max_hz: float = 330.0
    chunk_s: float = 60.0


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_filters(options: VoiceOptions, n_fft: int, sample_rate: int) -> np.ndarray:
    """Triangular mel filters (mels x n_fft//2+1)."""
    edges_mel = np.linspace(_mel(options.low_hz), _mel(options.high_hz), options.mels + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def _dct(count: int, size: int) -> np.ndarray:
    """DCT-II basis (count x size), orthonormal rows."""
    n = np.arange(size)
    basis = np.cos(np.pi / size * (n[None, :] + 0.5) * np.arange(count)[:, None]) * np.sqrt(2.0 / size)
    basis[0] /= np.sqrt(2.0)
    return basis


def frame_count(samples: int, options: VoiceOptions = VoiceOptions(), sample_rate: int = 16_000) -> int:
    frame, hop = int(options.frame_s * sample_rate), int(options.hop_s * sample_rate)
    return 0 if samples < frame else 1 + (samples - frame) // hop


def frame_times(count: int, options: VoiceOptions = VoiceOptions()) -> np.ndarray:
    """The centre of each frame, in seconds."""
    return np.arange(count) * options.hop_s + options.frame_s / 2


def features(samples: np.ndarray, options: VoiceOptions = VoiceOptions(), sample_rate: int = 16_000) -> np.ndarray:
    """Per frame: log energy (dB) then `ceps` MFCCs (c1..c12); shape (frames, 1 + ceps)."""
    frame, hop = int(options.frame_s * sample_rate), int(options.hop_s * sample_rate)
    count = frame_count(samples.size, options, sample_rate)
    if count == 0:
        return np.zeros((0, 1 + options.ceps))
    n_fft = 1 << int(np.ceil(np.log2(frame)))
    filters = mel_filters(options, n_fft, sample_rate)
    dct = _dct(options.ceps + 1, options.mels)[1:]
    window = np.hamming(frame)
    per_chunk = max(1, int(options.chunk_s / options.hop_s))
    out = np.empty((count, 1 + options.ceps))
    signal = np.asarray(samples, dtype=np.float64)
    for first in range(0, count, per_chunk):
        last = min(count, first + per_chunk)
        piece = signal[first * hop: (last - 1) * hop + frame]
        frames = np.lib.stride_tricks.sliding_window_view(piece, frame)[::hop][: last - first]
        frames = frames - frames.mean(axis=1, keepdims=True)
        power = np.abs(np.fft.rfft(frames * window, n_fft, axis=1)) ** 2
        bands = np.log(power @ filters.T + 1e-10)
        out[first:last, 0] = 10 * np.log10((frames**2).mean(axis=1) + 1e-10)
        out[first:last, 1:] = bands @ dct.T
    return out


def pitch(samples: np.ndarray, options: VoiceOptions = VoiceOptions(), sample_rate: int = 16_000) -> np.ndarray:
    """Pitch (Hz) of each frame by autocorrelation in [min_hz, max_hz]; 0 where unvoiced.

    One value per `features` frame (same hop; the longer window is centred 7.5 ms later, which
    matters to no turn)."""
    frame, hop = int(options.pitch_frame_s * sample_rate), int(options.hop_s * sample_rate)
    count = frame_count(samples.size, options, sample_rate)
    out = np.zeros(count)
    padded = np.r_[np.asarray(samples, dtype=np.float64), np.zeros(frame)]
    lo, hi = int(sample_rate / options.max_hz), int(sample_rate / options.min_hz)
    per_chunk = max(1, int(options.chunk_s / options.hop_s))
    window = np.hanning(frame)
    for first in range(0, count, per_chunk):
        last = min(count, first + per_chunk)
        piece = padded[first * hop: (last - 1) * hop + frame]
        frames = np.lib.stride_tricks.sliding_window_view(piece, frame)[::hop][: last - first]
        frames = frames - frames.mean(axis=1, keepdims=True)
        energy = (frames**2).sum(axis=1)
        spectrum = np.fft.rfft(frames * window, n=2 * frame, axis=1)
        corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
        band = corr[:, lo - 1: hi + 1]
        inner = band[:, 1:-1]
        local = (inner >= band[:, :-2]) & (inner >= band[:, 2:])
        # The shortest lag nearly as strong as the best one: the period, not a multiple of it
        # (autocorrelation peaks again at twice the period, the usual octave error).
        near = local & (inner >= 0.85 * inner.max(axis=1, keepdims=True))
        lags = near.argmax(axis=1) + lo
        rows = np.arange(last - first)
        strength = corr[rows, lags] / np.maximum(corr[:, 0], 1e-12)
        peak = near.any(axis=1) & (lags > lo) & (lags < hi - 1)  # on the edge of the range: hiss, not a voice
        loud = energy > 1e-6 * frame  # about -60 dBFS
        out[first:last] = np.where((strength > 0.4) & peak & loud, sample_rate / lags, 0.0)
    return out
