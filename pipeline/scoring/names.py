"""Does the name the agent introduced themselves with match the agent on the manifest?

`introduce_name` passes on what the agent says ("my name is Sarah", "Priya speaking"), not on
who they are. When the words quoted as evidence hold nothing close to the manifest's
`agent_name`, a person should look: Whisper misheard the name (the evidence is weak), the
manifest lists the wrong agent (the call is credited to the wrong person), or the agent used
another name. The outcome stays as scored; the call gets a flag that says what was heard.

Fuzzy, because Whisper spells names as it likes ("Katherine", "Kathryn", "Cathryn"): a word
counts as the name when its letters are similar enough to any part of it (`SIMILAR`).
"""
from __future__ import annotations

import re
from dataclasses import replace
from difflib import SequenceMatcher
from typing import Sequence

from pipeline.records import CallScore

SIMILAR = 0.75   # SequenceMatcher ratio: Kathryn/Katherine 0.75, Sara/Sarah 0.89, Priya/Maria 0.6
ITEM = "introduce_name"


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


def name_similarity(said: str, agent_name: str) -> float:
    """The best likeness (0-1) between any word said and any part of the agent's name."""
    parts = [p for p in _words(agent_name) if len(p) > 1]
    return max((SequenceMatcher(None, w, p).ratio() for w in _words(said) for p in parts), default=0.0)


def name_mismatch(evidence: Sequence[str], agent_name: str, similar: float = SIMILAR) -> str | None:
    """A reviewer's note when none of the evidence quotes holds the agent's name; else None.

    None too when there is nothing to compare (no manifest name, no evidence)."""
    quotes = [q.strip() for q in evidence if q and q.strip()]
    if not agent_name.strip() or not quotes:
        return None
    best = max(name_similarity(q, agent_name) for q in quotes)
    if best >= similar:
        return None
    heard = "; ".join(f'"{q}"' for q in quotes[:2])
    return (f"{ITEM}: the agent introduced themselves as {heard}, far from the manifest's "
            f"agent '{agent_name.strip()}' (similarity {best:.2f}): misheard, or another agent?")


def check_introduction(score: CallScore | None, agent_name: str) -> CallScore | None:
    """The score with a flag added when `introduce_name` passed on words far from `agent_name`."""
    if score is None:
        return None
    passed = any(i.item_id == ITEM and i.outcome == "pass" for i in score.items)
    note = name_mismatch([f.text for f in score.findings if f.item_id == ITEM], agent_name) if passed else None
    if note is None:
        return score
    return replace(score, flagged=True, flag_reasons=(*score.flag_reasons, note))
