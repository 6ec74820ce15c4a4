"""Retention: after N days, delete transcripts (and optionally recordings), keep scores and metrics.

Scores, item results, metrics, holds and the times of findings stay (they are what scorecards
and trends are made of); the words go: utterances are deleted, the quoted words of findings and
reasons are blanked, and with `delete_recordings` the audio files themselves are removed.

A recording is deleted only when it is certainly the one that was scored: an absolute path
inside the recordings folder its run was given, a regular file. Imported transcript files,
files a manifest named outside the folder, and rows from before paths were stored absolute are
never deleted (they are counted as kept, with the reason).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.store.database import Store
from pipeline.store.writes import purge_transcripts


@dataclass(frozen=True)
class Purged:
    calls: int
    utterances: int
    recordings_deleted: int
    recordings_missing: int
    recordings_kept: list[str] = field(default_factory=list)  # "path: why it was not deleted"


def deletable_recording(source_path: str | None, recordings_dir: str | None, channel_layout: str | None) -> str | None:
    """Why this stored recording must not be deleted, or None when deleting it is safe."""
    if channel_layout == "transcript":
        return "an imported transcript file, not a recording"
    if not source_path or not recordings_dir:
        return "the recordings folder is not known (scored by an older version)"
    path, folder = Path(source_path), Path(recordings_dir)
    if not path.is_absolute() or not folder.is_absolute():
        return "stored as a relative path"
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return "cannot resolve the path"
    if not inside:
        return f"outside the recordings folder {folder}"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return "not a regular file"
    return None


def apply_retention(store: Store, days: int, delete_recordings: bool = False, now: datetime | None = None) -> Purged:
    """Purge every call older than `days` (by its start time, else when it was processed)."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    purged, utterances = purge_transcripts(store, now - timedelta(days=days), now)
    deleted = missing = 0
    kept: list[str] = []
    if delete_recordings:
        for call in purged:
            why = deletable_recording(call["source_path"], call["recordings_dir"], call["channel_layout"])
            if why:
                kept.append(f"{call['source_path']}: {why}")
            elif Path(call["source_path"]).is_file():
                Path(call["source_path"]).unlink()
                deleted += 1
            else:
                missing += 1
    return Purged(len(purged), utterances, deleted, missing, kept)
