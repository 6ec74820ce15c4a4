"""Scorecards are data: a YAML file, validated on load, versioned by its content.

A typo in a key is an error, not ignored; so is a language code, token or list that does not
exist (see `lint.py`); every error names the file, the line and the field.
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
from pipeline.scoring.lint import Problem, lint, load_yaml, yaml_line
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
    vocabulary: list[str] = Field(
        default_factory=list,
        description="names Whisper should expect on the agent's side (company, products, brands); "
                    "the agent's name comes from the manifest. Hints to the decoder, never phrases to match",
    )
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


def _schema_problems(exc: ValidationError, root: Optional[yaml.Node], source: str) -> list[Problem]:
    """Pydantic's errors as problems with the line of the field in the file."""
    problems = []
    for error in exc.errors():
        if error["loc"][-1:] == ("[key]",) and isinstance(error.get("input"), bool):
            continue  # an unquoted no/yes as a language key: `lint` says so, with the key's line
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field = ".".join(str(p) for p in loc) or "(top level)"
        problems.append(Problem("error", source, yaml_line(root, loc), field, error["msg"]))
    return problems


def check_scorecard_text(text: str, source: str = "<scorecard>") -> tuple[Optional[Scorecard], list[Problem]]:
    """The scorecard (None when it has errors) and every problem found in it, errors and warnings.

    Its shape is validated by the models above; what the shape cannot tell (language codes,
    the phrase language, empty lists) by `lint`. Both run, so one check tells every mistake.
    """
    try:
        data, root = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = ", ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
        return None, [Problem("error", source, mark.line + 1 if mark else None, "(file)",
                              f"not valid YAML: {what or exc}" + (f" (column {mark.column + 1})" if mark else ""))]
    if not isinstance(data, dict):
        return None, [Problem("error", source, 1, "(top level)", "a scorecard is a mapping with id, name and sections")]
    data.pop("version", None)
    problems = lint(data, root, source)
    try:
        card: Optional[Scorecard] = Scorecard.model_validate(data)
    except ValidationError as exc:
        card = None
        problems = sorted(_schema_problems(exc, root, source) + problems, key=lambda p: p.line or 0)
    if card is None or any(p.severity == "error" for p in problems):
        return None, problems
    try:
        _compile_phrases(card)
    except ValueError as exc:  # a backstop: `lint` tells these first, with their lines
        return None, problems + [Problem("error", source, None, "(phrases)", str(exc))]
    canonical = json.dumps(card.model_dump(mode="json"), sort_keys=True)
    return card.model_copy(update={"version": hashlib.sha256(canonical.encode()).hexdigest()[:12]}), problems


def parse_scorecard(text: str, source: str = "<scorecard>") -> Scorecard:
    """Validate scorecard YAML text; the version is a hash of the validated content.

    Any error (never a warning) refuses the scorecard, so `score` and `rescore` use only
    scorecards `callqa scorecard check` passes.
    """
    card, problems = check_scorecard_text(text, source)
    if card is None:
        raise ScorecardError("\n".join(str(p) for p in problems if p.severity == "error"))
    return card


def _compile_phrases(card: Scorecard) -> None:
    """Compile every phrase in every language the card names, as detection will: a pattern that
    cannot be compiled fails on load, not in the middle of a batch."""
    languages = {card.language} | {lang for item in card.items for lang in item.rule.languages()}
    detector = Detector(card)
    for language in sorted(languages):
        detector.matcher(language)


def read_scorecard_text(path: str | Path) -> str:
    """The file's text; an unreadable file is a ScorecardError that says why."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScorecardError(f"{path}: cannot read scorecard ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ScorecardError(f"{path}: not a text file (a scorecard is YAML in UTF-8)") from None


def load_scorecard(path: str | Path = DEFAULT_SCORECARD) -> Scorecard:
    return parse_scorecard(read_scorecard_text(path), str(path))
