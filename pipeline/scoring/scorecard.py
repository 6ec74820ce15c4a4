"""Scorecards are data: a YAML file, validated on load, versioned by its content.

A typo in a key is an error, not ignored; every error names the file, the line and the field.
Each item's `rule.kind` names a registered rule (see `rules.py`), so a new kind of rule is a new
registered class, not a new branch in the scorer.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, field_validator, model_validator

from pipeline.scoring.detect import Detector
from pipeline.scoring.rules import Rule, parse_rule
from pipeline.settings import scorecard_dir

SCORECARD_DIR = scorecard_dir()
DEFAULT_SCORECARD = SCORECARD_DIR / "aidet.yaml"


class ScorecardError(ValueError):
    """A scorecard that cannot be used; the message says where and what."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Applicability(_Strict):
    """When an item applies; a call outside it gets "na" for the item. Empty = always."""

    department: list[str] = Field(default_factory=list)
    queue: list[str] = Field(default_factory=list)
    call_type: list[str] = Field(default_factory=list)
    min_duration_s: Optional[float] = Field(None, ge=0)
    max_duration_s: Optional[float] = Field(None, gt=0)

    def why_not(self, context: dict[str, Any], duration_s: float) -> Optional[str]:
        """None when the item applies to this call, else the reason it does not."""
        for name in ("department", "queue", "call_type"):
            allowed = getattr(self, name)
            if allowed and (context.get(name) or "") not in allowed:
                return f"not applicable: {name} '{context.get(name) or '-'}' is not {', '.join(allowed)}"
        if self.min_duration_s is not None and duration_s < self.min_duration_s:
            return f"not applicable: call shorter than {self.min_duration_s:g} s"
        if self.max_duration_s is not None and duration_s > self.max_duration_s:
            return f"not applicable: call longer than {self.max_duration_s:g} s"
        return None


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    weight: float = Field(ge=0)
    auto_fail: bool = False       # failing it sets the call's score to 0 and flags the call
    flag_on_fail: bool = False    # failing it flags the call for review
    bonus: bool = False           # passing adds its weight; failing costs nothing
    applies_if: Applicability = Field(default_factory=Applicability)
    description: str = ""
    rule: SerializeAsAny[Rule]  # dump the concrete rule, so the version hash covers it

    _known_kind = field_validator("rule", mode="before")(lambda value: parse_rule(value))


class Band(_Strict):
    """A performance band: calls scoring at least `min_score` (and below the next band) get `name`."""

    name: str
    min_score: float = Field(ge=0, le=100)


class Section(_Strict):
    id: str
    name: str
    items: list[Item] = Field(min_length=1)


class Scorecard(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: str
    description: str = ""
    language: str = "en"
    pass_score: float = Field(80, ge=0, le=100, description="calls scoring below this are flagged")
    low_confidence: float = Field(0.5, ge=0, le=1, description="flag when agent words' mean probability is below")
    uncertain_below: float = Field(0.5, ge=0, le=1, description="an item whose evidence words' mean probability is below is 'uncertain'")
    bands: list[Band] = Field(default_factory=list, description="performance bands by score")
    lists: dict[str, dict[str, list[str]]] = Field(default_factory=dict, description="word lists per language, @name in phrases")
    sections: list[Section] = Field(min_length=1)
    version: str = ""  # content hash, filled in on load

    @model_validator(mode="after")
    def _unique_items(self) -> "Scorecard":
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id '{item.id}' is used twice")
            seen.add(item.id)
        return self

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def section_of(self, item_id: str) -> str:
        return next(s.id for s in self.sections if any(i.id == item_id for i in s.items))

    def band(self, score: Optional[float]) -> Optional[str]:
        """The performance band a score falls in (None without bands or score)."""
        if score is None:
            return None
        fitting = [b for b in self.bands if score >= b.min_score]
        return max(fitting, key=lambda b: b.min_score).name if fitting else None

    def words(self, list_name: str, language: str) -> list[str]:
        per_language = self.lists.get(list_name, {})
        return per_language.get(language) or per_language.get(self.language, [])


def _line_of(text: str, loc: tuple) -> Optional[int]:
    """The line in the YAML text of the node at a pydantic error location."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                key_node = next((k for k, _ in node.value if k.value == key), None)
                return key_node.start_mark.line + 1 if key_node else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def parse_scorecard(text: str, source: str = "<scorecard>") -> Scorecard:
    """Validate scorecard YAML text; the version is a hash of the validated content."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScorecardError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScorecardError(f"{source}: a scorecard is a mapping with id, name and sections")
    data.pop("version", None)
    try:
        card = Scorecard.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            line = _line_of(text, loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{source}:{line or '?'}: {field}: {error['msg']}")
        raise ScorecardError("\n".join(problems)) from None
    canonical = json.dumps(card.model_dump(mode="json"), sort_keys=True)
    card = card.model_copy(update={"version": hashlib.sha256(canonical.encode()).hexdigest()[:12]})
    _check_patterns(card, source)
    return card


def _check_patterns(card: Scorecard, source: str) -> None:
    """Compile every phrase now, so a bad pattern fails on load, not in the middle of a batch."""
    languages = {card.language} | {lang for item in card.items for lang in item.rule.languages()}
    detector = Detector(card)
    for language in sorted(languages):
        try:
            detector.matcher(language)
        except ValueError as exc:
            raise ScorecardError(f"{source}: {exc}") from None


def load_scorecard(path: str | Path = DEFAULT_SCORECARD) -> Scorecard:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScorecardError(f"{path}: cannot read scorecard ({exc.strerror})") from None
    return parse_scorecard(text, str(path))
