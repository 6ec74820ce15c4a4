"""Redaction, round two: however a number is said, in every language the product supports.

Card numbers read in groups across fillers, turns and long pauses; security codes given after
the agent's question; sort codes, account numbers, IBANs; national IDs of Norway, the
Netherlands, Finland, Malaysia and Latvia; digits said as words of the call's language. Both
directions are asserted on text, exactly: what must go, and ordinary talk that must stay.
The word lists are checked too: an utterance that lost something keeps no digit in any word.

Calls are written as turns: "A: ..." is the agent, "C: ..." the customer, a number between
turns is a pause in seconds. Test numbers are the published examples or made up to pass their
checks; none is a real person's.
"""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from pipeline.privacy.checks import (
    bsn_valid, card_prefix_plausible, fodselsnummer_valid, hetu_valid, iban_valid,
    kontonummer_valid, luhn_valid, mykad_valid, personas_kods_valid,
)
from pipeline.privacy.codes import alnum_chars, iban_spans
from pipeline.privacy.cues import cue_kinds
from pipeline.privacy.numbers import LANGUAGES, SUPPORTED_LANGUAGES, lexicon, token_digits
from pipeline.privacy.redact import PLACEHOLDERS, Redaction, Redactor, context_kind, shape_kind
from pipeline.records import Utterance, Word

DATA = Path(__file__).resolve().parent / "data"
SPEAKERS = {"A": "agent", "C": "customer"}


@pytest.fixture(scope="module")
def redactor():
    return Redactor()


def call(*turns, step: float = 0.4, gap: float = 1.0) -> list[Utterance]:
    """Utterances with word times from "A: ..." / "C: ..." turns; a number is a pause."""
    out, t = [], 0.0
    for turn in turns:
        if isinstance(turn, (int, float)):
            t += turn
            continue
        who, text = turn.split(": ", 1)
        words = tuple(Word(w, round(t + i * step, 2), round(t + i * step + step * 0.8, 2), 0.9)
                      for i, w in enumerate(text.split()))
        out.append(Utterance(SPEAKERS[who], t, words[-1].end, text, words))
        t = words[-1].end + gap
    return out


def shown(utterances) -> list[str]:
    return [f"{'A' if u.speaker == 'agent' else 'C'}: {u.text}" for u in utterances]


def digits_left(u: Utterance, language: str) -> str:
    """Every digit an utterance still holds, in its words and in its text, digits or words."""
    found = []
    for text in [w.text for w in u.words] + u.text.split():
        found += [d for d in token_digits([text], language) if d]
        found += [c for c in text if c.isdigit()]
    return "".join(found)


def check(redactor, turns, expected, language="en", kept: str = ""):
    """Redact ``turns``; the texts must be ``expected`` exactly, each text its words joined, and
    no utterance that lost something may keep a digit in any word (but those of ``kept``)."""
    before = call(*turns)
    out, reds = redactor.redact(before, language)
    assert shown(out) == expected
    for a, b in zip(before, out):
        assert b.text == " ".join(w.text for w in b.words)
        if a.text != b.text:
            assert (digits_left(b, language).replace(kept, "") if kept else digits_left(b, language)) == "", (b.text, [w.text for w in b.words])
    return out, reds


# --------------------------------------------------------------------------------------------
# Check digits (published examples, and one digit changed)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_fn, good, bad", [
    (bsn_valid, "111222333", "111222334"),
    (bsn_valid, "123456782", "123456789"),
    (hetu_valid, "131052-308T", "131052-308U"),
    (hetu_valid, "131052308T", "131052-309T"),          # the dash lost in speech
    (hetu_valid, "010101A123N", "320101A123N"),
    (mykad_valid, "880101145678", "881301145678"),      # month 13
    (mykad_valid, "900505101234", "900505171234"),      # place-of-birth code 17 unused
    (personas_kods_valid, "16117519997", "16117519998"),
    (kontonummer_valid, "86011117947", "86011117948"),
    (iban_valid, "GB29NWBK60161331926819", "GB29NWBK60161331926818"),
    (iban_valid, "NL91ABNA0417164300", "NL91ABNA0417164301"),
    (iban_valid, "NO9386011117947", "NO9386011117946"),
    (iban_valid, "FI2112345600000785", "FI2112345600000786"),
    (iban_valid, "LV80BANK0000435195001", "LV80BANK000043519500"),
    (iban_valid, "nl91abna0417164300", "XX91ABNA0417164300"),
    (luhn_valid, "4111111111111111", "4111111111111112"),
])
def test_checks(check_fn, good, bad):
    assert check_fn(good) and not check_fn(bad)


def test_fodselsnummer_rejects_a_bad_date():
    assert not fodselsnummer_valid("32078512345")


@pytest.mark.parametrize("digits, plausible", [
    ("4111111111111111", True), ("5555555555554444", True), ("2223000048400011", True),
    ("378282246310005", True), ("6011111111111117", True), ("3530111333300000", True),
    ("2023202420252026", False), ("1234567812345670", False), ("7000000000000000", False),
])
def test_card_prefix(digits, plausible):
    assert card_prefix_plausible(digits) is plausible


