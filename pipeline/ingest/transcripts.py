"""Existing transcripts (from another system, a vendor, a labelled corpus) scored like calls.

Three formats, told apart by the file's suffix and first character:

- JSON Lines (`.jsonl`): one call per line, `{"id", "language"?, "agent_id"?, "turns": [{"speaker",
  "text", "start_ms"?, "duration_ms"?}]}`; other keys (source, licence, notes) are kept out of the way.
- a JSON list (`.json`) of such objects.
- CSV (`.csv`): columns `call_id,speaker,start,end,text` (seconds), optionally `agent_id`,
  `language`; one row per turn, a call's rows together or not.

Turns without times get synthetic ones: a turn lasts its words at 2.5 words per second and the
next starts 0.7 s after it, so a typed chat still has an order, an opening and a closing (but no
holds). Speakers are `agent` or `customer`; common synonyms are mapped, anything else is an error
naming the file and line. Holds and metrics come from the turns' spans exactly as from speech
activity (`activity.find_holds`, `activity.measure`), detection spreads word times over each
turn itself (`Utterance.timed_words`), and the score comes from `score.score_call`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from pipeline.audio.activity import ActivityOptions, find_holds, measure
from pipeline.records import CallMeta, CallResult, Span, Utterance
from pipeline.scoring.detect import Detector
from pipeline.scoring.score import score_call

WORDS_PER_SECOND = 2.5
TURN_GAP_S = 0.7
TAIL_S = 1.0  # the call ends this long after the last words
MAX_TURN_CHARS = 100_000  # a turn longer than this is a whole document pasted in, not speech

SPEAKERS = {
    "agent": "agent", "rep": "agent", "representative": "agent", "assistant": "agent",
    "customer": "customer", "caller": "customer", "user": "customer", "client": "customer",
}


class TranscriptError(ValueError):
    """A transcript file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    start_s: Optional[float] = None
    end_s: Optional[float] = None


@dataclass(frozen=True)
class TranscriptCall:
    """One call as read from a transcript file, before timing and scoring."""

    call_id: str
    turns: tuple[Turn, ...]
    source: str          # "file:line", for messages
    language: Optional[str] = None
    agent_id: str = "unknown"
    agent_name: str = ""
    department: str = ""
    queue: str = ""
    call_type: str = ""
    started_at: Optional[datetime] = None


# --- reading ---------------------------------------------------------------------------------

def speaker_of(value: Any, where: str) -> str:
    """'agent' or 'customer' for a speaker label (synonyms mapped); an error for anything else."""
    key = str(value or "").strip().lower()
    if key not in SPEAKERS:
        raise TranscriptError(
            f"{where}: unknown speaker {value!r} (use agent or customer; also accepted: "
            f"{', '.join(sorted(k for k in SPEAKERS if k not in ('agent', 'customer')))})"
        )
    return SPEAKERS[key]


