"""Decode a recording into 16 kHz samples per party, streaming.

The first audio stream is decoded in-process by PyAV (the libav faster-whisper ships with;
`_av_blocks`); a file PyAV cannot open or read goes to ffmpeg as a process (as pydub runs it),
which either reads it or says why not, and that reason is the call's error. Two audio streams
are merged by ffmpeg.

Stereo recordings carry the agent on one channel and the customer on the other, which gives us
the speaker for free; mono recordings carry both and need `diarize` later. A stereo file whose
two channels are the same signal is mono in disguise and is treated as mono; so is one whose
channels carry one mix at another gain, inverted or a few samples apart (`channels.same_mix`),
with a flag saying so. A container with two audio streams (agent and customer as separate mono
streams) is merged into one stereo call, stream 0 on the left (`channels.decode_two_streams`);
ffmpeg alone would read only the first.

Memory is bounded by design: the decoder resamples to 16 kHz and its output is taken `CHUNK_S`
seconds at a time and written to each party's `Samples` (16-bit, in an unnamed temporary file), which
the stages read a stretch at a time; so a stereo call's memory does not grow with its length
(disk: 32 KB per second per party while the call is scored). Loading the whole file with pydub
held the source-rate bytes, their samples and every conversion at once: 4.6 GB at the peak for
two hours of silent 48 kHz stereo; float32 arrays per party still held 920 MB for two hours.
A mono call (or stereo that carries one mix) is one float32 array in memory: telling its two
voices apart (`diarize`) reads every sample together. A recording longer than
`settings.max_call_seconds()` fails before decoding starts (or as soon as the stream passes the
limit, when no header says how long the file is).
"""
from __future__ import annotations

import hashlib
import itertools
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.audio import channels as chan
from pipeline.audio.samples import SCALE, Samples
from pipeline.settings import max_call_seconds

SAMPLE_RATE = 16_000  # what Silero VAD and Whisper expect
SUPPORTED_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
MIN_DURATION_S = 1.0
CHUNK_S = 30.0
"""Seconds of decoded audio taken from the decoder at a time (about 2 MB of stereo): the only buffer
of a stereo call's audio in memory while it is decoded (the samples go to `Samples` on disk)."""


