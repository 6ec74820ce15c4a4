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

A term that is only punctuation ("thanks , bye") is skipped, as punctuation in what was said is.
`check_pattern` finds what would make a phrase never match (an unknown token, an empty
alternative, a bracket, a lone ~) so `callqa scorecard check` can say so before a night of calls.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import AbstractSet, Any, Callable, Literal, Mapping, Optional, Sequence

# Numbers and names are marked on each token's NORM (which patterns never match otherwise):
# a native attribute the Matcher checks much faster than a custom extension.
NUM_NORM = "<num>"
NAME_NORM = "<name>"

_SKIP = re.compile(r"^~(\d+)$")
TOKENS = ("<num>", "<name>", "<word>")
_OPEN, _CLOSE = "([{", ")]}"
_NOT_A_WORD = set("<>@~*?|") | set(_OPEN) | set(_CLOSE)

Tokenize = Callable[[str], Sequence[str]]


class PatternError(ValueError):
    """A phrase pattern that cannot be compiled; the message names the term."""


def _words(attr: str, words: Sequence[str], lemma: Optional[Callable[[str], str]]) -> dict[str, Any]:
    """Match any of ``words``: as written (LOWER), or by their forms in a stemmed language."""
    if lemma is None:
        return {"LOWER": {"IN": list(words)}} if len(words) > 1 or attr == "IN" else {"LOWER": words[0]}
    forms = sorted({lemma(w) for w in words})
    return {"LEMMA": {"IN": forms}} if len(forms) > 1 or attr == "IN" else {"LEMMA": forms[0]}


def _term(term: str, tokenize, lists: Mapping[str, Sequence[str]],
          lemma: Optional[Callable[[str], str]] = None) -> list[dict[str, Any]]:
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
        tokens = [_words("IN", [w.lower() for w in lists[name]], lemma)]
    elif "|" in core:
        options = [o for o in core.lower().split("|") if o]
        for option in options:
            if len(tokenize(option)) != 1:
                raise PatternError(f"'{option}' in '{core}' is not one word; write two phrases instead")
        tokens = [_words("IN", options, lemma)]
    elif core.endswith("*") and len(core) > 1:
        tokens = [{"LOWER": {"REGEX": "^" + re.escape(core[:-1].lower())}}]
    elif core == "*":
        tokens = [{"IS_ALPHA": True}]
    else:
        tokens = [_words("ONE", [t], lemma) for t in tokenize(core.lower())]
        if not tokens:
            return []  # punctuation only: what was said has none either
    if optional:
        if len(tokens) != 1:
            raise PatternError(f"'{term}': only a single word can be optional")
        tokens[0] = {**tokens[0], "OP": "?"}
    return tokens


def compile_pattern(pattern: str, tokenize, lists: Mapping[str, Sequence[str]],
                    lemma: Optional[Callable[[str], str]] = None) -> list[dict[str, Any]]:
    """Turn one phrase pattern into a spaCy Matcher token pattern.

    ``tokenize`` splits text into word strings the way the matched documents are split.
    ``lemma``, in a language matched by stem (``pipeline.scoring.languages``), gives the form
    words and list words are compared by, so "odotus" also finds "odotuksesta"; the documents'
    tokens then carry the same forms as their LEMMA. Prefixes (``thank*``) stay on the written
    word.
    """
    tokens: list[dict[str, Any]] = []
    for term in pattern.split():
        skip = _SKIP.match(term)
        if skip:
            tokens.append({"OP": f"{{0,{int(skip.group(1))}}}"})
        else:
            tokens.extend(_term(term, tokenize, lists, lemma))
    if not any(t.get("OP") in (None, "+") for t in tokens):
        raise PatternError(f"pattern '{pattern}' has no required word")
    return tokens


@dataclass(frozen=True)
class PatternIssue:
    """Something wrong with one phrase: an error makes it never match (or not compile), a
    warning is a part that can never match as written."""

    severity: Literal["error", "warning"]
    message: str


def _error(message: str) -> PatternIssue:
    return PatternIssue("error", message)


def _warning(message: str) -> PatternIssue:
    return PatternIssue("warning", message)


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _brackets(pattern: str) -> list[PatternIssue]:
    """Brackets are not part of the phrase language; an unbalanced one is told as such."""
    stack: list[str] = []
    for char in pattern:
        if char in _OPEN:
            stack.append(char)
        elif char in _CLOSE:
            if not stack or _OPEN.index(stack[-1]) != _CLOSE.index(char):
                return [_error(f"unbalanced '{char}' in '{pattern}': no matching opening bracket "
                               "(brackets are not part of the phrase language: a|b is either word)")]
            stack.pop()
    if stack:
        return [_error(f"unbalanced '{stack[-1]}' in '{pattern}': it is never closed "
                       "(brackets are not part of the phrase language: a|b is either word)")]
    issues = []
    for term in pattern.split():
        if not any(c in term for c in _OPEN + _CLOSE):
            continue
        inner = term.strip(_OPEN + _CLOSE + "?")
        if f"<{inner.lower()}>" in TOKENS:
            issues.append(_error(f"unknown token '{term}': did you mean '<{inner.lower()}>'? (tokens: {', '.join(TOKENS)})"))
        else:
            issues.append(_error(f"'{term}': brackets are not part of the phrase language "
                                 "(a|b is either word; write two phrases for longer alternatives)"))
    return issues