# --------------------------------------------------------------------------------------------
# Number words per language (data tables)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language, text, digits", [
    ("en", "double four triple one oh", "441110"),
    ("en", "forty five thirty two", "4532"),
    ("nb", "fire en en en null", "41110"),
    ("nb", "sju syv åtte ni to tre", "778923"),
    ("nb", "førtifem femogførti tjue", "454520"),
    ("nl", "vier een een een nul", "41110"),
    ("nl", "vijfenveertig tweeëntwintig zeventien", "452217"),
    ("fi", "neljä yksi yksi yksi nolla", "41110"),
    ("fi", "neljäkymmentäviisi kaksikymmentä viisi kahdeksan yhdeksän", "45258" + "9"),
    ("fi", "yks kaks kolme nel", None),                  # "nel" is no number word
    ("lv", "četri viens viens viens nulle", "41110"),
    ("lv", "divdesmit pieci septiņi astoņi deviņi", "25789"),
    ("lv", "četras divas cetri", "424"),
    ("ms", "empat satu satu satu kosong", "41110"),
    ("ms", "dua puluh lima sebelas dua belas", "251112"),
    ("ms", "lapan sembilan sifar", "890"),
    # a hundred or a thousand leaves only the zeros the smaller number after it does not fill
    ("en", "three hundred thirty eight", "338"),
    ("en", "three hundred and thirty eight", "338"),
    ("en", "three hundred eight", "308"),
    ("en", "seven hundred", "700"),
    ("en", "nineteen hundred", "1900"),
    ("en", "twenty one hundred", "2100"),
    ("en", "two thousand and five", "2005"),
    ("en", "two thousand forty", "2040"),
    ("en", "four thousand five hundred thirty two", "4532"),
    ("nb", "tre hundre og trettiåtte", "338"),
    ("nb", "tohundreogfemti", "250"),
    ("nl", "driehonderd achtendertig", "338"),
    ("nl", "driehonderdachtendertig", "338"),
    ("fi", "kolmesataa kolmekymmentä kahdeksan", "338"),
    ("fi", "kolmesataakolmekymmentäkahdeksan", "338"),
    ("lv", "trīs simti trīsdesmit astoņi", "338"),
    ("ms", "tiga ratus tiga puluh lapan", "338"),
    ("ms", "dua ribu dan lima", "2005"),
])
def test_number_words(language, text, digits):
    got = token_digits(text.split(), language)
    if digits is None:
        assert got[-1] is None
    else:
        assert "".join(d for d in got if d) == digits and None not in got


def test_every_language_has_ten_unit_words_and_its_own_glue():
    for code, data in LANGUAGES.items():
        assert sorted(set(data["units"].values())) == list(range(10)), code
        lex = lexicon(code)
        assert not (lex["glue"] & set(lex["words"])), code       # "en" is one in Norwegian, not glue
    assert "en" not in lexicon("nb")["glue"] and "en" in lexicon("nl")["glue"]


@pytest.mark.parametrize("language, text, kinds", [
    ("en", "what is the three digit security code on the back of the card", {"cvv"}),
    ("en", "can i take the long card number please", {"card", "cardnumber"}),
    ("en", "your identity card number", {"id"}),
    ("en", "can you confirm the last four digits of the card", set()),
    ("en", "can i take the card number and how much would you like to pay", {"card", "cardnumber"}),
    ("en", "how much would you like to pay today", set()),
    ("en", "that's 45 pounds for 3 months", set()),
    ("en", "what's your sort code and account number", {"sortcode", "account"}),
    ("nb", "hva er sikkerhetskoden på baksiden av kortet", {"cvv", "card"}),
    ("nl", "wat is uw burgerservicenummer", {"id"}),
    ("fi", "mikä on henkilötunnuksesi", {"id"}),
    ("lv", "lūdzu, sakiet savu personas kodu", {"id"}),
    ("ms", "boleh saya dapatkan nombor kad pengenalan anda", {"id"}),
    ("ms", "boleh saya dapatkan nombor kad anda", {"card", "cardnumber"}),
    ("en", "can i take the mobile number on the account", {"phone"}),
    ("en", "which account would you like to check", {"account"}),
    ("en", "what's the tracking number on the card", set()),
])
def test_cue_kinds(language, text, kinds):
    assert cue_kinds(text, language) == kinds


def test_rules_are_data():
    assert context_kind(3, frozenset({"cvv"})) == ("cvv", "cvv")
    assert context_kind(8, frozenset({"account"})) == ("account", "account")
    assert context_kind(5, frozenset({"card"})) is None
    assert shape_kind("111222333", [9], "nl") == "id" and shape_kind("111222333", [9], "en") == "phone"
    assert shape_kind("4472918", [3, 3, 1]) is None
    assert set(PLACEHOLDERS) == {"card", "cvv", "id", "account", "email", "phone", "number"}


