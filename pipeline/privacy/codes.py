"""Numbers with letters in them, written or spelled out: IBANs ("GB29 NWBK 6016 1331 9268 19",
"N L nine one A B N A ..."), Finnish henkilötunnus ("131052-308T", "... viiva kolme nolla
kahdeksan T"), UK National Insurance numbers ("QQ 12 34 56 C").

Pure functions over a list of words and what each adds to a spoken number (``token_digits``):
``alnum_chars`` turns each word into the characters it stands for, the ``*_spans`` functions
return (first, last) word indexes of what they find.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from pipeline.privacy.checks import IBAN_LENGTHS, hetu_valid, iban_valid
from pipeline.privacy.numbers import STRIP, base_language

# Words for letters and signs inside a spelled code (the NATO alphabet is English-only: "lima"
# is five in Malay).
NATO = {"alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E",
        "foxtrot": "F", "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J",
        "kilo": "K", "lima": "L", "mike": "M", "november": "N", "oscar": "O", "papa": "P",
        "quebec": "Q", "romeo": "R", "sierra": "S", "tango": "T", "uniform": "U",
        "victor": "V", "whiskey": "W", "whisky": "W", "xray": "X", "x-ray": "X", "yankee": "Y",
        "zulu": "Z"}
DASH_WORDS = {"dash", "hyphen", "minus", "strek", "bindestrek", "streepje", "koppelteken",
              "viiva", "väliviiva", "miinus", "svītra", "domuzīme", "sempang"}
PLUS_WORDS = {"plus", "pluss"}

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_ALNUM_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+-]*")
_DOTTED_LETTERS = re.compile(r"(?:[A-Za-z][.-]){1,4}[A-Za-z]?\.?")


def alnum_chars(tokens: Sequence[str], digits: Sequence[Optional[str]],
                language: str = "en") -> list[Optional[str]]:
    """The characters each word stands for in a spelled code: "GB29" -> "GB29", "nine" ->
    "9", "B" -> "B", "NWBK" -> "NWBK", "viiva" -> "-", "golf" -> "G" (English); "" for a
    filler; None for a word that is not part of a code."""
    nato = base_language(language) == "en"
    out: list[Optional[str]] = []
    for i, tok in enumerate(tokens):
        raw = tok.strip(".,;:!?\"'()[]{}<>…*–—/#")
        low = raw.lower()
        d = digits[i] if i < len(digits) else None
        if low in DASH_WORDS:
            out.append("-")
        elif low in PLUS_WORDS:
            out.append("+")
        elif _ALNUM_TOKEN.fullmatch(raw) and any(c.isdigit() for c in raw) and any(c.isalpha() for c in raw):
            out.append(raw.upper())
        elif len(raw) == 1 and raw.isalpha() and raw.isascii():
            if low == "o" and d and out and out[-1] and out[-1][-1:].isalpha():
                out.append("O")             # "N O nine three": a letter after a letter
            else:
                out.append(d if (d and low == "o") else raw.upper())
        elif d:
            out.append(d)
        elif raw.isascii() and raw.isalpha() and 2 <= len(raw) <= 4 and (
            raw.isupper() or (out and out[-1] and out[-1][-1].isdigit())
        ):
            out.append(raw.upper())     # "NWBK", or "nwbk" straight after "gb29"
        elif _DOTTED_LETTERS.fullmatch(raw):
            out.append(re.sub(r"[^A-Za-z]", "", raw).upper())
        elif nato and low in NATO:
            out.append(NATO[low])
        elif d == "" or not tok.strip(STRIP):
            out.append("")
        else:
            out.append(None)
    return out


def _segments(chars: Sequence[Optional[str]]) -> list[tuple[int, int]]:
    """Maximal stretches of words that are all part of a code."""
    segs, a = [], None
    for i, c in enumerate(chars):
        if c is None:
            if a is not None:
                segs.append((a, i - 1))
            a = None
        elif a is None:
            a = i
    if a is not None:
        segs.append((a, len(chars) - 1))
    return segs


def iban_spans(chars: Sequence[Optional[str]], loose: bool = False) -> list[tuple[int, int, bool]]:
    """(first, last, valid) word indexes of every IBAN: two letters of a country, then that
    country's number of characters, ending on a whole word. ``valid`` when the mod-97 check
    passes; with ``loose`` (the caller heard "IBAN" just before) also a stretch of the right
    length, give or take two characters, that fails the check (a misheard IBAN)."""
    found: list[tuple[int, int, bool]] = []
    for a, b in _segments(chars):
        i = a
        while i <= b:
            start_chars = (chars[i] or "") + "".join((chars[j] or "") for j in range(i + 1, min(b + 1, i + 3)))
            country = _NOT_ALNUM.sub("", start_chars)[:2]
            length = IBAN_LENGTHS.get(country)
            if not chars[i] or not chars[i][0].isalpha() or length is None:
                i += 1
                continue
            s, best = "", None
            for j in range(i, b + 1):
                s += _NOT_ALNUM.sub("", chars[j] or "")
                if len(s) > length + 2:
                    break
                if len(s) == length and iban_valid(s):
                    best = (i, j, True)
                    break
                if loose and abs(len(s) - length) <= 2 and s[2:4].isdigit() and (chars[j] or ""):
                    best = (i, j, False)
            if best:
                found.append(best)
                i = best[1] + 1
            else:
                i += 1
    return found


_HETU_SHAPE = re.compile(r"\d{6}[-+A-FU-Y]?\d{3}[0-9A-Y]")


def hetu_spans(chars: Sequence[Optional[str]]) -> list[tuple[int, int]]:
    """(first, last) word indexes of every Finnish henkilötunnus with a valid check character,
    written or said ("yksi kolme yksi nolla viisi kaksi viiva kolme nolla kahdeksan T")."""
    found = []
    for a, b in _segments(chars):
        i = a
        while i <= b:
            s, hit = "", None
            for j in range(i, b + 1):
                s += chars[j] or ""
                if len(s) > 11:
                    break
                if len(s) >= 10 and _HETU_SHAPE.fullmatch(s) and hetu_valid(s):
                    hit = (i, j)
                    break
            if hit:
                found.append(hit)
                i = hit[1] + 1
            else:
                i += 1
    return found


_NINO_RE = re.compile(r"(?!BG|GB|NK|KN|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def nino_spans(tokens: Sequence[str], digits: Sequence[Optional[str]]) -> list[tuple[int, int]]:
    """UK National Insurance numbers written or spelled over up to 12 tokens
    ("AB123456C", "AB 12 34 56 C", "A B one two three four five six C")."""
    compact = []
    for tok, d in zip(tokens, digits):
        if d:
            compact.append(d)
        else:
            compact.append(re.sub(r"[^A-Za-z0-9]", "", tok).upper())
    spans = []
    for i in range(len(tokens)):
        if not compact[i] or not compact[i][0].isalpha():
            continue
        s = ""
        for j in range(i, min(len(tokens), i + 12)):
            s += compact[j]
            if len(s) > 9:
                break
            if len(s) == 9 and _NINO_RE.fullmatch(s):
                spans.append((i, j))
                break
    return spans


def is_spelled_letters(token: str) -> bool:
    """A letter or two said on their own ("QQ", "C", "T"), as around an ID number."""
    t = token.strip(STRIP)
    return 0 < len(t) <= 2 and t.isalpha() and t.isupper() and t != "I"


__all__ = ["alnum_chars", "iban_spans", "hetu_spans", "nino_spans", "is_spelled_letters",
           "NATO", "DASH_WORDS"]
