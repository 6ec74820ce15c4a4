"""Speech to utterances with word times (faster-whisper), one channel at a time.

Whisper decodes only where the project's own speech activity (`activity.speech_spans`, Silero
VAD run once per channel) found speech, each stretch in its real place on the recording's
timeline (`clip_timestamps`), never faster-whisper's `vad_filter`. That filter glues the speech
chunks together with the silences cut out and decodes the glued audio in 30 s windows: on a
call where one party listens for minutes, one window then spans minutes of real time (on the
real call `real_auto_repairs_40`, the customer's 0:37-2:09), and when Whisper's timestamps
place a phrase at the end of such a window, faster-whisper moves on past everything before it
(the customer's 0:38-2:07 lost) and maps the phrase through the cut silences to 2:09. Here a
decoding window never reaches across a silence longer than `max_gap_s`, times are the
recording's own, and every stretch of speech that still comes back without words is decoded
again on its own.

Whisper also invents words where nobody speaks ("Thank you." at the end of a quiet stretch,
"Thank you for calling" over hold music). A word with no speech activity under it is dropped;
a word from a window Whisper itself judged probably silent (`no_speech_prob`) keeps its text
but its probability is capped, so no item passes on it without a person (see `score._certain`).
Utterance times come from the first and last word, never from the segment.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from pipeline.records import Span, Utterance, Word
from pipeline.audio.repeats import loops, without_loops

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding settings passed to faster-whisper, and how speech regions are cut for it.

    Attributes:
      language: ISO code ("en", "nb", "nl", ...); None lets Whisper detect it on the agent channel.
      beam_size: 5 is Whisper's default; 1 is about 30 % faster with the same key phrases on calls.
      min_context_s: Whisper's encoder reads every window as 30 s, padding included, and costs
        the same for 3 s of speech as for 30 (0.72 CPU-s for base int8); most windows are a
        channel's last, mostly padding. So the encoder reads only as much of a batch's windows
        as holds audio, in whole seconds, at least this many (windows of like length batched
        together): 15 s costs 0.16 CPU-s, 10 s 0.09 s. On the bench's 74 labelled calls (2 at
        once, 2 cores): 15 s -> 18.2 audio-s per CPU-s against 14.3 with 30 s everywhere, and the
        same agreement with the labels (487 of 555 items, F1 0.913 against 0.912); 0, 10 and 20 s
        agreed on 485. The agent's first window (the opening, decoded alone with the names as a
        hint, or handed over by language detection) is always read whole: fitted, it lost 4
        company introductions. None: Whisper's 30 s for every window.
      customer_beam_size: the beam on the customer's channel (`for_customer`); None: `beam_size`.
        1 (greedy): no default scorecard rule reads the customer's exact words (only when they
        speak, and the swap check's opening cues), and greedy base hears customers' card numbers
        as beam 5 does: on the bench's five spoken card payments every number and security code
        was redacted either way. About 4 % less CPU per call (the customer says less).
      customer_model: a second, faster model for the customer's channel, e.g. "tiny.en" (loaded
        once beside the call's model, `models.companion`; an English-only one only on calls
        decoded in English). None (the default): the call's model. Measured with base for the
        agent: 12-17 % less CPU than greedy base on the customer, the same agreement with the
        labels on 41 calls (293 of 321 items), no card number left in the five card payments
        (bench/bench.py --set customer_model=tiny.en; --models ... base+tiny.en), but tiny.en
        wrote one customer's "five five five five, ..." as "Okay." (greedy; "fine, fine, ..."
        with beam 5) and "nine oh nine" as "I know mine": nothing left, but nothing heard to
        redact either; its customer transcripts read worse for reviewers, and on a call
        found swapped (agent on the customer's line) the agent's words would be tiny.en's. An
        option for English centres that need the speed, not the default.
      model: the model this channel is decoded with instead of the one passed (set by
        `for_customer` from `customer_model`); None: the one passed.
      condition_on_previous_text: off, so one misheard phrase does not repeat through a call.
      max_gap_s: stretches of speech closer than this form one region, pauses and all; a longer
        silence starts a new region, so no region spans a stretch where the party only listens.
        Neighbouring regions still share a window when they fit (`batch_size`), glued with their
        lead-in and tail, so a turn is read whole with its longer pauses cut to about a second.
        2 s (was 5): 17 % fewer encoder windows on the bench corpus (295 -> 244); with greedy
        customers, 2-16 % less CPU on three samples of 12-17 labelled calls and as much or more
        agreement with the labels (293 against 288 of 321 items).
      max_region_s: a decoding region grows by whole stretches of speech up to this length
        (Whisper's 30 s window); one longer stretch is windowed by faster-whisper inside it.
      lead_s: audio kept before each region: Whisper hears a turn's first words better with a
        moment of lead-in (a window that starts on the first syllable misheard openings such as
        "Hiya, Beacon Books, Tom here" on the spoken eval calls).
      tail_s: audio kept after each region, so the last word is not cut.
      speech_slack_s: a word counts as spoken when it lies within this distance of speech
        activity; words farther away are Whisper's inventions and are dropped.
      max_no_speech_prob: Whisper's own no-speech threshold: words of a window it judged
        silent with a higher probability keep at most 1 - no_speech_prob as their probability.
      vocabulary: names the decoder should expect on this channel (the scorecard's company and
        product names, the agent's name from the manifest). Hints only: nothing matches on them.
      vocabulary_as: how they reach Whisper: "initial_prompt" (the default: the first window
        only, with condition_on_previous_text off; the opening, where the agent names the
        company and themselves), "hotwords" (the prompt of every window) or "none". Measured
        on the stereo sample calls' openings: with no hint Whisper wrote the company right in
        5 of 10 ("North Wind Energy", "Kintoso Wang") and the agent's name in 9; with either
        hint 10 and 10; but hotwords also put a name where none was said ("Of course" heard
        as "Contoso" a window later), so the hint goes in the first window only.
      batch_size: windows decoded at once by faster-whisper's batched pipeline, each window
        holding as many whole regions as fit in its 30 s (glued, times mapped back) and decoded
        once, with no seeking past its start. A region costs the encoder a whole window however
        short it is, so packing and batching cut the work about in half (bench/bench.py).
        4, not 8: the decoder keeps every beam's attention over its window, so memory grows
        with batch x beam; on a 60-minute stereo call (base, beam 5 for the agent) batches of 4
        peaked at 1,500 MB against 2,057 MB for 8, at the same CPU (173.8 s against 172.6 s;
        2: 1,333 MB but 193.0 s). 0: regions one after another through `WhisperModel.transcribe`.
    """

    language: str | None = None
    beam_size: int = 5
    condition_on_previous_text: bool = False
    max_gap_s: float = 2.0
    max_region_s: float = 30.0
    lead_s: float = 1.0
    tail_s: float = 0.3
    speech_slack_s: float = 0.3
    max_no_speech_prob: float = 0.6
    vocabulary: tuple[str, ...] = ()
    vocabulary_as: str = "initial_prompt"
    batch_size: int = 4
    min_context_s: float | None = 15.0
    customer_beam_size: int | None = 1
    customer_model: str | None = None
    model: str | None = None

    def for_customer(self) -> "TranscribeOptions":
        """These options as the customer's channel is decoded (`customer_beam_size`,
        `customer_model`)."""
        changes: dict = {}
        if self.customer_beam_size is not None and self.customer_beam_size != self.beam_size:
            changes["beam_size"] = self.customer_beam_size
        if self.customer_model:
            from pipeline.audio.language import english_only

            if not english_only(self.customer_model) or (self.language or "").lower().startswith("en"):
                changes["model"] = self.customer_model
        return replace(self, **changes) if changes else self


