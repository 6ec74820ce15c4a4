"""Pure shaping of stored rows for the call page: transcript lines with findings marked, the
timeline's lanes. No database, no web: tested on plain data."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence


@dataclass
class Segment:
    text: str
    finding: Optional[dict] = None  # the finding this stretch of text is evidence for


@dataclass
class Line:
    idx: int
    speaker: str
    start: float
    end: float
    segments: list[Segment]
    findings: list[dict] = field(default_factory=list)  # every finding in this line (marked or not)


def _num(value, default: float = 0.0) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(value) else value


def highlight(text: str, findings: Sequence[dict]) -> list[Segment]:
    """Split `text` into plain and marked stretches: each finding's quoted words, where they occur
    (case-insensitive, first free occurrence; overlapping quotes keep the earlier one)."""
    spans: list[tuple[int, int, dict]] = []
    lowered = text.lower()
    for f in findings:
        quote = (f.get("text") or "").strip().strip('"').lower()
        if not quote:
            continue
        at = lowered.find(quote)
        while at >= 0 and any(a < at + len(quote) and at < b for a, b, _ in spans):
            at = lowered.find(quote, at + 1)
        if at >= 0:
            spans.append((at, at + len(quote), f))
    spans.sort(key=lambda s: s[0])
    out, pos = [], 0
    for a, b, f in spans:
        if a > pos:
            out.append(Segment(text[pos:a]))
        out.append(Segment(text[a:b], f))
        pos = b
    if pos < len(text) or not out:
        out.append(Segment(text[pos:]))
    return out


def transcript_lines(utterances: Iterable[dict], findings: Iterable[dict]) -> list[Line]:
    """Utterances in time order, each with the spoken findings that fall in it, marked in its text."""
    spoken = [f for f in findings if f.get("speaker")]
    lines = []
    for u in utterances:
        start, end = _num(u["start_s"]), _num(u["end_s"])
        mine = [f for f in spoken if f["speaker"] == u["speaker"] and start - 0.01 <= _num(f.get("start_s"), -1) <= end + 0.01]
        lines.append(Line(int(u["idx"]), u["speaker"], start, end, highlight(u["text"] or "", mine), mine))
    return lines


@dataclass
class Bar:
    start: float
    end: float
    x: float  # percent of the call
    width: float
    label: str


LANES = ("agent", "customer", "hold", "silence", "redacted")


def _bar(start: float, end: float, duration: float, label: str) -> Bar:
    x = max(0.0, min(100.0, 100.0 * start / duration))
    width = max(0.25, min(100.0 - x, 100.0 * (end - start) / duration))
    return Bar(start, end, round(x, 3), round(width, 3), label)


def timeline(duration: float, utterances: Iterable[dict], holds: Iterable[dict], redactions: Iterable[dict],
             min_silence_s: float = 1.0) -> dict[str, list[Bar]]:
    """Lanes of the timeline bar: agent talk, customer talk, holds, silence (nobody speaking and
    not on hold, at least `min_silence_s`) and redacted spans, as percent positions."""
    utterances, holds, redactions = list(utterances), list(holds), list(redactions)
    ends = [_num(u["end_s"]) for u in utterances] + [_num(h["end_s"]) for h in holds]
    duration = max([_num(duration)] + ends + [1.0])
    lanes: dict[str, list[Bar]] = {lane: [] for lane in LANES}
    for u in utterances:
        lanes["agent" if u["speaker"] == "agent" else "customer"].append(
            _bar(_num(u["start_s"]), _num(u["end_s"]), duration, u["speaker"]))
    for h in holds:
        lanes["hold"].append(_bar(_num(h["start_s"]), _num(h["end_s"]), duration, f"hold {int(h['hold_idx']) + 1}"))
    for r in redactions:
        if r.get("start_s") is not None and not math.isnan(_num(r.get("start_s"), float("nan"))):
            lanes["redacted"].append(_bar(_num(r["start_s"]), _num(r.get("end_s"), _num(r["start_s"]) + 0.5), duration,
                                          f"redacted {r['kind']}"))
    busy = sorted([(_num(u["start_s"]), _num(u["end_s"])) for u in utterances]
                  + [(_num(h["start_s"]), _num(h["end_s"])) for h in holds])
    cursor = 0.0
    for a, b in busy + [(duration, duration)]:
        if a - cursor >= min_silence_s:
            lanes["silence"].append(_bar(cursor, a, duration, "silence"))
        cursor = max(cursor, b)
    return lanes
