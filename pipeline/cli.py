"""`callqa`: score a folder of recordings, and read the results back.

    callqa score RECORDINGS      run the nightly flow once (Prefect), then print its summary
    callqa serve RECORDINGS      run it every night on a cron schedule (default 02:00)
    callqa agents                agent scorecards per day or week
    callqa calls [--flagged]     scored and failed calls; flagged ones with why
    callqa show CALL_ID          one call: transcript by speaker, findings, items, holds, metrics
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .rules import clock
from .scorecard import DEFAULT_SCORECARD, ScorecardError, load_scorecard
from .store import DEFAULT_DB, Store

app = typer.Typer(add_completion=False, no_args_is_help=True, help="callqa: score every call against its SOP scorecard.")
scorecard_app = typer.Typer(help="Scorecard files.")
app.add_typer(scorecard_app, name="scorecard")
console = Console()

DbOption = typer.Option(DEFAULT_DB, "--db", help="DuckDB file with the results.")


class Channel(str, Enum):
    left = "left"
    right = "right"


class Period(str, Enum):
    day = "day"
    week = "week"


def _store(db: Path) -> Store:
    """The database for reading; a missing file is a message, not a traceback."""
    try:
        return Store(db, read_only=True)
    except FileNotFoundError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1)


def _fmt(value) -> str:
    """One cell as a reviewer reads it: no NaN, no 00:00:00 on dates, yes/blank for flags."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _table(frame, title: str = "", columns: Optional[list[str]] = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    columns = columns or list(frame.columns)
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    return table


@app.command()
def score(
    recordings: Path = typer.Argument(..., help="Folder of recordings (wav, mp3, flac, ogg, m4a)."),
    db: Path = DbOption,
    scorecard: Path = typer.Option(DEFAULT_SCORECARD, help="Scorecard YAML file."),
    model: str = typer.Option("base", help="Whisper model: base, tiny.en, a model directory, or a hub name."),
    manifest: Optional[Path] = typer.Option(None, help="Manifest CSV (default: RECORDINGS/manifest.csv if present)."),
    agent_channel: Channel = typer.Option(Channel.left, help="Agent's channel in stereo files the manifest says nothing about."),
    language: Optional[str] = typer.Option(None, help="Language code for every call (default: detect per call)."),
    concurrency: int = typer.Option(2, min=1, help="Calls transcribed at the same time."),
    min_hold: float = typer.Option(20.0, help="Seconds without agent speech that make a hold."),
    retention_days: Optional[int] = typer.Option(None, min=0, help="After scoring, purge transcripts older than this."),
) -> None:
    """Score every recording in RECORDINGS not yet in the database (the nightly flow, run once)."""
    try:
        load_scorecard(scorecard)
    except ScorecardError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.nightly import nightly_scoring
    from .store import StoreBusy

    flow = nightly_scoring.with_options(task_runner=ThreadPoolTaskRunner(max_workers=concurrency))
    try:
        outcome = flow(
            recordings=str(recordings), db=str(db), scorecard=str(scorecard), model=model,
            manifest=str(manifest) if manifest else None, default_layout=f"agent_{agent_channel.value}",
            language=language, concurrency=concurrency, min_hold_s=min_hold, retention_days=retention_days,
        )
    except StoreBusy as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3)
    table = Table(title=f"Run {outcome['run_id']}", title_justify="left", header_style="bold")
    for column in ("call", "agent", "status", "score", "flagged", "why"):
        table.add_column(column, overflow="fold")
    for call in outcome["calls"]:
        style = "red" if call["status"] == "failed" else ("yellow" if call["flagged"] else "")
        table.add_row(call["call_id"], call["agent_id"], call["status"], _fmt(call["score"]),
                      "yes" if call["flagged"] else "", call["detail"], style=style)
    console.print(table)
    for warning in outcome["warnings"]:
        console.print(f"[yellow]warning: {warning}[/yellow]")
    console.print(
        f"scored {outcome['scored']}, failed {outcome['failed']}, skipped {outcome['skipped']} "
        f"(already scored), flagged {outcome['flagged']}, in {outcome['wall_s']} s. Database: {db}"
    )
    if outcome["failed"]:
        raise typer.Exit(1)


@app.command()
def serve(
    recordings: Path = typer.Argument(..., help="Folder the recordings arrive in."),
    cron: str = typer.Option("0 2 * * *", help="When to run (cron, server time). Default: 02:00 every night."),
    db: Path = DbOption,
    scorecard: Path = typer.Option(DEFAULT_SCORECARD),
    model: str = typer.Option("base"),
) -> None:
    """Run the nightly flow on a schedule, as a long-lived Prefect deployment."""
    from flows.nightly import serve_nightly

    serve_nightly(str(recordings), cron=cron, db=str(db.resolve()), scorecard=str(scorecard.resolve()), model=model)


