"""Retention: after N days, delete transcripts (and optionally recordings), keep scores and metrics.

Scores, item results, metrics, holds and the times of findings stay (they are what scorecards
and trends are made of); the words go: utterances are deleted, the quoted words of findings are
blanked, and with `delete_recordings` the audio files themselves are removed.
"""
from __future__ import annotations

from dataclasses import dataclass
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


def apply_retention(store: Store, days: int, delete_recordings: bool = False, now: datetime | None = None) -> Purged:
    """Purge every call older than `days` (by its start time, else when it was processed)."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    purged, utterances = purge_transcripts(store, now - timedelta(days=days), now)
    deleted = missing = 0
    if delete_recordings:
        for _, source in purged:
            path = Path(source)
            if path.is_file():
                path.unlink()
                deleted += 1
            else:
                missing += 1
    return Purged(len(purged), utterances, deleted, missing)
