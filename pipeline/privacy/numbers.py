"""Numbers as people say them, in every language the product supports.

The words are data: ``LANGUAGES`` holds, per language, the unit words (0-9), whole words for
10-19 and other literal numbers, tens, "hundred"/"thousand", suffix words that turn a unit into
tens or teens (Malay "dua puluh" = 20, "dua belas" = 12), "double"/"triple", fillers said inside
a number ("uh", "dash", "viiva") and the connecting words a reader says between groups ("then",
"okay", "og", "dan"). ``compounds`` spells how a language writes 21-99 as one word
("førtifem", "vijfenveertig", "neljäkymmentäviisi"); the lexicon is generated from it.

The functions are pure: ``token_digits`` says what each token adds to a spoken number,
``number_runs`` finds runs of adjacent number tokens, ``luhn_windows`` finds the card-shaped
stretches in a run. English words are always known too (callers switch, Whisper mislabels).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional, Sequence

from pipeline.privacy.checks import luhn_valid

# --------------------------------------------------------------------------------------------
# Data: number words per language
# --------------------------------------------------------------------------------------------
_EN_UNITS = {"zero": 0, "nought": 0, "naught": 0, "nil": 0, "one": 1, "two": 2, "three": 3,
             "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}

LANGUAGES: dict[str, dict] = {
    "en": {
        "units": _EN_UNITS,
        "numbers": {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19},
        "tens": {"twenty": 2, "thirty": 3, "forty": 4, "fourty": 4, "fifty": 5, "sixty": 6,
                 "seventy": 7, "eighty": 8, "ninety": 9},
        "hundred": ("hundred",), "thousand": ("thousand",),
        "multipliers": {"double": 2, "triple": 3, "treble": 3},
        "zero_letters": ("oh", "o"),
        "fillers": ("uh", "um", "er", "erm", "ah", "eh", "hmm", "mm", "dash", "hyphen"),
        "glue": ("then", "and", "okay", "ok", "yes", "yeah", "yep", "right", "so", "next",
                 "again", "sorry", "alright", "mhm", "uh-huh", "that's", "it's", "is", "got",
                 "that", "it", "well"),
        "compounds": (),
    },
    "nb": {
        "units": {"null": 0, "en": 1, "ett": 1, "én": 1, "ein": 1, "to": 2, "tre": 3, "fire": 4,
                  "fem": 5, "seks": 6, "sju": 7, "syv": 7, "åtte": 8, "ni": 9},
        "numbers": {"ti": 10, "elleve": 11, "tolv": 12, "tretten": 13, "fjorten": 14,
                    "femten": 15, "seksten": 16, "sytten": 17, "atten": 18, "nitten": 19},
        "tens": {"tjue": 2, "tyve": 2, "tretti": 3, "tredve": 3, "førti": 4, "femti": 5,
                 "seksti": 6, "sytti": 7, "søtti": 7, "åtti": 8, "nitti": 9},
        "hundred": ("hundre",), "thousand": ("tusen",),
        "multipliers": {"dobbel": 2, "dobbelt": 2},
        "zero_letters": (),
        "fillers": ("eh", "øh", "ehm", "hm", "mm", "strek", "bindestrek"),
        "glue": ("så", "og", "ja", "okei", "ok", "greit", "neste", "igjen", "deretter",
                 "unnskyld", "jepp", "det", "er", "mhm"),
        "compounds": ("{tens}{unit}", "{unit}og{tens}"),
    },
    "nl": {
        "units": {"nul": 0, "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5,
                  "zes": 6, "zeven": 7, "acht": 8, "negen": 9},
        "numbers": {"tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14,
                    "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18,
                    "negentien": 19},
        "tens": {"twintig": 2, "dertig": 3, "veertig": 4, "vijftig": 5, "zestig": 6,
                 "zeventig": 7, "tachtig": 8, "negentig": 9},
        "hundred": ("honderd",), "thousand": ("duizend",),
        "multipliers": {"dubbel": 2, "dubbele": 2},
        "zero_letters": (),
        "fillers": ("eh", "ehm", "uh", "uhm", "hm", "streepje", "koppelteken"),
        "glue": ("dan", "en", "ja", "oké", "oke", "ok", "goed", "volgende", "nog", "sorry",
                 "daarna", "het", "is", "mhm"),
        "compounds": ("{unit}en{tens}", "{unit}ën{tens}"),
    },
    "fi": {
        "units": {"nolla": 0, "yksi": 1, "yks": 1, "kaksi": 2, "kaks": 2, "kolme": 3,
                  "neljä": 4, "nelja": 4, "viisi": 5, "viis": 5, "kuusi": 6, "kuus": 6,
                  "seitsemän": 7, "seitseman": 7, "seittemän": 7, "kahdeksan": 8,
                  "kaheksan": 8, "yhdeksän": 9, "yhdeksan": 9, "yheksän": 9},
        "numbers": {"kymmenen": 10, "yksitoista": 11, "kaksitoista": 12, "kolmetoista": 13,
                    "neljätoista": 14, "viisitoista": 15, "kuusitoista": 16,
                    "seitsemäntoista": 17, "kahdeksantoista": 18, "yhdeksäntoista": 19},
        "tens": {"kaksikymmentä": 2, "kolmekymmentä": 3, "neljäkymmentä": 4,
                 "viisikymmentä": 5, "kuusikymmentä": 6, "seitsemänkymmentä": 7,
                 "kahdeksankymmentä": 8, "yhdeksänkymmentä": 9},
        "hundred": ("sata", "sataa"), "thousand": ("tuhat", "tuhatta"),
        "multipliers": {},
        "zero_letters": (),
        "fillers": ("öö", "ööh", "ää", "hmm", "tota", "tuota", "viiva", "väliviiva"),
        "glue": ("sitten", "ja", "joo", "okei", "ok", "seuraava", "seuraavat", "anteeksi",
                 "niin", "eli", "on", "se"),
        "compounds": ("{tens}{unit}",),
    },
    "lv": {
        "units": {"nulle": 0, "viens": 1, "viena": 1, "divi": 2, "divas": 2, "trīs": 3,
                  "tris": 3, "četri": 4, "cetri": 4, "četras": 4, "pieci": 5, "piecas": 5,
                  "seši": 6, "sesi": 6, "sešas": 6, "septiņi": 7, "septini": 7, "septiņas": 7,
                  "astoņi": 8, "astoni": 8, "astoņas": 8, "deviņi": 9, "devini": 9,
                  "deviņas": 9},
        "numbers": {"desmit": 10, "vienpadsmit": 11, "divpadsmit": 12, "trīspadsmit": 13,
                    "četrpadsmit": 14, "piecpadsmit": 15, "sešpadsmit": 16,
                    "septiņpadsmit": 17, "astoņpadsmit": 18, "deviņpadsmit": 19},
        "tens": {"divdesmit": 2, "trīsdesmit": 3, "četrdesmit": 4, "piecdesmit": 5,
                 "sešdesmit": 6, "septiņdesmit": 7, "astoņdesmit": 8, "deviņdesmit": 9},
        "hundred": ("simts", "simt", "simti"), "thousand": ("tūkstotis", "tūkstoši"),
        "multipliers": {},
        "zero_letters": (),
        "fillers": ("ēē", "ee", "ēm", "hmm", "svītra", "domuzīme"),
        "glue": ("tad", "un", "jā", "labi", "ok", "okei", "nākamie", "nākamais",
                 "atvainojiet", "atvainojos", "vēlreiz", "tas", "ir"),
        "compounds": (),
    },
    "ms": {
        "units": {"kosong": 0, "sifar": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4,
                  "lima": 5, "enam": 6, "tujuh": 7, "lapan": 8, "delapan": 8, "sembilan": 9},
        "numbers": {"sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000},
        "tens": {},
        "tens_suffix": ("puluh",),        # dua puluh = 20, dua puluh lima = 25
        "teen_suffix": ("belas",),        # dua belas = 12
        "hundred": ("ratus",), "thousand": ("ribu",),
        "multipliers": {},
        "zero_letters": (),
        "fillers": ("err", "erm", "emm", "aa", "eh", "sempang"),
        "glue": ("kemudian", "lepas", "lepastu", "itu", "dan", "ya", "okey", "ok", "baik",
                 "seterusnya", "maaf", "lagi", "ialah", "adalah"),
        "compounds": (),
    },
}
SUPPORTED_LANGUAGES = tuple(LANGUAGES)


def base_language(language: Optional[str]) -> str:
    """'nb-NO' -> 'nb', 'no' -> 'nb'; unknown languages use English words only."""
    code = (language or "en").replace("_", "-").split("-")[0].lower()
    return {"no": "nb", "nn": "nb", "nob": "nb", "may": "ms", "msa": "ms"}.get(code, code)


@lru_cache(maxsize=None)
def lexicon(language: str = "en") -> dict:
    """The words of English plus ``language``, as atoms (see ``_atoms``): word -> atom, and the
    sets of fillers and glue words."""
    code = base_language(language)
    words: dict[str, tuple] = {}
    fillers: set[str] = set()
    glue: set[str] = set()
    for lang in dict.fromkeys(("en", code)):
        data = LANGUAGES.get(lang)
        if data is None:
            continue
        for w, v in data["units"].items():
            words[w] = ("u", v)
        for w, v in data.get("numbers", {}).items():
            words[w] = ("n", str(v))
        for w, v in data.get("tens", {}).items():
            words[w] = ("tens", v)
        for w in data.get("tens_suffix", ()):
            words[w] = ("tsuf",)
        for w in data.get("teen_suffix", ()):
            words[w] = ("teensuf",)
        for w in data.get("hundred", ()):
            words[w] = ("scale", "00")
        for w in data.get("thousand", ()):
            words[w] = ("scale", "000")
        for w, v in data.get("multipliers", {}).items():
            words[w] = ("mult", v)
        for w in data.get("zero_letters", ()):
            words[w] = ("oh",)
        for pattern in data.get("compounds", ()):
            for tw, t in data["tens"].items():
                for uw, u in data["units"].items():
                    if u:
                        words.setdefault(pattern.format(tens=tw, unit=uw), ("n", f"{t}{u}"))
        fillers.update(data.get("fillers", ()))
        glue.update(data.get("glue", ()))
    # a language's own number words win over English glue ("en" is one in Norwegian)
    glue -= set(words)
    fillers -= set(words)
    return {"words": words, "fillers": frozenset(fillers), "glue": frozenset(glue)}


def is_multiplier(token: str, language: str = "en") -> bool:
    """"double", "triple", "dobbel": a word that repeats the next digit."""
    return lexicon(language)["words"].get(norm(token), ("",))[0] == "mult"


# --------------------------------------------------------------------------------------------
# Tokens -> digits
# --------------------------------------------------------------------------------------------
STRIP = ".,;:!?\"'()[]{}<>…+*-–—/#"
_DATE_TIME_RE = re.compile(r"\d{1,2}([/.-])\d{1,2}\1\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?|\d{4}-\d{2}-\d{2}")
_DIGITS_RE = re.compile(r"\d+(?:[-./,:]\d+)*")
_CODE_RE = re.compile(r"(?=[a-z]*\d)(?=\d*[a-z])(?=(?:[a-z]*\d){4})[a-z\d]+")  # AB1234567, 1234567X
_NUMERIC = {"d", "u", "n", "tens"}
_NON_DIGIT = re.compile(r"\D")


def norm(token: str) -> str:
    return token.lower().strip(STRIP)


def is_date_or_time(t: str) -> bool:
    """12/05/2025, 10:30, 1-6-24: a date or a time. '20-00-00' is no date (month 00): digits."""
    m = _DATE_TIME_RE.fullmatch(t)
    if not m:
        return False
    if ":" in t or len(m.group(0).split("-")[0]) == 4:
        return True
    parts = [int(p) for p in re.split(r"[/.-]", t)]
    return 1 <= parts[1] <= 12 and (1 <= parts[0] <= 31 or 1 <= parts[2] <= 31)


def _atoms(token: str, lex: dict) -> list[tuple]:
    """A token as number atoms: ('d', '4532') digits, ('u', 5) unit word, ('n', '15') a whole
    number word, ('tens', 4), ('tsuf',) / ('teensuf',) suffix words, ('mult', 2),
    ('scale', '00'), ('oh',), ('fill',), or [('brk',)] for a word that ends a number."""
    t = norm(token)
    if not t:
        return [("fill",)]
    if is_date_or_time(t):
        return [("brk",)]
    if _DIGITS_RE.fullmatch(t):
        return [("d", _NON_DIGIT.sub("", t))]
    if t in lex["fillers"]:
        return [("fill",)]
    words = lex["words"]
    if t in words:
        return [words[t]]
    parts = t.split("-") if "-" in t else [t]
    out: list[tuple] = []
    for p in parts:
        if not p:
            continue
        if p.isdigit():
            out.append(("d", p))
        elif p in words:
            out.append(words[p])
        elif len(parts) == 1 and _CODE_RE.fullmatch(p):
            out.append(("d", _NON_DIGIT.sub("", p)))   # alphanumeric code: its digits count
        elif len(parts) == 1 and (pieces := _written_together(p, lex)):
            out.extend(pieces)
        else:
            return [("brk",)]
    return out or [("fill",)]


_CONNECTORS = ("og", "en", "ja")   # "tohundreogfemti", "tweehonderdeneen"
_AND = frozenset(("and", "og", "en", "un", "ja", "dan"))  # said between a hundred or thousand and the rest


def _written_together(word: str, lex: dict) -> Optional[list[tuple]]:
    """A number written as one word with a hundred or a thousand in it, as Finnish, Dutch and
    Norwegian write them ("kolmesataakolmekymmentäkahdeksan", "tweehonderdvijftig",
    "tohundreogfemti"): its atoms, read as the separate words would be; None for any other
    word. Only with a scale word, so that ordinary words made of short number words ("enten")
    stay words."""
    if len(word) < 6 or not word.isalpha():
        return None
    atoms = _segment(word, lex["words"])
    if not atoms or len(atoms) < 2 or atoms[0][0] == "nil" or not any(a[0] == "scale" for a in atoms):
        return None
    return [a for a in atoms if a[0] != "nil"]


def _segment(word: str, words: dict) -> Optional[list[tuple]]:
    """``word`` as number words one after the other (longest first), or None."""
    for cut in range(len(word), 1, -1):
        head, rest = word[:cut], word[cut:]
        atom = words.get(head) or (("nil",) if head in _CONNECTORS else None)
        if atom is None:
            continue
        tail = _segment(rest, words) if rest else []
        if tail is not None:
            return [atom] + tail
    return None


def token_digits(tokens: Sequence[str], language: str = "en") -> list[Optional[str]]:
    """What each token contributes to a spoken number: its digits ("4532", "5" for "five",
    "55" for "double five", "25" for "dua puluh lima" over its words), "" for a word that
    belongs inside a number but adds no digit ("double", "um", "dash"), or None for a word
    that ends a number."""
    lex = lexicon(language)
    flat: list[tuple[int, tuple]] = []            # (token index, atom)
    for i, tok in enumerate(tokens):
        for a in _atoms(tok, lex):
            flat.append((i, a))
    # suffix words: a unit before "puluh" is a tens word, before "belas" a teen
    for j, (i, a) in enumerate(flat):
        if a[0] in ("tsuf", "teensuf"):
            if j and flat[j - 1][1][0] == "u":
                pi, (_, v) = flat[j - 1]
                flat[j - 1] = (pi, ("tens", v) if a[0] == "tsuf" else ("n", str(10 + v)))
                flat[j] = (i, ("nil",))
            else:
                flat[j] = (i, ("brk",))
    # "and" inside a number: "three hundred and five", "tre hundre og fem", "twee... en ..."
    for j, (i, a) in enumerate(flat):
        if (a[0] == "brk" and norm(tokens[i]) in _AND and 0 < j < len(flat) - 1
                and flat[j - 1][1][0] == "scale" and flat[j + 1][1][0] in ("u", "n", "tens")):
            flat[j] = (i, ("nil",))
    kinds = [a[0] for _, a in flat]
    n = len(flat)

    def neighbour(j: int, step: int) -> Optional[str]:
        j += step
        while 0 <= j < n and kinds[j] in ("oh", "fill", "nil"):
            j += step
        return kinds[j] if 0 <= j < n else None

    # "oh" is zero only next to other digits ("oh seven", "four oh four"), not "oh, right".
    for j in range(n):
        if kinds[j] == "oh":
            left, right = neighbour(j, -1), neighbour(j, 1)
            if not ({left, right} & (_NUMERIC | {"mult"})):
                kinds[j] = "brk"

    def next_kind(j: int) -> tuple[Optional[str], int]:
        j += 1
        while j < n and kinds[j] == "nil":
            j += 1
        return (kinds[j], j) if j < n else (None, j)

    out: list[Optional[str]] = [""] * len(tokens)
    broken = [False] * len(tokens)
    for j, (i, a) in enumerate(flat):
        kind = kinds[j]
        nxt, nj = next_kind(j)
        prev = kinds[j - 1] if j > 0 else None
        s: Optional[str]
        if kind in ("d", "n"):
            s = a[1]
        elif kind == "u":
            s = str(a[1])
        elif kind == "oh":
            s = "0"
        elif kind == "tens":
            s = str(a[1]) if (nxt == "u" and flat[nj][1][1] > 0) else str(a[1]) + "0"
        elif kind == "mult":
            s = "" if nxt in ("u", "oh", "d") else None
        elif kind == "scale":
            s = _scale_zeros(a[1], flat, kinds, nj) if prev in ("u", "n", "tens", "d", "nil") else None
        elif kind in ("fill", "nil"):
            s = ""
        else:
            s = None
        if s and prev == "mult" and kinds[j - 1] == "mult":
            s = s[0] * flat[j - 1][1][1] + s[1:]
        if s is None:
            broken[i] = True
        elif not broken[i]:
            out[i] = (out[i] or "") + s
    return [None if broken[i] else out[i] for i in range(len(tokens))]


def _scale_zeros(zeros: str, flat: list[tuple[int, tuple]], kinds: list[str], k: int) -> str:
    """What "hundred" ("00") or "thousand" ("000") adds before the words that follow it: the
    zeros the following smaller number leaves unfilled. "three hundred thirty eight" is 338
    (not 30038), "three hundred eight" 308, "two thousand and five" 2005, "four thousand five
    hundred thirty two" 4532; with nothing smaller after it, all its zeros ("seven hundred")."""
    width = len(zeros)
    kind = kinds[k] if k < len(kinds) else None
    if kind in ("tens", "n", "d"):
        following = 2 if kind == "tens" else len(flat[k][1][1])
    elif kind == "u":
        after = k + 1
        while after < len(kinds) and kinds[after] in ("nil", "fill"):
            after += 1
        hundreds = after < len(kinds) and kinds[after] == "scale" and flat[after][1][1] == "00"
        following = 3 if hundreds else 1
    else:
        following = 0
    if not following or following > width:
        return zeros
    return "0" * (width - following)


