"""`callqa scorecard check` catches every mistake that makes a rule never match or never apply.

One test per mistake, through the real command: the exit code (2 for an error, 0 when there are
only warnings) and a message that names the file, the line and the field as a YAML path.
Loading a scorecard for `score` or `rescore` refuses the same errors.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from flows.cli import app
from pipeline.scoring.lint import WHISPER_LANGUAGES
from pipeline.scoring.scorecard import ScorecardError, load_scorecard

CARD = """\
id: mini
name: Minimal
language: en
lists:
  time_unit:
    en: [minute, minutes]
sections:
  - id: main
    name: Main
    items:
      - id: greeting
        name: Greets
        weight: 10
        rule:
          kind: phrases
          phrases:
            en:
              - hello
              - PHRASE
"""
PHRASE_FIELD = "items.greeting.rule.phrases.en[1]"

runner = CliRunner()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "card.yaml"
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    """The line (from 1) of the first line of `text` that holds `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def check(path: Path):
    return runner.invoke(app, ["scorecard", "check", str(path)])


def with_phrase(phrase: str) -> str:
    return CARD.replace("PHRASE", f"'{phrase}'" if "'" not in phrase else f'"{phrase}"')


def assert_error(tmp_path: Path, text: str, needle: str, field: str, *words: str) -> str:
    """The check fails (exit 2) and names the file, the line of `needle` and `field`."""
    path = write(tmp_path, text)
    run = check(path)
    assert run.exit_code == 2, run.output
    where = f"error: {path}:{line_of(text, needle)}: {field}: "
    line = next((l for l in run.stdout.splitlines() if l.startswith(where)), None)
    assert line is not None, f"no line starting {where!r} in:\n{run.stdout}"
    for word in words:
        assert word in line, line
    assert run.stderr.strip().splitlines() == [f"error: {path}: not a valid scorecard: "
                                               f"{run.stdout.count('error: ')} error(s), "
                                               f"{run.stdout.count('warning: ')} warning(s), listed above"]
    with pytest.raises(ScorecardError) as refused:  # what `score` and `rescore` load: refused alike
        load_scorecard(path)
    assert f"{path}:{line_of(text, needle)}: {field}: " in str(refused.value)
    return line


def assert_warning(tmp_path: Path, text: str, needle: str, field: str, *words: str) -> str:
    """The check passes (exit 0) but warns, naming the file, the line of `needle` and `field`."""
    path = write(tmp_path, text)
    run = check(path)
    assert run.exit_code == 0, run.output
    where = f"warning: {path}:{line_of(text, needle)}: {field}: "
    line = next((l for l in run.stdout.splitlines() if l.startswith(where)), None)
    assert line is not None, f"no line starting {where!r} in:\n{run.stdout}"
    for word in words:
        assert word in line, line
    assert "error:" not in run.output
    assert f"{path}: OK - mini@" in run.stdout
    load_scorecard(path)  # a warning does not stop scoring
    return line


# --- the shipped scorecards -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["aidet.yaml", "sop.yaml"])
def test_shipped_scorecards_pass_the_check(name):
    run = check(ROOT / "scorecards" / name)
    assert run.exit_code == 0, run.output
    assert "error:" not in run.output
    assert f"{name}: OK - " in run.stdout


def test_a_correct_scorecard_is_ok_without_warnings(tmp_path):
    path = write(tmp_path, with_phrase("good morning|afternoon <name>? ~2 @time_unit"))
    run = check(path)
    assert run.exit_code == 0, run.output
    assert run.stdout.strip() == f"{path}: OK - mini@{load_scorecard(path).version}, 1 items in 1 sections, 0 warning(s)"


# --- language codes ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["eng", "english", "EN", "en_GB"])
def test_unknown_language_key_of_phrases(tmp_path, code):
    text = CARD.replace("            en:\n", f"            {code}:\n")
    line = assert_error(tmp_path, text, f"{code}:", f"items.greeting.rule.phrases.{code}",
                        f"unknown language code '{code}'", "did you mean 'en'?")
    assert "never used" in line


def test_unknown_language_key_of_a_word_list(tmp_path):
    text = CARD.replace("    en: [minute, minutes]", "    eng: [minute, minutes]")
    assert_error(tmp_path, text, "eng:", "lists.time_unit.eng", "unknown language code 'eng'", "did you mean 'en'?")


def test_unknown_scorecard_language(tmp_path):
    text = CARD.replace("language: en", "language: english")
    assert_error(tmp_path, text, "language: english", "language", "unknown language code 'english'")


def test_any_language_whisper_knows_is_accepted(tmp_path):
    """Chosen: a code in faster-whisper's tokenizer (de, no, ...) or one the product supports
    (nb) is a language a call can have; anything else is an error."""
    text = CARD.replace("              - PHRASE\n", "            de: [hallo]\n            nb: [hei]\n            no: [hei]\n")
    path = write(tmp_path, text.replace("no: [hei]", "'no': [hei]"))  # unquoted, YAML reads no as false
    run = check(path)
    assert run.exit_code == 0, run.output
    assert "warning:" not in run.output


def test_unquoted_no_as_a_language_key(tmp_path):
    """YAML reads an unquoted no (Norwegian in Whisper's codes) as false."""
    text = CARD.replace("              - PHRASE\n", "            no: [hei]\n")
    assert_error(tmp_path, text, "no: [hei]", "items.greeting.rule.phrases.false", "quote it ('no')")


def test_the_language_list_is_faster_whispers():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert tuple(WHISPER_LANGUAGES) == tuple(_LANGUAGE_CODES)


# --- unknown tokens and lists -----------------------------------------------------------------

def test_unknown_token(tmp_path):
    assert_error(tmp_path, with_phrase("take <nmu> minutes"), "<nmu>", PHRASE_FIELD,
                 "unknown token '<nmu>'", "did you mean '<num>'?")


def test_bracketed_token(tmp_path):
    assert_error(tmp_path, with_phrase("take [num] minutes"), "[num]", PHRASE_FIELD,
                 "unknown token '[num]'", "did you mean '<num>'?")


def test_unknown_list(tmp_path):
    assert_error(tmp_path, with_phrase("take <num> @nosuchlist"), "@nosuchlist", PHRASE_FIELD,
                 "unknown list '@nosuchlist'", "lists: time_unit")


def test_misspelt_list_gets_a_suggestion(tmp_path):
    assert_error(tmp_path, with_phrase("take <num> @time_units"), "@time_units", PHRASE_FIELD,
                 "unknown list '@time_units'", "did you mean 'time_unit'?")


def test_list_without_words_in_the_phrase_language(tmp_path):
    text = with_phrase("take <num> @time_unit").replace("            en:\n", "            fi:\n")
    text = text.replace("language: en", "language: fi")
    assert_error(tmp_path, text, "@time_unit'", "items.greeting.rule.phrases.fi[1]", "'@time_unit' has no words for 'fi'")


def test_token_as_an_alternative(tmp_path):
    assert_error(tmp_path, with_phrase("take <num>|some minutes"), "<num>|some", PHRASE_FIELD,
                 "'<num>' in '<num>|some'", "only plain words can be alternatives")


# --- unbalanced syntax and ~ ------------------------------------------------------------------

def test_unbalanced_parenthesis(tmp_path):
    assert_error(tmp_path, with_phrase("good (morning"), "good (morning", PHRASE_FIELD, "unbalanced '('", "never closed")


def test_closing_bracket_without_opening(tmp_path):
    assert_error(tmp_path, with_phrase("good morning]"), "good morning]", PHRASE_FIELD, "unbalanced ']'")


def test_balanced_brackets_are_not_phrase_language(tmp_path):
    assert_error(tmp_path, with_phrase("good (morning|afternoon)"), "good (morning", PHRASE_FIELD,
                 "brackets are not part of the phrase language")


def test_lone_tilde(tmp_path):
    assert_error(tmp_path, with_phrase("take ~ minutes"), "take ~ minutes", PHRASE_FIELD,
                 "a lone '~' needs a number")


@pytest.mark.parametrize("term", ["~few", "~2?", "a~2"])
def test_tilde_without_a_number(tmp_path, term):
    assert_error(tmp_path, with_phrase(f"take {term} minutes"), term, PHRASE_FIELD,
                 f"'{term}': '~' takes a number and nothing else")


def test_wildcard_inside_a_word(tmp_path):
    assert_error(tmp_path, with_phrase("th*nk you"), "th*nk", PHRASE_FIELD, "'*' goes only at the end of a word")


# --- empty alternatives, phrases and lists ----------------------------------------------------

@pytest.mark.parametrize("phrase", ["hi||hey", "|hi", "hi|"])
def test_empty_alternative(tmp_path, phrase):
    assert_error(tmp_path, with_phrase(phrase), phrase, PHRASE_FIELD, f"empty alternative in '{phrase}'")


def test_empty_phrase_string(tmp_path):
    assert_error(tmp_path, CARD.replace("PHRASE", "''"), "- ''", PHRASE_FIELD, "empty phrase")


def test_empty_phrase_list_per_language(tmp_path):
    text = CARD.replace("            en:\n              - hello\n              - PHRASE\n", "            en: []\n")
    assert_error(tmp_path, text, "en: []", "items.greeting.rule.phrases.en", "no phrases for 'en'", "never pass")


def test_empty_phrase_list(tmp_path):
    text = CARD.replace("          phrases:\n            en:\n              - hello\n              - PHRASE\n",
                        "          phrases: []\n")
    assert_error(tmp_path, text, "phrases: []", "items.greeting.rule.phrases", "no phrases", "never pass")


def test_empty_word_list(tmp_path):
    text = with_phrase("hi").replace("    en: [minute, minutes]", "    en: []")
    assert_error(tmp_path, text, "en: []", "lists.time_unit.en", "empty list")


def test_nested_rule_is_checked_with_its_path(tmp_path):
    text = CARD.replace("""          kind: phrases
          phrases:
            en:
              - hello
              - PHRASE
""", """          kind: any_of
          rules:
            - kind: regex
              patterns: [hello]
            - kind: not
              rule:
                kind: phrases
                phrases: ['calm <nmu>']
""")
    assert_error(tmp_path, text, "calm <nmu>", "items.greeting.rule.rules[1].rule.phrases[0]", "unknown token '<nmu>'")


# --- warnings: phrases that can never match a tokenised utterance -----------------------------

def test_punctuation_attached_to_an_alternative(tmp_path):
    assert_warning(tmp_path, with_phrase("hi!|hello there"), "hi!|hello", PHRASE_FIELD,
                   "'hi!' never matches", "write 'hi'")


def test_list_word_spacy_splits_in_two(tmp_path):
    text = with_phrase("hi").replace("    en: [minute, minutes]", "    en: [minute, credit card]")
    assert_warning(tmp_path, text, "credit card", "lists.time_unit.en[1]", "'credit card' is not one word",
                   "'credit' 'card'")


def test_contraction_alone_is_not_its_token(tmp_path):
    """spaCy splits "I've" into 'I' ''ve', but reads a lone "'ve" as 've': as written, never matched."""
    assert_warning(tmp_path, with_phrase("i 've got it"), "i 've got it", PHRASE_FIELD, "''ve' never matches")


def test_contraction_as_an_alternative_is_fine(tmp_path):
    path = write(tmp_path, with_phrase("i 've|have got it"))
    run = check(path)
    assert run.exit_code == 0 and "warning:" not in run.output, run.output


def test_wildcard_inside_alternatives(tmp_path):
    assert_warning(tmp_path, with_phrase("thank*|cheers"), "thank*|cheers", PHRASE_FIELD,
                   "'thank*' in 'thank*|cheers' never matches")


def test_prefix_across_a_token_boundary(tmp_path):
    assert_warning(tmp_path, with_phrase("you'*"), "you'*", PHRASE_FIELD, "never matches", "prefix")


def test_punctuation_only_term(tmp_path):
    assert_warning(tmp_path, with_phrase("thanks , bye"), "thanks , bye", PHRASE_FIELD, "only punctuation")


def test_phrases_without_the_scorecard_language(tmp_path):
    text = CARD.replace("            en:\n", "            nb:\n").replace("PHRASE", "hei")
    assert_warning(tmp_path, text, "phrases:", "items.greeting.rule.phrases", "no phrases for the scorecard's language 'en'")


# --- the old checks keep their place; score and rescore refuse the same errors ----------------

def test_a_typo_in_a_key_and_a_phrase_mistake_are_told_together(tmp_path):
    text = with_phrase("<nmu>").replace("weight: 10", "wieght: 10")
    path = write(tmp_path, text)
    run = check(path)
    assert run.exit_code == 2
    assert f"error: {path}:{line_of(text, 'wieght')}: sections.0.items.0.wieght: " in run.stdout
    assert f"error: {path}:{line_of(text, '<nmu>')}: {PHRASE_FIELD}: unknown token" in run.stdout


def test_missing_file_is_one_line_exit_2(tmp_path):
    run = check(tmp_path / "nope.yaml")
    assert run.exit_code == 2
    assert run.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.yaml'}: cannot read scorecard (No such file or directory)"]


@pytest.mark.parametrize("command", [["rescore", "--db", "{tmp}/none.duckdb"], ["score", "{tmp}"]])
def test_score_and_rescore_refuse_a_scorecard_the_check_fails(tmp_path, command):
    text = CARD.replace("            en:\n", "            eng:\n").replace("PHRASE", "hi")
    path = write(tmp_path, text)
    run = runner.invoke(app, [a.format(tmp=tmp_path) for a in command] + ["--scorecard", str(path)])
    assert run.exit_code == 2, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:{line_of(text, 'eng:')}: items.greeting.rule.phrases.eng: unknown language" in lines[0]
    assert not (tmp_path / "none.duckdb").exists()