# --------------------------------------------------------------------------------------------
# Card numbers read in groups: fillers, turns, long pauses
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("turns, expected", [
    (["C: 4111 then 1111 then 1111 then 1111"], ["C: [CARD]"]),
    (["C: four one one one, uh, one one one one, okay, one one one one, okay, one one one one"],
     ["C: [CARD]"]),
    (["C: it's 4532 0151 and then 1283 0366 thanks"], ["C: it's [CARD] thanks"]),
    (["C: Four five three two. Zero one five one. One two eight three. Zero three six six."],
     ["C: [CARD]."]),
    (["C: 4532, um, 0151, er, yes, 1283, right, 0366."], ["C: [CARD]."]),
    (["C: double four triple one double five six seven eight nine oh one two three four"],
     ["C: [CARD]"]),
    # groups in separate turns, long pauses, the agent saying "mhm" between
    (["A: Can I take the long card number, please?", "C: 4532 0151", 15, "A: mhm", 12,
      "C: 1283 0366"],
     ["A: Can I take the long card number, please?", "C: [CARD]", "A: mhm", "C: [CARD]"]),
    # the first groups were once taken for a phone number and the last ones kept
    (["C: 4532 0151 1283", 20, "C: 0366"], ["C: [CARD]", "C: [CARD]"]),
    (["C: four five three two, zero one five one,", 10, "C: one two eight three,", 10,
      "C: zero three six six"], ["C: [CARD],", "C: [CARD],", "C: [CARD]"]),
    # other words between the groups
    (["C: 4532 0151 1283, sorry, hang on, 0366"], ["C: [CARD], sorry, hang on, [CARD]"]),
    # the agent reads each group back
    (["A: Can I take the long card number, please?", "C: 4532 0151", "A: 4532 0151, yes",
      "C: 1283 0366", "A: 1283 0366, thank you"],
     ["A: Can I take the long card number, please?", "C: [CARD]", "A: [CARD], yes",
      "C: [CARD]", "A: [CARD], thank you"]),
    # misheard (Luhn fails), read in pieces after the agent asked: every piece is card data
    (["A: Could I have the card number please?", "C: 4532 0151", 9, "A: yes", "C: sorry, 1283",
      "A: go on", "C: and the last ones are 0367"],
     ["A: Could I have the card number please?", "C: [CARD]", "A: yes", "C: sorry, [CARD]",
      "A: go on", "C: and the last ones are [CARD]"]),
    # misheard, with other words between, the customer's own "card number" before it
    (["C: my card number is 4532 0151 1283, hang on, 0367"], ["C: my card number is [CARD], hang on, [CARD]"]),
    (["C: my card number is 4532 0151 1283 0366 and the cvv is 737"],
     ["C: my card number is [CARD] and the cvv is [CVV]"]),
])
def test_card_read_in_groups(redactor, turns, expected):
    out, reds = check(redactor, turns, expected)
    assert reds and {r.kind for r in reds} <= {"card", "cvv"}


@pytest.mark.parametrize("language, said, expected", [
    ("nb", "fire en en en, eh, en en en en, ok, en en en en, en en en en", "[CARD]"),
    ("nb", "kortnummeret er fire fem tre to null en fem en en to åtte tre null tre seks seks",
     "kortnummeret er [CARD]"),
    ("nb", "det er fire fem tre to, null en fem en, så en to åtte tre, og null tre seks seks", "det er [CARD]"),
    ("nl", "vier een een een, dan een een een een, dan een een een een, een een een een", "[CARD]"),
    ("nl", "4111 dan 1111 dan 1111 dan 1111", "[CARD]"),
    ("fi", "neljä yksi yksi yksi, öö, yksi yksi yksi yksi, sitten yksi yksi yksi yksi, yksi yksi yksi yksi",
     "[CARD]"),
    ("lv", "četri viens viens viens, tad viens viens viens viens, viens viens viens viens, viens viens viens viens",
     "[CARD]"),
    ("ms", "empat satu satu satu, kemudian satu satu satu satu, satu satu satu satu, satu satu satu satu",
     "[CARD]"),
    ("ms", "nombor kad saya empat lima tiga dua kosong satu lima satu satu dua lapan tiga kosong tiga enam enam",
     "nombor kad saya [CARD]"),
])
def test_card_said_in_each_language(redactor, language, said, expected):
    check(redactor, [f"C: {said}"], [f"C: {expected}"], language)


def test_asked_for_the_card_and_the_amount_the_amount_stays(redactor):
    check(redactor, ["A: Can I take the card number, and how much would you like to pay?",
                     "C: 4532 0151 1283 0366, and 45 pounds please"],
          ["A: Can I take the card number, and how much would you like to pay?", "C: [CARD], and 45 pounds please"],
          kept="45")


def test_card_in_each_language_after_the_question_in_groups(redactor):
    check(redactor, ["A: Kan jeg få kortnummeret ditt?", "C: fire fem tre to", 12, "C: null en fem en",
                     12, "C: en to åtte tre", 12, "C: null tre seks seks"],
          ["A: Kan jeg få kortnummeret ditt?", "C: [CARD]", "C: [CARD]", "C: [CARD]", "C: [CARD]"], "nb")
    check(redactor, ["A: Mag ik uw kaartnummer?", "C: vier vijf drie twee", "A: ja", "C: nul een vijf een",
                     "A: ja", "C: een twee acht drie", "A: ja", "C: nul drie zes zes"],
          ["A: Mag ik uw kaartnummer?", "C: [CARD]", "A: ja", "C: [CARD]", "A: ja", "C: [CARD]",
           "A: ja", "C: [CARD]"], "nl")


# Property: a card number said in any supported language, in groups of any size, as digits or
# words, with glue words, fillers and other words between, over turns with pauses up to 40 s,
# the agent saying "mhm" or reading a group back, asked for or not, with or without word times:
# no digit of it is left in any word or text, the customer's or the agent's.
PROMPTS = {"en": "Can I take the long card number please?", "nb": "Kan jeg få kortnummeret ditt?",
           "nl": "Mag ik uw kaartnummer?", "fi": "Saisinko kortin numeron?", "lv": "Lūdzu, kartes numuru?",
           "ms": "Boleh saya dapatkan nombor kad anda?"}
