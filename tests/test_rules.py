"""The rule language beyond phrases: regex, metrics, combinators, negation, triggers,
applicability, bonus items, bands, uncertain outcomes, and the SOP scorecard."""
from __future__ import annotations

import pytest

from pipeline.audio.activity import measure
from pipeline.records import Hold, Span, Utterance, Word
from pipeline.scoring.score import score_call
from pipeline.scoring.scorecard import SCORECARD_DIR, ScorecardError, load_scorecard, parse_scorecard


def card(items_yaml: str, extra: str = ""):
    return parse_scorecard(f"id: t\nname: T\n{extra}sections:\n  - id: s\n    name: S\n    items:\n{items_yaml}", "t.yaml")


def item(item_id: str, rule: str, more: str = "") -> str:
    lines = [f"      - id: {item_id}", f"        name: {item_id}", "        weight: 10"]
    lines += [f"        {line}" for line in more.splitlines() if line]
    lines += ["        rule:"] + [f"          {line}" for line in rule.strip().splitlines()]
    return "\n".join(lines) + "\n"


def said(*turns):
    return [Utterance(s, t, t + 3, text) for s, t, text in turns]


def outcome(scorecard, utterances, holds=(), metrics=None, duration=100.0, context=None):
    result = score_call(scorecard, utterances, list(holds), metrics, duration, "en", context=context)
    return {i.item_id: i.outcome for i in result.items}, result


def test_regex_rule():
    c = card(item("ref", "kind: regex\npatterns: ['reference (number )?[a-z]{2}\\d{4}']"))
    got, result = outcome(c, said(("agent", 5, "Your reference number AB1234 is on its way")))
    assert got["ref"] == "pass" and result.findings[0].text.lower().startswith("reference")
    got, _ = outcome(c, said(("agent", 5, "Your reference is coming")))
    assert got["ref"] == "fail"
    with pytest.raises(ScorecardError, match="bad regular expression"):
        card(item("ref", "kind: regex\npatterns: ['(unclosed']"))


def test_metric_rule_and_unknown_metric():
    c = card(item("fast", "kind: metric\nmetric: time_to_answer_s\nop: '<='\nvalue: 15"))
    fast = measure(60, [Span(4, 10)], [Span(11, 14)], [])
    slow = measure(60, [Span(25, 30)], [Span(31, 34)], [])
    assert outcome(c, said(("agent", 4, "hi")), metrics=fast)[0]["fast"] == "pass"
    assert outcome(c, said(("agent", 25, "hi")), metrics=slow)[0]["fast"] == "fail"
    assert outcome(c, said(("agent", 25, "hi")))[0]["fast"] == "na"
    with pytest.raises(ScorecardError, match="unknown metric"):
        card(item("x", "kind: metric\nmetric: speed\nop: '<'\nvalue: 1"))


def test_shares_are_of_the_conversation_not_of_the_recording():
    """`first_share` / `last_share` count from the agent's first words to the end of the last
    speech: a recorder left running an hour after the goodbye, or a long ring before the answer,
    does not move a call's opening or closing out of its window."""
    c = card(item("closing", "kind: phrases\nphrases: [thanks for calling]\nlast_share: 0.5")
             + item("opening", "kind: phrases\nphrases: [good morning]\nfirst_share: 0.5"))
    call = lambda offset: said(("agent", offset + 2, "good morning"), ("customer", offset + 10, "my bill is wrong"),
                               ("agent", offset + 30, "fixed, thanks for calling"), ("customer", offset + 34, "bye"))
    assert outcome(c, call(0), duration=40.0)[0] == {"closing": "pass", "opening": "pass"}
    assert outcome(c, call(0), duration=3600.0)[0] == {"closing": "pass", "opening": "pass"}  # an hour of silence after
    assert outcome(c, call(90), duration=130.0)[0] == {"closing": "pass", "opening": "pass"}  # 90 s of ringing before
    early = said(("agent", 2, "good morning, thanks for calling"), ("customer", 10, "my bill is wrong"),
                 ("agent", 30, "fixed"), ("customer", 34, "bye"))
    assert outcome(c, early, duration=3600.0)[0]["closing"] == "fail"  # the opening's thanks is not the closing


def test_all_of_in_order_any_of_and_not():
    both = """kind: all_of
in_order: true
rules:
  - {kind: phrases, phrases: [verify your identity]}
  - {kind: phrases, phrases: [account balance]}"""
    c = card(item("order", both) + item("either", "kind: any_of\nrules:\n  - {kind: phrases, phrases: [goodbye]}\n  - {kind: phrases, phrases: [take care]}")
             + item("calm", "kind: not\nrule: {kind: phrases, phrases: [calm down]}"))
    good = said(("agent", 1, "First I need to verify your identity."), ("agent", 20, "Your account balance is ten pounds. Take care."))
    got, _ = outcome(c, good)
    assert got == {"order": "pass", "either": "pass", "calm": "pass"}
    wrong = said(("agent", 1, "Your account balance is ten pounds."), ("agent", 20, "Now let me verify your identity. Calm down please."))
    got, result = outcome(c, wrong)
    assert got == {"order": "fail", "either": "fail", "calm": "fail"}
    assert any(f.item_id == "calm" and "calm down" in f.text.lower() for f in result.findings)


