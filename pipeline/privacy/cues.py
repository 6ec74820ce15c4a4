"""Context words that say what a number is, per language: data, and pure functions.

``CUES[language][kind]`` lists regular-expression fragments (matched on whole words of
lower-cased text without punctuation, "-" read as a space). The kinds:

- ``card``: a card ("card", "visa", "bankkort", "creditcard", "kortti", "karte", "kad");
  ``cardnumber``: its number ("card number", "long number", "kortnummer", "kaartnummer",
  "kortin numero", "kartes numurs", "nombor kad"), which also counts as ``card``;
- ``cvv``: security codes and PINs ("three digit security code", "CVV", "sikkerhetskode",
  "beveiligingscode", "turvakoodi", "drošības kods", "kod keselamatan");
- ``sortcode``, ``account``, ``iban``: bank details; ``account_word``: "account" alone, which
  counts as ``account`` only when no other sensitive cue is said with it;
- ``id``: national identity numbers ("social security", "fødselsnummer", "BSN",
  "henkilötunnus", "personas kods", "MyKad");
- ``phone``: a phone number;
- ``none``: questions for numbers that are none of the above ("the last four digits of the
  card", "how much", "reference number", "postcode"): an agent's question with only these
  ends the previous topic, and a customer's own words with only these say no sensitive number
  follows;
- ``unit``: words said after an amount, a time or a length ("pounds", "working days",
  "kroner", "minit"): a number followed by one is no code, card or account (``unit_after``).

Where cues overlap, the longest wins ("identity card" is ``id``, not ``card``; "last four
digits of the card" is ``none``, not ``cvv`` or ``card``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from pipeline.privacy.numbers import base_language

CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "card": (r"cards?", r"credit", r"debit", r"visa", r"mastercard", r"master card", r"amex",
                 r"american express", r"maestro", r"pan"),
        "cardnumber": (r"card numbers?", r"long number", r"long card number", r"number on the card",
                       r"number on the front"),
        "cvv": (r"security (?:code|number|digits?)", r"cv[vc]2?", r"cv 2", r"csc",
                r"verification (?:code|number|value)", r"(?:three|3|four|4) digits?",
                r"(?:three|3|four|4) digit (?:code|number)", r"on the back", r"back of (?:the|your) card",
                r"pin", r"pin (?:number|code)", r"passcode"),
        "sortcode": (r"sort ?codes?", r"bank sort code"),
        "account": (r"account (?:number|no|num)s?", r"bank account", r"acc(?:t|ount)? no"),
        "account_word": (r"accounts?",),
        "iban": (r"iban", r"international (?:bank )?account number"),
        "id": (r"social security", r"ssn", r"national insurance", r"ni (?:number|no)",
               r"insurance number", r"id (?:number|no|card)", r"identification number",
               r"identity (?:number|card)", r"passport", r"driv\w* licen[cs]e", r"birth number",
               r"national id", r"personal (?:id|identification|identity|number|code)",
               r"tax (?:id|number|reference|code)", r"social insurance", r"ic number", r"nric"),
        "phone": (r"phone(?: number)?", r"mobile(?: number)?", r"telephone", r"contact number",
                  r"landline", r"call you (?:on|at)", r"reach you (?:on|at)"),
        "none": (r"last (?:four|4|three|3) (?:digits|numbers)(?: (?:of|on) (?:the|your) card)?", r"ending (?:in|with)",
                 r"(?:tracking|order|booking|reservation|invoice|case|ticket|reference|confirmation|"
                 r"parcel|consignment|policy|serial|model|flight|room) (?:number|no)s?(?: on (?:the|your) card)?",
                 r"ends (?:in|with)", r"how much", r"amount", r"reference(?: number)?",
                 r"order number", r"post ?code", r"zip code", r"case number", r"ticket number"),
        "unit": (r"pounds?", r"quid", r"pence", r"dollars?", r"cents?", r"euros?", r"kroner",
                 r"ringgit", r"percent", r"per cent", r"seconds?", r"minutes?", r"hours?", r"days?",
                 r"weeks?", r"months?", r"years?", r"working days?", r"business days?",
                 r"o'?clock", r"am", r"pm", r"a m", r"p m", r"gigabytes?", r"megabytes?"),
    },
    "nb": {
        "cardnumber": (r"kortnummer\w*", r"nummeret på kortet"),
        "card": (r"bankkort\w*", r"kredittkort\w*", r"debetkort\w*",
                 r"betalingskort\w*", r"kortet\w*", r"visakort\w*"),
        "cvv": (r"sikkerhetskode\w*", r"kontrollsif(?:fer|re)\w*", r"cvc\w*", r"cvv\w*",
                r"tre siffer\w*", r"tresifre\w*", r"baksiden", r"pin\w*"),
        "account": (r"kontonummer\w*", r"bankkonto\w*", r"kontonr\w*"),
        "account_word": (r"konto\w*",),
        "iban": (r"iban\w*",),
        "id": (r"f[øo]dselsnummer\w*", r"personnummer\w*", r"d nummer\w*", r"personnr\w*"),
        "phone": (r"telefonnummer\w*", r"mobilnummer\w*", r"telefon\w*"),
        "none": (r"siste fire\w*", r"beløp\w*", r"hvor mye", r"referanse\w*", r"postnummer\w*",
                 r"sporingsnummer\w*", r"ordrenummer\w*", r"saksnummer\w*", r"bestillingsnummer\w*"),
        "unit": (r"kroner", r"kr", r"øre", r"prosent", r"sekund\w*", r"minutt\w*", r"time[rn]?",
                 r"dag\w*", r"virkedag\w*", r"uke[rn]?", r"måned\w*", r"år\w*", r"klokka"),
    },
    "nl": {
        "cardnumber": (r"kaartnummer\w*", r"nummer van de kaart", r"nummer op de kaart"),
        "card": (r"creditcard\w*", r"bankpas\w*", r"pinpas\w*",
                 r"betaalpas\w*", r"debitcard\w*", r"kaart\w*"),
        "cvv": (r"beveiligingscode\w*", r"veiligheidscode\w*", r"controlecode\w*", r"cvc\w*",
                r"cvv\w*", r"drie cijfers", r"driecijferige\w*", r"achterkant", r"pincode\w*"),
        "account": (r"rekeningnummer\w*", r"bankrekening\w*", r"rekeningnr\w*"),
        "account_word": (r"rekening\w*",),
        "iban": (r"iban\w*",),
        "id": (r"bsn\w*", r"burgerservicenummer\w*", r"sofinummer\w*", r"burger service nummer"),
        "phone": (r"telefoonnummer\w*", r"mobiele nummer", r"mobiel nummer", r"06 nummer"),
        "none": (r"laatste vier\w*", r"bedrag\w*", r"hoeveel", r"referentie\w*", r"postcode\w*",
                 r"trackingnummer\w*", r"track and trace\w*", r"ordernummer\w*", r"bestelnummer\w*",
                 r"dossiernummer\w*", r"zaaknummer\w*"),
        "unit": (r"euro", r"cent", r"procent", r"seconden?", r"minuten?", r"uur", r"dagen",
                 r"dag", r"werkdag\w*", r"weken?", r"maanden?", r"jaar", r"jaren"),
    },
    "fi": {
        "cardnumber": (r"kortin numero\w*", r"korttinumero\w*"),
        "card": (r"\w*kort(?:ti|in|tia|illa|ilta|issa)\w*",),
        "cvv": (r"turvakoodi\w*", r"turvanumero\w*", r"tarkistusnumero\w*", r"tarkistuskoodi\w*",
                r"cvv\w*", r"cvc\w*", r"kolme numeroa", r"kolminumero\w*", r"takapuol\w*",
                r"kääntöpuol\w*", r"pin\w*", r"tunnusluku\w*"),
        "account": (r"tilinumero\w*", r"pankkitili\w*", r"tilin numero\w*", r"tilinro\w*"),
        "account_word": (r"tili\w*",),
        "iban": (r"iban\w*",),
        "id": (r"henkil[öo]tunnu\w*", r"hetu\w*", r"sotu\w*", r"sosiaaliturvatunnu\w*"),
        "phone": (r"puhelinnumero\w*", r"puhelin\w*", r"kännykkä\w*"),
        "none": (r"neljä viimeistä", r"summa\w*", r"paljonko", r"viite\w*", r"postinumero\w*",
                 r"seurantanumero\w*", r"tilausnumero\w*", r"asianumero\w*"),
        "unit": (r"euro\w*", r"sentti\w*", r"prosent\w*", r"sekunti\w*", r"minuut\w*",
                 r"tunti\w*", r"tunni\w*", r"päivä\w*", r"arkipäivä\w*", r"viik\w*", r"kuukau\w*",
                 r"vuo\w*"),
    },
    "lv": {
        "cardnumber": (r"kartes numur\w*",),
        "card": (r"kart(?:e|es|i|ē|ei|as)", r"kredītkart\w*", r"maksājumu kart\w*"),
        "cvv": (r"drošības kod\w*", r"cvv\w*", r"cvc\w*", r"trīs cipar\w*", r"aizmugur\w*",
                r"otrā pusē", r"pin\w*"),
        "account": (r"konta numur\w*", r"bankas kont\w*"),
        "account_word": (r"kont(?:s|a|u)",),
        "iban": (r"iban\w*",),
        "id": (r"personas kod\w*", r"personkod\w*"),
        "phone": (r"tālruņa numur\w*", r"telefona numur\w*", r"tālrun\w*", r"telefon\w*"),
        "none": (r"pēdējie četri", r"summ\w*", r"cik", r"atsauc\w*", r"pasta indeks\w*",
                 r"izsekošanas numur\w*", r"pasūtījuma numur\w*", r"sūtījuma numur\w*"),
        "unit": (r"eiro", r"euro", r"centi?", r"procent\w*", r"sekund\w*", r"minūt\w*",
                 r"stund\w*", r"dien\w*", r"darba dien\w*", r"nedēļ\w*", r"mēneš\w*", r"gad\w*"),
    },
    "ms": {
        "cardnumber": (r"nombor kad",),
        "card": (r"kad", r"kad kredit", r"kad debit"),
        "cvv": (r"kod keselamatan", r"kod cvv", r"cvv", r"cvc", r"tiga digit", r"belakang kad",
                r"nombor pin", r"pin"),
        "account": (r"nombor akaun", r"akaun bank", r"no akaun"),
        "account_word": (r"akaun",),
        "iban": (r"iban",),
        "id": (r"mykad", r"kad pengenalan", r"nombor ic", r"no ic", r"kad ic", r"nric", r"ic"),
        "phone": (r"nombor telefon", r"nombor (?:telefon )?bimbit", r"telefon"),
        "none": (r"empat digit terakhir", r"jumlah", r"berapa", r"rujukan", r"poskod",
                 r"nombor penjejakan", r"nombor pesanan", r"nombor tempahan"),
        "unit": (r"ringgit", r"rm", r"sen", r"peratus", r"saat", r"minit", r"jam", r"hari",
                 r"hari bekerja", r"minggu", r"bulan", r"tahun"),
    },
}
SENSITIVE = ("card", "cardnumber", "cvv", "sortcode", "account", "iban", "id", "phone")
# a word that names an account without asking for its number ("the mobile number on the
# account"): it counts as ``account`` only where no other sensitive cue is said
WEAK = {"account_word": "account"}


@lru_cache(maxsize=None)
def _patterns(language: str) -> tuple[re.Pattern, tuple, re.Pattern]:
    """A quick test for any cue; per kind, one pattern for the kind and one per cue (so that
    overlapping cues are all found: "on the back" and "back of the card"); the unit words."""
    code = base_language(language)
    by_kind: dict[str, list[str]] = {}
    for lang in dict.fromkeys(("en", code)):
        for kind, fragments in CUES.get(lang, {}).items():
            by_kind.setdefault(kind, []).extend(fragments)
    kinds = tuple(
        (kind, re.compile(r"\b(?:" + "|".join(fragments) + r")\b"),
         tuple(re.compile(r"\b(?:" + f + r")\b") for f in fragments))
        for kind, fragments in by_kind.items()
    )
    every = [f for fragments in by_kind.values() for f in fragments]
    return (re.compile(r"\b(?:" + "|".join(every) + r")\b"), kinds,
            re.compile(r"(?:" + "|".join(by_kind.get("unit", ["(?!)"])) + r")\b"))


_PUNCT = re.compile(r"[^\w\s']")


def cue_norm(token: str) -> str:
    """A word as the cues see it: lower case, "-" as a space, no other punctuation."""
    t = token.lower().replace("-", " ")
    return _PUNCT.sub("", t).strip()


def find_cues(text: str, language: str = "en") -> list[tuple[int, int, str]]:
    """(start, end, kind) of every cue in ``text`` (already ``cue_norm``-ed), in order; where
    cues overlap, the longest."""
    any_cue, kinds, _ = _patterns(language)
    if not any_cue.search(text):
        return []
    found = []
    for kind, whole, each in kinds:
        if not whole.search(text):
            continue
        for pattern in each:
            for m in pattern.finditer(text):
                found.append((m.start(), m.end(), kind))
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    kept: list[tuple[int, int, str]] = []
    for f in found:
        if all(f[1] <= k[0] or f[0] >= k[1] for k in kept):
            kept.append(f)
    return sorted(kept)


def cue_kinds(text: str, language: str = "en") -> frozenset[str]:
    """The kinds of number ``text`` asks for or announces: every sensitive cue in it ("card
    number" counts as ``card`` and ``cardnumber``). Empty when it holds only ``none`` cues (or
    none at all); ``unit`` words do not count (see ``unit_after``)."""
    return read_cues(text, language)[1]


def read_cues(text: str, language: str = "en") -> tuple[bool, frozenset[str]]:
    """(whether ``text`` holds a cue other than a unit word, ``cue_kinds``), in one pass."""
    found = [k for _, _, k in find_cues(text, language) if k != "unit"]
    kinds = {k for k in found if k in SENSITIVE}
    if not kinds:
        kinds = {WEAK[k] for k in found if k in WEAK}
    if "cardnumber" in kinds:
        kinds.add("card")
    return bool(found), frozenset(kinds)


def unit_after(words: Sequence[str], language: str = "en") -> bool:
    """True when the words said straight after a number make it an amount, a time or a length
    ("... 250 pounds", "... fem virkedager", "... 10 minit"): no code, card or account."""
    return _patterns(language)[2].match(" ".join(cue_norm(w) for w in words)) is not None


def is_question(text: str, language: str = "en") -> bool:
    """True when ``text`` holds a cue that counts (any but a unit word)."""
    return read_cues(text, language)[0]


__all__ = ["CUES", "SENSITIVE", "cue_norm", "find_cues", "cue_kinds", "read_cues", "unit_after", "is_question"]
