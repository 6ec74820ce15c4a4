"""One call's journey, top to bottom: recording in, scored call out. No Prefect needed.

    audio → speech activity → holds → transcription → detection + scoring → metrics

Failures are results too: a recording that cannot be scored comes back with `error` set, so the
batch records the reason and goes on.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator

from pipeline.audio import activity
from pipeline.audio import channels
from pipeline.audio.activity import ActivityOptions
from pipeline.audio.decode import AudioError, file_sha256, load_call
from pipeline.scoring.detect import Detector
from pipeline.audio.diarize import split_speakers
from pipeline.records import CallMeta, CallResult
from pipeline.settings import DEFAULT_MODEL, department_languages
from pipeline.privacy.redact import Redactor
from pipeline.scoring import names
from pipeline.scoring.score import score_call
from pipeline.scoring import roles
from pipeline.audio.language import LanguageRefused, choose_language, english_only
from pipeline.audio.transcribe import TranscribeOptions, detect_language, transcribe_channel


@dataclass(frozen=True)
class PipelineOptions:
    """Settings for scoring a batch; defaults are the tested ones.

    Attributes:
      model: "base" (multilingual, default), "tiny.en", a model directory, or a hub name.
      default_layout: channel layout for stereo files the manifest says nothing about.
      redact: replace card numbers, security codes, IDs, e-mails and phone numbers in the
        transcript before anything is detected or stored (needs a `Redactor`).
      activity: how holds, dead air and speech are told apart.
      transcribe: Whisper decoding settings.
      department_languages: each department's usual language, for calls whose language is
        neither given nor detected with confidence (default: $CALLQA_DEPARTMENT_LANGUAGES).
    """

    model: str = DEFAULT_MODEL
    default_layout: str = "agent_left"
    redact: bool = True
    activity: ActivityOptions = field(default_factory=ActivityOptions)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    department_languages: dict[str, str] = field(default_factory=department_languages)


@contextmanager
def _timed(stages: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - start


def process_call(
    meta: CallMeta,
    model,
    scorecard,
    options: PipelineOptions = PipelineOptions(),
    detector: Detector | None = None,
    redactor: Redactor | None = None,
) -> CallResult:
    """Score one recording. Never raises for a bad recording: the reason goes in `error`.

    With a `redactor`, personal data leaves the transcript before detection, so neither the
    stored utterances nor the findings' quoted words ever hold it.
    """
    result = CallResult(meta=meta, model=options.model)
    stages = result.stage_seconds
    if meta.problem:
        result.error, result.permanent = meta.problem, meta.problem_permanent
        return result
    try:
        with _timed(stages, "decode"):
            audio = load_call(meta.path, meta.channel_layout, options.default_layout)
            result.file_sha256 = meta.sha256 or file_sha256(meta.path)
        result.channel_layout = audio.layout
        extra_flags: list[str] = list(audio.flags)  # channels that lie: same mix, stream titles
        language = meta.language or options.transcribe.language
        with _timed(stages, "activity"):
            if audio.layout == "mono":
                spans = activity.speech_spans(audio.mixed, options.activity)
                parties = split_speakers(audio.mixed, spans)
                agent_spans, customer_spans = parties.agent, parties.customer
            else:
                agent_spans = activity.speech_spans(audio.agent, options.activity)
                customer_spans = activity.speech_spans(audio.customer, options.activity)
                # each party heard through the other's line is not that party's speech
                agent_spans, _ = activity.without_bleed(audio.agent, audio.customer, agent_spans, customer_spans, options.activity)
                customer_spans, _ = activity.without_bleed(audio.customer, audio.agent, customer_spans, agent_spans, options.activity)
            if not agent_spans and not customer_spans:
                raise AudioError("no speech in the recording (silence or music only)")
            holds = activity.find_holds(agent_spans, customer_spans, options.activity)
        with _timed(stages, "transcribe"):
            choice = _language(model, audio, spans if audio.layout == "mono" else agent_spans, language, meta,
                               scorecard, options)
            extra_flags.extend([choice.note] if choice.note else [])
            language = choice.whisper
            decode = replace(options.transcribe, language=language)
            # the names the agent says, as hints to Whisper: the scorecard's and the agent's own
            hints = (*options.transcribe.vocabulary, *scorecard.vocabulary, *([meta.agent_name] if meta.agent_name else []))
            agent_decode = replace(decode, vocabulary=hints)
            if audio.layout == "mono":
                mixed, language = transcribe_channel(model, audio.mixed, "agent", agent_decode, spans)
                mono = roles.attribute(mixed, parties)  # who is the agent: from the words (mono calls)
                utterances, agent_spans, customer_spans = mono.utterances, mono.agent, mono.customer
                extra_flags.extend(mono.flags)
                holds = activity.find_holds(agent_spans, customer_spans, options.activity)
            else:
                # Whisper decodes only the speech found above (VAD once, times true; see transcribe.py)
                agent_utts, language = transcribe_channel(model, audio.agent, "agent", agent_decode, agent_spans)
                decode = replace(decode, language=language)  # the customer speaks the agent's language
                customer_utts, _ = transcribe_channel(model, audio.customer, "customer", decode.for_customer(), customer_spans)
                utterances = sorted(agent_utts + customer_utts, key=lambda u: u.start)
        # Swapped channels: the agent's opening heard on the customer's side (pure, on the text).
        swap = channels.swap_check(utterances) if audio.layout != "mono" and "outbound" not in meta.call_type.lower() else None
        if swap is not None:
            extra_flags.append(swap.flag("voices" if audio.layout == "mono" else "channels"))
            if swap.swap:
                utterances = channels.swap_speakers(utterances)
                agent_spans, customer_spans = customer_spans, agent_spans
                holds = activity.find_holds(agent_spans, customer_spans, options.activity)
                result.channel_layout = {"agent_left": "agent_right", "agent_right": "agent_left"}.get(audio.layout, audio.layout)
        result.language = choice.pack  # the scorecard's code for it ("nb" where Whisper says "no")
        if redactor is not None:
            with _timed(stages, "redact"):
                utterances, result.redactions = redactor.redact(utterances, result.language or "en")
        result.flags = extra_flags  # the recording's own flags: stored with the call, kept by re-scores
        with _timed(stages, "score"):
            result.metrics = activity.measure(audio.duration_s, agent_spans, customer_spans, holds, utterances, options.activity)
            result.score = score_call(
                scorecard, utterances, holds, result.metrics, audio.duration_s, result.language,
                extra_flags, detector, context=meta.context,
            )
            result.score = names.check_introduction(result.score, meta.agent_name)  # the name heard vs the manifest's
        result.utterances, result.holds = utterances, holds
    except AudioError as exc:
        result.error, result.permanent = str(exc), exc.permanent
    except LanguageRefused as exc:
        result.error = str(exc)
    except Exception as exc:  # one call's surprise must not stop the batch
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _language(model, audio, spans, given, meta: CallMeta, scorecard, options: PipelineOptions):
    """The call's language (pipeline.audio.language): given by the manifest or --language; else
    Whisper's detection on the agent's speech if sure enough; else the department's usual one."""
    defaults, fallback = options.department_languages, scorecard.language
    if given or english_only(options.model):
        detected, probability = None, 0.0
        given = given or defaults.get(meta.department) or ("en" if english_only(options.model) else None)
    else:
        detected, probability = detect_language(model, audio.mixed if audio.layout == "mono" else audio.agent, spans,
                                                options.transcribe)
    return choose_language(given=given, detected=detected, probability=probability, department=meta.department,
                           defaults=defaults, fallback=fallback, model=options.model)