WINDOW_S = 30.0  # Whisper's window


def transcribe_channel(
    model,
    samples: np.ndarray,
    speaker: str,
    options: TranscribeOptions,
    spans: Sequence[Span] | None = None,
) -> tuple[list[Utterance], str | None]:
    """Transcribe one party's channel; returns its utterances and the language used (the one
    asked for when the channel holds no speech).

    `spans`: the channel's speech activity when the caller has it already (the pipeline does),
    so VAD runs once; without it, it is computed here.
    """
    if spans is None:
        from pipeline.audio.activity import speech_spans

        spans = speech_spans(samples)
    if options.model:
        from pipeline.audio.models import companion

        model = companion(model, options.model)
    spans = sorted(spans, key=lambda s: s.start)
    if not spans:
        return [], options.language
    duration = len(samples) / SAMPLE_RATE
    regions = decode_regions(spans, duration, options)
    words, language = _decode(model, samples, regions, options, options.language)
    looped = looped_regions(regions, words)
    if looped and options.batch_size > 0:
        words = sorted([w for w in words if not _within(w, looped)] + _without_loops_again(model, samples, looped, options, language),
                       key=lambda w: w.start)
    missed = uncovered(spans, words, options.speech_slack_s)
    if missed:  # a stretch Whisper skipped in its window: once more, on its own
        alone = [_padded(s, duration, options.lead_s, options.tail_s) for s in missed]
        more, _ = _decode(model, samples, alone, options, language, pack=False)
        more = spoken_words(more, missed, options.speech_slack_s)  # not the neighbours' words again
        words = sorted(words + more, key=lambda w: w.start)
    words = without_loops(spoken_words(words, spans, options.speech_slack_s))  # what is left of a loop: once, unsure
    return [_utterance(speaker, run) for run in split_at_pauses(words)], language


