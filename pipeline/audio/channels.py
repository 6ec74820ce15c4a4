"""Channels that lie: checks on what a recording's channels and streams really carry.

Three ways a recording can say one thing and hold another, each caught here and told in a flag:

* **Same mix on both channels** (`same_mix`): a stereo file whose right channel is the left one
  at another gain, inverted, or a few samples late. Split as agent/customer it doubles the
  transcript and credits the customer's words to the agent. Found by normalised
  cross-correlation, window by window, which ignores gain and polarity and searches small
  delays; a real two-party recording fails it because its channels differ, and one with crosstalk
  fails it because the level between the channels swings with every turn.
* **Two audio streams** (`audio_streams`, `decode_two_streams`): agent and customer stored as
  two mono streams of one container. ffmpeg (and so pydub) decodes only the first; here both are
  merged into one stereo call, stream 0 on the left, stream 1 on the right.
* **Swapped channels** (`swap_check`): the agent's opening ("thank you for calling", "how can I
  help") heard on the customer's side and never on the agent's. A pure function of the
  transcript: it runs after transcription.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.records import Utterance

# --- same mix on both channels ------------------------------------------------------------------

WINDOW_S = 1.0          # correlation windows: long enough for speech, short against drift
MAX_LAG_S = 0.02        # delays searched: 20 ms (320 samples at 16 kHz), far beyond "a few samples"
MAX_WINDOWS = 300       # a long call is sampled evenly: the verdict costs the same for 2 min or 2 h
MIN_WINDOWS = 5         # fewer loud windows than this: too little sound to say anything
MIN_CORRELATION = 0.6   # a window "matches" when |NCC| at its best lag reaches this: one mix
                        # through Vorbis/MP3 coupling keeps 0.6-1.0; two parties stay under 0.1
MIN_MATCHING = 0.8      # ... and the call is one mix when this share of its loud windows match
MAX_GAIN_SPREAD_DB = 3.0  # the level between the channels stays put (IQR, measured 0.0-0.1 dB
                          # through codecs); crosstalk swings it with the turns (6-28 dB measured)
LAG_TOLERANCE = 2       # samples: a codec blurs the best lag of a weak window by one or two


@dataclass(frozen=True)
class SameMix:
    """Right ≈ gain × left, `lag` samples later (negative: earlier), as found on the loud windows."""

    gain: float           # signed: -0.5 is half the level, polarity inverted
    lag: int              # samples at the analysed rate
    correlation: float    # median |NCC| over the loud windows
    windows: int          # loud windows analysed

    @property
    def identical(self) -> bool:
        """The same signal at the same level and time (within 1 dB): a mono call saved as stereo."""
        return self.lag == 0 and 10 ** (-1 / 20) <= self.gain <= 10 ** (1 / 20)

    def describe(self, sample_rate: int = 16_000) -> str:
        parts = [f"right = {self.gain:+.2f} x left"]
        if self.lag:
            parts.append(f"{abs(self.lag)} samples ({1000 * abs(self.lag) / sample_rate:.1f} ms) "
                         f"{'later' if self.lag > 0 else 'earlier'}")
        parts.append(f"correlation {self.correlation:.2f} over {self.windows} windows")
        return ", ".join(parts)


def _loud_windows(left: np.ndarray, right: np.ndarray, size: int) -> np.ndarray:
    """Start indices of the windows with the most sound in either channel (speech, not silence).
    Read a minute at a time: the channels may be `Samples` on disk, never whole in memory."""
    count = min(left.size, right.size) // size
    if count == 0:
        return np.zeros(0, dtype=int)
    energy = np.zeros(count)
    step = 60  # windows per read
    for first in range(0, count, step):
        rows = min(step, count - first)
        for channel in (left, right):
            block = np.asarray(channel[first * size:(first + rows) * size], dtype=np.float32).reshape(rows, size)
            energy[first:first + rows] += np.einsum("ij,ij->i", block, block, dtype=np.float64) / size
    floor = 1e-8  # -80 dBFS: digital silence and dither are not sound
    loud = np.where((energy > floor) & (energy >= 0.1 * np.percentile(energy, 90)))[0]
    if loud.size > MAX_WINDOWS:
        loud = loud[np.linspace(0, loud.size - 1, MAX_WINDOWS).round().astype(int)]
    return loud * size


def window_match(a: np.ndarray, b: np.ndarray, max_lag: int) -> np.ndarray:
    """Best normalised cross-correlation of each row of `b` against the same row of `a`, within
    ±max_lag samples. Rows are windows (a 1-D pair is one window).

    Returns one row per window: |NCC| at the best lag, that lag (b later than a: positive), and
    the signed gain of b on a (polarity from the sign of the correlation). Invariant to the gain
    and polarity of either signal; a window silent on either side gets (0, 0, 0).
    """
    a = np.atleast_2d(a).astype(np.float64)
    b = np.atleast_2d(b).astype(np.float64)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    ea, eb = (a**2).sum(axis=1), (b**2).sum(axis=1)
    n = 1 << int(np.ceil(np.log2(a.shape[1] + max_lag + 1)))
    corr = np.fft.irfft(np.conj(np.fft.rfft(a, n, axis=1)) * np.fft.rfft(b, n, axis=1), n, axis=1)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    values = np.concatenate([corr[:, : max_lag + 1], corr[:, n - max_lag:]], axis=1) if max_lag else corr[:, :1]
    best = np.abs(values).argmax(axis=1)
    value = values[np.arange(values.shape[0]), best]
    ok = (ea > 0) & (eb > 0)
    safe_ea, safe_eb = np.where(ok, ea, 1.0), np.where(ok, eb, 1.0)
    ncc = np.where(ok, np.abs(value) / np.sqrt(safe_ea * safe_eb), 0.0)
    gain = np.where(ok, np.sign(value) * np.sqrt(safe_eb / safe_ea), 0.0)
    return np.stack([ncc, np.where(ok, lags[best], 0), gain], axis=1)


def same_mix(left: np.ndarray, right: np.ndarray, sample_rate: int = 16_000) -> SameMix | None:
    """The relation between two channels that carry one mix, or None when they carry two.

    One mix: most loud windows correlate at |NCC| ≥ MIN_CORRELATION, at one lag, and the level
    between the channels is steady (spread ≤ MAX_GAIN_SPREAD_DB). Two parties on two channels
    correlate weakly; crosstalk correlates but its level flips with the turns.
    """
    size, max_lag = int(WINDOW_S * sample_rate), int(MAX_LAG_S * sample_rate)
    starts = _loud_windows(left, right, size)
    if starts.size < MIN_WINDOWS:
        return None
    # Two parties on two channels (nearly every call) show it within the first batches: once more
    # windows fail than MIN_MATCHING allows, the verdict is None whatever the rest would say.
    misses, found = 0, []
    for batch in np.array_split(starts, max(1, starts.size // 32)):
        found.append(window_match(np.stack([left[s:s + size] for s in batch]),
                                  np.stack([right[s:s + size] for s in batch]), max_lag))
        misses += int(np.sum(found[-1][:, 0] < MIN_CORRELATION))
        if (starts.size - misses) / starts.size < MIN_MATCHING:  # the share matching can only fall
            return None
    found = np.concatenate(found)
    nccs, lags, gains = found[:, 0], found[:, 1].astype(int), found[:, 2]
    matching = nccs >= MIN_CORRELATION
    values, counts = np.unique(lags[matching], return_counts=True)
    lag = int(values[np.argmax(counts)])
    if np.mean(np.abs(lags[matching] - lag) <= LAG_TOLERANCE) < MIN_MATCHING:
        return None  # the "match" wanders: not one recording delayed, something else
    gain_db = 20 * np.log10(np.maximum(np.abs(gains[matching]), 1e-9))
    q1, q3 = np.percentile(gain_db, [25, 75])
    signs = np.sign(gains[matching])
    if q3 - q1 > MAX_GAIN_SPREAD_DB or max(np.mean(signs > 0), np.mean(signs < 0)) < MIN_MATCHING:
        return None
    sign = 1.0 if np.mean(signs > 0) >= 0.5 else -1.0
    return SameMix(round(sign * float(10 ** (np.median(gain_db) / 20)), 2), lag,
                   round(float(np.median(nccs)), 3), int(starts.size))


def combine(left: np.ndarray, right: np.ndarray, mix: SameMix, step: int = 480_000) -> np.ndarray:
    """One channel from two that carry the same mix: right aligned to left, then the least-squares
    estimate (left + g·right) / (1 + g²). Never (left + right) / 2, which cancels an inverted copy
    (with gain 1 and no lag it is that mean, for one signal saved twice). Built `step` samples at a
    time, so the two channels (arrays or `Samples`) are never whole in memory beside the result."""
    size, lag, g = len(left), mix.lag, mix.gain
    out = np.empty(size, np.float32)
    for a in range(0, size, step):
        b = min(a + step, size)
        aligned = np.zeros(b - a, np.float32)
        lo, hi = max(a + lag, 0), min(b + lag, len(right))  # right[i + lag] lines up with left[i]
        if hi > lo:
            aligned[lo - (a + lag):hi - (a + lag)] = right[lo:hi]
        out[a:b] = (left[a:b] + g * aligned) / (1.0 + g * g)
    return out


# --- two audio streams in one container --------------------------------------------------------

MAX_STREAMS = 2
FFMPEG_TIMEOUT_S = 600
_AGENT_WORDS = re.compile(r"\b(agent|rep|representative|operator|advisor|adviser)\b", re.I)
_CUSTOMER_WORDS = re.compile(r"\b(customer|caller|client|consumer|member)\b", re.I)


@dataclass(frozen=True)
class AudioStream:
    """One audio stream of a container, as ffprobe would report it."""

    position: int                 # among the audio streams: 0, 1, ... (what `0:a:N` selects)
    channels: int
    sample_rate: int
    duration_s: float | None
    title: str = ""               # the stream's title or handler name, as a layout hint

    @property
    def role(self) -> str | None:
        """"agent" or "customer" when the stream's title says so (and not both)."""
        agent, customer = bool(_AGENT_WORDS.search(self.title)), bool(_CUSTOMER_WORDS.search(self.title))
        return "agent" if agent and not customer else "customer" if customer and not agent else None


