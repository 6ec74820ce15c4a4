"""Rule kinds: how a scorecard item decides pass / fail / not applicable.

Each kind is a small pydantic model registered by name with `@register`. A scorecard item names
its kind in `rule.kind`; its other keys are the model's fields, validated on load. A rule sees a
`CallView` (utterances, holds, metrics and the phrase hits the detector found) and returns a
`Verdict`; it never touches audio, models or the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .records import Finding, Hold, Metrics, Outcome, Utterance

RULE_KINDS: dict[str, type["Rule"]] = {}
ANY_LANGUAGE = "*"


def register(kind: str) -> Callable[[type["Rule"]], type["Rule"]]:
    """Register a rule class under the name scorecards use in `rule.kind`."""

    def wrap(cls: type[Rule]) -> type[Rule]:
        RULE_KINDS[kind] = cls
        return cls

    return wrap


@dataclass(frozen=True)
class Hit:
    """One phrase match in one utterance, timed from its words."""

    key: str
    speaker: str
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class CallView:
    """What a rule may look at: the call after transcription and detection."""

    utterances: Sequence[Utterance]
    holds: Sequence[Hold]
    metrics: Optional[Metrics]
    duration_s: float
    hits: dict[str, list[Hit]] = field(default_factory=dict)

    @property
    def answered_at(self) -> float:
        agent = [u.start for u in self.utterances if u.speaker == "agent"]
        return min(agent) if agent else 0.0

    @property
    def last_speech_end(self) -> float:
        return max((u.end for u in self.utterances), default=self.duration_s)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    findings: tuple[Finding, ...] = ()


def clock(seconds: float) -> str:
    """Seconds as m:ss, the way reviewers read times in a recording."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _per_language(value: Any) -> Any:
    """A plain list of phrases applies to every language; a mapping gives them per language."""
    if isinstance(value, list):
        return {ANY_LANGUAGE: value}
    return value


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    phrase_fields: ClassVar[tuple[str, ...]] = ()

    def phrase_sets(self) -> dict[str, dict[str, list[str]]]:
        """Phrase lists to compile, by name (e.g. "phrases", "exclude"), per language."""
        return {name: getattr(self, name) for name in self.phrase_fields if getattr(self, name)}

    def languages(self) -> set[str]:
        return {lang for sets in self.phrase_sets().values() for lang in sets if lang != ANY_LANGUAGE}

    def evaluate(self, item_id: str, view: CallView) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError


Phrases = dict[str, list[str]]


def _finding(item_id: str, rule: str, hit: Hit, hold: Optional[int] = None) -> Finding:
    return Finding(item_id, rule, hit.speaker, hit.text, hit.start, hit.end, hit.confidence, hold)


def _speaker_ok(hit: Hit, speaker: str) -> bool:
    return speaker == "any" or hit.speaker == speaker


def _kept(view: CallView, item_id: str, speaker: str) -> list[Hit]:
    """An item's phrase hits by the right speaker, minus those an `exclude` phrase overlaps."""
    excluded = view.hits.get(f"{item_id}/exclude", [])
    return [
        hit for hit in view.hits.get(f"{item_id}/phrases", [])
        if _speaker_ok(hit, speaker)
        and not any(x.speaker == hit.speaker and x.start < hit.end and hit.start < x.end for x in excluded)
    ]


class _PhraseRule(Rule):
    phrases: Phrases = Field(min_length=1)
    exclude: Phrases = Field(default_factory=dict)
    phrase_fields: ClassVar[tuple[str, ...]] = ("phrases", "exclude")

    _normalise = field_validator("phrases", "exclude", mode="before")(_per_language)


