"""Rule kinds: how a scorecard item decides pass / fail / not applicable.

Each kind is a small pydantic model registered by name with `@register`. A scorecard item names
its kind in `rule.kind`; its other keys are the model's fields, validated on load. A rule sees a
`CallView` (utterances, holds, metrics and the phrase hits the detector found) and returns a
`Verdict`; it never touches audio, models or the database.

Kinds: `phrases` and `regex` (said, by whom, when), `semantic` (something meaning what one of the
item's example sentences means, by a sentence-embedding model: pipeline/scoring/semantic.py, the
one kind that reaches a model, loaded once per process), `hold_phrases` (said around every hold),
`hold_duration`, `metric` (a condition on a call metric), and the combinators `all_of`,
`any_of` (optionally `in_order`), `not` (must not be said) and `when` (applies only when a
trigger happened, e.g. a transfer). Combinators nest: a child rule's phrases are found under
the key "<item>/<child index>/...", so the detector runs once per call whatever the nesting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator, model_validator

from pipeline.records import Finding, Hold, Metrics, Outcome, Utterance
from pipeline.scoring import semantic

RULE_KINDS: dict[str, type["Rule"]] = {}
ANY_LANGUAGE = "*"


def register(kind: str) -> Callable[[type["Rule"]], type["Rule"]]:
    """Register a rule class under the name scorecards use in `rule.kind`."""

    def wrap(cls: type[Rule]) -> type[Rule]:
        RULE_KINDS[kind] = cls
        return cls

    return wrap


def parse_rule(value: Any) -> "Rule":
    """Validate a rule mapping into the registered class its `kind` names."""
    if isinstance(value, Rule):
        return value
    if not isinstance(value, dict) or "kind" not in value:
        raise ValueError(f"needs a 'kind' (one of: {', '.join(sorted(RULE_KINDS))})")
    kind = value["kind"]
    if kind not in RULE_KINDS:
        raise ValueError(f"unknown rule kind '{kind}' (one of: {', '.join(sorted(RULE_KINDS))})")
    return RULE_KINDS[kind].model_validate(value)


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

    @property
    def conversation(self) -> tuple[float, float]:
        """What a share of "the call" is a share of: from the agent's first words to the end of the
        last speech, not the ringing before nor a recorder left running after the goodbye (a
        closing thanks two minutes into a 60-minute recording is still the call's closing)."""
        start, end = self.answered_at, self.last_speech_end
        return (start, end) if end > start else (0.0, self.duration_s)


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


def item_of(key: str) -> str:
    """The scorecard item a (possibly nested) rule key belongs to."""
    return key.split("/", 1)[0]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    phrase_fields: ClassVar[tuple[str, ...]] = ()

    def phrase_sets(self) -> dict[str, dict[str, list[str]]]:
        """Phrase lists to compile, by name (e.g. "phrases", "exclude"), per language."""
        return {name: getattr(self, name) for name in self.phrase_fields if getattr(self, name)}

    def languages(self) -> set[str]:
        return {lang for sets in self.phrase_sets().values() for lang in sets if lang != ANY_LANGUAGE}

    @property
    def listens(self) -> bool:
        """True when the rule judges what was said (so poor audio can make it uncertain)."""
        return bool(self.phrase_sets())

    def evaluate(self, key: str, view: CallView) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError


Phrases = dict[str, list[str]]


def _finding(key: str, rule: str, hit: Hit, hold: Optional[int] = None) -> Finding:
    return Finding(item_of(key), rule, hit.speaker, hit.text, hit.start, hit.end, hit.confidence, hold)


def _speaker_ok(hit: Hit, speaker: str) -> bool:
    return speaker == "any" or hit.speaker == speaker


def _kept(view: CallView, key: str, speaker: str) -> list[Hit]:
    """A rule's phrase hits by the right speaker, minus those an `exclude` phrase overlaps."""
    excluded = view.hits.get(f"{key}/exclude", [])
    return [
        hit for hit in view.hits.get(f"{key}/phrases", [])
        if _speaker_ok(hit, speaker)
        and not any(x.speaker == hit.speaker and x.start < hit.end and hit.start < x.end for x in excluded)
    ]


class _Windowed(Rule):
    """Who must say it and when: `first_s` counts from the agent's first words (not the ring),
    `last_s` back from the end of the last speech; `*_share` are shares of the conversation
    between those two (`CallView.conversation`)."""

    speaker: Literal["agent", "customer", "any"] = "agent"
    first_s: Optional[float] = Field(None, gt=0)
    last_s: Optional[float] = Field(None, gt=0)
    first_share: Optional[float] = Field(None, gt=0, le=1)
    last_share: Optional[float] = Field(None, gt=0, le=1)
    min_count: int = Field(1, ge=1)

    def _in_window(self, hit: Hit, view: CallView) -> bool:
        if self.first_s is not None and hit.start > view.answered_at + self.first_s:
            return False
        if self.last_s is not None and hit.end < view.last_speech_end - self.last_s:
            return False
        start, end = view.conversation
        if self.first_share is not None and hit.start > start + self.first_share * (end - start):
            return False
        if self.last_share is not None and hit.end < end - self.last_share * (end - start):
            return False
        return True

    def _where(self) -> str:
        if self.first_s:
            return f" in the first {self.first_s:g} s"
        if self.last_s:
            return f" in the last {self.last_s:g} s"
        if self.first_share:
            return f" in the first {self.first_share:.0%} of the call"
        if self.last_share:
            return f" in the last {self.last_share:.0%} of the call"
        return ""

    def _judge(self, key: str, hits: list[Hit], view: CallView) -> Verdict:
        hits = [h for h in hits if self._in_window(h, view)]
        findings = tuple(_finding(key, self.kind, h) for h in hits)
        if len(hits) >= self.min_count:
            first = hits[0]
            return Verdict("pass", f'{first.speaker} said "{first.text}" at {clock(first.start)}', findings)
        said = f"said {len(hits)} of {self.min_count} times" if hits else "not said"
        return Verdict("fail", f"{said} by the {self.speaker}{self._where()}", findings)


class _PhraseRule(Rule):
    phrases: Phrases = Field(min_length=1)
    exclude: Phrases = Field(default_factory=dict)
    phrase_fields: ClassVar[tuple[str, ...]] = ("phrases", "exclude")

    _normalise = field_validator("phrases", "exclude", mode="before")(_per_language)


@register("phrases")
class PhraseRule(_PhraseRule, _Windowed):
    """Passes when the speaker says one of the phrases (at least `min_count` times) in the window."""

    kind: Literal["phrases"]

    def evaluate(self, key: str, view: CallView) -> Verdict:
        return self._judge(key, _kept(view, key, self.speaker), view)


@register("regex")
class RegexRule(_Windowed):
    """Like `phrases`, with regular expressions over each utterance's text (case-insensitive)."""

    kind: Literal["regex"]
    patterns: list[str] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns

    @property
    def listens(self) -> bool:
        return True

    def evaluate(self, key: str, view: CallView) -> Verdict:
        hits = []
        for utterance in view.utterances:
            if self.speaker not in ("any", utterance.speaker):
                continue
            words = utterance.timed_words()
            text, starts = "", []
            for word in words:
                starts.append(len(text))
                text += word.text + " "
            for pattern in self.patterns:
                for match in re.finditer(pattern, text, re.IGNORECASE):
                    inside = [w for w, s in zip(words, starts) if s < match.end() and s + len(w.text) > match.start()]
                    if inside:
                        hits.append(Hit(key, utterance.speaker, inside[0].start, inside[-1].end, match.group(0).strip(),
                                        round(sum(w.probability for w in inside) / len(inside), 3)))
        return self._judge(key, sorted(hits, key=lambda h: h.start), view)


@register("semantic")
class SemanticRule(_Windowed):
    """Passes when the speaker says something close in meaning to one of the `examples` (cosine
    similarity of sentence embeddings at least `threshold`) in the window: wordings no phrase list
    foresaw ("your new card is already on its way" for an explanation). Examples are whole
    sentences in the scorecard's words, a plain list or per language; every language's examples
    are compared, since a model compares meaning, not words. `unlike` lists near misses that must
    not count (a stretch closer to one of them than to every example is dropped). `model` names a
    model registered in pipeline/scoring/semantic.py. Use it inside `any_of` with phrases: the
    phrases stay the evidence a reviewer reads first, the model adds what they miss."""

    kind: Literal["semantic"]
    examples: Phrases = Field(min_length=1)
    unlike: Phrases = Field(default_factory=dict)
    threshold: float = Field(gt=0, lt=1)
    model: str = semantic.DEFAULT_MODEL

    _normalise = field_validator("examples", "unlike", mode="before")(_per_language)

    @field_validator("examples", "unlike")
    @classmethod
    def _sentences(cls, value: Phrases, info) -> Phrases:
        for language, sentences in value.items():
            if not sentences and info.field_name == "examples":
                raise ValueError(f"no example sentences for '{language}': give at least one")
            blank = [s for s in sentences if not str(s).strip()]
            if blank:
                raise ValueError(f"an empty sentence in '{language}'")
        return value

    @field_validator("model")
    @classmethod
    def _known_model(cls, name: str) -> str:
        try:
            semantic.check_installed(name)  # unknown, or its package missing: refused on load, not mid-run
        except semantic.SemanticModelMissing as exc:
            raise ValueError(str(exc)) from None
        return name

    @property
    def listens(self) -> bool:
        return True

    @staticmethod
    def _all(sentences: Phrases) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for per_language in sentences.values() for s in per_language))

    def evaluate(self, key: str, view: CallView) -> Verdict:
        matches = semantic.find(view.utterances, self._all(self.examples), self.threshold, self.speaker,
                                self._all(self.unlike), self.model)
        hits = [Hit(key, m.speaker, m.start, m.end, m.text, m.confidence) for m in matches]
        verdict = self._judge(key, hits, view)
        if verdict.outcome != "pass":
            return verdict
        first = next(m for h, m in zip(hits, matches) if self._in_window(h, view))
        return Verdict("pass", f'{verdict.reason} (like "{first.example}", {first.similarity:.2f})', verdict.findings)


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

    def evaluate(self, key: str, view: CallView) -> Verdict:
        if not view.holds:
            return Verdict("na", "no hold in this call")
        hits = _kept(view, key, "agent")
        anchor = f"{self.kind}:{'before' if self.before_s is not None else 'after'}"
        findings, missed = [], []
        for hold in view.holds:
            near = [h for h in hits if self._near(h, hold)]
            findings.extend(_finding(key, anchor, h, hold.index) for h in near[:1])
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

    def evaluate(self, key: str, view: CallView) -> Verdict:
        if not view.holds:
            return Verdict("na", "no hold in this call")
        over = [h for h in view.holds if h.duration > self.max_s]
        findings = tuple(
            Finding(item_of(key), self.kind, None, f"hold of {h.duration:.0f} s", h.start, h.end, 1.0, h.index)
            for h in over
        )
        longest = max(h.duration for h in view.holds)
        if over:
            listed = ", ".join(f"{clock(h.start)} ({h.duration:.0f} s)" for h in over)
            return Verdict("fail", f"{len(over)} hold(s) over {self.max_s:g} s: {listed}", findings)
        return Verdict("pass", f"{len(view.holds)} hold(s), longest {longest:.0f} s (standard {self.max_s:g} s)")


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b,
}
METRIC_NAMES = tuple(Metrics.__dataclass_fields__)


