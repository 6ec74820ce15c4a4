"""The nightly flow: score every new recording in a folder into the callqa database.

Thin on purpose: each step is a `pipeline` function that also runs without Prefect. One task per
call (coarse: Prefect costs a few ms a task) runs on a thread pool; CTranslate2 releases the GIL,
so two calls transcribe at once on two cores. A call that fails is stored with its reason and the
batch goes on.

Past one machine (`cluster`, `task_runner`): the same per-call work runs on a Dask cluster
through prefect-dask. Workers never touch the database: each stages its call's rows as Parquet
in a folder every worker and this process can reach (`pipeline.worker`), and this process, the
single loader, loads them as calls finish, one transaction each. Rows staged but not loaded
(this process died) are loaded by the next run before it plans, so they are not scored again.

A run can be stopped from outside (`CONTROL`, used by `callqa score` on Ctrl-C or SIGTERM): no call
starts after the stop, nothing more is written, and the flow run ends Cancelled.
"""
from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.states import Cancelled
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.audio.activity import ActivityOptions
from pipeline.batch import CallSummary, plan_batch, summary_markdown
from pipeline.scoring.detect import Detector
from pipeline.audio.models import load_model
from pipeline.process import PipelineOptions, process_call
from pipeline.records import CallMeta, CallResult
from pipeline.privacy.redact import Redactor
from pipeline.store.retention import apply_retention
from pipeline.scoring.scorecard import DEFAULT_SCORECARD, load_scorecard
from pipeline.settings import DEFAULT_MODEL, cpu_cores, default_db, default_workers, parallelism
from pipeline.store.database import Store
from pipeline.store.writes import clear_unfinished, load_staged, save_call
from pipeline.worker import score_and_stage
from pipeline.audio.transcribe import TranscribeOptions


FAILURE_GRACE_S = 0.5
"""How long a failed call waits before it is stored, in a run a signal may stop (`score_call`)."""


class RunStopped(Exception):
    """The run was asked to stop: nothing more is written."""


class RunControl:
    """Stopping a run from outside the flow (`callqa score`'s signal handlers), safely.

    - `request_stop()`: no call starts after it, and nothing more is written: a call in hand is
      abandoned, whole (a call is saved in one transaction), and the next run scores it.
    - `writes`: held by every database transaction of the run (`_RunStore`). Whoever takes it
      after `request_stop()` knows no transaction is open and none will start, so the process
      may end at once without cutting a commit in two.
    - what the run has done so far, for the one line a stop prints (`summary()`).

    One per process (`CONTROL`); never set outside `callqa score` (served and test runs ignore it).
    """

    def __init__(self) -> None:
        self._stop = False  # a plain flag, no lock: a signal handler sets it
        self.watched = False  # a signal handler may stop this process's runs (`callqa score`)
        self.writes = threading.RLock()
        self.begin(None)

    def __reduce__(self):
        # A served run gets the flow function by value (cloudpickle), with the globals it uses:
        # in that process, the control is that process's own.
        return _process_control, ()

    def begin(self, flow_run_id) -> None:
        """A new flow run starts (a stop already requested stays requested)."""
        with self.writes:
            self.flow_run_id = flow_run_id
            self.planned: int | None = None
            self.scored = self.failed = 0
            self.in_hand: dict[str, None] = {}  # call ids started and not saved, in order

    def request_stop(self) -> None:
        self._stop = True

    @property
    def stopped(self) -> bool:
        return self._stop

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock; RunStopped (nothing written) once a stop is requested."""
        with self.writes:
            if self._stop:
                raise RunStopped("the run was stopped; nothing more is written")
            yield

    def started(self, call_id: str) -> None:
        with self.writes:
            self.in_hand[call_id] = None

    def saved(self, call_id: str, scored: bool) -> None:
        """`call_id` is saved, scored or failed (call it inside `writing()`, with the save)."""
        with self.writes:
            self.in_hand.pop(call_id, None)
            if scored:
                self.scored += 1
            else:
                self.failed += 1

    def summary(self) -> str:
        """What the run did, for one line: saved, left for the next run, abandoned in progress."""
        with self.writes:
            if self.planned is None:
                return "nothing scored; the next run scores every new recording"
            saved = self.scored + self.failed
            text = (f"{saved} of {self.planned} call(s) saved ({self.scored} scored, {self.failed} failed), "
                    f"{self.planned - saved} left for the next run")
            if self.in_hand:
                text += f"; abandoned in progress, nothing of it written: {', '.join(self.in_hand)}"
            return text


CONTROL = RunControl()


def _process_control() -> RunControl:
    return CONTROL


class _RunStore(Store):
    """The run's database: every transaction under `CONTROL.writing()`."""

    @contextmanager
    def transaction(self):
        with CONTROL.writing():
            with super().transaction() as con:
                yield con


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
    """Score one recording and store it (one transaction); failures are stored with their reason.

    After a stop (`CONTROL`) a call not started is not started, and a call in hand is not saved:
    the task run ends Cancelled and the next run scores the call.
    """
    if CONTROL.stopped:
        return Cancelled(message=f"{meta.call_id}: not started, the run was stopped; the next run scores it")
    CONTROL.started(meta.call_id)
    result = process_call(meta, model, scorecard, options, detector, redactor)
    if CONTROL.watched and (result.error or "").startswith("could not decode"):
        # The terminal's Ctrl-C (or a SIGTERM to the group) also reaches the ffmpeg decoding this
        # call, which then fails as "could not decode", a failure never retried. Give callqa's
        # handler a moment to note the stop, so such a failure is abandoned, not stored. Only
        # decode failures wait: an empty or too-long file fails before ffmpeg runs.
        time.sleep(FAILURE_GRACE_S)
    try:
        with CONTROL.writing():  # the save and its count together: a stop sees both or neither
            save_call(store, result, run_id)
            CONTROL.saved(meta.call_id, result.ok)
    except RunStopped:
        return Cancelled(message=f"{meta.call_id}: abandoned, nothing of it written, the run was stopped; "
                                 "the next run scores it")
    summary = CallSummary.of(result)
    _log_done(summary, progress)
    return summary


