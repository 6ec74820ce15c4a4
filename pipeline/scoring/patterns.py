"""A phrase language a QA lead can write, compiled to spaCy Matcher patterns.

A pattern is words separated by spaces, matched case-insensitively, with punctuation ignored
(ASR punctuation is unreliable). Each term is one of:

    word        the word itself ("you'll" is split the way spaCy splits it: you 'll)
    a|b|c       any one of these words
    thank*      a word starting with "thank" (thanks, thankyou, thanking)
    term?       the term is optional ("sorry for the|your? wait")
    @list       any word of a reusable list from the scorecard's `lists` ("@time_unit")
    <num>       a number, as digits or words ("30", "thirty"; the scorecard's `number` list adds
                words spaCy does not know, per language)
    <name>      a capitalised word that is not a common word (a person's or company's name)
    <word>      any word that is not a common function word (names misheard in lower case:
                "you've reached canto so bank")
    ~N          up to N words of anything ("take ~2 <num> @time_unit": "take about 30 minutes")
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

# Numbers and names are marked on each token's NORM (which patterns never match otherwise):
# a native attribute the Matcher checks much faster than a custom extension.
NUM_NORM = "<num>"
NAME_NORM = "<name>"

_SKIP = re.compile(r"^~(\d+)$")


class PatternError(ValueError):
    """A phrase pattern that cannot be compiled; the message names the term."""


def _term(term: str, tokenize, lists: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    optional = term.endswith("?") and len(term) > 1
    core = term[:-1] if optional else term
    if core == "<num>":
        tokens = [{"NORM": NUM_NORM}]
    elif core == "<name>":
        tokens = [{"NORM": NAME_NORM}]
    elif core == "<word>":
        tokens = [{"IS_ALPHA": True, "IS_STOP": False}]
    elif core.startswith("@"):
        name = core[1:]
        if name not in lists:
            raise PatternError(f"unknown list '@{name}' (lists: {', '.join(sorted(lists)) or 'none'})")
        tokens = [{"LOWER": {"IN": [w.lower() for w in lists[name]]}}]
    elif "|" in core:
        options = [o for o in core.lower().split("|") if o]
        for option in options:
            if len(tokenize(option)) != 1:
                raise PatternError(f"'{option}' in '{core}' is not one word; write two phrases instead")
        tokens = [{"LOWER": {"IN": options}}]
    elif core.endswith("*") and len(core) > 1:
        tokens = [{"LOWER": {"REGEX": "^" + re.escape(core[:-1].lower())}}]
    elif core == "*":
        tokens = [{"IS_ALPHA": True}]
    else:
        tokens = [{"LOWER": t} for t in tokenize(core.lower())]
        if not tokens:
            raise PatternError(f"'{term}' has no words")
    if optional:
        if len(tokens) != 1:
            raise PatternError(f"'{term}': only a single word can be optional")
        tokens[0] = {**tokens[0], "OP": "?"}
    return tokens


def compile_pattern(pattern: str, tokenize, lists: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Turn one phrase pattern into a spaCy Matcher token pattern.

    ``tokenize`` splits text into word strings the way the matched documents are split.
    """
    tokens: list[dict[str, Any]] = []
    for term in pattern.split():
        skip = _SKIP.match(term)
        if skip:
            tokens.append({"OP": f"{{0,{int(skip.group(1))}}}"})
        else:
            tokens.extend(_term(term, tokenize, lists))
    if not any(t.get("OP") in (None, "+") for t in tokens):
        raise PatternError(f"pattern '{pattern}' has no required word")
    return tokens
