"""The `callqa` command: the library's commands (`pipeline.cli`) plus those that start flows.

    callqa score RECORDINGS      run the nightly flow once (Prefect), then print its summary
    callqa serve RECORDINGS      run it on a schedule against a local Prefect server

Usage mistakes are caught before Prefect starts or anything is created: one line, exit 2.
"""
from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape

from pipeline.audio.models import ModelNotAvailable, resolve_model
from pipeline.cli.common import (
    EXIT_BUSY, EXIT_CALLS_FAILED, EXIT_STORAGE, check_database_for_writing, console, db_option, errors, fail, print_table,
    resolve_db, scorecard_or_exit, tidy_help,
)
from pipeline.cli.main import app
from pipeline.scoring.scorecard import DEFAULT_SCORECARD
from pipeline.settings import DEFAULT_MODEL


class Channel(str, Enum):
    left = "left"
    right = "right"


def check_cluster(cluster: Optional[str]) -> None:
    """A `--cluster` that can work, told in a second: prefect-dask installed, `local[:N]` well
    formed, a scheduler's address answering."""
    if not cluster:
        return
    try:
        import prefect_dask  # noqa: F401
    except ImportError:
        fail("--cluster needs prefect-dask: pip install 'callqa[cluster]' (on every worker too)")
    kind, _, count = cluster.partition(":")
    if kind == "local":
        if count and not (count.isdigit() and int(count) > 0):
            fail(f"--cluster {cluster}: give local, or local:N with N worker processes (e.g. local:2)")
        return
    from urllib.parse import urlsplit
    import socket

    address = urlsplit(cluster if "://" in cluster else f"tcp://{cluster}")
    try:
        host, port = address.hostname, address.port
    except ValueError:
        host = port = None
    if not host or not port:
        fail(f"--cluster {cluster}: give a Dask scheduler's address (tcp://HOST:8786), or local[:N]")
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        fail(f"--cluster {cluster}: no Dask scheduler answers there ({exc.strerror or exc})")


def check_inputs(recordings: Path, manifest: Optional[Path], model: str, scorecard: Path,
                 database: Optional[Path] = None, cluster: Optional[str] = None) -> None:
    """Everything a run needs that a user can get wrong, checked before anything is created.

    Cheap checks first; with `database`, also that it can be written and no other run holds it
    (exit 3), so a busy database is told in a second, before Prefect starts.
    """
    if not recordings.exists():
        fail(f"recordings folder not found: {recordings}")
    if not recordings.is_dir():
        fail(f"not a folder: {recordings} (give the folder that holds the recordings)")
    if manifest is not None and not manifest.is_file():
        fail(f"manifest not found or not a file: {manifest}")
    scorecard_or_exit(scorecard)
    try:
        resolve_model(model)
    except ModelNotAvailable as exc:
        fail(str(exc))
    check_cluster(cluster)
    if database is not None:
        check_database_for_writing(database)


# The options of a run, shared by `score` (once) and `serve` (on a schedule).
ScorecardOption = typer.Option(DEFAULT_SCORECARD, help="Scorecard YAML file.")
ModelOption = typer.Option(DEFAULT_MODEL, help="Whisper model: base, tiny.en, or a CTranslate2 model directory.")
ManifestOption = typer.Option(None, help="Manifest CSV (default: RECORDINGS/manifest.csv if present).")
AgentChannelOption = typer.Option(Channel.left, help="Agent's channel in stereo files the manifest says nothing about.")
LanguageOption = typer.Option(None, help="Language code for every call (default: detect per call).")
ConcurrencyOption = typer.Option(2, min=1, help="Calls transcribed at the same time.")
MinHoldOption = typer.Option(20.0, min=1.0, help="Seconds without agent speech that make a hold.")
RetentionOption = typer.Option(None, min=0, help="After scoring, purge the transcripts of calls older than this many days (scores stay).")
ClusterOption = typer.Option(None, help="Run the calls on Dask: local (one worker process per --concurrency), local:N, or a scheduler's address tcp://HOST:8786.", show_default=False)
StagingOption = typer.Option(None, help="With --cluster: the folder where workers leave their calls for this process to load; shared storage every worker reaches (default: beside the database).", show_default=False)