def _without_loops_again(model, samples: np.ndarray, looped: Sequence[Span], options: TranscribeOptions,
                         language: str | None) -> list[Word]:
    """The words of regions the batched decoder looped in, decoded once more.

    A loop starts in one window and runs on through the regions glued after it (their words are
    the loop's), so each looped region is decoded again on its own, still batched: on the bench
    corpus that ended all 24 loops (7 calls) at 1.1 CPU-s a region. Only a region that loops
    even alone goes to the sequential decoder, which decodes a window that compresses too well
    again at a higher temperature (faster-whisper's fallback; 2.9 CPU-s a region, 16.9 s for one).
    """
    again, _ = _decode(model, samples, looped, options, language, pack=False)
    again = [w for w in again if _within(w, looped)]
    still = looped_regions(looped, again)
    if still:
        alone, _ = _decode_in_place(model, samples, still, options, language)
        again = [w for w in again if not _within(w, still)] + [w for w in alone if _within(w, still)]
    return again


def looped_regions(regions: Sequence[Span], words: Sequence[Word]) -> list[Span]:
    """The decoded regions in which Whisper fell into a repetition loop (`repeats.loops`)."""
    stretches = [Span(words[a].start, words[b - 1].end) for a, b, _ in loops(words)]
    return [r for r in regions if any(r.start <= s.end and s.start <= r.end for s in stretches)]


def _within(word: Word, regions: Sequence[Span]) -> bool:
    middle = (word.start + word.end) / 2
    return any(r.start <= middle <= r.end for r in regions)


def _decode(model, samples: np.ndarray, regions: Sequence[Span], options: TranscribeOptions,
            language: str | None, pack: bool = True) -> tuple[list[Word], str]:
    """faster-whisper over `regions` only, in the recording's own time: batched (`batch_size`;
    `pack`: several regions share a window), a region over 30 s one window after another."""
    if options.batch_size <= 0:
        return _decode_in_place(model, samples, regions, options, language)
    short = [r for r in regions if r.duration <= WINDOW_S]
    long = [r for r in regions if r.duration > WINDOW_S]
    words, found = _decode_batched(model, samples, short, options, language, pack) if short else ([], language)
    if long:
        more, detected = _decode_in_place(model, samples, long, options, found)
        words, found = sorted(words + more, key=lambda w: w.start), found or detected
    return words, found


def pack_windows(regions: Sequence[Span], window_s: float = WINDOW_S) -> list[list[Span]]:
    """Regions in order, grouped into windows of at most `window_s` seconds of audio."""
    windows: list[list[Span]] = []
    for region in regions:
        if windows and sum(r.duration for r in windows[-1]) + region.duration <= window_s:
            windows[-1].append(region)
        else:
            windows.append([region])
    return windows


