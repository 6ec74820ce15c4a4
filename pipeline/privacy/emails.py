"""E-mail addresses, written ("john.smith@gmail.com") and spoken ("john dot smith at gmail dot
com", "j smith at outlook.com"): a pure function over a list of words."""
from __future__ import annotations

import re
from typing import Optional, Sequence

_EMAIL_RE = re.compile(r"[\w.+'-]*\w@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_DOMAIN_RE = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+")
_LABEL_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_LOCAL_RE = re.compile(r"[a-z0-9._+'-]+")
_TLDS = {"com", "net", "org", "edu", "gov", "info", "biz", "mail", "email", "online", "io",
         "app", "dev", "xyz", "name", "pro", "mobi", "shop", "tech", "cloud", "live", "co"}
# "dot", "underscore" and "at" as said in every supported language: nb punktum/prikk/understrek,
# nl punt/laag streepje (streepje), fi piste/alaviiva/ät/miukumauku, lv punkts/apakšsvītra/et,
# ms titik/garis bawah (bawah)
_DOT = {"dot", "period", "point", "punkt", "punktum", "prikk", "punt", "piste", "punkts", "titik", "."}
_JOINERS = {"dot", "period", "point", "underscore", "dash", "hyphen", "punkt", "punktum", "prikk", "punt", "piste",
             "punkts", "titik", "understrek", "streepje", "alaviiva", "apakšsvītra", "."}
_AT = {"at", "@", "krøllalfa", "alfakrøll", "apenstaartje", "ät", "ätt", "miukumauku", "kissanhäntä", "et"}
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


__all__ = ["spoken_emails"]
