"""What a language does to a word, so that an exact phrase still finds it inflected or compounded.

Agents in Helsinki say "kiitos odottamisesta" and "kiitos kun odotitte", in Riga "piecu minūšu
laikā" and "piecās minūtēs", in Oslo "fem arbeidsdager" where the pack lists "dager", in
Amsterdam "binnen drie werkdagen". A phrase written once must find all of these, so matching
compares *stems*, not spellings:

- ``stem(word, language)`` strips the language's inflectional endings (data in ``ENDINGS``,
  longest first, keeping at least ``MIN_STEM`` letters) and evens out the sound changes at the
  stem's end that inflection brings (``_FINISH``: Finnish consonant gradation "viikko"/"viikon",
  Dutch vowel doubling "minuut"/"minuten", Latvian "minūte"/"minūšu"). The same function is
  applied to the pack's words and to what was said, so a pair only has to agree with itself,
  not with a dictionary.
- ``Lemmatizer`` adds compounds: a word the pack does not know whose tail is a word of one of
  the pack's word lists ("arbeidsdager" ends in "dager", "werkdagen" in "dagen", "arkipäivän"
  in "päivän": @time_unit) counts as that tail, when what comes before it is a word of its own
  (three letters or more, not a function word: "vandaag" is no "dag"). Only list words are
  heads: they are nouns a QA lead chose to be open-ended; a pack's verbs ("saat", you get) would
  otherwise hide in unrelated words ("maksaat", you pay).
- ``NUMBER_FORMS`` are the inflected number words ("viiden", "kahden", "piecām", "divu") that
  spaCy's ``like_num`` and the privacy lexicon (``pipeline.privacy.numbers``, base forms) do not
  know: "<num>" matches them too.

Only languages listed in ``ENDINGS`` are stemmed; English (and any other) is matched as written,
exactly as before. Function words come from spaCy's own language data (``spacy.blank``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

from pipeline.privacy.numbers import LANGUAGES as NUMBER_WORDS

# Endings per language, tried longest first; one is stripped (Finnish: a possessive, then a case).
ENDINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    # bokmål: definite and plural forms, -het nouns, past and present participles
    "nb": (("hetene", "heten", "heter", "het", "ene", "ane", "ende", "ede", "er", "en", "et", "ar",
            "a", "e", "s"),),
    # Dutch: plurals, diminutives, -heid nouns, verb endings (a final -t/-d is kept: "wacht")
    "nl": (("heden", "heid", "ingen", "ing", "tjes", "tje", "jes", "je", "ens", "en", "es", "s", "e"),),
    # Finnish: possessive suffixes, then case and plural endings (the illative's long vowel + n
    # too: "Energiaan", "tuntiin", as "Energia", "tunti")
    "fi": (("mme", "nne", "nsa", "nsä"),
           ("iksi", "ihin", "issa", "issä", "ista", "istä", "illa", "illä", "ilta", "iltä", "ille",
            "itten", "iden", "ien", "seen", "hin", "aan", "ään", "iin", "uun", "yyn", "oon", "ssa", "ssä", "sta", "stä", "lla", "llä", "lta",
            "ltä", "lle", "ksi", "tta", "ttä", "na", "nä", "ja", "jä", "ta", "tä", "in", "en", "an",
            "än", "on", "un", "yn", "a", "ä", "n", "t", "e", "i")),
    # Latvian: noun, adjective and verb endings (future -šu, -sim, -siet; -šana nouns)
    "lv": (("iem", "ies", "ām", "ēm", "īm", "ās", "ēs", "īs", "as", "es", "is", "us", "os", "ai",
            "ei", "am", "em", "ie", "sim", "siet", "sit", "s", "š", "a", "e", "i", "u", "ā",
            "ē", "ī", "o"),),
    # Malay: clitics only (affixes change the word: "menunggu" is listed as said)
    "ms": (("nya", "lah", "kah", "pun"),),
}
MIN_STEM = {"nb": 2, "nl": 2, "fi": 3, "lv": 3, "ms": 3}
COMPOUNDING = {"nb", "nl", "fi", "lv"}
MIN_PART = 3           # letters of each part of a compound
# word lists whose words are never a compound's tail: numbers, and verbs ("teen", I do, would
# otherwise end "osoitteenne", your address)
NOT_HEADS = frozenset({"number", "action", "done"})

_VOWELS = "aeiouyäöåæøāēīū"


def _finish_fi(s: str) -> str:
    """A Finnish stem without its final vowel, with consonant gradation evened out
    ("viikko", "viikon" -> "vik"; "tunti", "tunnin" -> "tun"; "hetki", "hetken" -> "hetk";
    "odotus", "odotuksesta" -> "odotus")."""
    if len(s) > 3 and s[-1] in _VOWELS:
        s = s[:-1]
    for strong, weak in (("kk", "k"), ("pp", "p"), ("tt", "t"), ("nt", "n"), ("nn", "n"),
                         ("mp", "m"), ("mm", "m"), ("lt", "l"), ("ll", "l"), ("rt", "r"), ("rr", "r"),
                         ("ks", "s"), ("uud", "uus"), ("yyd", "yys")):
        if s.endswith(strong):
            s = s[: -len(strong)] + weak
            break
    return re.sub(r"([aeiouyäö])\1", r"\1", s)          # long vowels as short: "päivää"


def _finish_nl(s: str) -> str:
    """Dutch open and closed syllables alike: "minuut"/"minuten" -> "minut", "uur"/"uren" -> "ur"."""
    s = re.sub(r"([aeou])\1([^aeiou])$", r"\1\2", s)
    if len(s) > 2 and s[-1] == s[-2] and s[-1] not in _VOWELS:
        s = s[:-1]                                     # "wekken" -> "wek"
    return s


def _finish_lv(s: str) -> str:
    """Latvian consonant changes before an ending: "minūšu" -> "minūt", "nedēļu" -> "nedēl"."""
    for changed, plain in (("š", "t"), ("ļ", "l"), ("ņ", "n"), ("ž", "d")):
        if s.endswith(changed):
            return s[: -len(changed)] + plain
    return s


def _finish_nb(s: str) -> str:
    """Norwegian doubles a consonant before an ending: "minutt"/"minutter" -> "minut"."""
    return s[:-1] if len(s) > 2 and s[-1] == s[-2] and s[-1] not in _VOWELS else s


_FINISH = {"fi": _finish_fi, "nl": _finish_nl, "lv": _finish_lv, "nb": _finish_nb}


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The word with the language's endings stripped (lower case); unchanged in a language
    without ``ENDINGS``."""
    s = word.lower()
    if language == "fi":   # Finnish never writes a vowel three times: "energiaaan" is "energiaan"
        s = re.sub(r"([aeiouyäö])\1\1+", r"\1\1", s)
    groups = ENDINGS.get(language)
    if not groups:
        return s
    least = MIN_STEM[language]
    for endings in groups:
        for ending in endings:
            if s.endswith(ending) and len(s) - len(ending) >= least:
                s = s[: -len(ending)]
                break
    finish = _FINISH.get(language)
    return finish(s) if finish else s


