"""Which language a call is transcribed and scored in: a pure decision, wired in by process.py.

Order of trust: the manifest (or --language), which a person set; else Whisper's detection on
the agent's channel when its probability reaches ``threshold``; else the department's usual
language (or the scorecard's), with a note saying the detection was too unsure. An English-only
model (``tiny.en``, ``*.en``) cannot transcribe anything else: it refuses a call whose language
is not English with a reason, rather than writing English words over Finnish speech.

Whisper and the scorecards name one language differently: Norwegian bokmål is "no" to Whisper
and "nb" in the packs (``pipeline.scoring.languages.pack_language`` maps the other way).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from pipeline.scoring.languages import pack_language

WHISPER_CODES = {"nb": "no", "nn": "nn"}   # pack code -> Whisper's code where they differ
DETECTION_THRESHOLD = 0.6


@dataclass(frozen=True)
class LanguageChoice:
    """The language to decode with (Whisper's code) and to score with (the pack's code), where it
    came from ("manifest", "detected", "default"), and a note for the call's flags (or None)."""

    whisper: str
    pack: str
    source: str
    note: Optional[str] = None


class LanguageRefused(ValueError):
    """The model cannot transcribe the call's language; the message says why."""


def whisper_code(language: str) -> str:
    """The code Whisper accepts for a language ("nb", "nb-NO" -> "no"; "fi-FI" -> "fi")."""
    pack = pack_language(language)
    return WHISPER_CODES.get(pack, pack)


def english_only(model: str) -> bool:
    """True for Whisper's English-only models (tiny.en, base.en, a folder named so)."""
    return model.rstrip("/").lower().endswith(".en")


def choose_language(*, given: Optional[str], detected: Optional[str], probability: float,
                    department: Optional[str] = None, defaults: Mapping[str, str] = {},
                    fallback: str = "en", threshold: float = DETECTION_THRESHOLD,
                    model: str = "base") -> LanguageChoice:
    """Decide the call's language (see the module's docstring); raises LanguageRefused when an
    English-only model meets a call in another language."""
    if given:
        choice = LanguageChoice(whisper_code(given), pack_language(given), "manifest")
    elif detected and probability >= threshold:
        choice = LanguageChoice(whisper_code(detected), pack_language(detected), "detected")
    else:
        usual = defaults.get(department or "", fallback)
        heard = f"'{detected}' at {probability:.2f}" if detected else "nothing"
        choice = LanguageChoice(whisper_code(usual), pack_language(usual), "default",
                                f"language detection unsure ({heard}, below {threshold:.2f}): "
                                f"scored as '{pack_language(usual)}', the usual language of "
                                f"{'department ' + repr(department) if department in defaults else 'the scorecard'}")
    if english_only(model) and choice.pack != "en":
        raise LanguageRefused(f"model '{model}' is English-only and the call is in '{choice.pack}' "
                              f"({choice.source}); use a multilingual model (--model base)")
    return choice


__all__ = ["DETECTION_THRESHOLD", "LanguageChoice", "LanguageRefused", "choose_language", "english_only",
           "whisper_code"]
