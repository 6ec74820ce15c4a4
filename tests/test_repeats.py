"""Whisper's repetition loops (pipeline/audio/repeats.py), on words: found where Whisper repeats
itself far more than people do, and cut to one saying with low probability."""
from __future__ import annotations

import pytest

from pipeline.audio.repeats import loops, without_loops
from pipeline.records import Word


def words(text: str, probability: float = 0.9) -> list[Word]:
    return [Word(t, i * 0.3, i * 0.3 + 0.25, probability) for i, t in enumerate(text.split())]


@pytest.mark.parametrize("text, found", [
    ("Nå kan jeg hjelpe " + "min " * 30, [(4, 34, 1)]),
    ("Er det noe mer? " + "Nå må jeg hjelpe med meg. " * 8 + "Takk.", [(4, 52, 6)]),
    ("terlap terlap terlap terlap terlap terlap", [(0, 6, 1)]),
    ("ok, so " + "thank you for holding " * 4, [(2, 18, 4)]),
    ("thank you " * 20, [(0, 40, 2)]),
])
def test_loops_are_found(text, found):
    assert loops(words(text)) == found


@pytest.mark.parametrize("text", [
    "no, no, no, that's not what I said",
    "no no no no no",                                   # five times: people say that
    "thank you, thank you, thank you so much",
    "four five five six four five five six",            # a number said twice is no loop
    "bye bye bye now",
    "very very very very very good",
    "",
])
def test_what_people_say_is_no_loop(text):
    assert loops(words(text)) == []


def test_a_loop_is_cut_to_one_saying_with_low_probability():
    said = words("I will check " + "the payment " * 10 + "thank you for waiting")
    kept = without_loops(said)
    assert " ".join(w.text for w in kept) == "I will check the payment thank you for waiting"
    assert [w.probability for w in kept] == [0.9] * 3 + [0.3] * 2 + [0.9] * 4
    assert without_loops(words("no loop here")) == words("no loop here")