# Codes other tools give the same language: Whisper calls Norwegian (bokmål) "no"; a manifest may
# carry a region ("nb-NO", "ms_MY").
ALIASES = {"no": "nb", "nob": "nb", "may": "ms", "msa": "ms", "nld": "nl", "fin": "fi", "lav": "lv"}


def pack_language(code: str) -> str:
    """The phrase pack a language code is scored with: "no", "nb-NO" -> "nb"; "en-GB" -> "en"."""
    base = (code or "").replace("_", "-").split("-")[0].lower()
    return ALIASES.get(base, base)


def stems_language(language: str) -> bool:
    """True when phrases in this language are matched by stem."""
    return language in ENDINGS


# Number words in the cases agents say them in ("viiden päivän kuluessa", "piecās minūtēs"):
# the base forms are in pipeline.privacy.numbers.
NUMBER_FORMS: dict[str, tuple[str, ...]] = {
    "fi": ("yhden", "yhdessä", "yhteen", "kahden", "kahdessa", "kahteen", "kahta", "kolmen",
           "kolmessa", "kolmea", "neljän", "neljässä", "neljää", "viiden", "viidessä", "viittä",
           "kuuden", "kuudessa", "kuutta", "seitsemässä", "seitsemää", "kahdeksassa", "kahdeksaa",
           "yhdeksässä", "yhdeksää", "kymmenessä", "kymmentä", "parin", "parissa", "paria",
           "muutaman", "muutamassa", "muutamia", "muutama", "pari", "puolen", "puoli",
           "kahdenkymmenen", "kolmenkymmenen", "neljänkymmenen", "viidenkymmenen", "kuudenkymmenen"),
    "lv": ("vienu", "vienas", "vienā", "vienai", "divu", "divām", "divos", "divās", "trim", "triju",
           "četru", "četrām", "četros", "četrās", "piecu", "piecām", "piecos", "piecās", "sešu",
           "sešām", "septiņu", "septiņām", "astoņu", "astoņām", "deviņu", "deviņām", "pāris",
           "dažām", "dažu", "dažās", "dažas", "dažiem", "pusstundas", "pusstundu"),
    "nb": ("noen", "par", "et", "halvannen", "halv"),
    "nl": ("paar", "enkele", "een", "anderhalf", "half", "halve"),
    "ms": ("beberapa", "setengah", "sejam", "sehari", "seminggu", "sebulan", "dua"),
}