class AudioError(ValueError):
    """The recording cannot be used; the message says why, for the calls table.

    `permanent`: the same bytes will fail the same way (empty, not audio, too short, too many
    channels, no speech, too long), so the batch does not retry the file until its content
    changes (or, for a recording over the length limit, until the limit is raised).
    """

    def __init__(self, message: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class CallAudio:
    """Samples per party at 16 kHz: `Samples` on disk for stereo (sliced like arrays, read as
    float32). For mono, ``mixed`` holds the one channel as a float32 array."""

    layout: str  # "agent_left", "agent_right" or "mono"
    duration_s: float
    source_rate: int
    source_channels: int
    agent: Samples | None = None
    customer: Samples | None = None
    mixed: np.ndarray | None = None
    flags: tuple[str, ...] = ()  # what a reviewer should know about the channels (same mix, ...)
    source_streams: int = 1  # audio streams in the file (2: agent and customer merged as stereo)


@dataclass(frozen=True)
class _Source:
    """What is known of a file before decoding it (from its WAV header, or its streams read by PyAV)."""

    seconds: float | None
    channels: int | None
    rate: int
    streams: list


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def overlong_message(seconds: float, limit: float) -> str:
    """The reason stored for a recording over the limit (`batch` reads the length back from it
    to retry the file once the limit is raised past it)."""
    return (f"recording is {seconds / 60:.0f} minutes long, over the {limit / 60:g}-minute limit "
            "(CALLQA_MAX_CALL_MINUTES); split it, or raise the limit")


def _probe(path: Path) -> _Source:
    """Length, channels and rate before decoding: the WAV header, else `channels.audio_streams`."""
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as wav:
                rate = wav.getframerate() or 1
                return _Source(wav.getnframes() / float(rate), wav.getnchannels(), rate, [])
        except (wave.Error, EOFError, OSError):
            return _Source(None, None, SAMPLE_RATE, [])  # not plain PCM: ffmpeg says what it is
    streams = chan.audio_streams(path)
    first = streams[0] if streams else None
    seconds = max((s.duration_s or 0.0 for s in streams), default=0.0) or None
    return _Source(seconds, first.channels if first else None, (first.sample_rate if first else 0) or SAMPLE_RATE, streams)


def _refuse_if_too_long(source: _Source) -> None:
    """Fail before decoding a recording longer than `settings.max_call_seconds()`: one absurdly
    long file must not hold a worker for hours (the limit is a policy, not a memory guard)."""
    limit = max_call_seconds()
    if (source.seconds or 0.0) > limit:
        raise AudioError(overlong_message(source.seconds, limit))


def _ffmpeg_pcm(path: Path, channels: int) -> list[str]:
    """ffmpeg reading the first audio stream as `channels` channels of s16le at 16 kHz on stdout."""
    from pydub import AudioSegment  # pydub's choice of ffmpeg binary (AudioSegment.converter)

    return [AudioSegment.converter, "-v", "error", "-nostdin", "-i", chan._ffmpeg_name(path), "-map", "0:a:0",
            "-ac", str(channels), "-ar", str(SAMPLE_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "-"]


def _pcm_blocks(command: list[str], frame_bytes: int) -> Iterator[bytes]:
    """ffmpeg's output, CHUNK_S seconds at a time. Raises AudioError with ffmpeg's last line when
    it fails; stopping early (a generator closed) stops ffmpeg."""
    block = int(CHUNK_S * SAMPLE_RATE) * frame_bytes
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty ffmpeg cannot block
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise AudioError(f"could not decode audio (ffmpeg: {exc})", permanent=False) from None
        try:
            while data := proc.stdout.read(block):
                yield data[: len(data) // frame_bytes * frame_bytes]
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()
        if code != 0:
            errors.seek(0)
            lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
            raise AudioError(f"could not decode audio ({lines[-1][-200:] if lines else f'ffmpeg exit {code}'})")


class _NotReadable(Exception):
    """PyAV could not read the file: ffmpeg, as a process, tries it and says why."""


def _av_blocks(path: Path, channels: int) -> Iterator[bytes]:
    """The first audio stream as `channels` channels of s16le at 16 kHz, about CHUNK_S seconds at
    a time, decoded in-process by PyAV (faster-whisper's decoder: libswresample, as ffmpeg's `-ar`).

    In-process because it runs for every call: starting an ffmpeg process costs about 60 ms of
    the 120 ms an ordinary call's decoding took. Raises `_NotReadable` when PyAV cannot read it."""
    import av  # installed with faster-whisper

    block = int(CHUNK_S * SAMPLE_RATE) * 2 * channels
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise _NotReadable("no audio stream")
            stream = container.streams.audio[0]
            # One-second frames out (identical samples): a third less time than the codec's own
            # frames of 576-1152 samples, each of which costs a Python round trip.
            resampler = av.AudioResampler(format="s16", layout="mono" if channels == 1 else "stereo",
                                          rate=SAMPLE_RATE, frame_size=SAMPLE_RATE)
            pending, size = [], 0
            for frame in itertools.chain(container.decode(stream), [None]):  # None: what the resampler still holds
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray())  # packed s16: channels interleaved
                    size += pending[-1].nbytes
                if size >= block or (frame is None and size):
                    yield np.concatenate(pending, axis=1).tobytes()
                    pending, size = [], 0
    except (av.FFmpegError, ValueError) as exc:  # ValueError: a layout or format PyAV will not convert
        raise _NotReadable(str(exc)) from None


def _bytes_blocks(pcm: bytes, frame_bytes: int) -> Iterator[bytes]:
    step = int(CHUNK_S * SAMPLE_RATE) * frame_bytes
    view = memoryview(pcm)
    for start in range(0, len(pcm), step):
        yield view[start:start + step]


class _Channels:
    """Per-channel `Samples` (16-bit, on disk) filled block by block, with the running sums that
    tell whether two channels carry one signal (so that check needs no second pass)."""

    def __init__(self, channels: int) -> None:
        self.parties = [Samples() for _ in range(channels)]
        self.diff2 = self.energy = 0.0

    @property
    def length(self) -> int:
        """Samples per channel decoded so far."""
        return self.parties[0].size

    def add(self, block: bytes) -> None:
        frames = np.frombuffer(block, "<i2").reshape(-1, len(self.parties))
        for i, party in enumerate(self.parties):
            party.append(frames[:, i])
        if len(self.parties) == 2:
            left, right = (frames[:, i].astype(np.float32) * SCALE for i in (0, 1))
            self.diff2 += float(np.sum(np.square(left - right), dtype=np.float64))
            self.energy += float(np.dot(left, left)) + float(np.dot(right, right))

    def same_signal(self) -> bool:
        """True when the two channels carry one signal (a mono call saved as stereo)."""
        if not self.length:
            return True
        return (self.diff2 / self.length) ** 0.5 / (((self.energy / self.length) ** 0.5) or 1e-9) < 0.05


def _decode(path: Path) -> tuple[_Channels, _Source]:
    """The recording at 16 kHz, one `Samples` per channel, and what the probe said.

    Two audio streams are merged into one stereo recording (stream 0 left); more are refused.
    """
    if not path.exists():
        raise AudioError(f"file not found: {path}", permanent=False)
    if path.stat().st_size == 0:
        raise AudioError("empty file (0 bytes)")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise AudioError(
            f"unsupported file type '{path.suffix}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    source = _probe(path)
    _refuse_if_too_long(source)
    if len(source.streams) > chan.MAX_STREAMS:
        raise AudioError(f"{len(source.streams)} audio streams: expected one, or two (agent and customer)")
    if len(source.streams) == 2:
        try:
            pcm = chan.decode_two_streams(path, source.streams, SAMPLE_RATE)
        except RuntimeError as exc:
            raise AudioError(f"could not decode the two audio streams ({exc})") from None
        blocks, channels = _bytes_blocks(pcm, 4), 2
    else:
        if (source.channels or 0) > 2:
            raise AudioError(f"{source.channels} channels: expected mono or stereo (agent and customer)")
        channels = source.channels or 2  # unknown (an odd WAV): stereo; one signal twice reads as mono
        if source.channels:  # PyAV read the header: it decodes too
            try:
                return _fill(_av_blocks(path, channels), channels), source
            except _NotReadable:
                pass  # ffmpeg, as a process, tries again and says why it cannot
        blocks = _pcm_blocks(_ffmpeg_pcm(path, channels), 2 * channels)
    return _fill(blocks, channels), source


def _fill(blocks: Iterator[bytes], channels: int) -> _Channels:
    """The decoded blocks into per-channel `Samples`, stopping at the length limit."""
    out, limit = _Channels(channels), max_call_seconds()
    for block in blocks:
        out.add(block)
        if out.length > limit * SAMPLE_RATE:  # no header told the length: stop at the limit
            blocks.close()
            raise AudioError(overlong_message(out.length / SAMPLE_RATE, limit) + " (stopped decoding there)")
    return out


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
    decoded, source = _decode(Path(path))
    flags: list[str] = []
    duration = decoded.length / SAMPLE_RATE
    if duration < MIN_DURATION_S:
        raise AudioError(f"recording too short to score ({duration:.2f} s)")
    streams, channels = source.streams, len(decoded.parties)
    source_rate = source.rate
    if len(streams) == 2:
        source_rate = max(s.sample_rate for s in streams) or source_rate
        layout = _stream_layout(streams, layout, flags)
    common = dict(duration_s=duration, source_rate=source_rate, source_channels=source.channels or channels,
                  source_streams=max(len(streams), 1))
    parties = decoded.parties
    if channels == 1:
        return CallAudio("mono", mixed=np.asarray(parties[0]), flags=tuple(flags), **common)
    left, right = parties
    if layout == "mono" or decoded.same_signal():
        mixed = chan.combine(left, right, chan.SameMix(1.0, 0, 1.0, 0))  # (left + right) / 2
        return CallAudio("mono", mixed=mixed, flags=tuple(flags), **common)
    mix = chan.same_mix(left, right, SAMPLE_RATE)
    if mix is not None:
        if not mix.identical:
            what = "audio streams" if len(streams) == 2 else "channels"
            flags.append(f"stereo {what} carry one mix ({mix.describe(SAMPLE_RATE)}): "
                         "scored as mono, agent and customer told apart by their voices")
        return CallAudio("mono", mixed=chan.combine(left, right, mix), flags=tuple(flags), **common)
    layout = layout or default_layout
    if layout not in ("agent_left", "agent_right"):
        raise AudioError(f"unknown channel layout '{layout}' (agent_left, agent_right or mono)", permanent=False)
    agent, customer = (left, right) if layout == "agent_left" else (right, left)
    return CallAudio(layout, agent=agent, customer=customer, flags=tuple(flags), **common)