WINDOWS_PER_CALL = 4
"""Batches handed to faster-whisper at once: it computes the features of every window it is given
before decoding any (1 MB a window), so a long call goes in groups and its memory stays flat."""


def _decode_batched(model, samples: np.ndarray, regions: Sequence[Span], options: TranscribeOptions,
                    language: str | None, pack: bool) -> tuple[list[Word], str]:
    """The regions glued window by window (`pack_windows`), every window decoded once, in
    batches of like length (`min_context_s`), `WINDOWS_PER_CALL` batches at a time; the words
    come back in time order."""
    from faster_whisper import BatchedInferencePipeline

    windows = pack_windows(regions) if pack else [[r] for r in regions]
    # the language-detection pass's encoder run over this first window, when it made one
    encoded = _take_encoded(model)
    # light, one per call: the first window, decoded alone, as Whisper's whole 30 s (it is the
    # agent's opening, where the company and the agent's name are said: fitted, 4 fewer company
    # introductions were heard on the bench corpus); the rest fitted to their audio
    opening = BatchedInferencePipeline(_Encoder(model, encoded))
    fitted = BatchedInferencePipeline(_Encoder(model, None, options.min_context_s))
    hint = decoder_hint(options.vocabulary, options.vocabulary_as)
    # The batched pipeline gives an initial_prompt to every window: keep it to the first, as
    # the sequential decoder does (hotwords go to every window either way). The first window
    # alone is also the one whose encoder output the detection pass may hand over.
    rest = {} if "initial_prompt" in hint else hint
    step = max(1, options.batch_size) * WINDOWS_PER_CALL
    alone = 1 if "initial_prompt" in hint or encoded else 0
    groups = windows[:alone] and [windows[:alone]]
    rest_windows, bucket = windows[alone:], lambda window: 0  # in time order, one run of batches
    if options.min_context_s is not None:  # a batch is encoded as long as its longest window: like with like
        rest_windows, bucket = sorted(rest_windows, key=_glued_s), lambda window: int(np.ceil(_glued_s(window) / 5.0))
    for _, alike in itertools.groupby(rest_windows, key=bucket):
        alike = list(alike)
        groups += [alike[i:i + step] for i in range(0, len(alike), step)]
    words: list[Word] = []
    for i, group in enumerate(groups):
        pipeline = opening if i < alone else fitted
        found, language = _decode_windows(pipeline, samples, group, options, language, hint if i == 0 else rest)
        words += found
    return sorted(words, key=lambda w: w.start), language  # the batches ran by length, not by time


def _glued_s(window: Sequence[Span]) -> float:
    return sum(r.duration for r in window)


def _decode_windows(pipeline, samples: np.ndarray, windows: Sequence[Sequence[Span]], options: TranscribeOptions,
                    language: str | None, hint: dict[str, str]) -> tuple[list[Word], str]:
    """One faster-whisper call over `windows`, each window's regions glued into one clip; each
    word's time mapped back through the region it starts in."""
    pieces, placed, clips, at = [], [], [], 0  # placed: (glued start, region) in samples / spans
    for window in windows:
        first = at
        for region in window:
            piece = samples[int(region.start * SAMPLE_RATE):int(region.end * SAMPLE_RATE)]
            pieces.append(piece)
            placed.append((at, region))
            at += piece.size
        clips.append({"start": first / SAMPLE_RATE, "end": at / SAMPLE_RATE})
    found, info = pipeline.transcribe(np.concatenate(pieces), language=language, beam_size=options.beam_size,
                                      vad_filter=False, clip_timestamps=clips, word_timestamps=True,
                                      batch_size=options.batch_size, **hint)
    starts = [start for start, _ in placed]

    def placed_word(start: float, end: float) -> tuple[float, float]:
        glued_at, region = placed[max(0, int(np.searchsorted(starts, start * SAMPLE_RATE, side="right")) - 1)]
        shift = region.start - glued_at / SAMPLE_RATE
        start, end = round(start + shift, 2), round(min(end + shift, region.end), 2)
        return start, max(start, end)

    return _words(found, options, placed_word), language or info.language


