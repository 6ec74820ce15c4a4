"""Plan a batch and summarise it: the pieces of a nightly run that are not orchestration."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from pipeline.audio.decode import file_sha256
from pipeline.ingest.recordings import discover
from pipeline.records import CallMeta, CallResult
from pipeline.store import reads
from pipeline.store.database import Store


@dataclass(frozen=True)
class BatchPlan:
    todo: list[CallMeta]
    already_scored: list[CallMeta]
    duplicate_ids: list[CallMeta] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _same_audio(call: CallMeta, seen: dict[str, str]) -> CallMeta:
    """Mark a recording whose bytes were already scored under another call id."""
    try:
        digest = file_sha256(call.path)
    except OSError:
        return call  # missing or unreadable: process_call records why
    other = seen.setdefault(digest, call.call_id)
    if other != call.call_id and not call.problem:
        return replace(call, sha256=digest, problem=f"same audio as call '{other}' (sha256 {digest[:12]}); not scored twice")
    return replace(call, sha256=digest)  # hashed once: process_call reuses it


def plan_batch(recordings: str | Path, store: Store, manifest: str | Path | None = None) -> BatchPlan:
    """The recordings still to score: new ones and ones that failed before; scored ones are skipped.

    A call id claimed by two files is scored once (the first); the same audio under a second
    name fails with the name of the call it duplicates.
    """
    warnings: list[str] = []
    calls = discover(recordings, manifest, warnings)
    done = reads.scored_call_ids(store)
    hashes = reads.scored_hashes(store)
    todo, skipped, duplicates, seen = [], [], [], set()
    for call in calls:
        if call.call_id in seen:
            duplicates.append(call)
            warnings.append(f"{call.path}: call id '{call.call_id}' already taken by another file; ignored")
            continue
        seen.add(call.call_id)
        if call.call_id in done:
            skipped.append(call)
        else:
            todo.append(_same_audio(call, hashes))
    return BatchPlan(todo, skipped, duplicates, warnings)


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
        + (f", duplicate call ids ignored: {len(plan.duplicate_ids)}" if plan.duplicate_ids else ""),
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
