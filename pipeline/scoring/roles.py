"""Which voice of a mono call is the agent: decided from what each says and when, not from pitch.

The mono split (`pipeline.audio.diarize`) finds two voices but cannot know which one works at the
call centre. Pitch or loudness say nothing about that (agents are men and women, on headsets
louder or softer than the line). What does: the agent greets, names the company and
themselves, and offers help ("thank you for calling", "my name is", "how can I help"), asks for
the account and closes ("anything else I can help with"); the caller explains why they call
("I'm calling about", "I'd like to cancel", "my card"). And the agent usually speaks first
after the answer. Each distinct cue counts once per voice; the voice with more evidence is the
agent. With too little evidence, or evidence both ways, the call is scored with the likelier
assignment and **flagged**: a person decides, nothing is silently guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from pipeline.audio.channels import AGENT_OPENINGS, CALLER_OPENINGS, swap_speakers
from pipeline.audio.diarize import Diarization
from pipeline.audio.transcribe import assign_speakers
from pipeline.records import Span, Utterance

# What an agent says and a caller hardly ever does (beyond the openings the swap check uses).
AGENT_CUES = {
    **AGENT_OPENINGS,
    "<name> speaking": r"\b(?:this is|it's|its) \w+(?: \w+)? speaking\b|\b\w+ speaking(?:,| how| what)\b",
    "this is <name>, how can I": r"\b(?:this is|my name is|i'm|i am) \w+[ ,]+(?:\w+ ){0,3}(?:how|what) (?:can|may|could) i\b",
    "anything else I can help with": r"\b(?:anything|something) else (?:i|we) can (?:help|assist|do)\b",
    "thanks for holding": r"\bthank(?:s| you) (?:so much |very much )?for (?:holding|waiting|your patience|bearing with)\b",
    "bear with me": r"\b(?:bear with me|let me (?:just )?(?:check|pull up|look|see|find|bring up)|i'll (?:just )?(?:check|pull up|look into))\b",
    "can I have your ...": r"\b(?:can|could|may) i (?:have|get|take|confirm) (?:your|the) (?:\w+ ){0,2}(?:name|number|account|address|"
                           r"date of birth|postcode|zip code|email|phone)\b",
    "have a nice day": r"\bhave a (?:great|good|nice|lovely|wonderful) (?:day|evening|afternoon|weekend|one)\b",
}
CALLER_CUES = {
    **CALLER_OPENINGS,
    "I need help with": r"\bi (?:need|want|wanted) (?:some )?(?:help|to know|to ask|to cancel|to change|to report)\b",
    "can you help me": r"\b(?:can|could) you (?:please )?help me\b",
}
_AGENT = {name: re.compile(p) for name, p in AGENT_CUES.items()}
_CALLER = {name: re.compile(p) for name, p in CALLER_CUES.items()}


@dataclass(frozen=True)
class RoleOptions:
    """How sure the evidence must be.

    Attributes:
      first_weight: evidence for the voice that speaks first (agents answer the call); less
        than one phrase, since a split may give the first half-second to the wrong voice.
      margin: the agent's evidence must beat the other voice's by this much, with at least
        one agent phrase of its own; otherwise the assignment is unsure and flagged.
    """

    first_weight: float = 0.5
    margin: float = 1.5


@dataclass(frozen=True)
class Roles:
    """The decision: `swap` when the voice labelled customer is the agent; `sure` when the
    evidence is clear; `evidence` in words, for the flag and for a reviewer."""

    swap: bool
    sure: bool
    evidence: str
    agent_score: float = 0.0
    customer_score: float = 0.0

    def flag(self) -> str | None:
        """The flag for an unsure call, None when sure."""
        if self.sure:
            return None
        return f"mono recording: unsure which voice is the agent ({self.evidence})"


def normalised(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w' ,]+", " ", text).split())


def cues(text: str, patterns: dict[str, re.Pattern]) -> list[str]:
    return [name for name, pattern in patterns.items() if pattern.search(text)]


def voice_text(utterances: Sequence[Utterance], speaker: str) -> str:
    return normalised(" ".join(u.text for u in utterances if u.speaker == speaker))


def decide(utterances: Sequence[Utterance], options: RoleOptions = RoleOptions()) -> Roles:
    """Which of the two voices ("agent": the one heard first, "customer": the other) is the
    agent, from the phrases each says and who speaks first."""
    said = [u for u in utterances if u.text.strip()]
    if not said:
        return Roles(False, False, "no words heard")
    texts = {v: voice_text(said, v) for v in ("agent", "customer")}
    agent_cues = {v: cues(texts[v], _AGENT) for v in texts}
    caller_cues = {v: cues(texts[v], _CALLER) for v in texts}
    first = min(said, key=lambda u: u.start).speaker
    other = {"agent": "customer", "customer": "agent"}
    score = {
        v: len(agent_cues[v]) + len(caller_cues[other[v]]) + (options.first_weight if v == first else 0.0)
        for v in texts
    }
    chosen = "agent" if score["agent"] >= score["customer"] else "customer"
    lead = score[chosen] - score[other[chosen]]
    sure = lead >= options.margin and bool(agent_cues[chosen])
    parts = []
    for name, v in (("the agent's voice", chosen), ("the other voice", other[chosen])):
        said_cues = [f"'{c}'" for c in agent_cues[v]] + [f"caller's '{c}'" for c in caller_cues[v]]
        parts.append(f"{name} says {', '.join(said_cues) if said_cues else 'no telling phrase'}"
                     + (" and speaks first" if v == first else ""))
    return Roles(chosen == "customer", sure, "; ".join(parts), score[chosen], score[other[chosen]])


@dataclass(frozen=True)
class MonoCall:
    """A mono call's transcript and turns with the roles decided, and the flags it earned."""

    utterances: list[Utterance]
    agent: list[Span]
    customer: list[Span]
    flags: tuple[str, ...]
    roles: Roles | None = None


def attribute(words: Sequence[Utterance], parties: Diarization, options: RoleOptions = RoleOptions()) -> MonoCall:
    """The mono transcript (`words`: one voice's utterances of the whole mix) cut at the split's
    changes of voice, then the voices named agent and customer from what each says.

    When the split could not tell two voices apart, the roles are not decided (the words go by
    the split as it is) and the call is flagged with the split's reason."""
    utterances = assign_speakers(words, parties.agent, parties.customer)
    if not parties.separable:
        why = f" ({parties.reason})" if parties.reason else ""
        return MonoCall(utterances, parties.agent, parties.customer,
                        (f"mono recording: agent and customer voices could not be told apart{why}",))
    roles = decide(utterances, options)
    agent, customer = parties.agent, parties.customer
    if roles.swap:
        utterances, agent, customer = swap_speakers(utterances), customer, agent
    flag = roles.flag()
    return MonoCall(utterances, agent, customer, (flag,) if flag else (), roles)