@app.command()
def agents(
    db: Path = DbOption,
    period: Period = typer.Option(Period.week, help="Scorecards per day or per week."),
    items: bool = typer.Option(True, help="Also show each item's pass rate."),
) -> None:
    """Agent scorecards: calls, average score, holds, handle time, item pass rates."""
    store = _store(db)
    frame = store.query(
        "SELECT * EXCLUDE (period) FROM agent_scorecards WHERE period = ? ORDER BY period_start, agent_id",
        [period.value],
    )
    if frame.empty:
        console.print("No scored calls yet.")
        return
    columns = ["period_start", "agent_id", "agent_name", "calls", "avg_score", "flagged_calls", "avg_handle_time_s",
               "holds", "avg_hold_s", "longest_hold_s", "holds_over_60s", "holds_without_apology"]
    if frame.scorecard_id.nunique() > 1:
        columns.insert(3, "scorecard_id")
    console.print(_table(frame, f"Agent scorecards per {period.value}", columns))
    if items:
        rates = store.query(
            "SELECT period_start, agent_id, scorecard_id, item_id, pass_rate FROM agent_item_pass_rates "
            "WHERE period = ? ORDER BY period_start, agent_id",
            [period.value],
        )
        wide = rates.pivot_table(index=["period_start", "agent_id", "scorecard_id"], columns="item_id",
                                 values="pass_rate", aggfunc="first").reset_index()
        wide.columns.name = None
        console.print(_table(wide, f"Item pass rates per {period.value} (applicable calls)"))


@app.command()
def calls(
    db: Path = DbOption,
    flagged: bool = typer.Option(False, "--flagged", help="Only calls flagged for review, with why."),
    agent: Optional[str] = typer.Option(None, help="Only this agent's calls."),
    limit: int = typer.Option(200),
) -> None:
    """Calls in the database: scored (with score and flags) and failed (with the reason)."""
    store = _store(db)
    where, params = ["TRUE"], []
    if flagged:
        where.append("o.flagged")
    if agent:
        where.append("c.agent_id = ?")
        params.append(agent)
    frame = store.query(
        f"""SELECT c.call_id, c.agent_id, c.status, o.score, o.flagged,
                   coalesce(c.error, array_to_string(o.flag_reasons, '; ')) AS why, c.duration_s
            FROM calls c LEFT JOIN call_overview o USING (call_id)
            WHERE {' AND '.join(where)} ORDER BY c.status DESC, o.score NULLS FIRST, c.call_id LIMIT ?""",
        params + [limit],
    )
    title = "Flagged calls" if flagged else "Calls"
    console.print(_table(frame, title) if not frame.empty else f"{title}: none.")


@app.command()
def show(call_id: str, db: Path = DbOption) -> None:
    """One call for review: transcript by speaker with times, findings as evidence, items, holds."""
    store = _store(db)
    call = store.query("SELECT * FROM calls WHERE call_id = ?", [call_id])
    if call.empty:
        console.print(f"[red]No call '{call_id}' in {db}.[/red]")
        raise typer.Exit(1)
    row = call.iloc[0]
    console.print(f"[bold]{call_id}[/bold]  agent {row.agent_id} {row.agent_name or ''}  {row.status}  "
                  f"{row.channel_layout or ''}  {row.language or ''}  {_fmt(row.duration_s)} s  {row.source_path}")
    if row.status == "failed":
        console.print(f"[red]failed: {row.error}[/red]")
        return
    score = store.query("SELECT * FROM latest_scores WHERE call_id = ?", [call_id])
    for s in score.itertuples():
        console.print(f"score {_fmt(s.score)} ({s.scorecard_id}@{s.scorecard_version})"
                      + (f"  [yellow]FLAGGED: {'; '.join(s.flag_reasons)}[/yellow]" if s.flagged else ""))
    items = store.query(
        "SELECT r.item_id, r.outcome, r.weight, r.reason FROM item_results r JOIN latest_scores s "
        "USING (call_id, scorecard_id, scorecard_version) WHERE call_id = ?", [call_id])
    console.print(_table(items, "Items"))
    findings = store.query(
        "SELECT f.* FROM findings f JOIN latest_scores s USING (call_id, scorecard_id, scorecard_version) "
        "WHERE call_id = ? ORDER BY start_s", [call_id])
    holds = store.query("SELECT * FROM hold_details WHERE call_id = ? ORDER BY hold_idx", [call_id])
    if not holds.empty:
        console.print(_table(holds, "Holds", ["hold_idx", "start_s", "end_s", "duration_s", "announced", "acknowledged"]))
    metrics = store.query("SELECT * EXCLUDE (call_id) FROM metrics WHERE call_id = ?", [call_id])
    if not metrics.empty:
        console.print("metrics: " + ", ".join(f"{k} {_fmt(v)}" for k, v in metrics.iloc[0].items()))
    console.print("[bold]Transcript[/bold] (findings marked ▶)")
    utterances = store.query("SELECT * FROM utterances WHERE call_id = ? ORDER BY start_s, idx", [call_id])
    by_time = findings.sort_values("start_s").to_dict("records")
    for u in utterances.itertuples():
        marks = [f for f in by_time if f["speaker"] == u.speaker and u.start_s - 0.01 <= f["start_s"] <= u.end_s + 0.01]
        colour = "cyan" if u.speaker == "agent" else "magenta"
        console.print(f"[{colour}]{clock(u.start_s)}-{clock(u.end_s)} {u.speaker:8}[/{colour}] {u.text}")
        for f in marks:
            console.print(f"      ▶ {f['item_id']}: \"{f['text']}\" at {clock(f['start_s'])} (confidence {f['confidence']:.2f})")
    for f in by_time:
        if f["speaker"] is None:
            console.print(f"▶ {f['item_id']}: {f['text']} at {clock(f['start_s'])}-{clock(f['end_s'])}")