@register("metric")
class MetricRule(Rule):
    """Passes when a call metric meets a condition, e.g. `time_to_answer_s <= 10`,
    `dead_air_count == 0`, `longest_hold_s <= 60`. Not applicable when the metric is unknown."""

    kind: Literal["metric"]
    metric: str
    op: Literal["<", "<=", ">", ">=", "=="]
    value: float

    @field_validator("metric")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in METRIC_NAMES:
            raise ValueError(f"unknown metric '{name}' (one of: {', '.join(METRIC_NAMES)})")
        return name

    def evaluate(self, key: str, view: CallView) -> Verdict:
        measured = getattr(view.metrics, self.metric, None) if view.metrics else None
        if measured is None:
            return Verdict("na", f"{self.metric} not known for this call")
        ok = _OPS[self.op](float(measured), self.value)
        return Verdict("pass" if ok else "fail", f"{self.metric} {measured:g} (standard {self.op} {self.value:g})")


class _Combinator(Rule):
    rules: list[SerializeAsAny[Rule]] = Field(min_length=1)

    _children = field_validator("rules", mode="before")(lambda v: [parse_rule(r) for r in v] if isinstance(v, list) else v)

    def phrase_sets(self) -> dict[str, dict[str, list[str]]]:
        return {f"{i}/{name}": sets for i, child in enumerate(self.rules) for name, sets in child.phrase_sets().items()}

    @property
    def listens(self) -> bool:
        return any(child.listens for child in self.rules)

    def _children_verdicts(self, key: str, view: CallView) -> list[Verdict]:
        return [child.evaluate(f"{key}/{i}", view) for i, child in enumerate(self.rules)]