BACKCHANNELS = {"en": ["mhm", "yes", "okay", "go on", "got it"], "nb": ["ja", "mhm", "ok"],
                "nl": ["ja", "mhm", "oké"], "fi": ["joo", "mhm", "okei"], "lv": ["jā", "labi"],
                "ms": ["ya", "okey", "baik"]}
ASIDES = ["hang on", "sorry where was I", "let me check", "wait", "hold on a second"]


def _spoken_card(rng: random.Random, language: str) -> tuple[str, list[Utterance]]:
    while True:
        length = rng.choice([15, 16, 16, 16, 19])
        base = rng.choice(["4", "51", "52", "55", "6011", "37", "2221", "35"])
        base += "".join(rng.choice("0123456789") for _ in range(length - 1 - len(base)))
        card = next((base + d for d in "0123456789" if luhn_valid(base + d)), None)
        if card:
            break
    words: dict[int, list[str]] = {}
    for w, v in LANGUAGES[language]["units"].items():
        words.setdefault(v, []).append(w)
    groups, i = [], 0
    while i < len(card):
        k = rng.choice([2, 3, 4, 4, 4])
        groups.append(card[i:i + k])
        i += k
    if len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    glue = sorted(LANGUAGES[language]["glue"]) + ["uh", "um"]
    turns: list = []
    if rng.random() < 0.6:
        turns.append("A: " + PROMPTS[language])
    current: list[str] = []
    for group in groups:
        current.append(group if rng.random() < 0.3 else " ".join(rng.choice(words[int(c)]) for c in group))
        if rng.random() < 0.4:
            current.append(rng.choice(glue))
        if rng.random() < 0.15:
            current.append(rng.choice(ASIDES))
        if rng.random() < 0.4:
            turns += [rng.choice([0.5, 2, 5, 12, 25, 40]), "C: " + " ".join(current)]
            current = []
            if rng.random() < 0.5:
                turns.append("A: " + rng.choice(BACKCHANNELS[language]))
            elif rng.random() < 0.3:
                turns.append("A: " + group)                      # the agent reads the group back
    if current:
        turns += [rng.choice([0.5, 2, 5, 12]), "C: " + " ".join(current)]
    utterances = call(*turns, gap=0.0)
    if rng.random() < 0.3:                                           # imported text, no words
        utterances = [Utterance(u.speaker, u.start, u.end, u.text) for u in utterances]
    return card, utterances


def test_property_no_digit_of_a_card_said_in_groups_survives():
    redactor = Redactor(use_presidio=False)           # the spoken forms are the rules' work
    rng = random.Random(20261130)
    for case in range(240):
        language = SUPPORTED_LANGUAGES[case % len(SUPPORTED_LANGUAGES)]
        card, utterances = _spoken_card(rng, language)
        out, reds = redactor.redact(utterances, language)
        for before, after in zip(utterances, out):
            if after.text != PROMPTS[language]:
                assert digits_left(after, language) == "", (language, card, shown(utterances), shown(out))
        assert "card" in {r.kind for r in reds}      # a stray group may read as an ID (3-2-4 digits)


# --------------------------------------------------------------------------------------------
# Security codes after the agent's question
# --------------------------------------------------------------------------------------------
Q_EN = "A: And what is the three digit security code on the back of the card?"


@pytest.mark.parametrize("answer, expected", [
    ("C: It's 737.", "C: It's [CVV]."),
    ("C: it's 7 3 7", "C: it's [CVV]"),
    ("C: seven three seven", "C: [CVV]"),
    ("C: Um, let me just turn it over, it's seven three seven.", "C: Um, let me just turn it over, it's [CVV]."),
    ("C: yeah hang on, I need my glasses, okay, it's seven, three, seven", "C: yeah hang on, I need my glasses, okay, it's [CVV]"),
    ("C: 73 7", "C: [CVV]"),
    ("C: seventy three seven", "C: [CVV]"),
])
def test_security_code_answer(redactor, answer, expected):
    check(redactor, [Q_EN, 4, answer], [Q_EN, expected])


def test_security_code_after_other_turns_and_read_back(redactor):
    check(redactor, [Q_EN, "C: right, hold on", "A: no problem, take your time", 20, "C: found it, 737",
                     "A: 737, thank you"],
          [Q_EN, "C: right, hold on", "A: no problem, take your time", "C: found it, [CVV]",
           "A: [CVV], thank you"])


def test_security_code_given_by_the_customer_unasked(redactor):
    check(redactor, ["C: the security code on the back is", 3, "C: 4 8 2"],
          ["C: the security code on the back is", "C: [CVV]"])


def test_security_code_corrected_before_the_agent_speaks_again(redactor):
    check(redactor, [Q_EN, "C: 737", 2, "C: no, sorry, it's 738", "A: 738, thank you", "C: and the bill was 250 pounds",
                     "A: Thank you.", "C: my flat is number 12 by the way"],
          [Q_EN, "C: [CVV]", "C: no, sorry, it's [CVV]", "A: [CVV], thank you", "C: and the bill was 250 pounds",
           "A: Thank you.", "C: my flat is number 12 by the way"])


