"""Decode a recording (pydub + ffmpeg) into 16 kHz float32 samples per party.

Stereo recordings carry the agent on one channel and the customer on the other, which gives us
the speaker for free; mono recordings carry both and need `diarize` later. A stereo file whose
two channels are the same signal is mono in disguise and is treated as mono; so is one whose
channels carry one mix at another gain, inverted or a few samples apart (`channels.same_mix`),
with a flag saying so. A container with two audio streams (agent and customer as separate mono
streams) is merged into one stereo call, stream 0 on the left (`channels.decode_two_streams`);
ffmpeg alone would read only the first.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio import channels as chan
from pipeline.settings import max_call_seconds

SAMPLE_RATE = 16_000  # what Silero VAD and Whisper expect
SUPPORTED_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
MIN_DURATION_S = 1.0


class AudioError(ValueError):
    """The recording cannot be used; the message says why, for the calls table.

    `permanent`: the same bytes will fail the same way (empty, not audio, too short, too many
    channels, no speech), so the batch does not retry the file until its content changes.
    """

    def __init__(self, message: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class CallAudio:
    """Samples per party at 16 kHz. For mono, ``mixed`` holds the one channel."""

    layout: str  # "agent_left", "agent_right" or "mono"
    duration_s: float
    source_rate: int
    source_channels: int
    agent: np.ndarray | None = None
    customer: np.ndarray | None = None
    mixed: np.ndarray | None = None
    flags: tuple[str, ...] = ()  # what a reviewer should know about the channels (same mix, ...)
    source_streams: int = 1  # audio streams in the file (2: agent and customer merged as stereo)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wav_seconds(path: Path) -> float | None:
    import wave

    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate() or 1)
    except (wave.Error, EOFError, OSError):
        return None  # not plain PCM: decoding says what it is


def _refuse_if_too_long(path: Path, streams: list) -> None:
    """Fail before decoding a recording longer than `settings.max_call_seconds()`: decoding holds
    the whole call in memory, and one very long file must not take the machine down."""
    limit = max_call_seconds()
    seconds = max((s.duration_s or 0.0 for s in streams), default=0.0) or _wav_seconds(path) or 0.0
    if seconds > limit:
        raise AudioError(f"recording is {seconds / 60:.0f} minutes long, over the {limit / 60:g}-minute limit "
                         "(CALLQA_MAX_CALL_MINUTES); split it, or raise the limit on a machine with memory to spare")


def _decode(path: Path):
    """The recording as one pydub segment, and its audio streams ([] when not probed: WAV).

    Two audio streams are merged into one stereo segment (stream 0 left); more are refused.
    """
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

    if not path.exists():
        raise AudioError(f"file not found: {path}", permanent=False)
    if path.stat().st_size == 0:
        raise AudioError("empty file (0 bytes)")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise AudioError(
            f"unsupported file type '{path.suffix}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    streams = chan.audio_streams(path)
    _refuse_if_too_long(path, streams)
    if len(streams) > chan.MAX_STREAMS:
        raise AudioError(f"{len(streams)} audio streams: expected one, or two (agent and customer)")
    if len(streams) == 2:
        try:
            pcm = chan.decode_two_streams(path, streams, SAMPLE_RATE)
        except RuntimeError as exc:
            raise AudioError(f"could not decode the two audio streams ({exc})") from None
        return AudioSegment(pcm, sample_width=2, frame_rate=SAMPLE_RATE, channels=2), streams
    try:
        return AudioSegment.from_file(path), streams
    except CouldntDecodeError as exc:
        detail = str(exc).strip().splitlines()
        tail = next((line for line in reversed(detail) if line.strip()), "")
        raise AudioError(f"could not decode audio ({tail[-200:]})") from None
    except Exception as exc:  # wave/audioop errors on a broken header, and the like
        raise AudioError(f"could not decode audio ({type(exc).__name__}: {exc})") from None


def _to_float(segment) -> np.ndarray:
    samples = np.array(segment.get_array_of_samples(), dtype=np.float32)
    return samples / float(1 << (8 * segment.sample_width - 1))


def _same_signal(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two channels carry one signal (a mono call saved as stereo)."""
    if not a.size:
        return True
    diff = float(np.sqrt(np.mean((a - b) ** 2)))
    level = float(np.sqrt(np.mean(a**2) + np.mean(b**2))) or 1e-9
    return diff / level < 0.05


def _stream_layout(streams: list, layout: str | None, flags: list[str]) -> str | None:
    """The layout of two merged streams: the call's metadata first, else the streams' titles
    (None: the default applies, stream 0 = agent). Titles that contradict the metadata are flagged."""
    titled = chan.stream_layout(streams)
    if titled and layout in ("agent_left", "agent_right") and layout != titled:
        agent = 0 if titled == "agent_left" else 1
        flags.append(f"channel layout: the stream titles say the agent is audio stream {agent} "
                     f"('{streams[agent].title}'), the metadata says {layout}: scored as {layout}")
    return layout or titled


def load_call(path: str | Path, layout: str | None = None, default_layout: str = "agent_left") -> CallAudio:
    """Decode, check and split a recording.

    ``layout`` comes from the call's metadata; when unknown, stereo files use ``default_layout``
    (two-stream files: the streams' titles, if they name the agent or customer, then the default).
    Raises AudioError for anything that cannot be scored, with a reason a person can act on.
    """
    segment, streams = _decode(Path(path))
    flags: list[str] = []
    duration = len(segment) / 1000.0
    if duration < MIN_DURATION_S:
        raise AudioError(f"recording too short to score ({duration:.2f} s)")
    source_rate, channels = segment.frame_rate, segment.channels
    if len(streams) == 2:
        source_rate = max(s.sample_rate for s in streams) or source_rate
        layout = _stream_layout(streams, layout, flags)
    if channels > 2:
        raise AudioError(f"{channels} channels: expected mono or stereo (agent and customer)")
    segment = segment.set_frame_rate(SAMPLE_RATE).set_sample_width(2)
    common = dict(duration_s=duration, source_rate=source_rate, source_channels=channels, source_streams=max(len(streams), 1))
    if channels == 1 or layout == "mono":
        mixed = _to_float(segment.set_channels(1))
        return CallAudio("mono", mixed=mixed, flags=tuple(flags), **common)
    left, right = (_to_float(ch) for ch in segment.split_to_mono())
    if _same_signal(left, right):
        return CallAudio("mono", mixed=(left + right) / 2, flags=tuple(flags), **common)
    mix = chan.same_mix(left, right, SAMPLE_RATE)
    if mix is not None:
        if not mix.identical:
            what = "audio streams" if len(streams) == 2 else "channels"
            flags.append(f"stereo {what} carry one mix ({mix.describe(SAMPLE_RATE)}): "
                         "scored as mono, agent and customer told apart by voice pitch")
        return CallAudio("mono", mixed=chan.combine(left, right, mix), flags=tuple(flags), **common)
    layout = layout or default_layout
    if layout not in ("agent_left", "agent_right"):
        raise AudioError(f"unknown channel layout '{layout}' (agent_left, agent_right or mono)", permanent=False)
    agent, customer = (left, right) if layout == "agent_left" else (right, left)
    return CallAudio(layout, agent=agent, customer=customer, flags=tuple(flags), **common)
