"""Re-score stored transcripts against a (new version of a) scorecard: no audio, no Whisper.

QA forms change every quarter; the words, holds and metrics of old calls do not. Each re-score
adds results under the scorecard's new version and keeps the old version's results, so the
two can be compared call by call (`compare`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from .detect import Detector
from .score import score_call
from .store import Store


@dataclass(frozen=True)
class Rescored:
    calls: int
    seconds: float
    version: str


def rescore(store: Store, scorecard, since: datetime | None = None) -> Rescored:
    """Score every stored, not purged call (optionally those since a date) with `scorecard`."""
    import time

    started = time.perf_counter()
    detector = Detector(scorecard)
    scores = {
        call["call_id"]: score_call(
            scorecard, call["utterances"], call["holds"], call["metrics"], call["duration_s"],
            call["language"], detector=detector, context=call["context"],
        )
        for call in store.transcribed_calls(since)
    }
    if scores:
        store.save_scores(scores)
    return Rescored(len(scores), time.perf_counter() - started, scorecard.version)


def compare(store: Store, scorecard_id: str, old: str, new: str) -> pd.DataFrame:
    """Per call: the score under two versions of a scorecard, the change, and the items that moved."""
    return store.query(
        """
        WITH a AS (SELECT call_id, score FROM call_scores WHERE scorecard_id = ? AND scorecard_version = ?),
             b AS (SELECT call_id, score FROM call_scores WHERE scorecard_id = ? AND scorecard_version = ?),
             moved AS (
                SELECT ra.call_id, string_agg(ra.item_id || ' ' || ra.outcome || '→' || rb.outcome, ', ' ORDER BY ra.item_id) AS items_moved
                FROM item_results ra JOIN item_results rb USING (call_id, item_id)
                WHERE ra.scorecard_id = ? AND ra.scorecard_version = ? AND rb.scorecard_id = ? AND rb.scorecard_version = ?
                  AND ra.outcome <> rb.outcome
                GROUP BY ra.call_id)
        SELECT call_id, a.score AS old_score, b.score AS new_score, round(b.score - a.score, 1) AS change, items_moved
        FROM a JOIN b USING (call_id) LEFT JOIN moved USING (call_id)
        ORDER BY abs(coalesce(b.score - a.score, 0)) DESC, call_id
        """,
        [scorecard_id, old, scorecard_id, new, scorecard_id, old, scorecard_id, new],
    )