def test_security_code_question_that_ends_with_an_amount(redactor):
    check(redactor, ["A: And the security code on the back? That's for the payment of 45 pounds.", "C: sure, 4 8 2 1"],
          ["A: And the security code on the back? That's for the payment of 45 pounds.", "C: sure, [CVV]"])


@pytest.mark.parametrize("language, question, answer", [
    ("nb", "Hva er sikkerhetskoden på baksiden av kortet?", "sju tre sju"),
    ("nb", "Og de tre sifrene på baksiden?", "det er sju tre sju"),
    ("nl", "Wat is de beveiligingscode op de achterkant van de kaart?", "zeven drie zeven"),
    ("fi", "Mikä on kortin turvakoodi?", "seitsemän kolme seitsemän"),
    ("lv", "Kāds ir drošības kods kartes aizmugurē?", "septiņi trīs septiņi"),
    ("ms", "Apakah kod keselamatan di belakang kad?", "tujuh tiga tujuh"),
    ("ms", "Apakah kod keselamatan di belakang kad?", "737"),
])
def test_security_code_in_each_language(redactor, language, question, answer):
    head = "det er " if answer.startswith("det er") else ""
    check(redactor, [f"A: {question}", f"C: {answer}"], [f"A: {question}", f"C: {head}[CVV]"], language)


# --------------------------------------------------------------------------------------------
# Bank details: sort codes, account numbers, IBANs
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("turns, expected", [
    (["C: sort code 20-00-00"], ["C: sort code [ACCOUNT]"]),
    (["C: my sort code is 20 00 00"], ["C: my sort code is [ACCOUNT]"]),
    (["C: my sort code is 20-12-10"], ["C: my sort code is [ACCOUNT]"]),       # looks like a date
    (["A: And your sort code?", "C: two zero, zero zero, zero zero"], ["A: And your sort code?", "C: [ACCOUNT]"]),
    (["C: sort code twenty, double oh, double oh"], ["C: sort code [ACCOUNT]"]),
    (["C: account number 12345678"], ["C: account number [ACCOUNT]"]),
    (["C: my account number is one two three four five six seven eight"], ["C: my account number is [ACCOUNT]"]),
    (["A: What's the account number?", "C: 12 34 56 78"], ["A: What's the account number?", "C: [ACCOUNT]"]),
    (["A: Can you give me your sort code and account number?", "C: yes, 20 00 00", 3, "C: and 12345678"],
     ["A: Can you give me your sort code and account number?", "C: yes, [ACCOUNT]", "C: and [ACCOUNT]"]),
    (["C: the sort code is 20-00-00 and the account number is 31926819"],
     ["C: the sort code is [ACCOUNT] and the account number is [ACCOUNT]"]),
    (["C: GB29 NWBK 6016 1331 9268 19"], ["C: [ACCOUNT]"]),
    (["C: it's GB29NWBK60161331926819 thanks"], ["C: it's [ACCOUNT] thanks"]),
    (["C: gb29 nwbk 6016 1331 9268 19"], ["C: [ACCOUNT]"]),
    (["C: G B two nine N W B K six zero one six one three three one nine two six eight one nine"], ["C: [ACCOUNT]"]),
    (["C: N L nine one A B N A zero four one seven one six four three zero zero"], ["C: [ACCOUNT]"]),
    (["C: golf bravo two nine november whiskey bravo kilo six zero one six one three three one nine two six eight one nine"],
     ["C: [ACCOUNT]"]),
    (["C: my IBAN is GB29 NWBK 6016 1331 9268 18"], ["C: my IBAN is [ACCOUNT]"]),       # misheard
    (["A: What's the IBAN?", "C: NL91ABNA0417164301"], ["A: What's the IBAN?", "C: [ACCOUNT]"]),
])
def test_bank_details(redactor, turns, expected):
    out, reds = check(redactor, turns, expected)
    assert {r.kind for r in reds} == {"account"}


def test_numbers_asked_for_keep_the_kind_asked_for(redactor):
    # as in data/eval s01 and s08, and the Harper Valley Bank calls (a phone number in pieces)
    check(redactor, ["A: Oh no, that's annoying. Can I take the mobile number on the account?",
                     "C: Yeah it's oh seven seven nine three, four four one, two two eight."],
          ["A: Oh no, that's annoying. Can I take the mobile number on the account?", "C: Yeah it's [PHONE]."])
    check(redactor, ["A: Sure, can I take your account number?", "C: It's nine one two, three four, five."],
          ["A: Sure, can I take your account number?", "C: It's [ACCOUNT]."])
    check(redactor, ["C: my phone number is zero seven five", "C: four two eight", "C: five six three one"],
          ["C: my phone number is [PHONE]", "C: [PHONE]", "C: [PHONE]"])


