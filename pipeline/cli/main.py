"""`callqa`'s library commands: read results back, re-score, retention, scorecards.

    callqa agents                agent scorecards per day or week
    callqa calls [--flagged]     scored and failed calls; flagged ones with why
    callqa show CALL_ID          one call: transcript by speaker, findings, items, holds, metrics
    callqa rescore               re-score stored transcripts with a (new) scorecard
    callqa compare ID OLD NEW    how scores moved between two scorecard versions
    callqa retention --days N    purge transcripts (and recordings) older than N days
    callqa scorecard check FILE  validate a scorecard

The commands that start Prefect flows (`score`, `serve`) are added by `flows.cli`, so the
library never imports the flows. Every query comes from `pipeline.store.reads`.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from pipeline.cli.common import console, db_option, fail, fmt, open_reader, run_lock_or_exit, scorecard_or_exit, table
from pipeline.cli.corpus import register as register_corpus_commands
from pipeline.scoring.rules import clock
from pipeline.scoring.scorecard import DEFAULT_SCORECARD
from pipeline.store import reads

app = typer.Typer(add_completion=False, no_args_is_help=True, help="callqa: score every call against its SOP scorecard.")
scorecard_app = typer.Typer(help="Scorecard files.")
app.add_typer(scorecard_app, name="scorecard")


class Period(str, Enum):
    day = "day"
    week = "week"


@app.command()
def agents(
    db: Optional[Path] = db_option(),
    period: Period = typer.Option(Period.week, help="Scorecards per day or per week."),
    items: bool = typer.Option(True, help="Also show each item's pass rate."),
) -> None:
    """Agent scorecards: calls, average score, holds, handle time, item pass rates."""
    store = open_reader(db)
    frame = reads.agent_scorecards(store, period.value)
    if frame.empty:
        console.print("No scored calls yet.")
        return
    columns = ["period_start", "agent_id", "agent_name", "calls", "avg_score", "flagged_calls", "avg_handle_time_s",
               "holds", "avg_hold_s", "longest_hold_s", "holds_over_60s", "holds_without_apology"]
    if frame.scorecard_id.nunique() > 1:
        columns.insert(3, "scorecard_id")
    console.print(table(frame, f"Agent scorecards per {period.value}", columns))
    if items:
        rates = reads.item_pass_rates(store, period.value)
        wide = rates.pivot_table(index=["period_start", "agent_id", "scorecard_id"], columns="item_id",
                                 values="pass_rate", aggfunc="first").reset_index()
        wide.columns.name = None
        console.print(table(wide, f"Item pass rates per {period.value} (applicable calls)"))


@app.command()
def calls(
    db: Optional[Path] = db_option(),
    flagged: bool = typer.Option(False, "--flagged", help="Only calls flagged for review, with why."),
    agent: Optional[str] = typer.Option(None, help="Only this agent's calls."),
    limit: int = typer.Option(200, min=1),
) -> None:
    """Calls in the database: scored (with score and flags) and failed (with the reason)."""
    frame = reads.call_list(open_reader(db), flagged, agent, limit)
    title = "Flagged calls" if flagged else "Calls"
    console.print(table(frame, title) if not frame.empty else f"{title}: none.")


@app.command()
def show(call_id: str, db: Optional[Path] = db_option()) -> None:
    """One call for review: transcript by speaker with times, findings as evidence, items, holds."""
    store = open_reader(db)
    call = reads.call_record(store, call_id)
    if call.empty:
        fail(f"no call '{call_id}' in {store.path}")
    row = call.iloc[0]
    console.print(f"[bold]{escape(call_id)}[/bold]  agent {escape(str(row.agent_id))} {escape(str(row.agent_name or ''))}  "
                  f"{row.status}  {row.channel_layout or ''}  {row.language or ''}  {fmt(row.duration_s)} s  "
                  f"{escape(str(row.source_path))}")
    if row.status == "failed":
        console.print(f"[red]failed: {escape(str(row.error))}[/red]")
        return
    for s in reads.call_latest_scores(store, call_id).itertuples():
        console.print(f"score {fmt(s.score)} ({s.scorecard_id}@{s.scorecard_version})"
                      + (f"  [yellow]FLAGGED: {escape('; '.join(s.flag_reasons))}[/yellow]" if s.flagged else ""))
    console.print(table(reads.call_items(store, call_id), "Items"))
    findings = reads.call_findings(store, call_id)
    holds = reads.call_holds(store, call_id)
    if not holds.empty:
        console.print(table(holds, "Holds", ["hold_idx", "start_s", "end_s", "duration_s", "announced", "acknowledged"]))
    metrics = reads.call_metrics(store, call_id)
    if not metrics.empty:
        console.print("metrics: " + ", ".join(f"{k} {fmt(v)}" for k, v in metrics.iloc[0].items()))
    console.print("[bold]Transcript[/bold] (findings marked ▶)")
    by_time = findings.sort_values("start_s").to_dict("records")
    for u in reads.call_utterances(store, call_id).itertuples():
        marks = [f for f in by_time if f["speaker"] == u.speaker and u.start_s - 0.01 <= f["start_s"] <= u.end_s + 0.01]
        colour = "cyan" if u.speaker == "agent" else "magenta"
        console.print(f"[{colour}]{clock(u.start_s)}-{clock(u.end_s)} {u.speaker:8}[/{colour}] {escape(u.text)}")
        for f in marks:
            console.print(f"      ▶ {f['item_id']}: \"{escape(str(f['text']))}\" at {clock(f['start_s'])} "
                          f"(confidence {f['confidence']:.2f})")
    for f in by_time:
        if f["speaker"] is None:
            console.print(f"▶ {f['item_id']}: {escape(str(f['text']))} at {clock(f['start_s'])}-{clock(f['end_s'])}")


@app.command()
def rescore(
    db: Optional[Path] = db_option(),
    scorecard: Path = typer.Option(DEFAULT_SCORECARD, help="Scorecard YAML file (a new version of the form)."),
    since: Optional[datetime] = typer.Option(None, help="Only calls from this date on."),
) -> None:
    """Re-score stored transcripts with a scorecard: no audio, no Whisper; earlier versions' results stay."""
    from pipeline.rescore import rescore as run_rescore

    card = scorecard_or_exit(scorecard)
    store = open_reader(db)
    with run_lock_or_exit(store):
        done = run_rescore(store, card, since)
    rate = done.calls / done.seconds if done.seconds else 0
    console.print(f"re-scored {done.calls} call(s) with {card.id}@{done.version} in {done.seconds:.2f} s ({rate:.0f} calls/s)")
    versions = reads.scorecard_versions(store, card.id)
    if len(versions) > 1:
        console.print(f"compare with: callqa compare {card.id} {versions.scorecard_version[1]} {done.version}")


