"""Who speaks when, the holds, and the call's metrics: all from speech activity, not words.

Speech activity comes from Silero VAD (shipped inside faster-whisper), which ignores hold music
that energy-based silence detection would count as talk. It streams over the channel block by
block, so its memory does not grow with the call's length. Everything past `speech_spans` is
plain arithmetic on time spans, so it is tested without audio.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from pipeline.records import Hold, Metrics, Span, Utterance


@dataclass(frozen=True)
class ActivityOptions:
    """How speech, holds and dead air are told apart.

    Attributes:
      min_hold_s: the agent silent this long (customer quiet too) is a hold, not a pause.
      max_customer_share: a gap in agent speech is not a hold when the customer talks for more
        than this share of it (the customer was explaining, the agent listening).
      dead_air_s: both parties silent this long, outside a hold, is dead air.
      vad_threshold: Silero speech probability above which a frame is speech.
      min_silence_ms: a pause this long ends a stretch of speech (turn-taking resolution).
      bleed_db: a stretch of "speech" on one channel this many dB quieter than the other
        channel at the same time, while the other party speaks, is the other party heard
        through the line (crosstalk), not this party: Whisper would transcribe it as theirs
        (a customer's "thank you" passed as the agent's). Two people talking over each other
        differ by a few dB; bleed measured 20-40 dB down.
      bleed_overlap: ... and the other party speaks for at least this share of the stretch.
    """

    min_hold_s: float = 20.0
    max_customer_share: float = 0.3
    dead_air_s: float = 10.0
    vad_threshold: float = 0.5
    min_silence_ms: int = 500
    bleed_db: float = 15.0
    bleed_overlap: float = 0.5


def speech_spans(samples: np.ndarray, options: ActivityOptions = ActivityOptions(), sample_rate: int = 16_000) -> list[Span]:
    """Stretches of speech in one channel, by Silero VAD, streamed (see `speech_probabilities`):
    the same spans as faster-whisper's `get_speech_timestamps`, in bounded memory."""
    from faster_whisper.vad import VadOptions

    vad = VadOptions(
        threshold=options.vad_threshold,
        min_silence_duration_ms=options.min_silence_ms,
        speech_pad_ms=100,
        min_speech_duration_ms=200,
    )
    chunks = spans_from_probabilities(speech_probabilities(samples), samples.size, vad, sample_rate)
    return [Span(start / sample_rate, end / sample_rate) for start, end in chunks]


VAD_WINDOW = 512          # samples per Silero frame at 16 kHz (32 ms)
VAD_CONTEXT = 64          # samples of the frame before that Silero sees with each frame
VAD_BLOCK = 1_000         # frames per ONNX call: 32 s of audio. The LSTM state runs on across
                          # calls, so the numbers are those of faster-whisper's 10,000-frame batch
                          # (identical, measured), in 20-25 % less time: the big batch's tensors
                          # (22 MB in, more inside) fall out of the CPU's cache.


def speech_probabilities(samples: np.ndarray, block_frames: int = VAD_BLOCK) -> np.ndarray:
    """Silero's speech probability per 32 ms frame, `block_frames` frames at a time.

    The same numbers as faster-whisper's `SileroVADModel` (the LSTM state and each frame's context
    carried across blocks), without its two full-length copies of the channel (padded, then with
    context): a block of 32 s is the only extra memory, whatever the call's length.
    """
    from faster_whisper.vad import get_vad_model

    session = get_vad_model().session
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    context = np.zeros(VAD_CONTEXT, np.float32)
    frames = samples.size // VAD_WINDOW + 1  # faster-whisper always pads, a whole frame when none is needed
    out = []
    for first in range(0, frames, block_frames):
        count = min(block_frames, frames - first)
        block = np.zeros(count * VAD_WINDOW, np.float32)
        piece = samples[first * VAD_WINDOW:first * VAD_WINDOW + count * VAD_WINDOW]
        block[:piece.size] = piece
        windows = block.reshape(count, VAD_WINDOW)
        if first + count == frames:
            windows[-1, -VAD_CONTEXT:] = 0  # as faster-whisper does to the last frame
        contexts = np.concatenate([context[None, :], windows[:-1, -VAD_CONTEXT:]])
        context = windows[-1, -VAD_CONTEXT:].copy()
        probs, h, c = session.run(None, {"input": np.concatenate([contexts, windows], axis=1), "h": h, "c": c})
        out.append(probs)
    return np.concatenate(out).reshape(-1)