@pytest.mark.parametrize("language, said, expected", [
    ("nb", "kontonummeret mitt er 8601 11 17947", "kontonummeret mitt er [ACCOUNT]"),
    ("nb", "kontonummeret mitt er åtte seks null en en en en sju ni fire sju", "kontonummeret mitt er [ACCOUNT]"),
    ("nb", "IBAN er NO93 8601 1117 947", "IBAN er [ACCOUNT]"),
    ("nb", "det er 86011117947", "det er [ACCOUNT]"),                     # mod 11, no cue
    ("nl", "mijn rekeningnummer is NL91 ABNA 0417 1643 00", "mijn rekeningnummer is [ACCOUNT]"),
    ("nl", "NL91ABNA0417164300", "[ACCOUNT]"),
    ("fi", "tilinumeroni on FI21 1234 5600 0007 85", "tilinumeroni on [ACCOUNT]"),
    ("lv", "mans konta numurs ir LV80 BANK 0000 4351 9500 1", "mans konta numurs ir [ACCOUNT]"),
    ("ms", "nombor akaun saya satu dua tiga empat lima enam tujuh lapan sembilan kosong",
     "nombor akaun saya [ACCOUNT]"),
])
def test_bank_details_in_each_language(redactor, language, said, expected):
    check(redactor, [f"C: {said}"], [f"C: {expected}"], language)


def test_iban_spans_on_spelled_letters():
    tokens = "N O nine three eight six zero one one one one seven nine four seven".split()
    chars = alnum_chars(tokens, token_digits(tokens))
    assert chars[:2] == ["N", "O"]
    assert iban_spans(chars) == [(0, len(tokens) - 1, True)]
    tokens = "four oh four".split()
    assert alnum_chars(tokens, token_digits(tokens)) == ["4", "0", "4"]


# --------------------------------------------------------------------------------------------
# National identity numbers
# --------------------------------------------------------------------------------------------
FNR = "15078510150"         # made to pass the two check digits (see test_redact.valid_fnr)


@pytest.mark.parametrize("language, said, expected", [
    ("nb", f"fødselsnummeret mitt er {FNR}", "fødselsnummeret mitt er [ID]"),
    ("nb", "fødselsnummeret mitt er en fem null sju åtte fem en null en fem null", "fødselsnummeret mitt er [ID]"),
    ("nb", "det er femten null sju åttifem, en null en femti", "det er [ID]"),
    ("nb", f"ja, {FNR[:6]} {FNR[6:]}", "ja, [ID]"),
    ("nl", "mijn bsn is 111222333", "mijn bsn is [ID]"),
    ("nl", "mijn burgerservicenummer is een een een twee twee twee drie drie drie", "mijn burgerservicenummer is [ID]"),
    ("nl", "het is 123456782", "het is [ID]"),                           # 11-test, no cue
    ("fi", "131052-308T", "[ID]"),
    ("fi", "henkilötunnukseni on yksi kolme yksi nolla viisi kaksi viiva kolme nolla kahdeksan T",
     "henkilötunnukseni on [ID]"),
    ("fi", "se on kolmetoista kymmenen viisikymmentäkaksi viiva kolme nolla kahdeksan T", "se on [ID]"),
    ("ms", "880101-14-5678", "[ID]"),
    ("ms", "nombor kad pengenalan saya lapan lapan kosong satu kosong satu satu empat lima enam tujuh lapan",
     "nombor kad pengenalan saya [ID]"),
    ("ms", "IC saya 880101 sempang 14 sempang 5678", "IC saya [ID]"),
    ("lv", "161175-19997", "[ID]"),
    ("lv", "mans personas kods ir viens seši viens viens septiņi pieci, viens deviņi deviņi deviņi septiņi",
     "mans personas kods ir [ID]"),
    ("lv", "personas kods 32123456789", "personas kods [ID]"),             # since 2017, no date
    ("en", "my NI number is QQ 12 34 56 C", "my NI number is [ID]"),
])
def test_national_ids(redactor, language, said, expected):
    out, reds = check(redactor, [f"C: {said}"], [f"C: {expected}"], language)
    assert {r.kind for r in reds} == {"id"}


def test_id_asked_by_the_agent_and_answered_in_words(redactor):
    check(redactor, ["A: Kan jeg få fødselsnummeret ditt, elleve siffer?", "C: ja", "C: en fem null sju åtte fem",
                     5, "C: en null en fem null"],
          ["A: Kan jeg få fødselsnummeret ditt, elleve siffer?", "C: ja", "C: [ID]", "C: [ID]"], "nb")


