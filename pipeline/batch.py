"""Plan a batch and summarise it: the pieces of a nightly run that are not orchestration."""
from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from pipeline.audio.decode import file_sha256
from pipeline.ingest.recordings import discover
from pipeline.records import CallMeta, CallResult, printable
from pipeline.settings import max_call_seconds
from pipeline.store import reads
from pipeline.store.database import Store


SETTLE_RECENT_S = 60.0
"""A file modified this recently may still be being written by the recorder: check it settles."""
SETTLE_WAIT_S = 2.0
"""How long a recently modified file must keep its size and mtime to count as finished."""


@dataclass(frozen=True)
class BatchPlan:
    todo: list[CallMeta]
    already_scored: list[CallMeta]
    duplicate_ids: list[CallMeta] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    still_writing: list[CallMeta] = field(default_factory=list)
    not_retried: list[CallMeta] = field(default_factory=list)


def _stat(path: str) -> tuple[int, float] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime) if stat.S_ISREG(st.st_mode) else None


def split_unsettled(calls: list[CallMeta], recent_s: float = SETTLE_RECENT_S, wait_s: float = SETTLE_WAIT_S,
                    now: float | None = None) -> tuple[list[CallMeta], list[CallMeta]]:
    """(finished, still being written): files modified in the last `recent_s` are looked at again
    after `wait_s` (one wait for the whole batch); those whose size or mtime moved are left for the
    next run, so a call is never scored on the half a recorder has written so far."""
    now = time.time() if now is None else now
    first = {c.path: _stat(c.path) for c in calls}
    recent = [c for c in calls if first[c.path] and now - first[c.path][1] < recent_s]
    if not recent:
        return calls, []
    time.sleep(wait_s)
    moving = {c.path for c in recent if _stat(c.path) != first[c.path]}
    return [c for c in calls if c.path not in moving], [c for c in calls if c.path in moving]


def _with_file_facts(call: CallMeta, recordings: Path) -> CallMeta:
    """The call with its absolute path, the run's folder, and the file's size and mtime."""
    path = Path(call.path)
    facts = _stat(str(path))
    return replace(call, call_id=printable(call.call_id), path=str(path.absolute()), recordings_dir=str(recordings.absolute()),
                   file_size=facts[0] if facts else None, file_mtime=facts[1] if facts else None)


def _digest(call: CallMeta) -> str:
    try:
        return call.sha256 or file_sha256(call.path)
    except OSError:
        return ""  # missing or unreadable: process_call records why


def _same_audio(call: CallMeta, seen: dict[str, str]) -> CallMeta:
    """Mark a recording whose bytes were already scored under another call id (for good: the
    same bytes stay a duplicate until they change)."""
    digest = _digest(call)
    if not digest:
        return call
    other = seen.setdefault(digest, call.call_id)
    if other != call.call_id and not call.problem:
        return replace(call, sha256=digest, problem_permanent=True,
                       problem=f"same audio as call '{other}' (sha256 {digest[:12]}); not scored twice")
    return replace(call, sha256=digest)  # hashed once: process_call reuses it


def _unchanged(call: CallMeta, known) -> bool:
    """Same file, same size and mtime as when it was stored: no need to read it again."""
    return (known.source_path == call.path and call.file_size is not None
            and known.file_size == call.file_size and known.file_mtime == call.file_mtime)


_OVER_LIMIT = re.compile(r"^recording is \d+ minutes long, over the ([\d.]+)-minute limit")


def _limit_raised(store: Store) -> set[str]:
    """Calls that failed for being over the length limit when the limit was lower than now.

    Such a failure is permanent for the same bytes *and* the same limit (`decode.overlong_message`
    keeps the limit in the reason): it is not tried every night, but raising
    CALLQA_MAX_CALL_MINUTES past it is enough for the next run to try the recording again."""
    rows = store.query("SELECT call_id, error FROM calls WHERE status = 'failed' AND error LIKE 'recording is % minutes long, over the %'")
    now_minutes = max_call_seconds() / 60
    raised = set()
    for call_id, error in rows.itertuples(index=False):
        found = _OVER_LIMIT.match(error or "")
        if found and float(found.group(1)) < now_minutes:
            raised.add(call_id)
    return raised