def _log_done(summary: CallSummary, progress: _Progress) -> None:
    state = f"score {summary.score:g}" if summary.score is not None else summary.status
    flag = " FLAGGED" if summary.flagged else ""
    get_run_logger().info(
        f"[{progress.tick()}/{progress.total}] {summary.call_id}: {state}{flag}"
        + (f" ({summary.detail})" if summary.detail else "")
    )


@task(name="score-call-on-worker", cache_policy=NO_CACHE, task_run_name="score {meta.call_id}")
def score_call_on_worker(meta: CallMeta, scorecard, options: PipelineOptions, staging: str, run_id: str) -> CallSummary:
    """Score one recording on a Dask worker and stage its rows for the loader (this flow's process)."""
    return score_and_stage(meta, scorecard, options, staging, run_id)


def staging_folder(db: str | Path, staging: str | None = None) -> Path:
    """Where workers stage their calls' rows: `staging`, else beside the database
    (`callqa.duckdb.staging/`). On a cluster of several machines, shared storage they all reach."""
    return Path(staging) if staging else Path(db).with_name(Path(db).name + ".staging")


def task_runner(cluster: str | None = None, concurrency: int | None = None):
    """Where the per-call tasks run: a thread pool here (no `cluster`), `local` or `local:N`
    (N worker processes on this machine, default `concurrency`, the cores shared among them), or
    the address of a running Dask scheduler ("tcp://host:8786")."""
    workers = concurrency or default_workers()
    if not cluster:
        return ThreadPoolTaskRunner(max_workers=workers)
    from prefect_dask import DaskTaskRunner

    kind, _, count = cluster.partition(":")
    if kind != "local":
        return DaskTaskRunner(address=cluster)
    workers = int(count) if count else workers
    threads = max(1, cpu_cores() // workers)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None,
        "env": {"CALLQA_THREADS": str(threads)},  # worker processes share this machine's cores
    })


@flow(name="callqa-nightly", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=default_workers()))
def nightly_scoring(
    recordings: str,
    db: str | None = None,
    scorecard: str = str(DEFAULT_SCORECARD),
    model: str = DEFAULT_MODEL,
    manifest: str | None = None,
    default_layout: str = "agent_left",
    language: str | None = None,
    concurrency: int | None = None,
    min_hold_s: float = 20.0,
    retention_days: int | None = None,
    cluster: str | None = None,
    staging: str | None = None,
) -> dict:
    """Score the recordings in `recordings` that the database does not have yet.

    `db` defaults to `pipeline.settings.default_db()`. With `retention_days`, transcripts (not
    scores) older than that are purged after scoring. `concurrency`: calls at once (default
    `settings.default_workers()`: $CALLQA_WORKERS, else one per core). `cluster`: the calls run on
    Dask workers (run the flow with `task_runner(cluster)`), which stage their rows in `staging`
    (default `staging_folder(db)`) for this process to load.
    """
    logger = get_run_logger()
    context = FlowRunContext.get()
    CONTROL.begin(context.flow_run.id if context and context.flow_run else None)
    started, run_id = time.perf_counter(), uuid.uuid4().hex[:12]
    card = load_scorecard(scorecard)  # a broken scorecard stops the run before any audio
    options = PipelineOptions(
        model=model,
        default_layout=default_layout,
        activity=ActivityOptions(min_hold_s=min_hold_s),
        transcribe=TranscribeOptions(language=language),
    )
    try:
        store = _RunStore(db or default_db())
        staged = staging_folder(store.path, staging)
        with store.run_lock():  # a second run on this database refuses instead of racing
            clear_unfinished(staged)  # no worker of this database stages now: what is half-written is dead
            leftover = load_staged(store, staged)
            if leftover:
                logger.info(f"loaded {leftover} call(s) that workers of an earlier run staged in {staged}")
            plan = plan_batch(recordings, store, manifest)
            for warning in plan.warnings:
                logger.warning(warning)
            logger.info(
                f"{len(plan.todo)} call(s) to score, {len(plan.already_scored)} already scored; "
                f"scorecard {card.id}@{card.version}; model {model}"
            )
            CONTROL.planned = len(plan.todo)
            if not plan.todo:
                summaries = []
            elif cluster:
                summaries = _score_on_cluster(plan.todo, card, options, store, run_id, staged)
            else:
                summaries = _score_all(plan.todo, card, options, store, run_id, concurrency)
            if retention_days is not None:
                with CONTROL.writing():
                    purged = apply_retention(store, retention_days)
                logger.info(f"retention: purged transcripts of {purged.calls} call(s) older than {retention_days} days")
    except RunStopped:
        logger.warning(f"stopped: {CONTROL.summary()}")
        return Cancelled(message=f"stopped: {CONTROL.summary()}")
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