@lru_cache(maxsize=None)
def number_words(language: str) -> frozenset[str]:
    """Every word of the language that says a number: base forms from the privacy lexicon
    (units, teens, tens, written-together compounds) and the inflected ones above."""
    data = NUMBER_WORDS.get(language, {})
    words = set(data.get("units", {})) | set(data.get("numbers", {})) | set(data.get("tens", {}))
    for pattern in data.get("compounds", ()):
        for tens in data.get("tens", {}):
            for unit, value in data.get("units", {}).items():
                if value:
                    words.add(pattern.format(tens=tens, unit=unit))
    words.update(NUMBER_FORMS.get(language, ()))
    words.discard("null") if language == "nb" else None   # "null" is also a word
    return frozenset(words)


@dataclass
class Lemmatizer:
    """The form a word is matched by in one language: its stem, or for a compound the stem of
    its tail when the pack knows that tail and not the whole word."""

    language: str
    known: frozenset[str] = frozenset()         # stems of every word the pack uses
    heads: frozenset[str] = frozenset()         # stems a compound may end in (list words)
    stop_words: frozenset[str] = frozenset()
    _cache: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def for_pack(cls, language: str, words: Iterable[str], heads: Iterable[str] = (),
                 stop_words: Iterable[str] = ()) -> "Lemmatizer":
        """``words``: every word of the language's phrases and lists; ``heads``: the list words
        a compound may end in."""
        def stems(ws: Iterable[str]) -> frozenset[str]:
            return frozenset(stem(w, language) for w in ws if w.isalpha())
        return cls(language, stems(words), stems(w for w in heads if len(w) >= MIN_PART + 1),
                   frozenset(w.lower() for w in stop_words))

    def __call__(self, word: str) -> str:
        if word in self._cache:
            return self._cache[word]
        whole = stem(word, self.language)
        form = whole
        if self.language in COMPOUNDING and whole not in self.known and word.isalpha():
            form = self._tail(word.lower()) or whole
        self._cache[word] = form
        return form

    def _tail(self, word: str) -> str | None:
        """The stem of the longest head-word tail after a modifier of MIN_PART letters or more."""
        for cut in range(MIN_PART, len(word) - MIN_PART):
            modifier, tail = word[:cut], word[cut:]
            if modifier in self.stop_words:
                continue
            tail_stem = stem(tail, self.language)
            if tail_stem in self.heads:
                return tail_stem
        return None


__all__ = ["ALIASES", "ENDINGS", "NOT_HEADS", "NUMBER_FORMS", "Lemmatizer", "number_words", "pack_language", "stem",
           "stems_language"]