def _findings(verdicts: Sequence[Verdict]) -> tuple[Finding, ...]:
    return tuple(f for v in verdicts for f in v.findings)


@register("all_of")
class AllOfRule(_Combinator):
    """Passes when every rule passes (with `in_order`, their first findings come in this order).
    Not applicable when no rule applies."""

    kind: Literal["all_of"]
    in_order: bool = False

    def evaluate(self, key: str, view: CallView) -> Verdict:
        verdicts = self._children_verdicts(key, view)
        applied = [v for v in verdicts if v.outcome != "na"]
        if not applied:
            return Verdict("na", "; ".join(v.reason for v in verdicts))
        failed = [v for v in applied if v.outcome != "pass"]
        if failed:
            return Verdict("fail", "; ".join(v.reason for v in failed), _findings(verdicts))
        if self.in_order:
            firsts = [min(f.start for f in v.findings) for v in applied if v.findings]
            if firsts != sorted(firsts):
                return Verdict("fail", "said, but not in the required order", _findings(verdicts))
        return Verdict("pass", "; ".join(v.reason for v in applied), _findings(verdicts))


@register("any_of")
class AnyOfRule(_Combinator):
    """Passes when at least one rule passes. Not applicable when no rule applies."""

    kind: Literal["any_of"]

    def evaluate(self, key: str, view: CallView) -> Verdict:
        verdicts = self._children_verdicts(key, view)
        passed = [v for v in verdicts if v.outcome == "pass"]
        if passed:
            return Verdict("pass", passed[0].reason, _findings(passed))
        if all(v.outcome == "na" for v in verdicts):
            return Verdict("na", "; ".join(v.reason for v in verdicts))
        return Verdict("fail", "; ".join(v.reason for v in verdicts if v.outcome == "fail"))


