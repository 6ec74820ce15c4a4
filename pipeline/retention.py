"""Retention: after N days, delete recordings and transcripts, keep scores and metrics.

Scores, item results, metrics, holds and the times of findings stay (they are what scorecards
and trends are made of); the words go: utterances are deleted, the quoted words of findings are
blanked, and with `delete_recordings` the audio files themselves are removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .store import Store


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
    cutoff = now - timedelta(days=days)
    with store.connect() as con:
        rows = con.execute(
            "SELECT call_id, source_path FROM calls WHERE purged_at IS NULL AND coalesce(started_at, processed_at) < ?",
            [cutoff],
        ).fetchall()
        ids = [r[0] for r in rows]
        utterances = 0
        if ids:
            con.execute("BEGIN TRANSACTION")
            utterances = con.execute("SELECT count(*) FROM utterances WHERE call_id IN (SELECT unnest(?))", [ids]).fetchone()[0]
            con.execute("DELETE FROM utterances WHERE call_id IN (SELECT unnest(?))", [ids])
            con.execute("UPDATE findings SET text = NULL WHERE call_id IN (SELECT unnest(?)) AND speaker IS NOT NULL", [ids])
            con.execute("UPDATE calls SET purged_at = ? WHERE call_id IN (SELECT unnest(?))", [now, ids])
            con.execute("COMMIT")
    deleted = missing = 0
    if delete_recordings:
        for _, source in rows:
            path = Path(source)
            if path.is_file():
                path.unlink()
                deleted += 1
            else:
                missing += 1
    return Purged(len(ids), utterances, deleted, missing)