def spans_from_probabilities(probs: np.ndarray, length: int, vad, sample_rate: int = 16_000) -> list[tuple[int, int]]:
    """faster-whisper's `get_speech_timestamps` after the model: thresholds with hysteresis, the
    longest stretch, the shortest speech and silence, padding; in samples."""
    window = VAD_WINDOW
    threshold = vad.threshold
    neg_threshold = vad.neg_threshold if vad.neg_threshold is not None else max(threshold - 0.15, 0.01)
    min_speech = sample_rate * vad.min_speech_duration_ms / 1000
    pad = sample_rate * vad.speech_pad_ms / 1000
    max_speech = sample_rate * vad.max_speech_duration_s - window - 2 * pad
    min_silence = sample_rate * vad.min_silence_duration_ms / 1000
    min_silence_at_max = sample_rate * 98 / 1000
    triggered, speeches, current = False, [], {}
    temp_end = prev_end = next_start = 0
    for i, prob in enumerate(probs.tolist()):
        at = window * i
        if prob >= threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = at
        if prob >= threshold and not triggered:
            triggered, current = True, {"start": at}
            continue
        if triggered and at - current["start"] > max_speech:
            if prev_end:
                current["end"] = prev_end
                speeches.append(current)
                current = {}
                if next_start < prev_end:
                    triggered = False
                else:
                    current["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current["end"] = at
                speeches.append(current)
                current, triggered = {}, False
                prev_end = next_start = temp_end = 0
                continue
        if prob < neg_threshold and triggered:
            if not temp_end:
                temp_end = at
            if at - temp_end > min_silence_at_max:
                prev_end = temp_end
            if at - temp_end < min_silence:
                continue
            current["end"] = temp_end
            if current["end"] - current["start"] > min_speech:
                speeches.append(current)
            current, triggered = {}, False
            prev_end = next_start = temp_end = 0
            continue
    if current and length - current["start"] > min_speech:
        current["end"] = length
        speeches.append(current)
    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - pad))
        if i != len(speeches) - 1:
            silence = speeches[i + 1]["start"] - speech["end"]
            if silence < 2 * pad:
                speech["end"] += int(silence // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence // 2))
            else:
                speech["end"] = int(min(length, speech["end"] + pad))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - pad))
        else:
            speech["end"] = int(min(length, speech["end"] + pad))
    return [(s["start"], s["end"]) for s in speeches]


def _rms_db(samples: np.ndarray, span: Span, sample_rate: int) -> float:
    part = samples[int(span.start * sample_rate):int(span.end * sample_rate)]  # this span only, read from disk for stereo
    return 10 * np.log10(float(np.dot(part, part)) / part.size + 1e-12) if part.size else -120.0


def without_bleed(
    own: np.ndarray,
    other: np.ndarray,
    own_spans: Sequence[Span],
    other_spans: Sequence[Span],
    options: ActivityOptions = ActivityOptions(),
    sample_rate: int = 16_000,
) -> tuple[list[Span], list[Span]]:
    """Split one channel's speech into its own and the other party's bleed (see `bleed_db`).

    Returns (own speech, bleed). Stereo calls only: on a mono call there is no other channel.
    """
    kept, bleed = [], []
    for span in own_spans:
        talking = overlap(other_spans, span.start, span.end) >= options.bleed_overlap * span.duration
        quieter = _rms_db(other, span, sample_rate) - _rms_db(own, span, sample_rate) >= options.bleed_db
        (bleed if talking and quieter else kept).append(span)
    return kept, bleed


# --- span arithmetic -----------------------------------------------------------------------

def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping union of spans."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if out and span.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out