def audio_streams(path: str | Path) -> list[AudioStream]:
    """The audio streams of a file, read in-process by PyAV (the libav that faster-whisper ships
    with); [] when it cannot read the file (decoding says why), or for WAV, which holds one stream
    and is read without ffmpeg.

    In-process because it runs for every call: starting ffprobe cost 64 ms a call (a third of
    decoding an ordinary call), reading the header here under 1 ms; the fields are ffprobe's.
    """
    if Path(path).suffix.lower() == ".wav":
        return []
    import av  # installed with faster-whisper

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            fallback = _number(container.duration / av.time_base if container.duration else None)
            streams = []
            for position, stream in enumerate(container.streams.audio):
                tags = {k.lower(): str(v) for k, v in (stream.metadata or {}).items()}
                title = tags.get("title") or tags.get("handler_name", "")
                if title.strip().lower() in ("soundhandler", "sound handler", "core media audio"):
                    title = ""  # the muxer's default name, not a label
                seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
                streams.append(AudioStream(position, int(stream.channels or 0), int(stream.sample_rate or 0),
                                           _number(seconds) or fallback, title.strip()))
            return streams
    except (OSError, ValueError, av.FFmpegError):
        return []


def _ffmpeg_name(path: str | Path) -> str:
    """`file:` + the path: a name with a colon or a leading dash is read as a file, never as a
    protocol or an option."""
    return "file:" + str(Path(path).absolute())


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None