@register("phrases")
class PhraseRule(_PhraseRule):
    """Passes when the speaker says one of the phrases (at least `min_count` times) in the window.

    `first_s` counts from the agent's first words (not from the ring); `last_s` counts back from
    the end of the last speech in the call.
    """

    kind: Literal["phrases"]
    speaker: Literal["agent", "customer", "any"] = "agent"
    first_s: Optional[float] = Field(None, gt=0)
    last_s: Optional[float] = Field(None, gt=0)
    min_count: int = Field(1, ge=1)

    def _in_window(self, hit: Hit, view: CallView) -> bool:
        if self.first_s is not None and hit.start > view.answered_at + self.first_s:
            return False
        if self.last_s is not None and hit.end < view.last_speech_end - self.last_s:
            return False
        return True

    def _where(self) -> str:
        if self.first_s:
            return f" in the first {self.first_s:g} s"
        if self.last_s:
            return f" in the last {self.last_s:g} s"
        return ""

    def evaluate(self, item_id: str, view: CallView) -> Verdict:
        hits = [h for h in _kept(view, item_id, self.speaker) if self._in_window(h, view)]
        findings = tuple(_finding(item_id, self.kind, h) for h in hits)
        if len(hits) >= self.min_count:
            first = hits[0]
            return Verdict("pass", f'{first.speaker} said "{first.text}" at {clock(first.start)}', findings)
        said = f"said {len(hits)} of {self.min_count} times" if hits else "not said"
        return Verdict("fail", f"{said} by the {self.speaker}{self._where()}", findings)


@register("hold_phrases")
class HoldPhraseRule(_PhraseRule):
    """For every hold, the agent says a phrase in a window anchored on the hold.

    `before_s`: ending at most this long before the hold starts (announcing it);
    `after_s`: starting at most this long after the agent is back (thanks or apology).
    Not applicable when the call has no hold.
    """

    kind: Literal["hold_phrases"]
    before_s: Optional[float] = Field(None, gt=0)
    after_s: Optional[float] = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_anchor(self) -> "HoldPhraseRule":
        if (self.before_s is None) == (self.after_s is None):
            raise ValueError("give exactly one of before_s (announce) or after_s (after the hold)")
        return self

    def _near(self, hit: Hit, hold: Hold) -> bool:
        if self.before_s is not None:
            return hold.start - self.before_s <= hit.end <= hold.start + 1.0
        return hold.end - 1.0 <= hit.start <= hold.end + self.after_s  # type: ignore[operator]

    def evaluate(self, item_id: str, view: CallView) -> Verdict:
        if not view.holds:
            return Verdict("na", "no hold in this call")
        hits = _kept(view, item_id, "agent")
        anchor = f"{self.kind}:{'before' if self.before_s is not None else 'after'}"
        findings, missed = [], []
        for hold in view.holds:
            near = [h for h in hits if self._near(h, hold)]
            findings.extend(_finding(item_id, anchor, h, hold.index) for h in near[:1])
            if not near:
                missed.append(f"hold {hold.index + 1} ({clock(hold.start)}-{clock(hold.end)})")
        what = "announced before" if self.before_s is not None else "thanked or apologised after"
        if missed:
            return Verdict("fail", f"not {what}: {', '.join(missed)}", tuple(findings))
        return Verdict("pass", f"every hold {what} ({len(view.holds)})", tuple(findings))


@register("hold_duration")
class HoldDurationRule(Rule):
    """Every hold lasts at most `max_s` seconds. Not applicable when the call has no hold."""

    kind: Literal["hold_duration"]
    max_s: float = Field(60, gt=0)

    def evaluate(self, item_id: str, view: CallView) -> Verdict:
        if not view.holds:
            return Verdict("na", "no hold in this call")
        over = [h for h in view.holds if h.duration > self.max_s]
        findings = tuple(
            Finding(item_id, self.kind, None, f"hold of {h.duration:.0f} s", h.start, h.end, 1.0, h.index)
            for h in over
        )
        longest = max(h.duration for h in view.holds)
        if over:
            listed = ", ".join(f"{clock(h.start)} ({h.duration:.0f} s)" for h in over)
            return Verdict("fail", f"{len(over)} hold(s) over {self.max_s:g} s: {listed}", findings)
        return Verdict("pass", f"{len(view.holds)} hold(s), longest {longest:.0f} s (standard {self.max_s:g} s)")