def _decode_in_place(model, samples: np.ndarray, regions: Sequence[Span], options: TranscribeOptions,
                     language: str | None) -> tuple[list[Word], str]:
    """faster-whisper over `regions`, one window after another, in the recording's own time.

    Each region is decoded from its own slice of the channel: faster-whisper computes the
    features of all the audio it is given, and a whole hour-long channel's (clip_timestamps or
    not) took 3 GB more than the call itself. An initial_prompt goes with the first region only,
    as the sequential decoder gives it to its first window; hotwords go with every one."""
    hint = decoder_hint(options.vocabulary, options.vocabulary_as)
    words: list[Word] = []
    for i, region in enumerate(regions):
        first = int(region.start * SAMPLE_RATE)
        segments, info = model.transcribe(
            samples[first:int(region.end * SAMPLE_RATE)],
            language=language,
            beam_size=options.beam_size,
            vad_filter=False,
            word_timestamps=True,
            condition_on_previous_text=options.condition_on_previous_text,
            **(hint if i == 0 or "initial_prompt" not in hint else {}),
        )
        shift = first / SAMPLE_RATE
        words += _words(segments, options, lambda start, end: (round(start + shift, 2), round(end + shift, 2)))
        language = language or info.language  # detected once, on the first region
    return words, language


def _words(segments, options: TranscribeOptions, place) -> list[Word]:
    """The words Whisper wrote in `segments`, each at `place(start, end)` in the recording's own
    time, its probability capped where Whisper judged the window silent (`heard_probability`)."""
    return [
        Word(w.word.strip(), *place(float(w.start), float(w.end)),
             heard_probability(float(w.probability), segment.no_speech_prob, options.max_no_speech_prob))
        for segment in segments
        for w in (segment.words or [])
        if w.word.strip()
    ]


def decoder_hint(vocabulary: Sequence[str], how: str = "initial_prompt") -> dict[str, str]:
    """The keyword argument that gives Whisper the call's names: {} when there are none.

    Names are written as a short list ("Northwind Energy, Contoso Bank, Sarah."): Whisper reads a
    prompt as text said before, and a list biases spelling without inviting a sentence.
    """
    names = list(dict.fromkeys(n.strip() for n in vocabulary if n and n.strip()))
    if not names or how == "none":
        return {}
    if how not in ("hotwords", "initial_prompt"):
        raise ValueError(f"vocabulary_as must be hotwords, initial_prompt or none, not {how!r}")
    return {how: ", ".join(names) + "."}


def heard_probability(probability: float, no_speech_prob: float, max_no_speech_prob: float = 0.6) -> float:
    """A word's probability, capped at 1 - no_speech_prob when Whisper judged its window
    probably silent: the words stay on record, but no item passes on them unseen."""
    if no_speech_prob > max_no_speech_prob:
        probability = min(probability, 1.0 - no_speech_prob)
    return round(probability, 3)


# --- regions, coverage and filtering: plain arithmetic on spans ----------------------------------

def decode_regions(spans: Sequence[Span], duration_s: float, options: TranscribeOptions = TranscribeOptions()) -> list[Span]:
    """Group stretches of speech into decoding regions: neighbours closer than `max_gap_s` share
    one while it stays, padding included, within `max_region_s`; each region gets `lead_s`
    before and `tail_s` after, within the call, and never reaches into the region before it.
    (A region of 31 s, 30 s of speech padded, went to the sequential decoder as two windows.)"""
    groups: list[list[Span]] = []
    room = options.max_region_s - options.lead_s - options.tail_s  # padded, a region still fits in max_region_s
    for span in sorted(spans, key=lambda s: s.start):
        if groups and span.start - groups[-1][-1].end <= options.max_gap_s \
                and span.end - groups[-1][0].start <= room:
            groups[-1].append(span)
        else:
            groups.append([span])
    regions = [_padded(Span(g[0].start, max(s.end for s in g)), duration_s, options.lead_s, options.tail_s) for g in groups]
    out: list[Span] = []
    for region in regions:  # padding may make neighbours touch: clips must not overlap
        if out and region.start < out[-1].end:
            region = Span(out[-1].end, region.end)
        if region.end > region.start:
            out.append(region)
    return out