def stream_layout(streams: Sequence[AudioStream]) -> str | None:
    """"agent_left" / "agent_right" when the streams' titles say which one is the agent (stream 0
    goes left), None when they say nothing or contradict each other."""
    votes = set()
    for stream in streams[:2]:
        if stream.role:
            agent_first = (stream.role == "agent") == (stream.position == 0)
            votes.add("agent_left" if agent_first else "agent_right")
    return votes.pop() if len(votes) == 1 else None


def decode_two_streams(path: str | Path, streams: Sequence[AudioStream], sample_rate: int = 16_000) -> bytes:
    """Both audio streams merged by ffmpeg into one stereo 16-bit PCM stream (stream 0 left,
    stream 1 right), each mixed to mono, resampled, and padded with silence to the longer one.

    Returns raw interleaved s16le samples. Raises RuntimeError with ffmpeg's last line on failure.
    """
    longest = max((s.duration_s or 0.0) for s in streams)
    pad = f",apad=whole_dur={longest:.3f}" if longest > 0 else ""  # join stops at the shortest input
    prep = f"aresample={sample_rate},aformat=sample_fmts=s16:channel_layouts=mono{pad}"
    graph = f"[0:a:0]{prep}[a0];[0:a:1]{prep}[a1];[a0][a1]join=inputs=2:channel_layout=stereo[out]"
    try:
        done = subprocess.run(
            ["ffmpeg", "-v", "error", "-nostdin", "-i", _ffmpeg_name(path), "-filter_complex", graph,
             "-map", "[out]", "-f", "s16le", "-acodec", "pcm_s16le", "-"],
            capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"ffmpeg: {type(exc).__name__}") from None
    if done.returncode != 0 or not done.stdout:
        lines = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        raise RuntimeError(lines[-1][-200:] if lines else f"ffmpeg exit {done.returncode}")
    return done.stdout[: len(done.stdout) // 4 * 4]


# --- swapped channels, from the transcript ----------------------------------------------------

OPENING_S = 45.0  # the opening: this long from the first word of the call
STRONG_CUES = 3   # distinct cues (agent's on the customer side + caller's on the agent side) to swap
# What an agent says answering a call, and a caller hardly ever does (each a distinct cue).
AGENT_OPENINGS = {
    "thank you for calling": r"\bthank(?:s| you) (?:so much |very much )?for (?:calling|contacting|ringing|phoning)\b(?! me)(?! back)",
    "how can I help": r"\bhow (?:can|may|could|might) (?:i|we) (?:help|assist)\b",
    "what can I do for you": r"\bwhat can (?:i|we) do for you\b",
    "you're through to": r"\byou(?:'re| are) (?:through to|speaking (?:to|with))\b",
    "welcome to": r"\bwelcome to\b",
}
# What a caller says to explain why they called (never "I'm calling from": that is an agent).
CALLER_OPENINGS = {
    "I'm calling about": r"\b(?:i'm|i am|im|i was) (?:calling|ringing|phoning)(?: in)?(?: today)? (?:about|because|regarding|re|to ask|to check|"
                         r"to find out|to see|to cancel|to change|to report|to complain|to book|to make)\b",
    "I have a question": r"\bi(?:'ve| have)?(?: got)? (?:a|one) (?:quick )?(?:question|query|problem)\b",
    "I'd like to ...": r"\bi(?:'d| would) like to (?:set up|switch|cancel|increase|open|close|report|book|move|"
                       r"transfer|upgrade|complain|dispute|make a (?:complaint|claim|payment))\b",
    # The caller speaks of their own things in the first person; an agent says "your account".
    "my account, my bill, ...": r"\bi\b[^.?!]{0,40}\bmy (?:\w+ ){0,2}(?:account|balance|bill|card|order|payment|password|"
                                r"booking|reservation|car|phone|internet|broadband|policy|claim|package|parcel|delivery|"
                                r"subscription|loan|mortgage|direct debit|overdraft|meter|boiler|tariff)s?\b",
}
_AGENT_RE = {name: re.compile(p) for name, p in AGENT_OPENINGS.items()}
_CALLER_RE = {name: re.compile(p) for name, p in CALLER_OPENINGS.items()}


@dataclass(frozen=True)
class SwapCheck:
    """The transcript's evidence that agent and customer are the wrong way round.

    `swap`: the evidence is strong and the call is scored with the parties exchanged; otherwise
    the call is scored as recorded and only flagged."""

    swap: bool
    evidence: str

    def flag(self, what: str = "channels") -> str:
        if self.swap:
            return f"{what} swapped (scored with agent and customer exchanged): {self.evidence}"
        return f"{what} look swapped (scored as recorded): {self.evidence}"


def _opening_text(utterances: Sequence[Utterance], speaker: str, until: float) -> str:
    text = " ".join(u.text for u in utterances if u.speaker == speaker and u.start < until)
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w' ]+", " ", text).split())


def _cues(text: str, patterns: dict[str, re.Pattern]) -> list[str]:
    return [name for name, pattern in patterns.items() if pattern.search(text)]


def swap_check(utterances: Sequence[Utterance], opening_s: float = OPENING_S) -> SwapCheck | None:
    """Whether agent and customer look swapped, from the opening of the transcript.

    Looks at the first `opening_s` seconds from the first word. The channels **look swapped**
    when the customer side says an agent's opening ("thank you for calling", "how can I help",
    ...) and the agent side says none. The evidence is **strong** (swap) only when, besides, the
    customer side speaks first (the agent answers the call), the agent side talks like the
    caller ("I'm calling about ...", "I'd like to cancel ...", "I ... my account") while the
    customer side does not, and the cues on both sides add up to STRONG_CUES different ones.
    Talk time is not used: customers often talk more than agents.
    """
    said = [u for u in utterances if u.text.strip()]
    if not said:
        return None
    first = min(said, key=lambda u: u.start)
    until = first.start + opening_s
    agent_text, customer_text = _opening_text(said, "agent", until), _opening_text(said, "customer", until)
    agent_cues, customer_cues = _cues(agent_text, _AGENT_RE), _cues(customer_text, _AGENT_RE)
    if not customer_cues or agent_cues:
        return None
    agent_caller, customer_caller = _cues(agent_text, _CALLER_RE), _cues(customer_text, _CALLER_RE)
    quoted = ", ".join(f"'{c}'" for c in customer_cues)
    parts = [f"in the first {opening_s:.0f} s the customer side says the agent's {quoted}, the agent side none"]
    if first.speaker == "customer":
        parts.append("the customer side speaks first")
    if agent_caller:
        parts.append("the agent side says the caller's " + ", ".join(f"'{c}'" for c in agent_caller))
    strong = (first.speaker == "customer" and bool(agent_caller) and not customer_caller
              and len(customer_cues) + len(agent_caller) >= STRONG_CUES)
    return SwapCheck(strong, "; ".join(parts))


def swap_speakers(utterances: Sequence[Utterance]) -> list[Utterance]:
    """The same utterances with agent and customer exchanged."""
    other = {"agent": "customer", "customer": "agent"}
    return [replace(u, speaker=other.get(u.speaker, u.speaker)) for u in utterances]