def _one_token(word: str, tokenize: Tokenize, pieces: AbstractSet[str]) -> list[PatternIssue]:
    """An alternative or list word is compared with one token of what was said, as written."""
    tokens = list(tokenize(word))
    if tokens == [word] or word in pieces:
        return []
    if not tokens:
        return [_error(f"'{word}' is only punctuation, which is never matched")]
    if len(tokens) > 1:
        return [_error(f"'{word}' is not one word (spaCy reads it as {' '.join(repr(t) for t in tokens)}); "
                       "write two phrases instead")]
    return [_warning(f"'{word}' never matches: what was said is matched as spaCy's tokens without "
                     f"punctuation ('{tokens[0]}'); write '{tokens[0]}'")]


def _alternatives(core: str, tokenize: Tokenize, pieces: AbstractSet[str]) -> list[PatternIssue]:
    options = core.split("|")
    if any(not o for o in options):
        return [_error(f"empty alternative in '{core}' (a '|' at either end, or '||')")]
    issues = []
    for option in options:
        if any(c in _NOT_A_WORD - {"*", "?"} for c in option):
            issues.append(_error(f"'{option}' in '{core}': only plain words can be alternatives, not tokens, "
                                 "lists or ~N; write two phrases"))
        elif "*" in option or "?" in option:
            issues.append(_warning(f"'{option}' in '{core}' never matches: * and ? are taken literally inside "
                                   "a|b (it compares whole words); write two phrases"))
        else:
            issues.extend(PatternIssue(i.severity, f"in '{core}': {i.message}")
                          for i in _one_token(option.lower(), tokenize, pieces))
    return issues


def _term_issues(term: str, tokenize: Tokenize, lists: Mapping[str, Sequence[str]], language: str,
                 pieces: AbstractSet[str]) -> list[PatternIssue]:
    """What is wrong with one space-separated term of a phrase (brackets are told by `_brackets`)."""
    if "~" in term:
        skip = _SKIP.match(term)
        if skip:
            return [_warning(f"'{term}' skips no word: ~N allows up to N words")] if int(skip.group(1)) == 0 else []
        if term == "~":
            return [_error("a lone '~' needs a number right after it: ~2 = up to two words of anything")]
        return [_error(f"'{term}': '~' takes a number and nothing else (~2 = up to two words of anything)")]
    if any(c in term for c in _OPEN + _CLOSE):
        return []
    core = term[:-1] if term.endswith("?") and len(term) > 1 else term
    if core in TOKENS:
        return []
    if "|" in core:
        return _alternatives(core, tokenize, pieces)
    if "<" in core or ">" in core:
        return [_error(f"unknown token '{core}': {_did_you_mean(core.lower(), TOKENS)}(tokens: {', '.join(TOKENS)})")]
    if core.startswith("@"):
        name = core[1:]
        if not name:
            return [_error("a lone '@' needs a list name: @time_unit is any word of the list time_unit")]
        if name not in lists:
            known = ", ".join(sorted(lists)) or "none"
            return [_error(f"unknown list '@{name}': {_did_you_mean(name, sorted(lists))}(lists: {known})")]
        if not lists[name]:
            return [_error(f"list '@{name}' has no words for '{language}', so this phrase never matches")]
        return []
    if "@" in core:
        return [_error(f"'{core}': '@' starts a list name and goes first (@time_unit)")]
    if core == "*":
        return []
    if "*" in core[:-1]:
        return [_error(f"'{core}': '*' goes only at the end of a word (thank* = thank, thanks, thanking)")]
    if core.endswith("*"):
        prefix = core[:-1].lower()
        tokens = list(tokenize(prefix))
        if tokens != [prefix]:
            seen = " ".join(repr(t) for t in tokens) or "nothing (punctuation only)"
            return [_warning(f"'{core}' never matches: a prefix must be the start of one spaCy token, "
                             f"and '{prefix}' reads as {seen}")]
        return []
    tokens = list(tokenize(core.lower()))
    if not tokens:
        return [_warning(f"'{term}' is only punctuation: what was said is matched without punctuation, "
                         "so this term is skipped")]
    if core.lower() in pieces and tokens != [core.lower()]:
        return [_warning(f"'{core}' never matches: it is a token only split off a word (i'm, you've: 'i' 'm'), "
                         f"alone spaCy reads it as {' '.join(repr(t) for t in tokens)}; write it as an "
                         f"alternative ({core.lower()}|...) or joined to its word")]
    return []


def check_pattern(pattern: str, tokenize: Tokenize, lists: Mapping[str, Sequence[str]],
                  language: str, pieces: AbstractSet[str] = frozenset()) -> list[PatternIssue]:
    """Everything that would make a phrase never match, or match less than it says.

    ``lists`` are the scorecard's word lists as seen in ``language`` (with its fallback), so a
    list with no words there is told; ``tokenize`` splits text the way utterances are split;
    ``pieces`` are the tokens spaCy makes only inside a longer word ('m, 've, n't), which are
    words to match although alone they read otherwise.
    """
    if not pattern.strip():
        return [_error("empty phrase: it matches nothing")]
    issues = _brackets(pattern)
    for term in pattern.split():
        issues.extend(_term_issues(term, tokenize, lists, language, pieces))
    if not any(i.severity == "error" for i in issues):
        try:
            compile_pattern(pattern, tokenize, lists)
        except PatternError as exc:
            issues.append(_error(str(exc)))
    return issues
