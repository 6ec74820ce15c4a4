"""Re-score stored transcripts against a (new version of a) scorecard: no audio, no Whisper.

QA forms change every quarter; the words, holds and metrics of old calls do not. Each re-score
adds results under the scorecard's new version and keeps the old version's results, so the
two can be compared call by call (`pipeline.store.reads.compare_versions`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from pipeline.scoring import names
from pipeline.scoring.detect import Detector
from pipeline.scoring.score import score_call
from pipeline.store import reads, writes
from pipeline.store.database import Store


@dataclass(frozen=True)
class Rescored:
    calls: int
    seconds: float
    version: str


def rescore(store: Store, scorecard, since: datetime | None = None) -> Rescored:
    """Score every stored, not purged call (optionally those since a date) with `scorecard`."""
    started = time.perf_counter()
    detector = Detector(scorecard)
    scores = {
        call["call_id"]: names.check_introduction(score_call(  # the name heard vs the manifest's, as when scored
            scorecard, call["utterances"], call["holds"], call["metrics"], call["duration_s"],
            call["language"], call["flags"], detector=detector, context=call["context"],
        ), call["agent_name"])
        for call in reads.transcribed_calls(store, since)
    }
    writes.save_scores(store, scores)
    return Rescored(len(scores), time.perf_counter() - started, scorecard.version)