def _number(value: Any, where: str, field: str) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TranscriptError(f"{where}: {field} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise TranscriptError(f"{where}: {field} must be a finite number, got {value!r}")
    if number < 0:
        raise TranscriptError(f"{where}: {field} must not be negative, got {value!r}")
    return number


def _started_at(value: Any, where: str) -> Optional[datetime]:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise TranscriptError(f"{where}: started_at must be ISO 8601, got {value!r}") from None


def _call_from_object(obj: Any, where: str) -> TranscriptCall:
    if not isinstance(obj, dict):
        raise TranscriptError(f"{where}: a call is a JSON object with 'id' and 'turns', got {type(obj).__name__}")
    call_id = obj.get("id", obj.get("call_id"))
    if call_id in (None, ""):
        raise TranscriptError(f"{where}: the call has no 'id'")
    turns_in = obj.get("turns")
    if not isinstance(turns_in, list) or not turns_in:
        raise TranscriptError(f"{where}: call {call_id!r} needs a non-empty list 'turns'")
    turns = []
    for n, turn in enumerate(turns_in, 1):
        at = f"{where}: call {call_id!r} turn {n}"
        if not isinstance(turn, dict):
            raise TranscriptError(f"{at}: a turn is an object with 'speaker' and 'text'")
        speaker = speaker_of(turn.get("speaker"), at)
        text = turn.get("text")
        if not isinstance(text, str):
            raise TranscriptError(f"{at}: 'text' must be a string")
        if len(text) > MAX_TURN_CHARS:
            raise TranscriptError(f"{at}: {len(text):,} characters in one turn (at most {MAX_TURN_CHARS:,}); "
                                  "split the conversation into turns")
        start_ms = _number(turn.get("start_ms"), at, "start_ms")
        duration_ms = _number(turn.get("duration_ms"), at, "duration_ms")
        start = start_ms / 1000.0 if start_ms is not None else None
        end = start + duration_ms / 1000.0 if start is not None and duration_ms is not None else None
        turns.append(Turn(speaker, text.strip(), start, end))
    language = obj.get("language")
    if language is not None and not isinstance(language, str):
        raise TranscriptError(f"{where}: call {call_id!r}: language must be a code such as 'en' or 'nb', got {language!r}")
    return TranscriptCall(
        call_id=str(call_id), turns=tuple(turns), source=where,
        language=language or None, agent_id=str(obj.get("agent_id") or "unknown"),
        agent_name=str(obj.get("agent_name") or ""), department=str(obj.get("department") or ""),
        queue=str(obj.get("queue") or ""), call_type=str(obj.get("call_type") or ""),
        started_at=_started_at(obj.get("started_at"), where),
    )


def _read_jsonl(path: Path, text: str, problems: Optional[list[str]]) -> list[TranscriptCall]:
    calls = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TranscriptError(f"{path}:{line_no}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            calls.append(_call_from_object(obj, f"{path}:{line_no}"))
        except TranscriptError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    return calls


def _read_json_list(path: Path, text: str, problems: Optional[list[str]]) -> list[TranscriptCall]:
    """A JSON list, element by element, so each error names the line its call starts on."""
    decoder = json.JSONDecoder()

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return pos

    pos = skip(0)
    if pos >= len(text) or text[pos] != "[":
        raise TranscriptError(f"{path}:{line_at(pos)}: expected a JSON list of calls")
    pos = skip(pos + 1)
    calls = []
    if pos < len(text) and text[pos] == "]":
        return calls
    while True:
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        try:
            calls.append(_call_from_object(obj, f"{path}:{line_at(pos)}"))
        except TranscriptError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
        pos = skip(end)
        if pos < len(text) and text[pos] == ",":
            pos = skip(pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if skip(pos + 1) < len(text):
                raise TranscriptError(f"{path}:{line_at(skip(pos + 1))}: unexpected text after the list")
            return calls
        raise TranscriptError(f"{path}:{line_at(pos)}: expected ',' or ']' in the list of calls")


CSV_COLUMNS = ("call_id", "speaker", "start", "end", "text")


def _read_csv(path: Path, text: str) -> list[TranscriptCall]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise TranscriptError(f"{path}:1: CSV header lacks {', '.join(missing)} (needs {','.join(CSV_COLUMNS)})")
    reader.fieldnames = header
    order: list[str] = []
    rows: dict[str, list[Turn]] = {}
    extra: dict[str, dict[str, str]] = {}
    lines: dict[str, int] = {}
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row:
            raise TranscriptError(f"{where}: more fields than the header has (quote text containing commas)")
        call_id = (row.get("call_id") or "").strip()
        if not call_id:
            raise TranscriptError(f"{where}: empty call_id")
        speaker = speaker_of(row.get("speaker"), where)
        start = _number((row.get("start") or "").strip(), where, "start")
        end = _number((row.get("end") or "").strip(), where, "end")
        if start is not None and end is not None and end < start:
            raise TranscriptError(f"{where}: end {end:g} is before start {start:g}")
        if row.get("text") is None:
            raise TranscriptError(f"{where}: missing text")
        if call_id not in rows:
            order.append(call_id)
            rows[call_id], lines[call_id] = [], reader.line_num
            extra[call_id] = {}
        for key in ("agent_id", "language"):
            value = (row.get(key) or "").strip()
            if value:
                extra[call_id].setdefault(key, value)
        rows[call_id].append(Turn(speaker, row["text"].strip(), start, end))
    return [
        TranscriptCall(c, tuple(rows[c]), f"{path}:{lines[c]}", extra[c].get("language"), extra[c].get("agent_id", "unknown"))
        for c in order
    ]


def read_transcripts(path: str | Path, problems: Optional[list[str]] = None) -> list[TranscriptCall]:
    """The calls in a transcript file (JSONL, JSON list or CSV); errors name the file and line.

    With a `problems` list, a bad call in a JSON file (a bad line, a bad turn, an odd value) is
    left out with its reason appended there, and the other calls are read: one bad call must not
    stop an import. Without it, the first problem raises. A file that cannot be read at all
    always raises.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise TranscriptError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read ({exc.strerror})") from None
    if not text.strip():
        raise TranscriptError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        calls = _read_csv(path, text)
    elif text.lstrip().startswith("["):
        calls = _read_json_list(path, text, problems)
    else:
        calls = _read_jsonl(path, text, problems)
    seen: dict[str, str] = {}
    unique = []
    for call in calls:
        if call.call_id in seen:
            message = f"{call.source}: call id {call.call_id!r} already used at {seen[call.call_id]}"
            if problems is None:
                raise TranscriptError(message)
            problems.append(message)
            continue
        seen[call.call_id] = call.source
        unique.append(call)
    return unique


# --- timing, holds, metrics, score -----------------------------------------------------------

def timed_utterances(turns: Sequence[Turn]) -> list[Utterance]:
    """Utterances with times: given ones kept, missing ones synthesised from the word count."""
    out, cursor = [], 0.0
    for turn in turns:
        words = max(len(turn.text.split()), 1)
        start = turn.start_s if turn.start_s is not None else (cursor + TURN_GAP_S if out else 0.0)
        end = turn.end_s if turn.end_s is not None else start + words / WORDS_PER_SECOND
        end = max(end, start)
        out.append(Utterance(turn.speaker, round(start, 3), round(end, 3), turn.text))
        cursor = max(cursor, end)
    return sorted(out, key=lambda u: u.start)


def language_code(language: Optional[str], default: str) -> str:
    """'en-US' -> 'en': the scorecard's phrase packs are per language, not per region."""
    if not language:
        return default
    return language.replace("_", "-").split("-")[0].strip().lower() or default


def _content_hash(call: TranscriptCall) -> str:
    canonical = json.dumps([[t.speaker, t.text, t.start_s, t.end_s] for t in call.turns], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def score_transcript(
    call: TranscriptCall,
    scorecard,
    path: str | Path = "",
    options: ActivityOptions = ActivityOptions(),
    detector=None,
    redactor=None,
) -> CallResult:
    """One transcript call as a scored `CallResult` (channel layout 'transcript', no model).

    With a `redactor`, personal data leaves the text before detection and storage, as on audio.
    """
    utterances = [u for u in timed_utterances(call.turns) if u.text]
    agent = [Span(u.start, u.end) for u in utterances if u.speaker == "agent"]
    customer = [Span(u.start, u.end) for u in utterances if u.speaker == "customer"]
    holds = find_holds(agent, customer, options)
    duration = (max((u.end for u in utterances), default=0.0)) + TAIL_S
    metrics = measure(duration, agent, customer, holds, utterances, options)
    language = language_code(call.language, scorecard.language)
    meta = CallMeta(
        call_id=call.call_id, path=str(path or call.source.rsplit(":", 1)[0]), agent_id=call.agent_id,
        agent_name=call.agent_name, department=call.department, queue=call.queue, call_type=call.call_type,
        started_at=call.started_at, language=language,
    )
    redactions = []
    if redactor is not None:
        utterances, redactions = redactor.redact(utterances, language)
    score = score_call(scorecard, utterances, holds, metrics, duration, language, detector=detector,
                       context=meta.context)
    return CallResult(
        meta=meta, file_sha256=_content_hash(call), channel_layout="transcript", language=language, model="",
        utterances=utterances, holds=holds, metrics=metrics, score=score, redactions=redactions,
    )


def import_transcripts(
    path: str | Path,
    scorecard,
    options: ActivityOptions = ActivityOptions(),
    redactor=None,
    problems: Optional[list[str]] = None,
) -> list[CallResult]:
    """Read and score every call in a transcript file; the caller saves them (`writes.save_call`).

    With a `problems` list, bad calls are left out with their reasons there (see
    `read_transcripts`); without it, the first bad call raises and nothing is scored.
    """
    calls = read_transcripts(path, problems)
    detector = Detector(scorecard)
    return [score_transcript(call, scorecard, path, options, detector, redactor) for call in calls]


def predicted_outcomes(results: Iterable[CallResult]) -> dict[str, dict[str, str]]:
    """call id -> item id -> outcome, for `evaluate.evaluate`."""
    return {
        r.meta.call_id: {i.item_id: i.outcome for i in r.score.items}
        for r in results if r.score is not None
    }