def plan_batch(recordings: str | Path, store: Store, manifest: str | Path | None = None,
               settle: tuple[float, float] = (SETTLE_RECENT_S, SETTLE_WAIT_S)) -> BatchPlan:
    """The recordings still to score, and why every other one is left alone.

    - new recordings, and ones that failed for a reason that may pass (a file not there yet);
    - a scored recording whose content changed since (a recorder still writing when it was
      scored) is scored again and replaces the old result;
    - a recording whose failure depends only on its bytes (empty, not audio, no speech, the same
      audio as another call, too long) is not retried until its content changes (one over the
      length limit: or until the limit is raised);
    - a file still being written is left for the next run;
    - a second recording whose name gives an already-used call id (in this folder or in the
      database) keeps its own call, under `ID~<hash>`, never replacing or hidden behind the first.
    """
    root = Path(recordings)
    warnings: list[str] = []
    calls = [_with_file_facts(c, root) for c in discover(recordings, manifest, warnings)]
    calls, still_writing = split_unsettled(calls, *settle)
    for call in still_writing:
        warnings.append(f"{call.path}: still being written (size or time changed while planning); scored next run")
    known = {row.call_id: row for row in reads.known_recordings(store).itertuples(index=False)}
    hashes = reads.scored_hashes(store)
    raised = _limit_raised(store) if known else set()
    todo, skipped, duplicates, not_retried, seen = [], [], [], [], set()
    for call in calls:
        if call.call_id in seen:
            digest = _digest(call)
            other = f"{call.call_id}~{digest[:8]}"
            duplicates.append(call)
            warnings.append(f"{call.path}: call id '{call.call_id}' is taken by another file in this folder; "
                            f"this recording is kept as '{other}'")
            call = replace(call, call_id=other, sha256=digest)
        seen.add(call.call_id)
        row = known.get(call.call_id)
        if row is None or (row.status == "failed" and (not row.permanent_failure or call.call_id in raised)):
            todo.append(call)
            continue
        if _unchanged(call, row):
            (skipped if row.status == "scored" else not_retried).append(call)
            continue
        digest = _digest(call)
        call = replace(call, sha256=digest)
        if digest and digest == row.file_sha256:
            (skipped if row.status == "scored" else not_retried).append(call)
        elif row.status == "failed" or row.source_path == call.path:
            if row.status == "scored":
                warnings.append(f"{call.call_id}: the recording changed since it was scored; scored again")
            todo.append(call)
        else:
            other = f"{call.call_id}~{digest[:8]}"
            warnings.append(f"{call.path}: call id '{call.call_id}' already belongs to {row.source_path}; "
                            f"this recording is kept as '{other}'")
            if other in known and known[other].status == "scored":
                skipped.append(call)
            else:
                todo.append(replace(call, call_id=other))
    if not_retried:
        warnings.append(f"{len(not_retried)} recording(s) that failed for good are not retried until they change: "
                        + ", ".join(c.call_id for c in not_retried[:10]) + (" ..." if len(not_retried) > 10 else ""))
    todo = [_same_audio(call, hashes) for call in todo]
    return BatchPlan(todo, skipped, duplicates, warnings, still_writing, not_retried)


@dataclass(frozen=True)
class CallSummary:
    """What the run log and the run's artifact show for one call."""

    call_id: str
    agent_id: str
    status: str
    score: float | None
    flagged: bool
    detail: str
    audio_s: float
    wall_s: float

    @classmethod
    def of(cls, result: CallResult) -> "CallSummary":
        score = result.score
        if not result.ok:
            detail = result.error or ""
        elif score and score.flag_reasons:
            detail = "; ".join(score.flag_reasons)
        else:
            detail = ""
        return cls(
            call_id=result.meta.call_id,
            agent_id=result.meta.agent_id,
            status="scored" if result.ok else "failed",
            score=score.score if score else None,
            flagged=bool(score and score.flagged),
            detail=detail,
            audio_s=result.metrics.duration_s if result.metrics else 0.0,
            wall_s=round(sum(result.stage_seconds.values()), 2),
        )


def summary_markdown(summaries: Sequence[CallSummary], plan: BatchPlan, wall_s: float) -> str:
    """The run's summary as Markdown (a Prefect artifact and the CLI's closing lines)."""
    scored = [s for s in summaries if s.status == "scored"]
    failed = [s for s in summaries if s.status == "failed"]
    audio = sum(s.audio_s for s in scored)
    lines = [
        "# callqa nightly run",
        f"- scored: {len(scored)}, failed: {len(failed)}, skipped (already scored): {len(plan.already_scored)}"
        + (f", call ids taken twice (kept as ID~hash): {len(plan.duplicate_ids)}" if plan.duplicate_ids else "")
        + (f", still being written: {len(plan.still_writing)}" if plan.still_writing else "")
        + (f", failed for good and unchanged (not retried): {len(plan.not_retried)}" if plan.not_retried else ""),
        f"- flagged for review: {sum(s.flagged for s in scored)}",
        f"- audio: {audio:.0f} s in {wall_s:.0f} s wall ({audio / wall_s if wall_s else 0:.1f} audio-s per wall-s)",
    ]
    if plan.warnings:
        lines.append("\n## Warnings")
        lines += [f"- {w}" for w in plan.warnings]
    if failed:
        lines.append("\n## Failed")
        lines += [f"- `{s.call_id}`: {s.detail}" for s in failed]
    return "\n".join(lines)