@app.command()
def score(
    recordings: Path = typer.Argument(..., help="Folder of recordings (wav, mp3, flac, ogg, m4a)."),
    db: Optional[Path] = db_option(),
    scorecard: Path = ScorecardOption,
    model: str = ModelOption,
    manifest: Optional[Path] = ManifestOption,
    agent_channel: Channel = AgentChannelOption,
    language: Optional[str] = LanguageOption,
    concurrency: int = ConcurrencyOption,
    min_hold: float = MinHoldOption,
    retention_days: Optional[int] = RetentionOption,
    cluster: Optional[str] = ClusterOption,
    staging: Optional[Path] = StagingOption,
) -> None:
    """Score every recording in RECORDINGS not yet in the database (the nightly flow, run once).

    Exit 0 when every call scored, 1 when some failed (reasons in the database), 2 on a usage
    mistake, 3 when another run holds the database. Ctrl-C or SIGTERM stops within seconds: the
    call in progress is abandoned whole (the next run scores it and what is left), the Prefect run
    is marked Cancelled, one line says what was saved, and the exit code is 128 + the signal's
    number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM (129 for SIGHUP).
    """
    started = time.monotonic()  # the whole command: the summary's time is the time the user waited
    database = resolve_db(db)
    check_inputs(recordings, manifest, model, scorecard, database, cluster)
    from flows.schedule import OneOffRun, ServeError
    from pipeline.store.database import StorageError, StoreBusy

    # Prefect's API: PREFECT_API_URL if set, else a temporary server that callqa starts now (it
    # boots while the flow's modules import) where no Ctrl-C or SIGTERM meant for callqa reaches it.
    with OneOffRun(warn=lambda line: errors.print(escape(line), soft_wrap=True)) as run:
        try:
            run.start_api()
            from flows.nightly import CONTROL, nightly_scoring, task_runner

            flow = nightly_scoring.with_options(task_runner=task_runner(cluster, concurrency))
            with run.api():
                outcome = run.execute(CONTROL, lambda: flow(
                    recordings=str(recordings), db=str(database), scorecard=str(scorecard), model=model,
                    manifest=str(manifest) if manifest else None, default_layout=f"agent_{agent_channel.value}",
                    language=language, concurrency=concurrency, min_hold_s=min_hold, retention_days=retention_days,
                    cluster=cluster, staging=str(staging.resolve()) if staging else None,
                ))
        except ServeError as exc:  # the temporary server did not start, or PREFECT_API_URL does not answer
            fail(str(exc))
        except StoreBusy as exc:  # another run started between the check and the flow
            fail(str(exc), EXIT_BUSY)
        except StorageError as exc:
            fail(f"{exc}; what was saved before it is whole: run again once there is room", EXIT_STORAGE)
    if outcome["calls"]:
        print_table(pd.DataFrame([{"call_id": c["call_id"], "agent_id": c["agent_id"], "status": c["status"],
                                   "score": c["score"], "flagged": c["flagged"], "why": c["detail"]} for c in outcome["calls"]]),
                    f"Run {outcome['run_id']}")
    else:
        console.print(f"Nothing new to score in {escape(str(recordings))}: "
                      f"{outcome['skipped']} recording(s) already scored or waiting for a change.", soft_wrap=True)
    for warning in outcome["warnings"]:
        console.print(f"[yellow]warning: {escape(warning)}[/yellow]", soft_wrap=True)
    console.print(
        f"scored {outcome['scored']}, failed {outcome['failed']}, skipped {outcome['skipped']} "
        f"(already scored), flagged {outcome['flagged']}, in {time.monotonic() - started:.1f} s. Database: {escape(str(database))}",
        soft_wrap=True,
    )
    if outcome["failed"]:
        raise typer.Exit(EXIT_CALLS_FAILED)


@app.command()
def serve(
    recordings: Path = typer.Argument(..., help="Folder the recordings arrive in."),
    cron: Optional[str] = typer.Option(None, help="When to run, as cron (minute hour day-of-month month weekday). Default: \"0 2 * * *\", 02:00 every night.", show_default=False),
    interval: Optional[float] = typer.Option(None, min=1.0, help="Instead of --cron: run every this many seconds."),
    timezone: Optional[str] = typer.Option(None, help="IANA time zone of the schedule, e.g. Europe/Oslo. Default: the machine's zone, else UTC.", show_default=False),
    port: int = typer.Option(4200, min=1, max=65535, help="Port of the Prefect server callqa starts on 127.0.0.1 (unused when PREFECT_API_URL is set)."),
    db: Optional[Path] = db_option(),
    scorecard: Path = ScorecardOption,
    model: str = ModelOption,
    manifest: Optional[Path] = ManifestOption,
    agent_channel: Channel = AgentChannelOption,
    language: Optional[str] = LanguageOption,
    concurrency: int = ConcurrencyOption,
    min_hold: float = MinHoldOption,
    retention_days: Optional[int] = RetentionOption,
    cluster: Optional[str] = ClusterOption,
    staging: Optional[Path] = StagingOption,
) -> None:
    """Run `callqa score RECORDINGS` on a schedule until Ctrl-C or SIGTERM (a long-lived process).

    Starts a local Prefect server (127.0.0.1:PORT, its SQLite under PREFECT_HOME, default
    ~/.local/share/callqa/prefect) unless PREFECT_API_URL names one, serves the deployment
    callqa-nightly on it, and stops the server on the way out. Runs and their logs: the Prefect
    UI at http://127.0.0.1:PORT. Exit 2 on a usage mistake, before anything starts.
    """
    check_inputs(recordings, manifest, model, scorecard, cluster=cluster)
    from flows.schedule import ServeError, make_schedule, prepare_environment

    prepare_environment()  # PREFECT_HOME, before Prefect is imported
    if cron is not None and interval is not None:
        fail("give either --cron or --interval, not both")
    try:
        make_schedule(cron=cron, interval=interval, timezone=timezone)
    except ValueError as exc:
        fail(str(exc))
    from flows.nightly import serve_nightly

    try:
        serve_nightly(
            str(recordings.resolve()), cron=cron, interval=interval, timezone=timezone, port=port,
            echo=lambda line: console.print(escape(line), soft_wrap=True),
            db=str(resolve_db(db).resolve()), scorecard=str(scorecard.resolve()), model=model,
            manifest=str(manifest.resolve()) if manifest else None, default_layout=f"agent_{agent_channel.value}",
            language=language, concurrency=concurrency, min_hold_s=min_hold, retention_days=retention_days,
            cluster=cluster, staging=str(staging.resolve()) if staging else None,
        )
    except ServeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
    console.print("Stopped.")


tidy_help(app)  # score and serve too: plain usage lines, no <bool> on flags

if __name__ == "__main__":  # pragma: no cover
    app()
