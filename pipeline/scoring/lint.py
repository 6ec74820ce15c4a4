"""What makes a scorecard rule never match or never apply, found before any call is scored.

Pydantic checks a scorecard's shape (keys, types, ranges). This module checks what the shape
cannot: that every language key is a language a call can have (`eng:` or `EN:` would leave every
English call without phrases), that every phrase is well formed in the phrase language
(`patterns.py`) and uses lists that exist, and that no phrase list or word list is empty. Each
problem names the file, the line and the field as a YAML path
(`items.greeting.rule.phrases.en[2]`), so a QA lead can go straight to it.

Errors make the scorecard unusable (loading it for `score` or `rescore` refuses it); warnings
are parts that can never match as written, told by `callqa scorecard check` only.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Literal, Optional, Sequence, Union

import yaml

from spacy.attrs import ORTH

from pipeline.scoring.detect import _word_tokens, blank_nlp
from pipeline.scoring.patterns import _one_token, check_pattern
from pipeline.scoring.rules import RULE_KINDS

# The languages the product ships phrases, number words and privacy rules for.
SUPPORTED_LANGUAGES = ("en", "nb", "nl", "fi", "lv", "ms")
# Every language faster-whisper's tokenizer knows (faster_whisper.tokenizer._LANGUAGE_CODES, 1.2.1;
# a test keeps the two equal): a call transcribed by Whisper has one of these as its language.
# Copied, not imported, because importing faster-whisper costs a sixth of a second per load.
WHISPER_LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el",
    "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy",
    "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi",
    "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru",
    "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl",
    "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh", "yue",
)
KNOWN_LANGUAGES = frozenset(WHISPER_LANGUAGES) | frozenset(SUPPORTED_LANGUAGES)
ANY_LANGUAGE = "*"  # a plain list of phrases; also accepted written out as a key
# Names and three-letter codes people write for the supported languages.
_LANGUAGE_ALIASES = {
    "eng": "en", "english": "en", "nor": "nb", "nob": "nb", "norwegian": "nb", "bokmal": "nb", "bokmål": "nb",
    "nld": "nl", "dut": "nl", "dutch": "nl", "fin": "fi", "finnish": "fi", "lav": "lv", "latvian": "lv",
    "msa": "ms", "may": "ms", "zsm": "ms", "malay": "ms",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there: a scorecard parses in milliseconds

Path = tuple[Union[str, int], ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a scorecard file, where it is and what it does."""

    severity: Literal["error", "warning"]
    source: str
    line: Optional[int]
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line or '?'}: {self.field}: {self.message}"


def _key_is(node: yaml.Node, key: Any) -> bool:
    """Whether a mapping's key node is `key` as loaded (an unquoted no is the key False)."""
    if isinstance(key, bool):
        return node.tag.endswith(":bool") and str(node.value).lower() in (("yes", "true", "on") if key else ("no", "false", "off"))
    return getattr(node, "value", None) == key


