"""Scorecards are validated on load, with errors that name the file, line and field."""
from __future__ import annotations

import pytest

from pipeline.scoring.scorecard import DEFAULT_SCORECARD, ScorecardError, load_scorecard, parse_scorecard

MINIMAL = """\
id: mini
name: Minimal
sections:
  - id: main
    name: Main
    items:
      - id: greeting
        name: Greets
        weight: 10
        rule:
          kind: phrases
          phrases: [hello]
"""


def test_shipped_scorecard_loads_with_a_content_version():
    card = load_scorecard(DEFAULT_SCORECARD)
    assert card.id == "aidet"
    assert {"greeting", "introduce_name", "duration", "explanation", "thank_you", "hold_within_standard"} <= {i.id for i in card.items}
    again = parse_scorecard(DEFAULT_SCORECARD.read_text())
    assert again.version == card.version
    changed = parse_scorecard(DEFAULT_SCORECARD.read_text().replace("max_s: 60", "max_s: 90"))
    assert changed.version != card.version


def test_typo_in_a_key_is_an_error_with_its_line():
    text = MINIMAL.replace("weight: 10", "wieght: 10")
    with pytest.raises(ScorecardError) as error:
        parse_scorecard(text, "mini.yaml")
    message = str(error.value)
    assert "mini.yaml:" in message and "wieght" in message
    assert "mini.yaml:9:" in message  # the line of the typo


def test_unknown_rule_kind_and_bad_pattern_are_errors():
    with pytest.raises(ScorecardError, match="unknown rule kind 'phrase'"):
        parse_scorecard(MINIMAL.replace("kind: phrases", "kind: phrase"), "x.yaml")
    with pytest.raises(ScorecardError, match="unknown list '@nope'"):
        parse_scorecard(MINIMAL.replace("[hello]", "['@nope']"), "x.yaml")


def test_hold_phrase_rule_needs_one_anchor():
    text = MINIMAL.replace("kind: phrases", "kind: hold_phrases")
    with pytest.raises(ScorecardError, match="before_s"):
        parse_scorecard(text, "x.yaml")


def test_not_yaml_and_missing_file():
    with pytest.raises(ScorecardError, match="not valid YAML"):
        parse_scorecard("id: [unclosed", "x.yaml")
    with pytest.raises(ScorecardError, match="cannot read"):
        load_scorecard("/nonexistent/card.yaml")