@app.command()
def compare(scorecard_id: str, old_version: str, new_version: str, db: Optional[Path] = db_option()) -> None:
    """How scores moved between two versions of a scorecard, call by call."""
    frame = reads.compare_versions(open_reader(db), scorecard_id, old_version, new_version)
    if frame.empty:
        fail(f"no call scored with both {scorecard_id}@{old_version} and @{new_version}")
    console.print(table(frame, f"{scorecard_id}: {old_version} → {new_version}"))
    console.print(f"{len(frame)} calls; mean score {frame.old_score.mean():.1f} → {frame.new_score.mean():.1f}; "
                  f"{int((frame.change != 0).sum())} changed")


@app.command()
def retention(
    days: int = typer.Option(..., min=0, help="Keep transcripts (and recordings) this many days."),
    db: Optional[Path] = db_option(),
    delete_recordings: bool = typer.Option(False, help="Also delete the audio files of purged calls."),
) -> None:
    """Delete transcripts (and optionally recordings) older than DAYS; scores and metrics stay."""
    from pipeline.store.retention import apply_retention

    store = open_reader(db)
    with run_lock_or_exit(store):
        purged = apply_retention(store, days, delete_recordings)
    console.print(
        f"purged {purged.calls} call(s): {purged.utterances} utterances deleted"
        + (f", {purged.recordings_deleted} recording(s) deleted ({purged.recordings_missing} already gone)" if delete_recordings else "")
    )
    for kept in purged.recordings_kept:
        console.print(f"[yellow]not deleted: {escape(kept)}[/yellow]")


@scorecard_app.command("check")
def scorecard_check(path: Path = typer.Argument(..., help="Scorecard YAML file to check.", show_default=False)) -> None:
    """Validate a scorecard without scoring anything: each problem with its file, line and field.

    Errors are what `score` and `rescore` refuse (unknown keys, language codes, tokens or lists,
    brackets, a lone ~, empty alternatives or phrase lists): exit 2. Warnings are phrases that can
    never match as written: printed, exit 0.
    """
    from pipeline.scoring.scorecard import ScorecardError, check_scorecard_text, read_scorecard_text

    try:
        text = read_scorecard_text(path)
    except ScorecardError as exc:
        fail(str(exc))
    card, problems = check_scorecard_text(text, str(path))
    for problem in problems:  # on stdout: the report asked for; the verdict line goes to stderr on failure
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{colour}]{problem.severity}:[/{colour}] {escape(str(problem))}", soft_wrap=True)
    n_errors = sum(p.severity == "error" for p in problems)
    warnings = f"{len(problems) - n_errors} warning(s)"
    if card is None:
        fail(f"{path}: not a valid scorecard: {n_errors} error(s), {warnings}, listed above")
    console.print(f"{escape(str(path))}: OK - {card.id}@{card.version}, {len(card.items)} items in "
                  f"{len(card.sections)} sections, {warnings}", soft_wrap=True)


register_corpus_commands(app)  # import, eval
from pipeline.cli.review import register as register_review_commands; register_review_commands(app)  # review, users


from pipeline.cli.coaching import register as register_coaching_commands; register_coaching_commands(app)  # coach, trends, coach-log, export, generate