def number_runs(tokens: Sequence[str], language: str = "en",
                digits: Optional[Sequence[Optional[str]]] = None) -> list[list[tuple[int, str]]]:
    """Maximal runs of adjacent number tokens, as [(token index, digits)], each run starting
    and ending with a token that has digits. "4532 0151, 1283 0366" is one run of four tokens."""
    if digits is None:
        digits = token_digits(tokens, language)
    runs: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for i, d in enumerate(digits):
        if d is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, d))
    if current:
        runs.append(current)
    trimmed = []
    for run in runs:
        a, b = 0, len(run)
        while a < b and not run[a][1]:
            a += 1
        while b > a and not run[b - 1][1]:
            b -= 1
        if a < b:
            trimmed.append(run[a:b])
    return trimmed


def luhn_windows(run: Sequence[tuple[int, str]]) -> list[tuple[int, int]]:
    """(first, last) positions in ``run`` of every stretch of whole tokens holding 13-19 digits
    that passes Luhn."""
    found = []
    for a in range(len(run)):
        if not run[a][1]:
            continue
        s = ""
        for b in range(a, len(run)):
            s += run[b][1]
            if len(s) > 19:
                break
            if len(s) >= 13 and run[b][1] and luhn_valid(s):
                found.append((a, b))
    return found


__all__ = ["LANGUAGES", "SUPPORTED_LANGUAGES", "base_language", "lexicon", "norm", "is_multiplier",
           "is_date_or_time", "token_digits", "number_runs", "luhn_windows", "STRIP"]
