"""Whisper's repetition loops, found in the words it wrote.

Whisper sometimes falls into a loop: one word or phrase written again and again ("min min min
...", "keranaananana", "Nå må jeg hjelpe med meg. Nå må jeg hjelpe med meg. ...") until its
window ends, swallowing what was really said there. The sequential decoder guards against it
(a window whose text compresses too well is decoded again at a higher temperature); the batched
decoder callqa uses for speed does not. These pure functions find such loops, so that
`transcribe.py` can decode the stretch again with the guard, and remove what is left of a loop,
so that no item passes on words Whisper invented by repeating itself.

People repeat themselves too ("no, no, no", "thank you, thank you"), so a loop needs more
repeats than people say: a single word six times in a row, a phrase of two to eight words four
times.
"""
from __future__ import annotations

from typing import Sequence

from pipeline.records import Word

MIN_REPEATS = {1: 6}
"""Back-to-back repeats that make a loop, by phrase length in words (default `DEFAULT_REPEATS`)."""
DEFAULT_REPEATS = 4
MAX_PHRASE = 8


def _key(word: Word | str) -> str:
    text = word.text if isinstance(word, Word) else word
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _repeats_needed(size: int) -> int:
    return MIN_REPEATS.get(size, DEFAULT_REPEATS)


def loops(words: Sequence[Word | str], max_phrase: int = MAX_PHRASE) -> list[tuple[int, int, int]]:
    """Loops in `words`, as (start, end, phrase size): words[start:end] is one phrase of `size`
    words said back to back at least as often as `MIN_REPEATS` asks. Loops do not overlap; the
    longest stretch wins where two could be read."""
    keys = [_key(w) for w in words]
    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(keys):
        best: tuple[int, int, int] | None = None
        for size in range(1, max_phrase + 1):
            phrase = keys[i:i + size]
            if len(phrase) < size or not any(phrase):
                break
            end = i + size
            while keys[end:end + size] == phrase:
                end += size
            if (end - i) // size >= _repeats_needed(size) and (best is None or end - i > best[1] - best[0]):
                best = (i, end, size)
        if best:
            found.append(best)
            i = best[1]
        else:
            i += 1
    return found


def without_loops(words: Sequence[Word]) -> list[Word]:
    """`words` with each loop cut to its phrase said once, that phrase's probabilities capped
    at 0.3: what Whisper wrote there is not to be trusted as evidence (an item resting on it is
    `uncertain`, for a person to hear)."""
    cuts = loops(words)
    if not cuts:
        return list(words)
    kept: list[Word] = []
    at = 0
    for start, end, size in cuts:
        kept.extend(words[at:start])
        kept.extend(Word(w.text, w.start, w.end, min(w.probability, 0.3)) for w in words[start:start + size])
        at = end
    kept.extend(words[at:])
    return kept