def test_when_trigger_makes_an_item_not_applicable():
    rule = """kind: when
trigger: {kind: phrases, phrases: [transfer you]}
then: {kind: phrases, phrases: [stay on the line]}"""
    c = card(item("warm", rule))
    assert outcome(c, said(("agent", 1, "Hello.")))[0]["warm"] == "na"
    assert outcome(c, said(("agent", 1, "I'll transfer you now, I'll stay on the line.")))[0]["warm"] == "pass"
    assert outcome(c, said(("agent", 1, "I'll transfer you now, bye.")))[0]["warm"] == "fail"


def test_applicability_bonus_and_bands():
    items = (item("hello", "kind: phrases\nphrases: [hello]")
             + item("upsell", "kind: phrases\nphrases: [green tariff]", "applies_if: {department: [sales]}")
             + item("extra", "kind: phrases\nphrases: [wonderful day]", "bonus: true"))
    c = card(items, "bands:\n  - {name: top, min_score: 90}\n  - {name: low, min_score: 0}\n")
    got, result = outcome(c, said(("agent", 1, "Hello.")), context={"department": "billing"})
    assert got == {"hello": "pass", "upsell": "na", "extra": "fail"}
    assert result.score == 100 and result.band == "top"
    got, result = outcome(c, said(("agent", 1, "Hello, have a wonderful day.")), context={"department": "sales"})
    assert got["upsell"] == "fail" and got["extra"] == "pass"
    assert result.score == 100  # the bonus makes up for the missed item, capped at 100
    got, result = outcome(c, said(("agent", 1, "Hi.")), context={"department": "sales"})
    assert result.score == 0 and result.band == "low"


def test_low_confidence_evidence_is_uncertain_not_pass():
    c = card(item("hello", "kind: phrases\nphrases: [my name is <word>]"))
    unsure = tuple(Word(w, i, i + 0.4, 0.3) for i, w in enumerate("my name is Sarah".split()))
    got, result = outcome(c, [Utterance("agent", 0, 4, "my name is Sarah", unsure)])
    assert got["hello"] == "uncertain"
    assert result.flagged and any("uncertain" in r for r in result.flag_reasons)
    assert result.score is None  # nothing decided, nothing scored
    sure = tuple(Word(w, i, i + 0.4, 0.95) for i, w in enumerate("my name is Sarah".split()))
    assert outcome(c, [Utterance("agent", 0, 4, "my name is Sarah", sure)])[0]["hello"] == "pass"
    poor = tuple(Word(w, i, i + 0.4, 0.2) for i, w in enumerate("hmm okay right".split()))
    assert outcome(c, [Utterance("agent", 0, 4, "hmm okay right", poor)])[0]["hello"] == "uncertain"


def test_sop_scorecard():
    sop = load_scorecard(SCORECARD_DIR / "sop.yaml")
    call = said(("agent", 3, "Hello, how can I help?"), ("customer", 7, "My bill is wrong."),
                ("agent", 11, "Can I put you on hold for a moment?"), ("agent", 50, "Thanks for holding, it's fixed."),
                ("agent", 60, "Is there anything else I can help with?"))
    holds = [Hold(0, 14.5, 49.5)]
    metrics = measure(70, [Span(u.start, u.end) for u in call if u.speaker == "agent"],
                      [Span(u.start, u.end) for u in call if u.speaker == "customer"], holds)
    got, result = outcome(sop, call, holds, metrics, 70)
    assert got == {"answer_promptly": "pass", "hold_asked": "pass", "hold_at_most_60s": "pass", "hold_thanked": "pass",
                   "no_dead_air": "pass", "warm_transfer": "na", "offers_more_help": "pass"}
    assert result.score == 100 and result.band == "excellent"
    transfer = call + said(("agent", 62, "I'll transfer you to billing. I'll stay on the line until you're connected."),
                           ("agent", 70, "Hi Sam, I have Mrs Jones on the line about her bill."))
    got, _ = outcome(sop, transfer, holds, metrics, 80)
    assert got["warm_transfer"] == "pass"
    cold = call + said(("agent", 62, "I'll transfer you to billing now, goodbye."))
    assert outcome(sop, cold, holds, metrics, 70)[0]["warm_transfer"] == "fail"