# --------------------------------------------------------------------------------------------
# What must stay: ordinary talk with numbers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language, text", [
    ("en", "This will take about five working days."),
    ("en", "It will be credited within three business days, sometimes 3 to 5 business days."),
    ("en", "I'll call you back in 10 minutes, at 10:30, or tomorrow at 9."),
    ("en", "The new card will arrive in seven to ten days."),
    ("en", "That's £120, or 45 pounds a month for 12 months."),
    ("en", "your balance is one hundred and thirty four dollars"),
    ("en", "the branch hours are nine thirty am to five pm"),
    ("en", "We opened in 2023 and 2024 and 2025 and 2026 we grew."),
    ("en", "in 2019, 2020 and 2021 the fee was 25 pounds"),
    ("en", "press one, then two, then three, then the hash key"),
    ("en", "the card ending in 0366 was declined"),
    ("en", "Can you confirm the last four digits of the card, please?"),
    ("en", "The security code is the three digits on the back of your card."),
    ("en", "Your reference is 447-2918, that's four four seven, two nine one eight."),
    ("en", "your appointment is on 12/05/2025, or 2025-05-12, at 14:00"),
    ("en", "I've had the card for 10 years and 3 months"),
    ("en", "the promo codes expire after 7 days without fail"),
    ("en", "one moment please, I'll be two minutes, thank you for holding"),
    ("nb", "Det tar fem virkedager, og kortet kommer om tre til fem dager."),
    ("nb", "Jeg ringer deg tilbake om ti minutter, klokka halv tre."),
    ("nb", "Du har en ny melding, og det koster 49 kroner i måneden."),
    ("nl", "Het duurt vijf werkdagen en de kaart komt binnen drie tot vijf dagen."),
    ("nl", "Ik heb een vraag over mijn rekening van 120 euro."),
    ("fi", "Se kestää viisi arkipäivää, kortti tulee kolmessa päivässä."),
    ("fi", "Soitan takaisin kymmenen minuutin päästä."),
    ("lv", "Tas aizņems piecas darba dienas, karte pienāks trīs dienās."),
    ("lv", "Es piezvanīšu pēc desmit minūtēm."),
    ("ms", "Ia mengambil masa lima hari bekerja, kad akan sampai dalam tiga hari."),
    ("ms", "Saya akan telefon semula dalam sepuluh minit."),
])
@pytest.mark.parametrize("speaker", ["A", "C"])
def test_ordinary_talk_stays(redactor, language, text, speaker):
    check(redactor, [f"{speaker}: {text}"], [f"{speaker}: {text}"], language)


@pytest.mark.parametrize("turns, expected", [
    # after the security code was given, the agent's amounts and the customer's are kept
    ([Q_EN, "C: 737", "A: Thank you, and 120 pounds will be taken today.", "C: and the bill was 250 pounds"],
     [Q_EN, "C: [CVV]", "A: Thank you, and 120 pounds will be taken today.", "C: and the bill was 250 pounds"]),
    # after the card was given, amounts and days stay
    (["A: Can I take the long card number?", "C: 4532 0151 1283 0366",
      "A: Thank you. The refund of 1500 pounds takes three to five working days.",
      "C: okay, and the amount is 1500 pounds"],
     ["A: Can I take the long card number?", "C: [CARD]",
      "A: Thank you. The refund of 1500 pounds takes three to five working days.",
      "C: okay, and the amount is 1500 pounds"]),
    # the agent asks for the card number; the customer says how much first
    (["A: Can I take the card number?", "C: sorry, the amount is 200 pounds first"],
     ["A: Can I take the card number?", "C: sorry, the amount is 200 pounds first"]),
    # the agent explains where the security code is; no code is given
    (["A: The three digit code is on the back of the card, by the signature.", "C: ok, in 2 minutes then?"],
     ["A: The three digit code is on the back of the card, by the signature.", "C: ok, in 2 minutes then?"]),
    # the agent asks for the last four digits: those are no secret
    (["A: Can you confirm the last four digits of the card?", "C: 0366"],
     ["A: Can you confirm the last four digits of the card?", "C: 0366"]),
    # a question about the card, then a date and a time
    (["A: Which card would you like to use?", "C: the one I used on the 3rd, at 10:30"],
     ["A: Which card would you like to use?", "C: the one I used on the 3rd, at 10:30"]),
    # the customer's zip code, said in pieces (as in the Harper Valley Bank calls)
    (["C: my address is zero zero one", "C: and the zip code is seven zero zero", "C: two three"],
     ["C: my address is zero zero one", "C: and the zip code is seven zero zero", "C: two three"]),
    # a tracking number on a delivery card is no card number (data/eval s25)
    (["A: No worries, what's the tracking number on the card?", "C: K C one one eight four."],
     ["A: No worries, what's the tracking number on the card?", "C: K C one one eight four."]),
    # the agent's questions mention codes and cards but carry no data
    (["A: Could you read me the security code? Not the PIN, never tell anyone your PIN.", "C: sure, one moment"],
     ["A: Could you read me the security code? Not the PIN, never tell anyone your PIN.", "C: sure, one moment"]),
])
def test_ordinary_talk_around_personal_data_stays(redactor, turns, expected):
    check(redactor, turns, expected)


def test_real_dialogues_lose_nothing():
    """Real customer-service dialogues (shared corpus, where this checkout has it): bank calls
    with balances, amounts, branch hours and zip codes read out; nothing there is card, code,
    account or ID data, and nothing may be redacted."""
    path = Path(__file__).resolve().parents[2] / "shared" / "transcripts" / "dialogues.jsonl"
    if not path.exists():
        pytest.skip("shared transcripts not present")
    redactor = Redactor(use_presidio=False)
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        us, t = [], 0.0
        for turn in d["turns"]:
            start = turn.get("start_ms", t * 1000) / 1000
            end = start + turn.get("duration_ms", 2000) / 1000
            speaker = "agent" if turn["speaker"] == "agent" else "customer"
            us.append(Utterance(speaker, start, end, turn["text"]))
            t = end + 1
        us.sort(key=lambda u: u.start)
        out, reds = redactor.redact(us, (d.get("language") or "en")[:2])
        assert reds == [] and [u.text for u in out] == [u.text for u in us], d["id"]


