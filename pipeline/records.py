"""Plain, immutable records passed forward from stage to stage.

Times are seconds from the start of the recording. Speakers are "agent" or "customer".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Optional

Speaker = Literal["agent", "customer"]


def printable(text: str) -> str:
    """`text` as valid Unicode: bytes of a file name that were not UTF-8 (kept by Python as
    surrogates) become `\\xe9`-style escapes, so any name can be stored and shown, never crash."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
Outcome = Literal["pass", "fail", "na", "uncertain"]


@dataclass(frozen=True)
class Word:
    """One recognised word with its time and Whisper's probability for it."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Utterance:
    """One speaker's stretch of speech, with the words that make it up."""

    speaker: Speaker
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    @property
    def confidence(self) -> float:
        """Mean word probability (1.0 for an utterance imported without words)."""
        if not self.words:
            return 1.0
        return sum(w.probability for w in self.words) / len(self.words)

    def timed_words(self) -> tuple[Word, ...]:
        """The words; for text without word times (imports), times spread evenly over the turn."""
        if self.words:
            return self.words
        parts = self.text.split()
        step = (self.end - self.start) / max(len(parts), 1)
        return tuple(
            Word(p, round(self.start + i * step, 2), round(self.start + (i + 1) * step, 2), 1.0)
            for i, p in enumerate(parts)
        )


@dataclass(frozen=True)
class Span:
    """A stretch of time: speech of one party, a silence, a hold."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Hold:
    """A stretch where the customer waits: no agent speech for at least the hold threshold."""

    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class CallMeta:
    """What is known about a recording before it is heard (manifest row or file name)."""

    call_id: str
    path: str
    agent_id: str = "unknown"
    agent_name: str = ""
    department: str = ""
    queue: str = ""
    call_type: str = ""
    started_at: Optional[datetime] = None
    channel_layout: Literal["agent_left", "agent_right", "mono"] | None = None
    language: Optional[str] = None
    problem: Optional[str] = None  # why this call cannot be scored as listed (bad manifest row, duplicate audio)
    sha256: str = ""  # content hash, when the batch planner has already read the file
    problem_permanent: bool = False  # the problem lasts until the file's content changes (duplicate audio)
    recordings_dir: str = ""  # the folder the run was given: retention deletes nothing outside it
    file_size: Optional[int] = None  # size and mtime when planned: an unchanged file is not hashed again
    file_mtime: Optional[float] = None

    @property
    def context(self) -> dict[str, str]:
        """What scorecard applicability (`applies_if`) may test about a call."""
        return {"department": self.department, "queue": self.queue, "call_type": self.call_type}


@dataclass(frozen=True)
class Metrics:
    """Numbers measured from the recording itself (speech activity per party)."""

    duration_s: float
    time_to_answer_s: Optional[float]
    handle_time_s: float
    agent_talk_s: float
    customer_talk_s: float
    silence_s: float
    silence_share: float
    overtalk_s: float
    talk_listen_ratio: Optional[float]
    agent_talk_share: float
    dead_air_count: int
    longest_dead_air_s: float
    hold_count: int
    hold_total_s: float
    longest_hold_s: float
    agent_wpm: Optional[float] = None
    customer_wpm: Optional[float] = None


@dataclass(frozen=True)
class Finding:
    """A detected behaviour or event, with the evidence a reviewer can check by ear."""

    item_id: str
    rule: str
    speaker: Optional[str]
    text: str
    start: float
    end: float
    confidence: float
    hold_index: Optional[int] = None


@dataclass(frozen=True)
class ItemResult:
    """Pass / fail / not applicable / uncertain for one scorecard item, with the reason in words.

    "uncertain" means the machine cannot tell (the evidence rests on words Whisper was unsure of,
    or the agent's channel is too poor to say something was not said): a person decides."""

    item_id: str
    section: str
    outcome: Outcome
    weight: float
    auto_fail: bool
    reason: str
    bonus: bool = False


@dataclass(frozen=True)
class CallScore:
    """The call's score against one scorecard version, and why it goes to a human, if it does."""

    scorecard_id: str
    scorecard_version: str
    score: Optional[float]
    flagged: bool
    flag_reasons: tuple[str, ...]
    items: tuple[ItemResult, ...]
    findings: tuple[Finding, ...]
    band: Optional[str] = None
    hold_limit_s: Optional[float] = None  # the scorecard's hold standard, stored with its version for the views


@dataclass
class CallResult:
    """Everything one call produced; `error` is set (and the rest empty) when it failed."""

    meta: CallMeta
    file_sha256: str = ""
    channel_layout: str = ""
    language: str = ""
    model: str = ""
    utterances: list[Utterance] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    metrics: Optional[Metrics] = None
    score: Optional[CallScore] = None
    redactions: list = field(default_factory=list)  # pipeline.redact.Redaction: kind, speaker, times; never the text
    flags: list[str] = field(default_factory=list)  # about the recording, not the scorecard (kept through re-scores)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    error: Optional[str] = None
    permanent: bool = False  # the error will repeat until the file's content changes: not retried before

    @property
    def ok(self) -> bool:
        return self.error is None