def yaml_line(root: Optional[yaml.Node], path: Path, at_key: bool = False) -> Optional[int]:
    """The line (from 1) of the YAML node at `path`, or of its key with `at_key`; the nearest
    enclosing node's line when the path goes where the file has nothing."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if _key_is(k, step)), None)
            if pair is None:
                return line
            if last and at_key:
                return pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def language_problem(code: Any) -> Optional[str]:
    """Why `code` is not a language a call can have, or None when it is one."""
    if isinstance(code, bool):
        return (f"YAML reads this language as {str(code).lower()} (an unquoted no, yes, on or off): "
                "quote it ('no')")
    if not isinstance(code, str) or code in KNOWN_LANGUAGES or code == ANY_LANGUAGE:
        return None
    low = code.strip().lower().replace("_", "-")
    guess = low if low in KNOWN_LANGUAGES else _LANGUAGE_ALIASES.get(low)
    if guess is None and low.split("-")[0] in KNOWN_LANGUAGES:
        guess = low.split("-")[0]
    hint = f"did you mean '{guess}'? " if guess else ""
    return (f"unknown language code '{code}': {hint}a call's language is a lower-case code Whisper knows "
            f"({', '.join(SUPPORTED_LANGUAGES)}, ...), so what is under '{code}' is never used")


def _is_rule(value: Any) -> bool:
    """A nested rule (of `all_of`, `not`, `when`, ...) is a mapping with a kind."""
    return isinstance(value, dict) and "kind" in value


@lru_cache(maxsize=None)
def pieces(language: str) -> frozenset[str]:
    """Tokens spaCy makes only inside a longer word in this language ('m, 've, n't, 's): its
    tokenizer exceptions' parts, lower-cased (curly apostrophes are straightened in what was said,
    so their forms never occur)."""
    rules = blank_nlp(language).tokenizer.rules
    found = {str(t.get(ORTH, "")).lower() for parts in rules.values() if len(parts) > 1 for t in parts}
    return frozenset(p for p in found if any(c.isalnum() for c in p) and "\u2019" not in p and "\u2018" not in p)


def _words(data: dict, list_name: str, language: str) -> list:
    """A list's words in a language, with the fallback `Scorecard.words` uses."""
    per_language = (data.get("lists") or {}).get(list_name)
    if not isinstance(per_language, dict):
        return []
    fallback = data.get("language") if isinstance(data.get("language"), str) else "en"
    return per_language.get(language) or per_language.get(fallback) or []