# --------------------------------------------------------------------------------------------
# The word lists
# --------------------------------------------------------------------------------------------
def test_glue_words_inside_a_number_go_into_one_placeholder_with_its_times(redactor):
    out, reds = redactor.redact(call("C: yes 4111 then 1111 then 1111 then 1111 thanks"))
    words = out[0].words
    assert [w.text for w in words] == ["yes", "[CARD]", "thanks"]
    assert (words[1].start, words[1].end) == (0.4, round(7 * 0.4 + 0.32, 2))
    assert reds == [Redaction("card", "customer", 0.4, round(7 * 0.4 + 0.32, 2))]


def test_a_word_holding_several_tokens_is_replaced_whole(redactor):
    words = (Word("it's", 0.0, 0.3, 0.9), Word("4111 1111", 0.4, 1.0, 0.8), Word("1111 1111", 1.1, 1.8, 0.7),
             Word("okay", 2.0, 2.3, 0.9))
    u = Utterance("customer", 0.0, 2.3, "it's 4111 1111 1111 1111 okay", words)
    out, reds = redactor.redact([u])
    assert [w.text for w in out[0].words] == ["it's", "[CARD]", "okay"]
    assert out[0].text == "it's [CARD] okay"
    assert reds == [Redaction("card", "customer", 0.4, 1.8)]


def test_text_that_differs_from_its_words_is_redacted_too(redactor):
    words = (Word("my", 0.0, 0.2, 0.9), Word("card", 0.3, 0.5, 0.9), Word("is", 0.6, 0.7, 0.9),
             Word("4111111111111111", 0.8, 2.0, 0.9))
    u = Utterance("customer", 0.0, 2.0, "My card is 4111 1111 1111 1111, and the CVV 737.", words)
    out, reds = redactor.redact([u])
    assert [w.text for w in out[0].words] == ["my", "card", "is", "[CARD]"]
    assert out[0].text == "My card is [CARD], and the CVV [CVV]."
    assert {r.kind for r in reds} == {"card", "cvv"}


def test_no_word_keeps_a_digit_of_a_number_split_over_turns_and_pauses(redactor):
    turns = ["A: Can I take the long card number?", "C: four five three two", 14, "A: yes",
             "C: zero one five one", 25, "C: one two eight three", "A: okay", 9, "C: zero three six six",
             "A: and the security code?", "C: seven three seven", "A: and your sort code?",
             "C: two zero, zero zero, zero zero"]
    out, reds = redactor.redact(call(*turns))
    for u in out:
        if u.speaker == "customer":
            assert digits_left(u, "en") == "", u.text
            assert all(w.text.startswith("[") for w in u.words), u.words
    assert [r.kind for r in reds] == ["card", "card", "card", "card", "cvv", "account"]


def test_the_stored_word_list_holds_no_digit(redactor):
    """The word lists are stored as JSON (store.writes): what is stored holds no digit."""
    out, _ = redactor.redact(call("A: Wat is uw BSN?", "C: het is een een een twee twee twee drie drie drie"), "nl")
    stored = json.dumps([[w.text, w.start, w.end, w.probability] for w in out[1].words], ensure_ascii=False)
    assert [w[0] for w in json.loads(stored)] == ["het", "is", "[ID]"]
    assert json.loads(stored)[2][1:] == [out[1].words[2].start, out[1].end, 0.9]


# --------------------------------------------------------------------------------------------
# Transcript import, end to end into the database
# --------------------------------------------------------------------------------------------
def test_imported_multilingual_calls_store_no_personal_number(tmp_path, scorecard, redactor):
    from pipeline.ingest.transcripts import import_transcripts
    from pipeline.store.database import Store
    from pipeline.store.writes import save_call

    source = DATA / "pii_multilingual.jsonl"
    expected = json.loads((DATA / "pii_multilingual_expected.json").read_text(encoding="utf-8"))
    store = Store(tmp_path / "t.duckdb")
    for result in import_transcripts(source, scorecard, redactor=redactor):
        save_call(store, result)
    rows = store.query("SELECT call_id, speaker, text FROM utterances ORDER BY call_id, start_s").values.tolist()
    got: dict[str, list[str]] = {}
    for call_id, speaker, text in rows:
        got.setdefault(call_id, []).append(f"{'A' if speaker == 'agent' else 'C'}: {text}")
    assert got == expected
    kinds = store.query("SELECT DISTINCT kind FROM redactions ORDER BY kind").kind.tolist()
    assert kinds == ["account", "card", "cvv", "id"]


# --------------------------------------------------------------------------------------------
# Cost: the redactor runs on every call
# --------------------------------------------------------------------------------------------
def test_a_long_call_is_redacted_quickly():
    lines = ["A: Thank you for calling, how can I help you today?", "C: I'd like to pay my bill by card please.",
             "A: Of course, can I take the long card number please?",
             "C: Yes it's four five three two, zero one five one, one two eight three, zero three six six.",
             "A: And the three digit security code on the back of the card?", "C: It's seven three seven.",
             "A: That will take about five working days, and I'll call you back in 10 minutes at 10:30.",
             "C: my sort code is 20 00 00 and the account number 12345678", "A: okay, thanks", "C: mhm"]
    turns = [lines[i % len(lines)] for i in range(1000)]          # about 9,000 words
    utterances = call(*turns)
    redactor = Redactor(use_presidio=False)
    t0 = time.process_time()
    out, reds = redactor.redact(utterances)
    spent = time.process_time() - t0
    assert len(reds) == 100 * 4        # card, security code, sort code, account number
    assert spent < 5.0, spent           # about 0.3 s on the 2-core build machine
