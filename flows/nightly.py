"""The nightly flow: score every new recording in a folder into the callqa database.

Thin on purpose: each step is a `pipeline` function that also runs without Prefect. One task per
call (coarse: Prefect costs a few ms a task) runs on a thread pool; CTranslate2 releases the GIL,
so two calls transcribe at once on two cores. A call that fails is stored with its reason and the
batch goes on.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.audio.activity import ActivityOptions
from pipeline.batch import CallSummary, plan_batch, summary_markdown
from pipeline.scoring.detect import Detector
from pipeline.audio.models import load_model
from pipeline.process import PipelineOptions, process_call
from pipeline.records import CallMeta
from pipeline.privacy.redact import Redactor
from pipeline.store.retention import apply_retention
from pipeline.scoring.scorecard import DEFAULT_SCORECARD, load_scorecard
from pipeline.settings import DEFAULT_MODEL, default_db
from pipeline.store.database import Store
from pipeline.store.writes import save_call
from pipeline.audio.transcribe import TranscribeOptions


class _Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done, self.lock = total, 0, threading.Lock()

    def tick(self) -> int:
        with self.lock:
            self.done += 1
            return self.done


@task(name="score-call", cache_policy=NO_CACHE, task_run_name="score {meta.call_id}")
def score_call(meta: CallMeta, model, scorecard, options: PipelineOptions, detector: Detector, redactor: Redactor | None,
               store: Store, run_id: str, progress: _Progress) -> CallSummary:
    """Score one recording and store it (one transaction); failures are stored with their reason."""
    result = process_call(meta, model, scorecard, options, detector, redactor)
    save_call(store, result, run_id)
    summary = CallSummary.of(result)
    state = f"score {summary.score:g}" if summary.score is not None else summary.status
    flag = " FLAGGED" if summary.flagged else ""
    get_run_logger().info(
        f"[{progress.tick()}/{progress.total}] {meta.call_id}: {state}{flag}"
        + (f" ({summary.detail})" if summary.detail else "")
    )
    return summary


@flow(name="callqa-nightly", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def nightly_scoring(
    recordings: str,
    db: str | None = None,
    scorecard: str = str(DEFAULT_SCORECARD),
    model: str = DEFAULT_MODEL,
    manifest: str | None = None,
    default_layout: str = "agent_left",
    language: str | None = None,
    concurrency: int = 2,
    min_hold_s: float = 20.0,
    retention_days: int | None = None,
) -> dict:
    """Score the recordings in `recordings` that the database does not have yet.

    `db` defaults to `pipeline.settings.default_db()`. With `retention_days`, transcripts (not
    scores) older than that are purged after scoring.
    """
    logger = get_run_logger()
    started, run_id = time.perf_counter(), uuid.uuid4().hex[:12]
    card = load_scorecard(scorecard)  # a broken scorecard stops the run before any audio
    options = PipelineOptions(
        model=model,
        default_layout=default_layout,
        activity=ActivityOptions(min_hold_s=min_hold_s),
        transcribe=TranscribeOptions(language=language),
    )
    store = Store(db or default_db())
    with store.run_lock():  # a second run on this database refuses instead of racing
        plan = plan_batch(recordings, store, manifest)
        for warning in plan.warnings:
            logger.warning(warning)
        logger.info(
            f"{len(plan.todo)} call(s) to score, {len(plan.already_scored)} already scored; "
            f"scorecard {card.id}@{card.version}; model {model}"
        )
        summaries = _score_all(plan.todo, card, options, store, run_id, concurrency) if plan.todo else []
        if retention_days is not None:
            purged = apply_retention(store, retention_days)
            logger.info(f"retention: purged transcripts of {purged.calls} call(s) older than {retention_days} days")
    wall = time.perf_counter() - started
    report = summary_markdown(summaries, plan, wall)
    create_markdown_artifact(report, key="callqa-run-summary", description="callqa nightly run")
    if summaries:
        create_table_artifact([asdict(s) for s in summaries], key="callqa-run-calls")
    logger.info(report)
    return {
        "run_id": run_id,
        "scored": sum(s.status == "scored" for s in summaries),
        "failed": sum(s.status == "failed" for s in summaries),
        "skipped": len(plan.already_scored),
        "flagged": sum(s.flagged for s in summaries),
        "wall_s": round(wall, 1),
        "warnings": plan.warnings,
        "calls": [asdict(s) for s in summaries],
    }


def _score_all(todo: list[CallMeta], card, options: PipelineOptions, store: Store, run_id: str, concurrency: int) -> list[CallSummary]:
    """Load Whisper once, then one task per call, `concurrency` at a time."""
    workers = max(1, min(concurrency, len(todo)))
    whisper = load_model(options.model, cpu_threads=max(1, (os.cpu_count() or 2) // workers), num_workers=workers)
    detector, progress = Detector(card), _Progress(len(todo))
    redactor = Redactor() if options.redact else None
    futures = [score_call.submit(meta, whisper, card, options, detector, redactor, store, run_id, progress) for meta in todo]
    return [future.result() for future in futures]


def serve_nightly(
    recordings: str,
    cron: str | None = None,
    interval: float | None = None,
    timezone: str | None = None,
    port: int = 4200,
    echo=print,
    **parameters,
) -> None:
    """Run the flow on a schedule until Ctrl-C or SIGTERM (a long-lived process).

    `cron` (default "0 2 * * *") or `interval` seconds, in `timezone` (default: the machine's
    IANA zone). Against the server in PREFECT_API_URL when one is set, else a Prefect server
    started here on 127.0.0.1:`port` and stopped on the way out (see `flows.schedule`).
    `parameters` are the flow's other parameters (db, scorecard, model, ...), stored on the
    deployment, so each scheduled run uses them.
    """
    from flows.schedule import make_schedule, prefect_api, serve_flow

    schedule = make_schedule(cron=cron, interval=interval, timezone=timezone)
    concurrency = int(parameters.get("concurrency") or 2)
    # Served runs execute this flow object in a subprocess: the task runner travels with it.
    flow_ = nightly_scoring.with_options(task_runner=ThreadPoolTaskRunner(max_workers=concurrency))
    with prefect_api(port, echo=echo):
        serve_flow(flow_, schedule=schedule, echo=echo,
                   parameters={"recordings": str(Path(recordings).resolve()), **parameters})
