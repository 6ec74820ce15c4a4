"""One call on a worker that does not write the database: score it, stage its rows, report back.

A worker on a Dask cluster (another process, or another machine with the same shared storage)
runs `score_and_stage` for each call it is handed. What is slow to load (Whisper, the scorecard's
matchers, the redactor's models) is loaded once per worker process and kept (`models.kept`). The call's
rows go to the staging folder (`writes.stage_call`: Parquet, made visible whole by one rename);
the one process that writes the database, the flow, loads them (`writes.load_staged`). So no
two processes ever write DuckDB, and a worker killed mid-call has staged nothing of that call:
the scheduler runs it again on another worker, and it is loaded once.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.batch import CallSummary
from pipeline.process import PipelineOptions, process_call
from pipeline.records import CallMeta
from pipeline.scoring.scorecard import Scorecard
from pipeline.settings import parallelism
from pipeline.store.writes import stage_call


def worker_slots() -> int:
    """Calls this worker process runs at once: its Dask thread count (1 outside Dask)."""
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except (ImportError, ValueError):
        return 1


def worker_threads(slots: int) -> int:
    """CPU threads for one call: $CALLQA_THREADS (set it where several worker processes share a
    machine, as `local:N` clusters do), else this machine's cores shared among the worker's slots."""
    return parallelism(workers=slots)[1]


def score_and_stage(meta: CallMeta, scorecard: Scorecard, options: PipelineOptions, staging: str | Path,
                    run_id: str = "") -> CallSummary:
    """Score one recording on this worker and stage its rows for the loader; never raises for a
    bad recording (its failure is staged with the reason, as the flow would store it)."""
    from pipeline.audio.models import kept, load_model
    from pipeline.privacy.redact import Redactor
    from pipeline.scoring.detect import Detector

    slots = worker_slots()
    threads = worker_threads(slots)
    model = kept(("whisper", options.model, threads, slots),
                  lambda: load_model(options.model, cpu_threads=threads, num_workers=slots))
    detector = kept(("detector", scorecard.id, scorecard.version), lambda: Detector(scorecard))
    redactor = kept(("redactor",), Redactor) if options.redact else None
    result = process_call(meta, model, scorecard, options, detector, redactor)
    stage_call(result, staging, run_id)
    return CallSummary.of(result)