@register("not")
class NotRule(Rule):
    """Negation: passes when the inner rule fails ("never says 'calm down'"); when it passes,
    its findings are the evidence of what should not have been said."""

    kind: Literal["not"]
    rule: SerializeAsAny[Rule]

    _child = field_validator("rule", mode="before")(lambda v: parse_rule(v))

    def phrase_sets(self) -> dict[str, dict[str, list[str]]]:
        return {f"0/{name}": sets for name, sets in self.rule.phrase_sets().items()}

    @property
    def listens(self) -> bool:
        return self.rule.listens

    def evaluate(self, key: str, view: CallView) -> Verdict:
        inner = self.rule.evaluate(f"{key}/0", view)
        if inner.outcome == "na":
            return inner
        if inner.outcome == "pass":
            return Verdict("fail", f"should not happen: {inner.reason}", inner.findings)
        return Verdict("pass", f"did not happen ({inner.reason})")


@register("when")
class WhenRule(Rule):
    """Applies only when `trigger` passes (e.g. the agent says they are transferring the call);
    then `then` decides. Otherwise not applicable."""

    kind: Literal["when"]
    trigger: SerializeAsAny[Rule]
    then: SerializeAsAny[Rule]

    _children = field_validator("trigger", "then", mode="before")(lambda v: parse_rule(v))

    def phrase_sets(self) -> dict[str, dict[str, list[str]]]:
        sets = {f"0/{name}": s for name, s in self.trigger.phrase_sets().items()}
        sets.update({f"1/{name}": s for name, s in self.then.phrase_sets().items()})
        return sets

    @property
    def listens(self) -> bool:
        return self.then.listens

    def evaluate(self, key: str, view: CallView) -> Verdict:
        trigger = self.trigger.evaluate(f"{key}/0", view)
        if trigger.outcome != "pass":
            return Verdict("na", f"not applicable: {trigger.reason}")
        then = self.then.evaluate(f"{key}/1", view)
        return Verdict(then.outcome, f"{trigger.reason}; then {then.reason}", trigger.findings + then.findings)