def _score_all(todo: list[CallMeta], card, options: PipelineOptions, store: Store, run_id: str,
               concurrency: int | None) -> list[CallSummary]:
    """Load Whisper once, then one task per call, `concurrency` at a time, the cores shared out
    among them (`settings.parallelism`: $CALLQA_WORKERS, $CALLQA_THREADS).

    Raises RunStopped after a stop (`CONTROL`): calls not started are cancelled and this returns
    without waiting for a call in hand (which is not saved).
    """
    workers, threads = parallelism(len(todo), concurrency)
    whisper = load_model(options.model, cpu_threads=threads, num_workers=workers)
    detector, progress = Detector(card), _Progress(len(todo))
    redactor = Redactor() if options.redact else None
    if CONTROL.stopped:
        raise RunStopped
    futures = [score_call.submit(meta, whisper, card, options, detector, redactor, store, run_id, progress) for meta in todo]
    waiting = {future.wrapped_future for future in futures}
    while waiting and not CONTROL.stopped:
        _, waiting = concurrent.futures.wait(waiting, timeout=0.25, return_when=concurrent.futures.FIRST_COMPLETED)
    if CONTROL.stopped:
        for future in futures:
            future.wrapped_future.cancel()
        raise RunStopped
    return [future.result() for future in futures]


def _score_on_cluster(todo: list[CallMeta], card, options: PipelineOptions, store: Store, run_id: str,
                      staging: Path) -> list[CallSummary]:
    """One task per call on the Dask cluster; as calls finish, load what the workers staged.

    Dask runs a call again elsewhere when its worker dies; a call whose task fails anyway
    (its workers kept dying, the staging folder was not writable) is stored as failed with the
    reason, unless its rows were loaded. Raises RunStopped after a stop: what workers stage after
    it is loaded by the next run.
    """
    progress = _Progress(len(todo))
    futures = {score_call_on_worker.submit(meta, card, options, str(staging), run_id): meta for meta in todo}
    for meta in todo:
        CONTROL.started(meta.call_id)
    summaries: dict[str, CallSummary] = {}
    waiting = set(futures)
    while waiting and not CONTROL.stopped:
        finished = {future for future in waiting if future.wrapped_future.done()}
        if not finished:
            time.sleep(0.25)
            continue
        waiting -= finished
        with CONTROL.writing():
            load_staged(store, staging)
            for future in finished:
                summary = _finished(future, futures[future], store, run_id)
                CONTROL.saved(summary.call_id, summary.status == "scored")
                summaries[summary.call_id] = summary
                _log_done(summary, progress)
    if CONTROL.stopped:
        for future in waiting:
            future.wrapped_future.cancel()
        raise RunStopped
    return [summaries[meta.call_id] for meta in todo]


def _finished(future, meta: CallMeta, store: Store, run_id: str) -> CallSummary:
    """A finished worker task's summary; a task that failed as a whole is stored as a failed call."""
    try:
        return future.result()
    except Exception as exc:
        reason = f"the worker failed: {type(exc).__name__}: {exc}"
        if type(exc).__name__ == "KilledWorker":
            reason = "every worker that tried it died (out of memory?): the next run tries again"
        with store.connect(read_only=True) as con:
            loaded = con.execute("SELECT 1 FROM calls WHERE call_id = ? AND run_id = ?", [meta.call_id, run_id]).fetchone()
        if not loaded:
            save_call(store, CallResult(meta=meta, error=reason), run_id)
        return CallSummary.of(CallResult(meta=meta, error=reason))


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
    concurrency = int(parameters.get("concurrency") or default_workers())
    # Served runs execute this flow object in a subprocess: the task runner travels with it.
    flow_ = nightly_scoring.with_options(task_runner=task_runner(parameters.get("cluster"), concurrency))
    with prefect_api(port, echo=echo):
        serve_flow(flow_, schedule=schedule, echo=echo,
                   parameters={"recordings": str(Path(recordings).resolve()), **parameters})
