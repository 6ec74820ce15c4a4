"""Find the scorecard's phrases in what was said, with the words and times as evidence.

spaCy's blank pipeline (tokenizer + Matcher) is all detection needs and runs at hundreds of
thousands of tokens a second; no statistical model is loaded. Each utterance becomes a spaCy Doc
built from its recognised words with punctuation dropped, so every matched token maps back to the
Whisper word it came from, and a finding's time is its words' time, never its segment's.

A speaker's consecutive utterances with only a short pause between them are matched as one run:
recognisers and transcribers cut a sentence at a breath ("thank you for calling" / "northwind
insurance", "it should take" / "three to five business days"), and the phrase still counts.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

import spacy
from spacy.matcher import Matcher
from spacy.tokens import Doc

from pipeline.scoring.languages import NOT_HEADS, Lemmatizer, number_words, pack_language, stems_language
from pipeline.scoring.patterns import NAME_NORM, NUM_NORM, compile_pattern
from pipeline.records import Utterance
from pipeline.scoring.rules import ANY_LANGUAGE, CallView, Hit, Verdict


@lru_cache(maxsize=None)
def blank_nlp(language: str):
    """A tokenizer-only pipeline for the language (spaCy's multi-language one if unknown)."""
    try:
        return spacy.blank(language)
    except Exception:
        return spacy.blank("xx")


class Detector:
    """Compiles a scorecard's phrases per language and finds them in a call's utterances."""

    def __init__(self, scorecard) -> None:
        self.scorecard = scorecard
        self._matchers: dict[str, tuple[Matcher, set[str]]] = {}
        self._lemmatizers: dict[str, Optional[Lemmatizer]] = {}

    def _languages(self) -> set[str]:
        """Every language the card has phrases or lists in."""
        return ({self.scorecard.language} | {lang for item in self.scorecard.items for lang in item.rule.languages()}
                | {lang for per_language in self.scorecard.lists.values() for lang in per_language})

    def lemmatizer(self, language: str) -> Optional[Lemmatizer]:
        """The forms words are matched by in a language matched by stem (None elsewhere): built
        from the words of the card's phrases and lists in that language, so a compound counts
        as its tail only where the tail is one of the card's list words."""
        if language not in self._lemmatizers:
            lemmatizer = None
            if stems_language(language):
                lists = {name: self.scorecard.words(name, language) for name in self.scorecard.lists}
                phrases = [p for item in self.scorecard.items for per_language in item.rule.phrase_sets().values()
                           for p in per_language.get(language, [])]
                heads = [w for name, words in lists.items() if name not in NOT_HEADS for w in words]
                words = [w for words in lists.values() for w in words] + _plain_words(phrases)
                lemmatizer = Lemmatizer.for_pack(language, words, heads, blank_nlp(language).Defaults.stop_words)
            self._lemmatizers[language] = lemmatizer
        return self._lemmatizers[language]

    def matcher(self, language: str) -> tuple[Matcher, set[str]]:
        """The compiled matcher for a language, and the pattern keys that fell back to the
        scorecard's own language because the item has no phrases in this one. A code with a
        region or another tool's name for the language ("nb-NO", Whisper's "no") uses its pack."""
        language = pack_language(language) if pack_language(language) in self._languages() else language
        if language in self._matchers:
            return self._matchers[language]
        nlp = blank_nlp(language)
        matcher = Matcher(nlp.vocab)
        fallbacks: set[str] = set()
        lists = {name: self.scorecard.words(name, language) for name in self.scorecard.lists}
        lemma = self.lemmatizer(language)
        for item in self.scorecard.items:
            for name, per_language in item.rule.phrase_sets().items():
                key = f"{item.id}/{name}"
                patterns = per_language.get(language) or per_language.get(ANY_LANGUAGE)
                if patterns is None and name.endswith("phrases"):
                    # what to look for falls back to the scorecard's language (and says so);
                    # refinements such as `exclude` are per language and simply absent
                    patterns = per_language.get(self.scorecard.language, [])
                    fallbacks.add(key)
                compiled = []
                for pattern in patterns or []:
                    try:
                        compiled.append(compile_pattern(pattern, lambda t: _word_tokens(language, t), lists, lemma))
                    except ValueError as exc:
                        raise ValueError(f"item '{item.id}', {name} ({language}): {exc}") from None
                if compiled:
                    matcher.add(key, compiled, greedy="LONGEST")
        self._matchers[language] = (matcher, fallbacks)
        return self._matchers[language]

    def find(self, utterances: Sequence[Utterance], language: str) -> dict[str, list[Hit]]:
        """Every phrase hit in the call, by pattern key ("item_id/phrases", "item_id/exclude")."""
        language = pack_language(language) if pack_language(language) in self._languages() else language
        matcher, _ = self.matcher(language)
        if not len(matcher):
            return {}  # no phrase rules in this scorecard (metrics, regex only)
        nlp = blank_nlp(language)
        lemma = self.lemmatizer(language)
        numbers = {w.lower() for w in self.scorecard.words("number", language)}
        if lemma:  # inflected number words ("viiden päivän", "piecās minūtēs")
            numbers |= number_words(language)
        hits: dict[str, list[Hit]] = {}
        for speaker, words in _runs(utterances):
            tokens, owner = [], []
            for index, word in enumerate(words):
                for token in _word_tokens(language, word.text):
                    tokens.append(token)
                    owner.append(index)
            if not tokens:
                continue
            doc = Doc(nlp.vocab, words=tokens, lemmas=[lemma(t) for t in tokens] if lemma else None)
            for token in doc:
                if token.like_num or token.lower_ in numbers:
                    token.norm_ = NUM_NORM
                elif token.is_title and token.is_alpha and not token.is_stop:
                    token.norm_ = NAME_NORM
            for key_id, start, end in matcher(doc):
                key = nlp.vocab.strings[key_id]
                matched = words[owner[start] : owner[end - 1] + 1]
                hits.setdefault(key, []).append(
                    Hit(
                        key=key,
                        speaker=speaker,
                        start=matched[0].start,
                        end=matched[-1].end,
                        text=" ".join(w.text for w in matched),
                        confidence=round(sum(w.probability for w in matched) / len(matched), 3),
                    )
                )
        for found in hits.values():
            found.sort(key=lambda h: h.start)
        return hits


def _plain_words(patterns: Sequence[str]) -> list[str]:
    """The words written out in phrases (not tokens, lists, prefixes or skips)."""
    return [word.rstrip("?") for pattern in patterns for term in pattern.split() for word in term.split("|")
            if word.rstrip("?").isalpha()]


# a pause no longer than this between two utterances of one speaker joins them into one run
RUN_GAP_S = 1.5


def _runs(utterances: Sequence[Utterance]) -> list[tuple[str, tuple]]:
    """(speaker, words) per run of one speaker's utterances that follow each other with at most
    RUN_GAP_S of silence and no other speaker's utterance starting in between."""
    runs: list[tuple[str, list, float]] = []
    for utterance in sorted(utterances, key=lambda u: u.start):
        words = utterance.timed_words()
        if not words:
            continue
        if runs and runs[-1][0] == utterance.speaker and utterance.start - runs[-1][2] <= RUN_GAP_S:
            runs[-1][1].extend(words)
            runs[-1] = (runs[-1][0], runs[-1][1], max(runs[-1][2], utterance.end))
        else:
            runs.append((utterance.speaker, list(words), utterance.end))
    return [(speaker, tuple(words)) for speaker, words, _ in runs]


@lru_cache(maxsize=100_000)
def _word_tokens(language: str, text: str) -> tuple[str, ...]:
    """spaCy's tokens for a piece of text, without punctuation or spaces (curly apostrophes
    straightened first, so "you’re" splits like "you're")."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return tuple(t.text for t in blank_nlp(language).make_doc(text) if not (t.is_punct or t.is_space))


def evaluate(scorecard, view: CallView) -> list[tuple[object, Verdict]]:
    """Every item of the scorecard judged on the call: (item, verdict) in scorecard order."""
    return [(item, item.rule.evaluate(item.id, view)) for item in scorecard.items]