class _Linter:
    """Walks the loaded YAML once, collecting problems with their lines from the composed nodes."""

    def __init__(self, data: dict, root: Optional[yaml.Node], source: str) -> None:
        self.data, self.root, self.source = data, root, source
        self.tokens = _word_tokens  # the tokenizer detection uses, so a check says what matching will see
        self.language = data.get("language") if isinstance(data.get("language"), str) else "en"
        self.list_names = [n for n in (data.get("lists") or {}) if isinstance(n, str)] if isinstance(data.get("lists"), dict) else []
        self.problems: list[Problem] = []

    def add(self, severity: str, path: Path, field: str, message: str, at_key: bool = False) -> None:
        self.problems.append(Problem(severity, self.source, yaml_line(self.root, path, at_key), field, message))  # type: ignore[arg-type]

    def run(self) -> list[Problem]:
        why = language_problem(self.data.get("language"))
        if why:
            self.add("error", ("language",), "language", why)
        self.check_lists()
        for path, field, rule in self.rules():
            self.check_rule(rule, path, field)
        return self.problems

    def check_lists(self) -> None:
        lists = self.data.get("lists")
        if not isinstance(lists, dict):
            return
        for name, per_language in lists.items():
            if not isinstance(per_language, dict):
                continue
            if not per_language:
                self.add("error", ("lists", name), f"lists.{name}", "a list with no languages and no words")
            for language, words in per_language.items():
                path = ("lists", name, language)
                field = f"lists.{name}.{str(language).lower() if isinstance(language, bool) else language}"
                why = language_problem(language)
                if why:
                    self.add("error", path, field, why, at_key=True)
                if not isinstance(words, list):
                    continue
                if not words:
                    self.add("error", path, field, f"empty list: @{name} matches nothing in '{language}'")
                for index, word in enumerate(words):
                    if isinstance(word, str):
                        self.check_list_word(word, language, path + (index,), f"{field}[{index}]")

    def check_list_word(self, word: str, language: str, path: Path, field: str) -> None:
        """A list word is compared with one token of what was said, so it must be one token."""
        if not word.strip():
            self.add("error", path, field, "empty word in a list")
            return
        language = language if language in KNOWN_LANGUAGES else self.language
        tokenize = lambda text: self.tokens(language, text)  # noqa: E731
        for issue in _one_token(word.lower(), tokenize, pieces(language)):
            # a list is a word list shared by phrases: a word of two is a warning, not a refusal
            self.add("warning", path, field, issue.message.replace("write two phrases instead", "put it in a phrase instead"))

    def rules(self) -> Iterator[tuple[Path, str, Any]]:
        """Each item's rule with its path in the file and its field name by item id."""
        sections = self.data.get("sections")
        for s, section in enumerate(sections if isinstance(sections, list) else []):
            items = section.get("items") if isinstance(section, dict) else None
            for i, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, dict):
                    continue
                name = item.get("id") if isinstance(item.get("id"), str) else f"sections[{s}].items[{i}]"
                yield ("sections", s, "items", i, "rule"), f"items.{name}.rule", item.get("rule")

    def check_rule(self, rule: Any, path: Path, field: str) -> None:
        """A rule's phrase fields (those its registered kind declares), then its child rules."""
        if not isinstance(rule, dict):
            return
        kind = RULE_KINDS.get(rule.get("kind")) if isinstance(rule.get("kind"), str) else None
        for name in kind.phrase_fields if kind else ():
            if name in rule:
                self.check_phrases(rule[name], name, path + (name,), f"{field}.{name}")
        for key, value in rule.items():
            if _is_rule(value):
                self.check_rule(value, path + (key,), f"{field}.{key}")
            elif isinstance(value, list):
                for index, child in enumerate(value):
                    if _is_rule(child):
                        self.check_rule(child, path + (key, index), f"{field}.{key}[{index}]")

    def check_phrases(self, value: Any, name: str, path: Path, field: str) -> None:
        """A phrase list, plain (every language) or per language."""
        required = name.endswith("phrases")  # what to look for; others (exclude) refine it
        severity = "error" if required else "warning"
        what = "the rule can never pass" if required else f"the {name} list does nothing"
        if isinstance(value, list):
            if not value:
                self.add(severity, path, field, f"no {name}: {what}")
            self.check_patterns(value, self.language, path, field)
            return
        if not isinstance(value, dict):
            return
        for language, patterns in value.items():
            where, at = path + (language,), f"{field}.{str(language).lower() if isinstance(language, bool) else language}"
            why = language_problem(language)
            if why:
                self.add("error", where, at, why, at_key=True)
            if isinstance(patterns, list):
                if not patterns:
                    self.add(severity, where, at, f"no {name} for '{language}': {what} in this language")
                tokenize_as = language if language in KNOWN_LANGUAGES and language != ANY_LANGUAGE else self.language
                self.check_patterns(patterns, tokenize_as, where, at)
        if required and value and self.language not in value and ANY_LANGUAGE not in value:
            self.add("warning", path, field, f"no phrases for the scorecard's language '{self.language}': a call in "
                                             "a language not listed here falls back to it, and this item then fails",
                     at_key=True)

    def check_patterns(self, patterns: Sequence[Any], language: str, path: Path, field: str) -> None:
        lists = {n: _words(self.data, n, language) for n in self.list_names}
        tokenize = lambda text: self.tokens(language, text)  # noqa: E731
        for index, pattern in enumerate(patterns):
            if not isinstance(pattern, str):
                continue  # a wrong type is told by the schema
            for issue in check_pattern(pattern, tokenize, lists, language, pieces(language)):
                self.add(issue.severity, path + (index,), f"{field}[{index}]", issue.message)


def lint(data: dict, root: Optional[yaml.Node], source: str) -> list[Problem]:
    """Every problem `check_pattern` and the language and list checks find, in file order."""
    problems = _Linter(data, root, source).run()
    return sorted(problems, key=lambda p: (p.line or 0))


def load_yaml(text: str) -> tuple[Any, Optional[yaml.Node]]:
    """The YAML's data and its node tree (which knows every value's line), from one parse.

    Raises yaml.YAMLError when the text is not YAML.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    finally:
        loader.dispose()