@app.command()
def rescore(
    db: Path = DbOption,
    scorecard: Path = typer.Option(DEFAULT_SCORECARD, help="Scorecard YAML file (a new version of the form)."),
    since: Optional[datetime] = typer.Option(None, help="Only calls from this date on."),
) -> None:
    """Re-score stored transcripts with a scorecard: no audio, no Whisper; earlier versions' results stay."""
    from .rescore import rescore as run_rescore

    try:
        card = load_scorecard(scorecard)
    except ScorecardError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    store = Store(db)
    with store.run_lock():
        done = run_rescore(store, card, since)
    rate = done.calls / done.seconds if done.seconds else 0
    console.print(f"re-scored {done.calls} call(s) with {card.id}@{done.version} in {done.seconds:.2f} s ({rate:.0f} calls/s)")
    versions = store.query(
        "SELECT scorecard_version, max(scored_at) AS last FROM call_scores WHERE scorecard_id = ? GROUP BY 1 ORDER BY last DESC",
        [card.id],
    )
    if len(versions) > 1:
        console.print(f"compare with: callqa compare {card.id} {versions.scorecard_version[1]} {done.version}")


@app.command()
def compare(
    scorecard_id: str,
    old_version: str,
    new_version: str,
    db: Path = DbOption,
) -> None:
    """How scores moved between two versions of a scorecard, call by call."""
    from .rescore import compare as run_compare

    frame = run_compare(_store(db), scorecard_id, old_version, new_version)
    if frame.empty:
        console.print(f"No call scored with both {scorecard_id}@{old_version} and @{new_version}.")
        raise typer.Exit(1)
    console.print(_table(frame, f"{scorecard_id}: {old_version} → {new_version}"))
    console.print(f"{len(frame)} calls; mean score {frame.old_score.mean():.1f} → {frame.new_score.mean():.1f}; "
                  f"{int((frame.change != 0).sum())} changed")


@app.command()
def retention(
    days: int = typer.Option(..., min=0, help="Keep transcripts (and recordings) this many days."),
    db: Path = DbOption,
    delete_recordings: bool = typer.Option(False, help="Also delete the audio files of purged calls."),
) -> None:
    """Delete transcripts (and optionally recordings) older than DAYS; scores and metrics stay."""
    from .retention import apply_retention

    purged = apply_retention(Store(db), days, delete_recordings)
    console.print(
        f"purged {purged.calls} call(s): {purged.utterances} utterances deleted"
        + (f", {purged.recordings_deleted} recording(s) deleted ({purged.recordings_missing} already gone)" if delete_recordings else "")
    )


@scorecard_app.command("check")
def scorecard_check(path: Path) -> None:
    """Validate a scorecard file without scoring anything."""
    try:
        card = load_scorecard(path)
    except ScorecardError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    console.print(f"{path}: OK - {card.id}@{card.version}, {len(card.items)} items in {len(card.sections)} sections")


from .cli_corpus import register as _register_corpus_commands  # noqa: E402  (import, eval)

_register_corpus_commands(app)


if __name__ == "__main__":  # pragma: no cover
    app()