def _padded(span: Span, duration_s: float, lead_s: float, tail_s: float) -> Span:
    return Span(max(0.0, span.start - lead_s), min(duration_s, span.end + tail_s))


def _near(word: Word, span: Span, slack_s: float) -> bool:
    return word.end >= span.start - slack_s and word.start <= span.end + slack_s


def uncovered(spans: Sequence[Span], words: Sequence[Word], slack_s: float = 0.3) -> list[Span]:
    """The stretches of speech with no transcribed word on or near them (within `slack_s`)."""
    ordered = sorted(words, key=lambda w: w.start)
    starts = [w.start for w in ordered]
    out = []
    for span in spans:
        i = int(np.searchsorted(starts, span.end + slack_s, side="right"))
        if not any(_near(w, span, slack_s) for w in ordered[max(0, i - 50):i]):
            out.append(span)
    return out


def coverage(spans: Sequence[Span], words: Sequence[Word], slack_s: float = 0.3) -> float:
    """Share of speech time (by VAD) that has transcribed words on it: 1.0 when nothing is lost."""
    total = sum(s.duration for s in spans)
    lost = sum(s.duration for s in uncovered(spans, words, slack_s))
    return 1.0 if total <= 0 else (total - lost) / total


def spoken_words(words: Sequence[Word], spans: Sequence[Span], slack_s: float = 0.3) -> list[Word]:
    """The words with speech activity under them; the rest Whisper made up over silence."""
    ordered = sorted(spans, key=lambda s: s.start)
    ends = np.maximum.accumulate([s.end for s in ordered]) if ordered else np.zeros(0)
    kept = []
    for word in words:
        i = int(np.searchsorted(ends, word.start - slack_s, side="left"))  # first span that may reach it
        if i < len(ordered) and any(_near(word, s, slack_s) for s in ordered[i:i + 3]):
            kept.append(word)
    return kept


