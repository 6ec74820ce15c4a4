"""`callqa`'s library commands: read results back, re-score, retention, scorecards.

    callqa agents                agent scorecards per day or week
    callqa calls [--flagged]     scored and failed calls, with date, agent, score and why
    callqa show CALL_ID          one call: audio, items, holds, metrics, transcript with evidence
    callqa versions              scorecard versions with their dates and call counts
    callqa rescore               re-score stored transcripts with a (new) scorecard
    callqa compare ID OLD NEW    how scores moved between two scorecard versions

Every read command takes --scorecard (default: the default scorecard) and --format table|csv|json.
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

import pandas as pd
import typer
from rich.markup import escape

from pipeline.cli.common import (
    Format, console, db_option, emit, emit_document, fail, fmt, format_option, header, note, note_other_scorecards,
    open_reader, pick_scorecard, needed_width, print_table, run_lock_or_exit, say, scorecard_filter_option, scorecard_or_exit, table,
    tidy_help,
)
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


def _agent_label(agent_id, agent_name) -> str:
    return f"{agent_id} {agent_name}" if isinstance(agent_name, str) and agent_name else str(agent_id)


@app.command()
def agents(
    db: Optional[Path] = db_option(),
    period: Period = typer.Option(Period.week, help="Scorecards per day or per week."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Only this agent: id or name (any case)."),
    scorecard: Optional[str] = scorecard_filter_option(),
    items: bool = typer.Option(True, help="Also show each item's pass rate: % of the calls it applied to, and how many."),
    out: Format = format_option(),
) -> None:
    """Agent scorecards: calls, average score, holds (over the scorecard's own limit), handle time, item pass rates."""
    store = open_reader(db)
    chosen = pick_scorecard(store, scorecard)
    cards = reads.agent_scorecards(store, period.value, chosen, agent)
    rates = reads.item_pass_rates(store, period.value, chosen, agent) if items else None
    if out is not Format.table:
        emit_document({"scorecards": cards, **({"item_pass_rates": rates} if rates is not None else {})}, out)
        return
    if cards.empty:
        console.print("No scored calls yet." if agent is None else f"No scored calls of agent {escape(agent)}.")
        return
    several = chosen is None
    columns = ["period_start", "agent_id", "agent_name"] + (["scorecard_id"] if several else []) + [
        "calls", "avg_score", "flagged_calls", "avg_handle_time_s", "holds", "avg_hold_s", "longest_hold_s",
        "hold_limit_s", "holds_over_limit", "holds_without_apology", "reviewed_calls"]
    narrow = ["period_start", "agent"] + (["scorecard_id"] if several else []) + [
        "calls", "avg_score", "flagged_calls", "holds", "holds_over_limit", "holds_without_apology"]
    cards["agent"] = [_agent_label(a, n) for a, n in zip(cards.agent_id, cards.agent_name)]
    print_table(cards, f"Agent scorecards per {period.value}" + (f" ({chosen})" if chosen else ""), columns, narrow=narrow)
    if rates is not None and not rates.empty:
        rates["agent"] = [_agent_label(a, n) for a, n in zip(rates.agent_id, rates.agent_name)]
        rates["pass_rate"] = [f"{p:g}% ({n})" if p == p else f"- ({n})" for p, n in zip(rates.pass_rate_pct, rates.applicable_calls)]
        index = ["period_start", "agent"] + (["scorecard_id"] if several else [])
        order = list(dict.fromkeys(rates.item_id))
        wide = rates.pivot_table(index=index, columns="item_id", values="pass_rate", aggfunc="first", sort=False)
        wide = wide.reindex(columns=order).reset_index()
        wide.columns.name = None
        title = f"Item pass rates per {period.value}: % of the calls the item applied to, (how many calls)"
        long = index + ["item_id", "pass_rate"]
        if console.is_terminal and needed_width(wide) > console.width:
            print_table(rates, title, long)  # too wide for this terminal: one row per item
        else:
            print_table(wide, title)
    note_other_scorecards(store, chosen)


@app.command()
def calls(
    db: Optional[Path] = db_option(),
    flagged: bool = typer.Option(False, "--flagged", help="Only calls flagged for review, with why."),
    failed: bool = typer.Option(False, "--failed", help="Only recordings that could not be scored, with the reason."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Only this agent's calls: id or name (any case)."),
    scorecard: Optional[str] = scorecard_filter_option(),
    item: Optional[str] = typer.Option(None, "--item", help="Only calls that failed this scorecard item, e.g. hold_thanked."),
    since: Optional[datetime] = typer.Option(None, "--since", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                                             help="Only calls from this day on (the call's start, else when it was scored)."),
    until: Optional[datetime] = typer.Option(None, "--until", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                                             help="Only calls up to and including this day."),
    limit: int = typer.Option(200, min=1, help="At most this many rows; failed recordings come first, so none is hidden."),
    out: Format = format_option(),
) -> None:
    """Calls with date, agent, scorecard, score and why: failed recordings first, then lowest score."""
    store = open_reader(db)
    chosen = pick_scorecard(store, scorecard)
    flt = reads.CallFilter(flagged=flagged, failed=failed, agent=agent, scorecard=chosen, item=item, since=since, until=until)
    frame, counts = reads.call_list(store, flt, limit)
    several = chosen is None and frame.scorecard.nunique() > 1
    title = "Failed recordings" if failed else "Flagged calls" if flagged else "Calls"
    columns = ["call_id", "date", "agent_id", "agent_name"] + (["scorecard"] if several else []) + [
        "status", "score", "flagged", "duration_s", "why"]
    narrow = ["call_id", "day", "agent"] + (["scorecard"] if several else []) + ["result", "why"]
    if out is Format.table:  # the narrow layout: the day only, agent id and name, status, score and flag in one cell each
        frame["day"] = frame.date.dt.normalize()
        frame["agent"] = [_agent_label(a, n) for a, n in zip(frame.agent_id, frame.agent_name)]
        frame["result"] = ["failed" if st == "failed" else f"{fmt(sc)} flagged" if fl else fmt(sc)
                           for st, sc, fl in zip(frame.status, frame.score, frame.flagged)]
    emit(frame, out, title + (f" ({chosen})" if chosen else ""), columns, f"{title}: none.", narrow=narrow)
    if counts["matching"] > len(frame):
        note(f"{len(frame)} of {counts['matching']} rows shown ({counts['failed']} failed recordings, listed first); "
             f"--limit {counts['matching']} shows all")
    note_other_scorecards(store, chosen)


def _metrics_line(metrics) -> str:
    return ", ".join(f"{header(k)} {fmt(v, k)}" for k, v in metrics.items())


@app.command()
def show(
    call_id: str = typer.Argument(..., help="The call's id, as `callqa calls` lists it."),
    db: Optional[Path] = db_option(),
    scorecard: Optional[str] = scorecard_filter_option(),
    out: Format = format_option(),
) -> None:
    """One call for review: audio file, score and items in the scorecard's order, holds, metrics, transcript with evidence."""
    store = open_reader(db)
    call = reads.call_record(store, call_id)
    if call.empty:
        fail(f"no call '{call_id}' in {store.path}")
    row = call.iloc[0]
    chosen = pick_scorecard(store, scorecard)
    audio = reads.resolve_audio_path(row.source_path, row.recordings_dir, store.path)
    summary = pd.DataFrame([{
        "call_id": call_id, "agent_id": row.agent_id, "agent_name": row.agent_name,
        "date": row.started_at if pd.notna(row.started_at) else row.processed_at, "status": row.status, "error": row.error,
        "channel_layout": row.channel_layout, "language": row.language, "duration_s": row.duration_s, "audio": audio}])
    scores = reads.call_latest_scores(store, call_id, chosen)
    items = reads.call_items(store, call_id, chosen)
    holds = reads.call_holds(store, call_id, chosen)
    metrics = reads.call_metrics(store, call_id)
    findings = reads.call_findings(store, call_id, chosen)
    utterances = reads.call_utterances(store, call_id)
    if out is not Format.table:
        emit_document({
            "call": summary, "scores": scores.drop(columns=["call_id"]), "items": items,
            "holds": holds.drop(columns=["call_id", "hold_idx"]), "metrics": metrics,
            "findings": findings.drop(columns=["call_id"]), "transcript": utterances.drop(columns=["call_id", "words"]),
        }, out)
        return
    say(f"[bold]{escape(call_id)}[/bold]  agent {escape(_agent_label(row.agent_id, row.agent_name))}  "
                  f"{fmt(summary.date.iloc[0])}  {row.status}  {escape(str(row.channel_layout or ''))}  "
                  f"{escape(str(row.language or ''))}  {fmt(row.duration_s, 'duration_s')}")
    say(f"audio {escape(str(audio))}")
    if row.status == "failed":
        say(f"[red]failed: {escape(str(row.error))}[/red]")
        return
    several = chosen is None and scores.scorecard_id.nunique() > 1
    for s in scores.itertuples():
        say(f"score {fmt(s.score)} ({s.scorecard_id}@{s.scorecard_version})"
                      + (f"  [yellow]FLAGGED: {escape('; '.join(s.flag_reasons))}[/yellow]" if s.flagged else ""))
    item_columns = (["scorecard_id"] if several else []) + ["item_id", "outcome", "weight", "reason"]
    print_table(items, "Items (in the scorecard's order)", item_columns)
    if not holds.empty:
        print_table(holds, "Holds", (["scorecard_id"] if several else []) +
                    ["hold", "start_s", "end_s", "duration_s", "announced", "acknowledged"])
    if not metrics.empty:
        say("metrics: " + escape(_metrics_line(metrics.iloc[0])))
    say("[bold]Transcript[/bold] (findings marked ▶)")
    by_time = findings.sort_values("start_s").to_dict("records")
    label = (lambda f: f"{f['scorecard_id']}/{f['item_id']}") if several else (lambda f: f["item_id"])
    for u in utterances.itertuples():
        marks = [f for f in by_time if f["speaker"] == u.speaker and u.start_s - 0.01 <= f["start_s"] <= u.end_s + 0.01]
        colour = "cyan" if u.speaker == "agent" else "magenta"
        say(f"[{colour}]{clock(u.start_s)}-{clock(u.end_s)} {u.speaker:8}[/{colour}] {escape(u.text)}")
        for f in marks:
            say(f"      ▶ {escape(label(f))}: \"{escape(str(f['text']))}\" at {clock(f['start_s'])} "
                          f"(confidence {f['confidence']:.2f})")
    for f in by_time:
        if f["speaker"] is None:
            hold = f" (hold {int(f['hold_idx']) + 1})" if pd.notna(f.get("hold_idx")) else ""
            say(f"▶ {escape(label(f))}: {escape(str(f['text']))}{hold} at {clock(f['start_s'])}-{clock(f['end_s'])}")
    note_other_scorecards(store, chosen)


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
    say(f"re-scored {done.calls} call(s) with {card.id}@{done.version} in {done.seconds:.2f} s ({rate:.0f} calls/s)")
    versions = reads.scorecard_versions(store, card.id)
    if len(versions) > 1:
        say(f"compare with: callqa compare {card.id} {versions.scorecard_version[1]} {done.version}")


def _version_list(versions: pd.DataFrame) -> str:
    return "; ".join(f"{v.scorecard_version} (first scored {fmt(v.first_scored)}, {v.calls} calls)" for v in versions.itertuples())


@app.command()
def compare(
    scorecard_id: str = typer.Argument(..., help="The scorecard's id, e.g. aidet."),
    old_version: str = typer.Argument(..., help="The older version (or its first characters); `callqa versions` lists them."),
    new_version: str = typer.Argument(..., help="The newer version (or its first characters)."),
    db: Optional[Path] = db_option(),
    out: Format = format_option(),
) -> None:
    """How scores moved between two versions of a scorecard, call by call."""
    store = open_reader(db)
    versions = reads.scorecard_versions(store, scorecard_id)
    if versions.empty:
        fail(f"no results for scorecard '{scorecard_id}' in {store.path}; scorecards here: "
             f"{', '.join(reads.scorecard_ids(store)) or 'none yet'}")
    old, new = (reads.resolve_version(store, scorecard_id, v) for v in (old_version, new_version))
    for given, found in ((old_version, old), (new_version, new)):
        if found is None:
            fail(f"{scorecard_id} has no version '{given}' here (or more than one starts so); its versions: {_version_list(versions)}")
    frame = reads.compare_versions(store, scorecard_id, old, new)
    if frame.empty:
        fail(f"no call scored with both {scorecard_id}@{old} and @{new}; its versions: {_version_list(versions)}")
    emit(frame, out, f"{scorecard_id}: {old} → {new}")
    if out is Format.table:
        console.print(f"{len(frame)} calls; mean score {frame.old_score.mean():.1f} → {frame.new_score.mean():.1f}; "
                      f"{int((frame.change != 0).sum())} changed")


@app.command()
def versions(
    db: Optional[Path] = db_option(),
    scorecard: Optional[str] = scorecard_filter_option(),
    out: Format = format_option(),
) -> None:
    """Scorecard versions with results here: when first and last scored, how many calls, hold limit, items."""
    store = open_reader(db)
    chosen = pick_scorecard(store, scorecard)
    emit(reads.scorecard_versions(store, chosen), out, "Scorecard versions (newest first)", empty="No scored calls yet.")
    note_other_scorecards(store, chosen)


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
tidy_help(app)  # plain usage lines (RECORDINGS, not {recordings}) and no <bool> on flags