def total(spans: Iterable[Span]) -> float:
    return sum(s.duration for s in merge(spans))


def overlap(spans: Iterable[Span], start: float, end: float) -> float:
    """Seconds of `spans` inside [start, end]."""
    return sum(max(0.0, min(s.end, end) - max(s.start, start)) for s in merge(spans))


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    out = []
    for x in merge(a):
        for y in merge(b):
            lo, hi = max(x.start, y.start), min(x.end, y.end)
            if hi > lo:
                out.append(Span(lo, hi))
    return out


def gaps(spans: Sequence[Span], start: float, end: float) -> list[Span]:
    """The stretches of [start, end] not covered by `spans`."""
    out, cursor = [], start
    for span in merge(spans):
        if span.start > cursor:
            out.append(Span(cursor, min(span.start, end)))
        cursor = max(cursor, span.end)
    if cursor < end:
        out.append(Span(cursor, end))
    return [g for g in out if g.duration > 0]


# --- holds and metrics -----------------------------------------------------------------------

def find_holds(agent: Sequence[Span], customer: Sequence[Span], options: ActivityOptions = ActivityOptions()) -> list[Hold]:
    """Gaps between the agent's stretches of speech long enough to be holds.

    Only gaps *between* agent speech count: before the first words is ringing (speed of answer),
    after the last is the end of the call.
    """
    agent = merge(agent)
    if len(agent) < 2:
        return []
    holds = []
    for gap in gaps(agent, agent[0].end, agent[-1].start):
        if gap.duration < options.min_hold_s:
            continue
        if overlap(customer, gap.start, gap.end) > options.max_customer_share * gap.duration:
            continue
        holds.append(Hold(len(holds), round(gap.start, 2), round(gap.end, 2)))
    return holds


def _wpm(utterances: Sequence[Utterance], speaker: str, talk_s: float) -> float | None:
    words = sum(len(u.words) or len(u.text.split()) for u in utterances if u.speaker == speaker)
    return round(words / (talk_s / 60.0), 1) if talk_s > 1 and words else None


def measure(
    duration_s: float,
    agent: Sequence[Span],
    customer: Sequence[Span],
    holds: Sequence[Hold],
    utterances: Sequence[Utterance] = (),
    options: ActivityOptions = ActivityOptions(),
) -> Metrics:
    """The call's metrics. Handle time runs from the agent's first words to the end."""
    agent, customer = merge(agent), merge(customer)
    agent_talk, customer_talk = total(agent), total(customer)
    answered = agent[0].start if agent else None
    silences = gaps(agent + customer, answered or 0.0, duration_s)
    hold_spans = [Span(h.start, h.end) for h in holds]
    dead_air = [
        s for s in silences
        if s.duration >= options.dead_air_s and overlap(hold_spans, s.start, s.end) < 0.5 * s.duration
    ]
    silence = sum(s.duration for s in silences)
    return Metrics(
        duration_s=round(duration_s, 2),
        time_to_answer_s=round(answered, 2) if answered is not None else None,
        handle_time_s=round(duration_s - (answered or 0.0), 2),
        agent_talk_s=round(agent_talk, 2),
        customer_talk_s=round(customer_talk, 2),
        silence_s=round(silence, 2),
        silence_share=round(silence / duration_s, 3) if duration_s else 0.0,
        overtalk_s=round(total(intersect(agent, customer)), 2),
        talk_listen_ratio=round(agent_talk / customer_talk, 2) if customer_talk else None,
        agent_talk_share=round(agent_talk / (agent_talk + customer_talk), 3) if agent_talk + customer_talk else 0.0,
        dead_air_count=len(dead_air),
        longest_dead_air_s=round(max((s.duration for s in dead_air), default=0.0), 2),
        hold_count=len(holds),
        hold_total_s=round(sum(h.duration for h in holds), 2),
        longest_hold_s=round(max((h.duration for h in holds), default=0.0), 2),
        agent_wpm=_wpm(utterances, "agent", agent_talk),
        customer_wpm=_wpm(utterances, "customer", customer_talk),
    )