def split_at_pauses(words: Sequence[Word], max_gap_s: float = 1.5) -> list[list[Word]]:
    """Group a channel's words into utterances at pauses, ignoring Whisper's segment boundaries:
    segments can run across a hold, or cut a phrase ("you'll | get an email") in two."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and word.start - runs[-1][-1].end <= max_gap_s:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def assign_speakers(utterances: Sequence[Utterance], agent: Sequence[Span], customer: Sequence[Span]) -> list[Utterance]:
    """Re-cut mono utterances at speaker changes: each word goes to the party speaking at its midpoint."""

    def speaker_at(t: float) -> str:
        def distance(spans: Sequence[Span]) -> float:
            return min((0.0 if s.start <= t <= s.end else min(abs(t - s.start), abs(t - s.end)) for s in spans), default=1e9)

        return "agent" if distance(agent) <= distance(customer) else "customer"

    out: list[Utterance] = []
    for utterance in utterances:
        run: list[Word] = []
        run_speaker = None
        for word in utterance.words:
            who = speaker_at((word.start + word.end) / 2)
            if run and who != run_speaker:
                out.append(_utterance(run_speaker, run))
                run = []
            run.append(word)
            run_speaker = who
        if run:
            out.append(_utterance(run_speaker, run))
    return out


def _utterance(speaker, words: list[Word]) -> Utterance:
    return Utterance(speaker, words[0].start, words[-1].end, " ".join(w.text for w in words), tuple(words))


DETECT_S = 30.0  # Whisper identifies the language from one window of speech


def detect_language(model, samples: np.ndarray, spans: Sequence[Span],
                    options: TranscribeOptions = TranscribeOptions()) -> tuple[str | None, float]:
    """Whisper's guess at the language of one party's speech and its probability, from one 30 s
    window of speech (silence and hold music left out, so they cannot sway it). (None, 0.0) when
    there is no speech or the model knows only English.

    The window is the first one `transcribe_channel` will decode on this channel with `options`
    (its first decoding regions, glued), so the encoder runs once for both: its output is kept
    for this thread and the decoder takes it instead of encoding the same 30 s again (one
    encoder pass of the call's five or so saved; measured in bench/bench.py). Without batched
    decoding, the first `DETECT_S` seconds of speech, as before.
    """
    if not spans or not getattr(model.model, "is_multilingual", False):
        return None, 0.0
    spans = sorted(spans, key=lambda s: s.start)
    first = _first_window(samples, spans, options) if options.batch_size > 0 else None
    if first is not None:
        features = _window_features(model, first)
        output = model.encode(features)  # Whisper's whole 30 s, as the decoder reads this first window
        language, probability = model.model.detect_language(output)[0][0]
        with _ENCODED_LOCK:
            _ENCODED[(id(model), threading.get_ident())] = (features, output)
        return language[2:-2], float(probability)
    pieces, total = [], 0
    for span in spans:
        piece = samples[int(span.start * SAMPLE_RATE):int(span.end * SAMPLE_RATE)]
        pieces.append(piece[: max(0, int(DETECT_S * SAMPLE_RATE) - total)])
        total += pieces[-1].size
        if total >= DETECT_S * SAMPLE_RATE:
            break
    language, probability, _ = model.detect_language(np.concatenate(pieces), vad_filter=False)
    return language, float(probability)


# --- one encoder run shared by language detection and the first decoding window -----------------

_ENCODED: dict[tuple[int, int], tuple[np.ndarray, object]] = {}  # (model, thread) -> (features, encoder output)
_ENCODED_LOCK = threading.Lock()


def _first_window(samples: np.ndarray, spans: Sequence[Span], options: TranscribeOptions) -> np.ndarray | None:
    """The audio of the first window `_decode_batched` glues for these spans, sample for sample
    (faster-whisper cuts a clip at int(seconds * rate))."""
    regions = [r for r in decode_regions(spans, len(samples) / SAMPLE_RATE, options) if r.duration <= WINDOW_S]
    if not regions:
        return None
    glued = np.concatenate([samples[int(r.start * SAMPLE_RATE):int(r.end * SAMPLE_RATE)] for r in pack_windows(regions)[0]])
    return glued[:int(glued.size / SAMPLE_RATE * SAMPLE_RATE)]


def _window_features(model, audio: np.ndarray) -> np.ndarray:
    """Log-mel features of one clip as `BatchedInferencePipeline` computes them (80 x 3000)."""
    from faster_whisper.audio import pad_or_trim

    return pad_or_trim(model.feature_extractor(audio)[..., :-1])


def _take_encoded(model) -> tuple[np.ndarray, object] | None:
    """This thread's kept detection run on `model`, once (a later call never sees a stale one)."""
    with _ENCODED_LOCK:
        return _ENCODED.pop((id(model), threading.get_ident()), None)


class _Encoder:
    """The model as `BatchedInferencePipeline` sees it, with its `encode` changed in two ways:
    the kept detection run is returned for exactly its features (a batch of one, once) instead of
    encoding them again, and with `min_context_s` the encoder reads only the frames of the batch
    that hold audio (faster-whisper pads every window to 30 s with zero features)."""

    def __init__(self, model, kept: tuple[np.ndarray, object] | None = None, min_context_s: float | None = None) -> None:
        self._model, self._min_context_s = model, min_context_s
        self._features, self._output = kept or (None, None)

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode(self, features: np.ndarray):
        output, self._output = self._output, None
        if output is not None and features.shape == (1, *self._features.shape) and np.array_equal(features[0], self._features):
            return output
        if self._min_context_s is not None:
            features = np.ascontiguousarray(features[..., :context_frames(features, self._min_context_s)])
        return self._model.encode(features)


FRAMES_PER_S = 100  # Whisper's log-mel frames per second


def context_frames(features: np.ndarray, min_context_s: float = 0.0) -> int:
    """Frames of a batch of log-mel windows (batch x mels x frames) that hold audio: up to the
    last frame that is not padding (all zeros) in any window, in whole seconds, at least
    `min_context_s`, at most the window."""
    frames = features.shape[-1]
    used = np.flatnonzero(np.any(features != 0, axis=tuple(range(features.ndim - 1))))
    last = int(used[-1]) + 2 if used.size else 0  # one frame more: faster-whisper aligns words over ceil(seconds)
    seconds = max(int(np.ceil(last / FRAMES_PER_S)), int(np.ceil(min_context_s)), 1)
    return min(frames, seconds * FRAMES_PER_S)
